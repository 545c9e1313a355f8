"""Phần đánh giá của nblib: so sánh bài làm với đáp án và phát hiện bài làm gọi hàm tham chiếu
(``checks``). Bộ chấm (``grading/``) dùng cùng các hàm này ngoài tiến trình của bài nộp.
"""
