"""Exchange của nbgrader cho lớp nhiều tài khoản (JupyterHub, máy chủ chung).

Exchange mặc định của nbgrader dựa vào tên bí mật hơn là quyền truy cập: gốc exchange ai cũng ghi
được (0777, không có bit sticky: học viên đổi tên được thư mục của khoá học), `inbound` là 2733
không có bit sticky (ai biết tên đều xoá/đổi tên được bài nộp của người khác), bài nộp là thư mục
0777 với tệp 0644, phản hồi là tệp 0644 mà chỉ tên băm che đi, và `collect` vẫn thu bài mang tên
một học viên do người khác nộp (chỉ in cảnh báo). Các lớp dưới đây giữ nguyên quy trình của nbgrader
nhưng khép những chỗ đó:

* Học viên chỉ cần quyền đi qua (x) gốc exchange, không cần quyền ghi.
* `inbound` có bit sticky: chỉ chủ bài nộp (và giảng viên sở hữu `inbound`, root) mới xoá hay đổi
  tên được nó; bài nộp là thư mục 2770, tệp 0640: chỉ chủ và nhóm của `inbound` (nhóm giảng viên)
  đọc được. Bộ đệm nộp bài trong HOME của học viên (chứa khoá bí mật của phản hồi) là 0700.
* Chế độ nhiều tài khoản: bật khi gốc exchange có bit setgid, và nhóm sở hữu gốc là nhóm giảng viên
  (ví dụ `install -d -o root -g mnr-giangvien -m 2775 /srv/nbgrader/exchange`). Khi đó:
  - mọi thư mục của khoá học thuộc nhóm giảng viên; `inbound` là 3773, `feedback` là 2771;
  - học viên chỉ nộp được dưới tên tài khoản của chính mình, và `collect` bỏ (kèm thông báo) mọi
    bài nộp mà chủ thư mục không trùng mã học viên trong tên;
  - mỗi tệp phản hồi chỉ học viên đó (và nhóm giảng viên) đọc được: chủ tệp đổi thành học viên
    khi giảng viên chạy bằng root, không thì gán ACL POSIX `user:<học viên>:r`.

Dùng: `configure(c)` trong tệp cấu hình nbgrader (hoặc `c.ExchangeFactory.<loại> = "grading.exchange.…"`),
`factory(parent)` khi dựng `NbGraderAPI` (xem `grading.course`).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import stat
import struct
from collections import defaultdict

from nbgrader.exchange import default
from nbgrader.utils import check_directory, get_osusername, notebook_hash

SUBMISSION_FILE_MODE = 0o640
SUBMISSION_DIR_MODE = 0o2770
INBOUND_MODE = 0o3733  # setgid + sticky; học viên chỉ ghi và đi qua, không liệt kê được
INBOUND_MODE_GROUP = 0o3773  # chế độ nhiều tài khoản: nhóm giảng viên liệt kê được
COURSE_DIR_MODE_GROUP = 0o2775  # thư mục khoá học và outbound
FEEDBACK_DIR_MODE_GROUP = 0o2771  # học viên chỉ đi qua, không liệt kê
FEEDBACK_FILE_MODE = 0o640
ROOT_MODE_SINGLE = 0o1777  # một máy, không có nhóm giảng viên: ai cũng ghi được, có bit sticky


def instructors_gid(root) -> int | None:
    """gid của nhóm giảng viên khi exchange ở chế độ nhiều tài khoản (gốc có bit setgid)."""
    try:
        st = os.stat(root)
    except OSError:
        return None
    return st.st_gid if st.st_mode & stat.S_ISGID else None


def _owner_name(path) -> str:
    uid = os.stat(path).st_uid
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _fix_dir(path, mode, gid) -> None:
    """Đặt nhóm và quyền cho một thư mục của khoá học (chỉ khi mình là chủ, hoặc root)."""
    st = os.stat(path)
    if os.geteuid() not in (0, st.st_uid):
        return
    if gid is not None and st.st_gid != gid:
        os.chown(path, -1, gid)
    if stat.S_IMODE(os.stat(path).st_mode) != mode:
        os.chmod(path, mode)


def _set_tree_perms(dest, file_mode, dir_mode) -> None:
    for dirname, _, filenames in os.walk(dest):
        for name in filenames:
            os.chmod(os.path.join(dirname, name), file_mode)
        os.chmod(dirname, dir_mode)


# Định dạng xattr `system.posix_acl_access` của Linux (như `setfacl`): đầu mục phiên bản 2, rồi các
# mục (thẻ, quyền, id) sắp theo thẻ.
_ACL_VERSION = 2
_ACL_USER_OBJ, _ACL_USER, _ACL_GROUP_OBJ, _ACL_GROUP = 0x01, 0x02, 0x04, 0x08
_ACL_MASK, _ACL_OTHER = 0x10, 0x20
_ACL_UNDEFINED_ID = 0xFFFFFFFF


def posix_acl(owner: int, group: int, other: int, users=None, groups=None) -> bytes:
    """Giá trị xattr `system.posix_acl_access`: quyền (0–7) của chủ, nhóm, người khác, cộng các
    mục riêng `users`/`groups` (dict id → quyền); mặt nạ là hợp của nhóm và các mục riêng."""
    users, groups = dict(users or {}), dict(groups or {})
    mask = group
    for perm in (*users.values(), *groups.values()):
        mask |= perm
    entries = [(_ACL_USER_OBJ, owner, _ACL_UNDEFINED_ID)]
    entries += [(_ACL_USER, p, i) for i, p in sorted(users.items())]
    entries += [(_ACL_GROUP_OBJ, group, _ACL_UNDEFINED_ID)]
    entries += [(_ACL_GROUP, p, i) for i, p in sorted(groups.items())]
    entries += [(_ACL_MASK, mask, _ACL_UNDEFINED_ID), (_ACL_OTHER, other, _ACL_UNDEFINED_ID)]
    return struct.pack("<I", _ACL_VERSION) + b"".join(struct.pack("<HHI", *e) for e in entries)


def grant_read(path, uid: int) -> None:
    """Cho đúng một tài khoản `uid` đọc tệp `path` (ngoài chủ và nhóm) bằng ACL POSIX.

    Chủ tệp làm được mà không cần root. Quyền tương đương `setfacl -m u:<uid>:r,o::- path`, tức
    chế độ 0640 cộng một mục ACL. OSError khi hệ thống tệp không hỗ trợ ACL.
    """
    os.setxattr(path, "system.posix_acl_access", posix_acl(6, 4, 0, users={uid: 4}))


class _CourseExchange:
    """Phần chung: học viên chỉ cần quyền đi qua gốc exchange (không cần ghi như nbgrader gốc)."""

    def ensure_root(self):
        if not check_directory(self.root, execute=True):
            self.fail(
                f"Không vào được thư mục exchange {self.root}: thư mục chưa có hoặc bạn không có "
                "quyền đi qua nó. Hãy báo giảng viên (xem docs/jupyterhub.md)."
            )

    @property
    def instructors_gid(self) -> int | None:
        return instructors_gid(self.root)


class Exchange(_CourseExchange, default.Exchange):
    pass


class ExchangeFetchAssignment(_CourseExchange, default.ExchangeFetchAssignment):
    pass


class ExchangeList(_CourseExchange, default.ExchangeList):
    pass


class ExchangeFetchFeedback(_CourseExchange, default.ExchangeFetchFeedback):
    pass


class ExchangeSubmit(_CourseExchange, default.ExchangeSubmit):
    """Bài nộp chỉ chủ và nhóm giảng viên đọc được; bộ đệm trong HOME là 0700."""

    def init_dest(self):
        super().init_dest()
        student = self.assignment_filename.split("+", 1)[0]
        me = get_osusername()
        if self.instructors_gid is not None and student != me:
            self.fail(
                f"Mã học viên '{student}' khác tài khoản đang nộp '{me}': bài nộp như vậy sẽ bị "
                "bỏ khi giảng viên thu bài. Hãy nộp từ chính tài khoản của bạn."
            )

    def copy_files(self):
        before = set(os.listdir(self.cache_path)) if os.path.isdir(self.cache_path) else set()
        super().copy_files()
        dest = os.path.join(self.inbound_path, self.assignment_filename)
        _set_tree_perms(dest, SUBMISSION_FILE_MODE, SUBMISSION_DIR_MODE)
        os.makedirs(self.cache, exist_ok=True)
        os.chmod(self.cache, 0o700)
        for name in set(os.listdir(self.cache_path)) - before:
            _set_tree_perms(os.path.join(self.cache_path, name), 0o600, 0o700)


class ExchangeReleaseAssignment(_CourseExchange, default.ExchangeReleaseAssignment):
    """Gốc 1777 khi dùng trên một máy; chế độ nhiều tài khoản: không đụng tới gốc (của root)."""

    def ensure_root(self):
        if os.path.isdir(self.root) and self.instructors_gid is not None:
            return
        if not os.path.exists(self.root):
            self.log.warning("Tạo thư mục exchange: %s", self.root)
            try:
                os.makedirs(self.root)
            except PermissionError:
                self.fail(f"Không tạo được {self.root}: không có quyền.")
        mode = stat.S_IMODE(os.stat(self.root).st_mode)
        if mode != ROOT_MODE_SINGLE:
            try:
                os.chmod(self.root, ROOT_MODE_SINGLE)
            except PermissionError:
                self.fail(f"Không đổi được quyền của {self.root} thành 1777: không có quyền.")

    def init_dest(self):
        super().init_dest()
        gid = self.instructors_gid
        if gid is None:
            _fix_dir(self.inbound_path, INBOUND_MODE, None)
            return
        _fix_dir(self.course_path, COURSE_DIR_MODE_GROUP, gid)
        _fix_dir(self.outbound_path, COURSE_DIR_MODE_GROUP, gid)
        _fix_dir(self.inbound_path, INBOUND_MODE_GROUP, gid)


class ExchangeCollect(_CourseExchange, default.ExchangeCollect):
    """Chế độ nhiều tài khoản: chỉ thu bài nộp mà chủ thư mục trùng mã học viên trong tên."""

    def init_src(self):
        super().init_src()
        if self.instructors_gid is None:
            return
        pattern = os.path.join(
            self.inbound_path,
            "{}+{}+*".format(self.coursedir.student_id or "*", self.coursedir.assignment_id),
        )
        genuine = defaultdict(list)
        self.rejected = []
        for path in glob.glob(pattern):
            rec = self._path_to_record(path)
            owner = _owner_name(path)
            if owner != rec["username"]:
                self.rejected.append((rec["filename"], owner))
                self.log.error(
                    "Bỏ bài nộp %s: mang tên học viên '%s' nhưng do tài khoản '%s' nộp.",
                    rec["filename"],
                    rec["username"],
                    owner,
                )
                continue
            genuine[rec["username"]].append(rec)
        # cùng cách chọn bài mới nhất (hoặc trước hạn nộp) như nbgrader, trên các bài hợp lệ
        chosen = []
        for recs in genuine.values():
            recs = self._sort_by_timestamp(recs)
            if self.duedate is not None and self.before_duedate:
                early = [r for r in recs if r["timestamp"] <= self.duedate]
                chosen.append(early[0] if early else recs[0])
            else:
                chosen.append(recs[0])
        self.src_records = chosen


class ExchangeReleaseFeedback(_CourseExchange, default.ExchangeReleaseFeedback):
    """Chế độ nhiều tài khoản: mỗi tệp phản hồi chỉ học viên đó và nhóm giảng viên đọc được."""

    def init_dest(self):
        super().init_dest()
        gid = self.instructors_gid
        if gid is not None:
            _fix_dir(self.outbound_feedback_path, FEEDBACK_DIR_MODE_GROUP, gid)

    def copy_files(self):
        gid = self.instructors_gid
        if gid is None:
            return super().copy_files()
        exclude = set(filter(None, (self.coursedir.student_id_exclude or "").split(",")))
        for html_file in sorted(glob.glob(os.path.join(self.src_path, "*.html"))):
            feedback_dir, name = os.path.split(html_file)
            notebook_id = os.path.splitext(name)[0]
            student_id = os.path.basename(os.path.dirname(feedback_dir))
            if student_id in exclude:
                continue
            with open(os.path.join(feedback_dir, "submission_secret.txt")) as fh:
                secret = fh.read()
            checksum = notebook_hash(secret=secret, notebook_id=notebook_id)
            tmp = os.path.join(self.dest_path, f"{checksum}-tmp.html")
            final = os.path.join(self.dest_path, f"{checksum}.html")
            shutil.copyfile(html_file, tmp)
            os.chmod(tmp, FEEDBACK_FILE_MODE)
            self._restrict(tmp, student_id, gid)
            os.replace(tmp, final)
            self.log.info(
                "Đã gửi phản hồi cho '%s' (%s/%s)",
                student_id,
                self.coursedir.assignment_id,
                notebook_id,
            )

    def _restrict(self, path, student_id, gid) -> None:
        try:
            uid = pwd.getpwnam(student_id).pw_uid
        except KeyError:
            self.fail(
                f"Không có tài khoản hệ điều hành '{student_id}' để gửi phản hồi: ở chế độ nhiều "
                "tài khoản mã học viên phải là tên tài khoản (xem docs/jupyterhub.md)."
            )
        if os.geteuid() == 0:
            os.chown(path, uid, gid)
            return
        try:
            grant_read(path, uid)
        except OSError as exc:
            self.fail(
                f"Không gán được quyền đọc phản hồi cho '{student_id}' (ACL POSIX: {exc}). "
                "Chạy release-feedback bằng root, hoặc dùng hệ thống tệp hỗ trợ ACL."
            )


CLASSES = {
    "exchange": "grading.exchange.Exchange",
    "fetch_assignment": "grading.exchange.ExchangeFetchAssignment",
    "fetch_feedback": "grading.exchange.ExchangeFetchFeedback",
    "release_assignment": "grading.exchange.ExchangeReleaseAssignment",
    "release_feedback": "grading.exchange.ExchangeReleaseFeedback",
    "list": "grading.exchange.ExchangeList",
    "submit": "grading.exchange.ExchangeSubmit",
    "collect": "grading.exchange.ExchangeCollect",
}


def configure(c) -> None:
    """Dùng các lớp của module này trong một cấu hình traitlets (`c = get_config()`)."""
    for kind, cls in CLASSES.items():
        setattr(c.ExchangeFactory, kind, cls)


def factory(parent):
    """Một `ExchangeFactory` của nbgrader dùng các lớp của module này."""
    from nbgrader.exchange import ExchangeFactory

    return ExchangeFactory(parent=parent, **CLASSES)
