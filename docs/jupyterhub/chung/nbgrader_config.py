# Cấu hình nbgrader cho server Jupyter của mọi người dùng trên JupyterHub của khoá học
# (JupyterHub đặt JUPYTER_CONFIG_PATH trỏ tới thư mục này; xem docs/jupyterhub.md).
import os
import pwd

from grading.exchange import configure

c = get_config()  # noqa: F821

c.CourseDirectory.course_id = os.environ.get("MNR_COURSE_ID", "mang-no-ron")
c.Exchange.root = os.environ.get("MNR_EXCHANGE", "/srv/nbgrader/exchange")
# Mã học viên là tên người dùng JupyterHub, ghi tường minh (không để nbgrader tự đoán). Với
# LocalProcessSpawner, server chạy bằng tài khoản hệ điều hành trùng tên người dùng JupyterHub, và
# exchange của khoá học chỉ nhận bài nộp mà mã học viên trùng tài khoản đã nộp.
c.CourseDirectory.student_id = (
    os.environ.get("JUPYTERHUB_USER") or pwd.getpwuid(os.getuid()).pw_name
)
# Các lớp exchange của khoá học: quyền chặt (grading/exchange.py).
configure(c)
