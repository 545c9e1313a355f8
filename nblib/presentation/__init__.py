"""Phần trình bày của nblib: hình vẽ theo một phong cách (``plots``), bản demo có thanh trượt
(``widgets``), sân chơi huấn luyện trực tiếp (``playground``), câu hỏi tự kiểm tra (``quiz``) và chế độ
trình chiếu cho giảng viên (``present``).

Phần toán của khoá học nằm ở ``nblib/`` (các hàm thuần tuý); thư mục này chỉ vẽ và tương tác.
"""
