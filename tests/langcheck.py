"""Kiểm tra ngôn ngữ cho toàn khoá học: chuẩn Unicode NFC, thuật ngữ bị loại (glossary.md), chính tả.

Dùng làm thư viện cho `tests/test_language.py` và làm công cụ dòng lệnh cho người viết bài:

    python tests/langcheck.py lectures/02_ham_kich_hoat.ipynb [notebook khác ...]

in ra các vấn đề của từng notebook (ô nào, từ nào, nên dùng gì) và trả mã thoát 1 nếu có lỗi.
Không có đối số thì kiểm tra mọi notebook trong lectures/, solutions/, exercises/ và glossary.md.

Chính tả dùng từ điển hunspell tiếng Việt của Debian (`apt-get install hunspell hunspell-vi`);
các thuật ngữ/tên tiếng Anh được phép nằm trong `tests/spelling_allowlist.txt` (mỗi dòng một từ,
không phân biệt hoa thường; dòng bắt đầu bằng `#` là chú thích).
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import unicodedata
from dataclasses import dataclass, field

ROOT = pathlib.Path(__file__).resolve().parents[1]
GLOSSARY = ROOT / "glossary.md"
ALLOWLIST = pathlib.Path(__file__).resolve().parent / "spelling_allowlist.txt"
NOTEBOOK_DIRS = ("lectures", "solutions", "exercises")
HUNSPELL_DICT = "vi_VN"
DICT_DIRS = ("/usr/share/hunspell", "/usr/share/myspell", "/usr/share/myspell/dicts")
# Các gói apt mà `make test` phải cài để kiểm tra chính tả chạy được.
APT_PACKAGES = ("hunspell", "hunspell-vi")


# --------------------------------------------------------------------------- tệp cần kiểm tra


def find_notebooks(root: pathlib.Path = ROOT) -> list[pathlib.Path]:
    """Mọi notebook trong lectures/, solutions/, exercises/ (bỏ qua .ipynb_checkpoints và các tệp
    tạm có tên bắt đầu bằng `_` hoặc `.`)."""
    out = []
    for d in NOTEBOOK_DIRS:
        base = root / d
        if base.is_dir():
            out += [
                p
                for p in base.rglob("*.ipynb")
                if ".ipynb_checkpoints" not in p.parts and not p.name.startswith(("_", "."))
            ]
    return sorted(out)


def find_markdown_docs(root: pathlib.Path = ROOT, readme_only: bool = False) -> list[pathlib.Path]:
    """Các tệp .md ở gốc và trong lectures/, solutions/, exercises/, docs/, trừ glossary.md.

    `readme_only=True`: chỉ các README.md (văn bản cho người học, được kiểm cả chính tả; các tệp
    .md khác là quy ước cho người viết, chỉ kiểm NFC và thuật ngữ).
    """
    out = sorted(root.glob("*.md"))
    for d in (*NOTEBOOK_DIRS, "docs"):
        out += sorted((root / d).glob("*.md")) if (root / d).is_dir() else []
    out = [p for p in out if p.is_file() and p.name != "glossary.md"]
    return [p for p in out if p.name == "README.md"] if readme_only else out


def find_python_sources(root: pathlib.Path = ROOT) -> list[pathlib.Path]:
    out = []
    for d in ("nblib", "grading"):
        if (root / d).is_dir():
            out += [p for p in (root / d).rglob("*.py") if "__pycache__" not in p.parts]
    return sorted(out)


def rel(path: pathlib.Path) -> str:
    try:
        return str(pathlib.Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


@dataclass
class Cell:
    index: int  # số thứ tự ô trong notebook (bắt đầu từ 0); 0 cho tệp .md
    cell_type: str  # "markdown" hoặc "code"
    source: str


def load_cells(path: pathlib.Path) -> list[Cell]:
    """Các ô của notebook; một tệp .md được coi là một ô markdown duy nhất."""
    path = pathlib.Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".ipynb":
        return [Cell(0, "markdown", text)]
    nb = json.loads(text)
    cells = []
    for i, c in enumerate(nb.get("cells", [])):
        src = c.get("source", "")
        if isinstance(src, list):
            src = "".join(src)
        cells.append(Cell(i, c.get("cell_type", ""), src))
    return cells


def where(path, cell: Cell) -> str:
    if str(path).endswith(".ipynb"):
        return f"{rel(path)} ô #{cell.index} ({cell.cell_type})"
    return rel(path)


# --------------------------------------------------------------------------- NFC


def nfc_problems(path) -> list[str]:
    """Các vị trí có văn bản chưa chuẩn hoá NFC (notebook: mọi ô và cả tệp JSON; .py/.md: cả tệp)."""
    path = pathlib.Path(path)
    text = path.read_text(encoding="utf-8")
    probs = []
    if path.suffix == ".ipynb":
        for cell in load_cells(path):
            if not unicodedata.is_normalized("NFC", cell.source):
                probs.append(
                    f"{where(path, cell)}: chưa chuẩn hoá NFC {_first_non_nfc(cell.source)}"
                )
        if not probs and not unicodedata.is_normalized("NFC", text):
            probs.append(f"{rel(path)}: tệp JSON (metadata/đầu ra) chưa chuẩn hoá NFC")
    elif not unicodedata.is_normalized("NFC", text):
        for n, line in enumerate(text.splitlines(), 1):
            if not unicodedata.is_normalized("NFC", line):
                probs.append(f"{rel(path)} dòng {n}: chưa chuẩn hoá NFC {_first_non_nfc(line)}")
    return probs


def _first_non_nfc(text: str) -> str:
    for m in re.finditer(r"\S+", text):
        if not unicodedata.is_normalized("NFC", m.group()):
            return f"(ví dụ: {m.group()!r}, NFC là {unicodedata.normalize('NFC', m.group())!r})"
    return ""


# --------------------------------------------------------------------------- bảng thuật ngữ


@dataclass
class Term:
    vi: str
    en: str
    rejected: list[str]
    section: str
    line: int


@dataclass
class Glossary:
    terms: list[Term] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def rejected_map(self) -> dict[str, Term]:
        """Thuật ngữ bị loại (chữ thường) -> dòng thuật ngữ nên dùng."""
        return {r.lower(): t for t in self.terms for r in t.rejected}


_SEP_CELL = re.compile(r"^:?-{3,}:?$")


def _split_row(line: str) -> list[str] | None:
    s = line.strip()
    if not (s.startswith("|") and s.endswith("|")) or len(s) < 2:
        return None
    cells = re.split(r"(?<!\\)\|", s[1:-1])
    return [c.strip().replace("\\|", "|") for c in cells]


def parse_glossary(path: pathlib.Path = GLOSSARY, text: str | None = None) -> Glossary:
    """Đọc các bảng `| Tiếng Việt | English | Không dùng |` của glossary.md và kiểm tra tính hợp lệ."""
    if text is None:
        text = pathlib.Path(path).read_text(encoding="utf-8")
    g = Glossary()
    name = rel(path) if path else "glossary"
    section = ""
    state = "out"  # out -> header -> body
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("#"):
            section = line.lstrip("#").strip()
        cells = _split_row(line)
        if cells is None:
            if line.strip().startswith("|"):
                g.errors.append(f"{name} dòng {n}: dòng bảng phải bắt đầu và kết thúc bằng '|'")
            state = "out"
            continue
        if state == "out":
            if len(cells) != 3 or [c.lower() for c in cells] != [
                "tiếng việt",
                "english",
                "không dùng",
            ]:
                g.errors.append(
                    f"{name} dòng {n}: tiêu đề bảng phải là '| Tiếng Việt | English | Không dùng |'"
                )
            state = "header"
            continue
        if state == "header":
            if len(cells) != 3 or not all(_SEP_CELL.match(c) for c in cells):
                g.errors.append(
                    f"{name} dòng {n}: thiếu dòng phân cách '|---|---|---|' sau tiêu đề"
                )
            state = "body"
            continue
        if len(cells) != 3:
            g.errors.append(f"{name} dòng {n}: cần đúng 3 cột, có {len(cells)}: {line.strip()}")
            continue
        vi, en, rej = cells
        if not vi or not en:
            g.errors.append(f"{name} dòng {n}: thiếu thuật ngữ tiếng Việt hoặc tiếng Anh")
            continue
        rejected = [r.strip() for r in rej.split(";") if r.strip()]
        g.terms.append(Term(vi, en, rejected, section, n))
    _check_glossary(g, name)
    return g


def _check_glossary(g: Glossary, name: str) -> None:
    seen: dict[str, Term] = {}
    for t in g.terms:
        for s in [t.vi, t.en, *t.rejected]:
            if not unicodedata.is_normalized("NFC", s):
                g.errors.append(f"{name} dòng {t.line}: {s!r} chưa chuẩn hoá NFC")
        key = t.vi.lower()
        if key in seen and seen[key].en.lower() != t.en.lower():
            p = seen[key]
            g.errors.append(
                f"{name} dòng {t.line}: '{t.vi}' đã có ở dòng {p.line} với nghĩa tiếng Anh khác "
                f"('{p.en}' và '{t.en}')"
            )
        elif key in seen:
            g.errors.append(
                f"{name} dòng {t.line}: '{t.vi}' lặp lại dòng {seen[key].line} — mỗi thuật ngữ chỉ một dòng"
            )
        seen.setdefault(key, t)
    by_en: dict[str, Term] = {}
    for t in g.terms:
        key = _en_key(t.en)
        if key in by_en and by_en[key].vi.lower() != t.vi.lower():
            p = by_en[key]
            g.errors.append(
                f"{name} dòng {t.line}: '{t.en}' có hai cách dịch: '{p.vi}' (dòng {p.line}) và "
                f"'{t.vi}' — chọn một, đưa cách còn lại vào cột Không dùng"
            )
        by_en.setdefault(key, t)
    preferred = {t.vi.lower(): t for t in g.terms}
    for t in g.terms:
        for r in t.rejected:
            if r.lower() in preferred:
                p = preferred[r.lower()]
                g.errors.append(
                    f"{name} dòng {t.line}: '{r}' vừa bị loại vừa là thuật ngữ nên dùng (dòng {p.line})"
                )
                continue
            pat = term_pattern(r)
            for p in g.terms:
                if pat.search(p.vi):
                    g.errors.append(
                        f"{name} dòng {t.line}: thuật ngữ bị loại '{r}' nằm trong thuật ngữ nên dùng "
                        f"'{p.vi}' (dòng {p.line})"
                    )


def _en_key(en: str) -> str:
    """Khoá so sánh thuật ngữ tiếng Anh: chữ thường, bỏ dấu câu và từ nối "to" ("update-to-weight ratio"
    trùng "update/weight ratio")."""
    words = re.findall(r"[a-z0-9]+", en.lower())
    return " ".join(w for w in words if w != "to")


def term_pattern(term: str) -> re.Pattern:
    """Biểu thức tìm `term` như một cụm từ trọn vẹn (không phân biệt hoa thường, khoảng trắng linh hoạt)."""
    words = [re.escape(w) for w in unicodedata.normalize("NFC", term).split()]
    return re.compile(r"(?<![\w-])" + r"\s+".join(words) + r"(?![\w-])", re.IGNORECASE)


def glossary_problems(path, glossary: Glossary | None = None, code_cells: bool = True) -> list[str]:
    """Các chỗ dùng thuật ngữ bị glossary.md loại (trong markdown, và trong chú thích/chuỗi của ô code)."""
    glossary = glossary or parse_glossary()
    pats = [(r, term_pattern(r), t) for t in glossary.terms for r in t.rejected]
    probs = []
    for cell in load_cells(path):
        if cell.cell_type == "markdown":
            text = strip_markdown(cell.source)
        elif cell.cell_type == "code" and code_cells:
            text = cell.source
        else:
            continue
        text = unicodedata.normalize("NFC", text)
        for _r, pat, t in pats:
            for m in pat.finditer(text):
                probs.append(
                    f"{where(path, cell)}: dùng '{m.group()}' — bảng thuật ngữ loại cách dịch này, "
                    f"hãy dùng '{t.vi}' ({t.en})"
                )
    return probs


# --------------------------------------------------------------------------- làm sạch markdown

_FENCED = re.compile(r"^[ \t]*(```|~~~)[^\n]*\n.*?^[ \t]*\1[^\n]*$", re.DOTALL | re.MULTILINE)
_DISPLAY_MATH = re.compile(r"\$\$.*?\$\$|\\\[.*?\\\]|\\begin\{(\w+\*?)\}.*?\\end\{\1\}", re.DOTALL)
_INLINE_MATH = re.compile(
    r"(?<![\\$])\$(?!\$)(?:\\.|[^$\\\n]|\n(?![ \t]*\n))+\$|\\\(.*?\\\)", re.DOTALL
)
_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_HTML_BLOCK_CODE = re.compile(
    r"<(code|pre|kbd|samp|script|style)\b[^>]*>.*?</\1\s*>", re.DOTALL | re.I
)
_HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_HTML_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);")
_LINK_TARGET = re.compile(r"\]\((?:<[^>]*>|[^()\s]*(?:\([^()]*\)[^()\s]*)*)(?:\s+\"[^\"]*\")?\)")
_LINK_DEF = re.compile(r"^\s*\[[^\]]+\]:\s*\S+.*$", re.MULTILINE)
_URL = re.compile(r"(?:https?|ftp|file)://\S+|www\.\S+|\S+@\S+\.\w+", re.I)
_ASCII_QUOTE = re.compile(r'"[ !#-~]+"|“[ -~]+”')
# Đường dẫn menu giao diện (tên riêng tiếng Anh) viết nghiêng/đậm: *Kernel → Restart & Run All*
_UI_PATH = re.compile(r"(\*{1,2}|_{1,2})[ -~]*?→[ -~→]*?\1")
_IDENTIFIER = re.compile(r"\b[A-Za-z0-9]+(?:[._/\\][A-Za-z0-9]+)+\b|\b\w+_\w+\b|\b\w+\(\)")


def strip_markdown(text: str) -> str:
    """Bỏ những phần không phải văn xuôi: code (khối và dòng), LaTeX, HTML, URL, đích liên kết.

    Mỗi phần bị bỏ được thay bằng khoảng trắng (giữ nguyên số dòng).
    """

    def blank(m: re.Match) -> str:
        return "\n" * m.group().count("\n") + " "

    text = unicodedata.normalize("NFC", text)
    for pat in (
        _FENCED,
        _HTML_COMMENT,
        _HTML_BLOCK_CODE,
        _DISPLAY_MATH,
        _INLINE_CODE,
        _INLINE_MATH,
        _LINK_DEF,
        _LINK_TARGET,
        _URL,
        _HTML_TAG,
        _HTML_ENTITY,
    ):
        text = pat.sub(blank, text)
    return text


_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t#]*$", re.M)


def drop_english_sections(text: str) -> str:
    """Bỏ các mục có tiêu đề "English" (bản tóm tắt tiếng Anh cố ý, ví dụ cuối README.md) tới tiêu đề
    cùng cấp hoặc cấp cao hơn tiếp theo."""
    out, skip_level = [], 0
    for line in text.splitlines(keepends=True):
        m = _HEADING.match(line)
        if m:
            level = len(m.group(1))
            if skip_level and level <= skip_level:
                skip_level = 0
            if not skip_level and m.group(2).strip().lower() in ("english", "tiếng anh"):
                skip_level = level
        out.append("\n" if skip_level else line)
    return "".join(out)


_REFERENCE_HEADING = re.compile(r"^\s*#+\s*(tài liệu )?tham khảo|^\s*#+\s*references", re.I | re.M)


def is_reference_cell(text: str) -> bool:
    """Ô "Tài liệu tham khảo": tên sách/bài báo tiếng Anh ở đây không bị kiểm chính tả."""
    return bool(_REFERENCE_HEADING.search(text))


_TOKEN = re.compile(r"[\w'’-]+")

# Tên các ghi chú bài giảng của khoá học (như trong lectures/README.md). Bài giảng gọi ghi chú theo tên;
# tên tiếng Anh hay lẫn Anh–Việt của chúng không bị kiểm chính tả.
NOTE_TITLES = (
    "Neural Network (continued)",
    "Chương 2: Mạng neural cơ bản (P1)",
    "Training Neural Networks, Part I",
    "Giới thiệu kỹ thuật trong học sâu",
    "Super VIP Cheatsheet: Học sâu",
)
_NOTE_TITLE = re.compile("|".join(re.escape(t) for t in NOTE_TITLES))


def words(text: str, ascii_ok: bool = True) -> list[str]:
    """Các từ cần kiểm chính tả trong văn xuôi markdown (đã bỏ code/LaTeX/URL/số/định danh).

    Với `ascii_ok=False` chỉ giữ các từ có chữ ngoài ASCII (dùng cho ô tài liệu tham khảo, nơi tên
    tài liệu tiếng Anh không được kiểm). Chuỗi trong ngoặc kép chỉ gồm ký tự ASCII (trích dẫn tiếng Anh như
    "All activations become zero!", khoá như "W1") cũng không bị kiểm.
    """
    text = strip_markdown(drop_english_sections(text))
    text = _NOTE_TITLE.sub(" ", _UI_PATH.sub(" ", _ASCII_QUOTE.sub(" ", text)))
    text = _IDENTIFIER.sub(" ", text).replace("_", " ")
    out = []
    for tok in _TOKEN.findall(text):
        tok = tok.strip("'’-")
        if len(tok) < 2 or not all(ch.isalpha() or ch in "'’-" for ch in tok):
            continue
        if not ascii_ok and tok.isascii():
            continue
        out.append(tok)
    return out


# --------------------------------------------------------------------------- chính tả


def load_allowlist(path: pathlib.Path = ALLOWLIST, foreign: bool = False) -> set[str]:
    """Danh sách từ được phép (chữ thường, NFC). Dòng bắt đầu bằng `~` là từ nước ngoài có dấu trông
    giống tiếng Việt (ví dụ `~voilà`); `foreign=True` chỉ trả về các từ đó."""
    if not pathlib.Path(path).is_file():
        return set()
    out = set()
    for line in pathlib.Path(path).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and (not foreign or line.startswith("~")):
            out.add(unicodedata.normalize("NFC", line.lstrip("~").strip()).lower())
    return out


def hunspell_available() -> bool:
    if shutil.which("hunspell") is None:
        return False
    return any(pathlib.Path(d, HUNSPELL_DICT + ".dic").is_file() for d in DICT_DIRS)


def hunspell_unknown(word_list, dictionary: str = HUNSPELL_DICT) -> set[str]:
    """Các từ mà từ điển hunspell không biết (một lần gọi hunspell cho cả danh sách)."""
    uniq = sorted(set(word_list))
    if not uniq:
        return set()
    res = subprocess.run(
        ["hunspell", "-d", dictionary, "-i", "utf-8", "-l"],
        input="\n".join(uniq) + "\n",
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**os.environ, "LC_ALL": "C.UTF-8"},
        check=False,
    )
    if res.returncode != 0:
        raise RuntimeError(f"hunspell lỗi (mã {res.returncode}): {res.stderr.strip()}")
    return {w for w in res.stdout.split("\n") if w}


def hunspell_suggest(word_list, dictionary: str = HUNSPELL_DICT) -> dict[str, list[str]]:
    """Gợi ý sửa của hunspell cho từng từ (chế độ `-a`)."""
    uniq = sorted(set(word_list))
    if not uniq:
        return {}
    res = subprocess.run(
        ["hunspell", "-d", dictionary, "-i", "utf-8", "-a"],
        input="".join(f"^{w}\n" for w in uniq),
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**os.environ, "LC_ALL": "C.UTF-8"},
        check=False,
    )
    out: dict[str, list[str]] = {}
    for line in res.stdout.splitlines():
        if line.startswith("&"):
            head, _, sugg = line.partition(":")
            out[head.split()[1]] = [s.strip() for s in sugg.split(",") if s.strip()][:5]
        elif line.startswith("#"):
            out[line.split()[1]] = []
    return out


def glossary_spelling_problems(glossary: Glossary, allowlist: set[str] | None = None) -> list[str]:
    """Cột tiếng Việt của glossary.md phải đúng chính tả (theo hunspell-vi + danh sách cho phép)."""
    allow = load_allowlist() if allowlist is None else allowlist
    toks = {}
    for t in glossary.terms:
        for tok in words(t.vi):
            if tok.lower() in allow:
                continue
            for part in _split_parts(tok):
                if part.lower() not in allow:
                    toks.setdefault(part, t)
    unknown = hunspell_unknown(toks)
    return [
        f"glossary.md dòng {toks[w].line}: '{w}' (trong '{toks[w].vi}') không có trong từ điển"
        for w in sorted(unknown)
    ]


# Lỗi mà từ điển theo âm tiết không bắt được (mỗi âm tiết đều hợp lệ), thường gặp trong bản OCR của
# ghi chú bài giảng: cụm sai -> cụm đúng.
KNOWN_MISSPELLINGS = {
    "dữ liêu": "dữ liệu",
}


def known_misspelling_problems(path) -> list[str]:
    """Các lỗi chính tả đã biết (KNOWN_MISSPELLINGS) trong ô markdown."""
    pats = [(term_pattern(bad), good) for bad, good in KNOWN_MISSPELLINGS.items()]
    probs = []
    for cell in load_cells(path):
        if cell.cell_type != "markdown":
            continue
        text = strip_markdown(cell.source)
        for pat, good in pats:
            for m in pat.finditer(text):
                probs.append(f"{where(path, cell)}: viết sai '{m.group()}', hãy viết '{good}'")
    return probs


VI_LETTERS = set("àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ")


def looks_vietnamese(word: str) -> bool:
    """Từ có chữ cái riêng của tiếng Việt (có dấu hoặc ă â đ ê ô ơ ư)."""
    return any(ch in VI_LETTERS for ch in unicodedata.normalize("NFC", word.lower()))


def _split_parts(tok: str) -> list[str]:
    return [p for p in re.split(r"[-'’]", tok) if len(p) >= 2]


def spelling_problems(path, allowlist: set[str] | None = None, suggest: bool = True) -> list[str]:
    """Các từ trong ô markdown mà hunspell-vi không biết và không có trong danh sách cho phép."""
    allow = load_allowlist() if allowlist is None else allowlist
    per_cell: list[tuple[Cell, list[str]]] = []
    to_check: set[str] = set()
    for cell in load_cells(path):
        if cell.cell_type != "markdown":
            continue
        toks = []
        for tok in words(cell.source, ascii_ok=not is_reference_cell(cell.source)):
            if tok.lower() in allow:
                continue
            for part in _split_parts(tok):
                if part.lower() not in allow:
                    toks.append(part)
        per_cell.append((cell, toks))
        to_check.update(toks)
    probs = known_misspelling_problems(path)
    unknown = hunspell_unknown(to_check)
    if not unknown:
        return probs
    sugg = hunspell_suggest(unknown) if suggest else {}
    for cell, toks in per_cell:
        bad = list(dict.fromkeys(t for t in toks if t in unknown))
        if bad:
            shown = ", ".join(
                f"'{w}'" + (f" (gợi ý: {' / '.join(sugg[w])})" if sugg.get(w) else "") for w in bad
            )
            probs.append(f"{where(path, cell)}: từ không có trong từ điển: {shown}")
    return probs


# --------------------------------------------------------------------------- trích dẫn ghi chú

# Người học không có thư mục ghi chú nội bộ; "ghi chú 001", "bài 002" còn dễ nhầm với số thứ tự bài
# giảng. Bài giảng phải gọi ghi chú theo tên (danh sách trong lectures/README.md).
_INTERNAL_REF = re.compile(
    r"shared/seeds|(?<![\w.-])seeds/|\b00\d_[0-9a-f]{8,}(?:\.txt)?\b"
    r"|ghi\s+chú\s*\(?\s*(?:bài\s+|số\s+)?0\d\d\b|\bbài\s+00\d\b",
    re.IGNORECASE,
)


def internal_reference_problems(path) -> list[str]:
    """Các chỗ (mọi ô, cả ô mã) trích ghi chú bằng tên tệp/thư mục nội bộ hoặc số hiệu "ghi chú 00N"."""
    probs = []
    for cell in load_cells(path):
        text = unicodedata.normalize("NFC", cell.source)
        for m in _INTERNAL_REF.finditer(text):
            probs.append(
                f"{where(path, cell)}: trích ghi chú bằng tên nội bộ '{m.group()}' — hãy gọi ghi chú "
                "theo tên (danh sách trong lectures/README.md)"
            )
    return probs


def is_lecture_file(path) -> bool:
    """Notebook bài giảng hoặc README của thư mục lectures/."""
    p = pathlib.Path(path).resolve()
    return p.parent == (ROOT / "lectures").resolve() and p.suffix in (".ipynb", ".md")


# --------------------------------------------------------------------------- văn xuôi tiếng Anh

_EN_STOP = set(
    "the a an is are was were be been of to in on for with and or that this these those it its "
    "we you they can will would should which what when how by from as at not but if then than "
    "our your their has have had do does".split()
)


def english_prose_problems(path, min_words: int = 8, min_stop: int = 3) -> list[str]:
    """Heuristic: cụm ≥ `min_words` từ ASCII liên tiếp có ≥ `min_stop` hư từ tiếng Anh (the, of, is…)
    trong một ô markdown (trừ ô tài liệu tham khảo) — dấu hiệu quên dịch một câu tiếng Anh."""
    probs = []
    for cell in load_cells(path):
        if cell.cell_type != "markdown" or is_reference_cell(cell.source):
            continue
        text = _IDENTIFIER.sub(" ", strip_markdown(drop_english_sections(cell.source)))
        for sentence in re.split(r"[.!?:;\n()\[\]\"“”]+", text):
            run: list[str] = []
            for tok in re.findall(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", sentence) + [""]:
                if tok and tok.isascii():
                    run.append(tok)
                    continue
                if len(run) >= min_words and sum(w.lower() in _EN_STOP for w in run) >= min_stop:
                    probs.append(
                        f"{where(path, cell)}: có vẻ là câu tiếng Anh chưa dịch: '{' '.join(run)}'"
                    )
                run = []
    return probs


# --------------------------------------------------------------------------- dấu phẩy thập phân

# Số thập phân viết bằng dấu chấm trong văn xuôi (0.98). Không tính: số mục ("mục 3.1", "### 3.1."),
# số phiên bản ("Python 3.11", "2.13.0"), địa chỉ IP, tên tệp, định danh (đã bỏ cùng mã và công thức).
_DECIMAL_POINT = re.compile(r"(?<![\w.,/\\:-])\d+\.\d+(?![\w/\\]|\.\d)")
_NUMBER_CONTEXT = re.compile(
    r"(?:mục|phần|§|bài|bước|công thức|hình|bảng|chương|ví dụ|python|phiên bản|bản|version|torch|"
    r"numpy|nbformat|voilà|jupyterlab|cuda|v)\s*(?:\d+(?:\.\d+)*\s*(?:–|-|,|và|hoặc)\s*)*$",
    re.IGNORECASE,
)
_HEADING_NUMBER = re.compile(r"^(#{1,6}[ \t]+)[\d.]+", re.MULTILINE)
# Kiểu định dạng làm hiện dấu chấm thập phân: e, g, và f/% có phần thập phân (.0f, .0% thì không).
_FLOAT_SPEC = re.compile(r"(?:\.(\d+))?([eEfFgG%])?$")
_CODE_LIKE = re.compile(
    r"\b(?:np|torch|nblib|math|plt)\.|\bimport\b|lambda\b|==|\w\([^()]*\)\s*[*@/]\s*[\d(]"
)
# Hàm/lớp bọc một số để f-string in nó bằng dấu phẩy thập phân: f"{comma(x):.3f}" → "0,984".
COMMA_WRAPPERS = {"comma"}
_NUMERIC_STRING = re.compile(r"^\s*[-+]?[\d.]+(?:e[-+]?\d+)?\s*$")


def _decimal_hits(text: str) -> list[str]:
    text = _HEADING_NUMBER.sub(lambda m: m.group(1), text)
    out = []
    for m in _DECIMAL_POINT.finditer(text):
        if _NUMBER_CONTEXT.search(text[max(0, m.start() - 40) : m.start()]):
            continue
        out.append(m.group())
    return out


def spec_shows_decimal_point(spec: str) -> bool:
    """Định dạng (phần sau dấu `:` trong f-string, hay `%.3f`) in ra dấu chấm thập phân."""
    m = _FLOAT_SPEC.search(spec)
    if not m or (m.group(1) is None and m.group(2) is None):
        return False
    precision, kind = m.group(1), m.group(2)
    if kind in ("e", "E", "g", "G"):
        return True
    if kind is None:  # "{x:.3}" giống "g"
        return True
    return precision is not None and int(precision) > 0


def _code_source(src: str) -> str:
    # bỏ lệnh magic/shell của IPython để ast đọc được ô
    return "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in src.splitlines())


def _comma_replaced(tree) -> set[int]:
    """id các nút nằm trong `<...>.replace(".", ",")` (chuỗi đã đổi sang dấu phẩy)."""
    import ast

    ok: set[int] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "replace"
            and len(node.args) == 2
            and all(isinstance(a, ast.Constant) for a in node.args)
            and [a.value for a in node.args] == [".", ","]
        ):
            ok.update(id(n) for n in ast.walk(node.func.value))
    return ok


def code_decimal_problems(src: str) -> list[tuple[int, str]]:
    """(dòng, mô tả) cho các chuỗi của một ô mã in số bằng dấu chấm thập phân: định dạng f-string
    `{x:.3f}`/`{x:.2e}`/`{x:.1%}`, `"%.3f" % x`, `"{:.2f}".format(x)` và số viết sẵn trong chuỗi
    ("α = 0.01"). Không tính `{comma(x):.3f}` (COMMA_WRAPPERS), chuỗi chỉ là một số ("0.5", màu xám của matplotlib), chuỗi trông như mã
    ("np.random.randn(2, 2) * 0.01") và chuỗi đã qua `.replace(".", ",")`."""
    import ast

    try:
        tree = ast.parse(_code_source(src))
    except SyntaxError:
        return []
    ok = _comma_replaced(tree)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    specs = set()
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            specs.update(id(n) for n in ast.walk(node.format_spec))
            spec = "".join(v.value for v in node.format_spec.values if isinstance(v, ast.Constant))
            wrapped = (
                isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Name)
                and node.value.func.id in COMMA_WRAPPERS
            )
            if id(node) not in ok and not wrapped and spec_shows_decimal_point(spec):
                out.append((node.lineno, f"định dạng '{{…:{spec}}}' in dấu chấm thập phân"))
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            continue
        if id(node) in specs or id(node) in ok or id(node) in docstrings:
            continue
        text = node.value
        if _NUMERIC_STRING.match(text) or _CODE_LIKE.search(text):
            continue
        for spec in re.findall(r"%[-+ #0]*\d*(\.\d+)?([eEfFgG])", text):
            if spec_shows_decimal_point("".join(spec)):
                out.append((node.lineno, f"định dạng '%{''.join(spec)}' in dấu chấm thập phân"))
        for spec in re.findall(r"\{[^{}:]*:([^{}]*)\}", text):
            if spec_shows_decimal_point(spec):
                out.append((node.lineno, f"định dạng '{{:{spec}}}' in dấu chấm thập phân"))
        for hit in _decimal_hits(text):
            out.append((node.lineno, f"chuỗi viết '{hit}'"))
    return sorted(set(out))


def decimal_point_problems(path) -> list[str]:
    """Dấu chấm thập phân trong văn xuôi markdown (ngoài mã và công thức) và trong chuỗi mà ô mã in ra
    hoặc vẽ lên hình (nhãn, tiêu đề, chú thích, dòng trạng thái). Quy tắc (glossary.md): dấu phẩy
    thập phân — 0,98 chứ không 0.98; trong mã, số vẫn viết 0.98."""
    probs = []
    for cell in load_cells(path):
        if cell.cell_type == "markdown":
            text = _NOTE_TITLE.sub(" ", strip_markdown(drop_english_sections(cell.source)))
            for hit in _decimal_hits(text):
                probs.append(
                    f"{where(path, cell)}: viết '{hit}' — dùng dấu phẩy thập phân "
                    f"'{hit.replace('.', ',')}' (glossary.md)"
                )
        elif cell.cell_type == "code":
            for line, what in code_decimal_problems(cell.source):
                probs.append(
                    f"{where(path, cell)} dòng {line}: {what} — số hiện cho người học dùng dấu phẩy "
                    "thập phân (nblib.presentation.plots.fmt/percent, hoặc .replace('.', ','))"
                )
    return probs


# --------------------------------------------------------------------------- từ không dùng trong văn bản

# Từ tiếng Anh/lai không dùng trong văn xuôi tiếng Việt (markdown và chuỗi hiện cho người học; chú thích
# mã và định danh không tính): từ → nên dùng.
RUNNING_TEXT_BANNED = {
    "code": "mã",
    "bản demo": "demo, minh hoạ hoặc thử nghiệm trực tiếp",
    "cheatsheet": "bảng tóm tắt",
    "babysitting": "chăm sóc quá trình học",
}


def _string_constants(src: str) -> list[tuple[int, str]]:
    import ast

    try:
        tree = ast.parse(_code_source(src))
    except SyntaxError:
        return []
    return [
        (n.lineno, n.value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


def banned_word_problems(path) -> list[str]:
    """Các từ trong RUNNING_TEXT_BANNED xuất hiện trong markdown (ngoài mã, công thức, tên ghi chú)
    hoặc trong chuỗi của ô mã."""
    pats = [(term_pattern(w), w, good) for w, good in RUNNING_TEXT_BANNED.items()]
    probs = []
    for cell in load_cells(path):
        if cell.cell_type == "markdown":
            texts = [
                (None, _NOTE_TITLE.sub(" ", strip_markdown(drop_english_sections(cell.source))))
            ]
        elif cell.cell_type == "code":
            texts = [
                (n, _NOTE_TITLE.sub(" ", t))
                for n, t in _string_constants(cell.source)
                if not _CODE_LIKE.search(t)
            ]
        else:
            continue
        for line, text in texts:
            for pat, _w, good in pats:
                for m in pat.finditer(text):
                    at = "" if line is None else f" dòng {line}"
                    probs.append(f"{where(path, cell)}{at}: dùng '{m.group()}' — hãy dùng '{good}'")
    return probs


# Nhãn trục số bước lặp: một nhãn cho cả khoá học (glossary.md, "bước lặp").
ITERATION_LABEL = "bước lặp"
ITERATION_ALIASES = {
    "bước",
    "bước cập nhật",
    "số bước",
    "số bước cập nhật",
    "lần cập nhật",
    "số lần cập nhật",
    "vòng lặp",
    "iteration",
    "iter",
    "step",
}


def axis_label_problems(path) -> list[str]:
    """Nhãn trục hoành chỉ số bước lặp phải là ITERATION_LABEL (không 'bước', 'lần cập nhật', 'vòng
    lặp'…). Đọc `set_xlabel("…")` và `xlabel="…"` trong ô mã."""
    import ast

    probs = []
    for cell in load_cells(path):
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(_code_source(cell.source))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            labels = []
            if isinstance(node.func, ast.Attribute) and node.func.attr in ("set_xlabel", "xlabel"):
                labels += node.args[:1]
            labels += [k.value for k in node.keywords if k.arg == "xlabel"]
            for lab in labels:
                if isinstance(lab, ast.Constant) and isinstance(lab.value, str):
                    if lab.value.strip().lower() in ITERATION_ALIASES:
                        probs.append(
                            f"{where(path, cell)} dòng {node.lineno}: nhãn trục '{lab.value}' — "
                            f"trục số bước lặp ghi '{ITERATION_LABEL}' (glossary.md)"
                        )
    return probs


# --------------------------------------------------------------------------- một kiểu import

# Bài giảng nhập nblib một kiểu: phần toán `from nblib import MLP, data, layers, train, …`, phần trình bày
# `from nblib.presentation.<mô-đun> import Demo, …`; không bí danh (`import nblib.x as y`,
# `from nblib import x as y`), không nhập cả mô-đun trình bày (`from nblib.presentation import widgets`).
_BAD_IMPORT = re.compile(
    r"^[ \t]*(?:import nblib\.[\w.]+(?:[ \t]+as[ \t]+\w+)?"
    r"|from nblib[\w.]* import [^\n#]*\bas\b[^\n]*|from nblib\.presentation import [^\n]*)",
    re.M,
)


def import_style_problems(path) -> list[str]:
    """Các dòng nhập nblib sai kiểu chung của bài giảng (bí danh, `import nblib.x`, nhập cả mô-đun
    trình bày)."""
    probs = []
    for cell in load_cells(path):
        if cell.cell_type != "code":
            continue
        for m in _BAD_IMPORT.finditer(cell.source):
            probs.append(
                f"{where(path, cell)}: '{m.group().strip()}' — nhập nblib theo một kiểu: "
                "'from nblib import MLP, data, …' và 'from nblib.presentation.widgets import Demo, …'"
            )
    return probs


# --------------------------------------------------------------------------- khuôn bài giảng

# Các mục bắt buộc của một bài giảng, theo thứ tự.
LECTURE_SECTIONS = (
    "## Mục tiêu",
    "## Tự kiểm tra",
    "## Câu hỏi",
    "## Bài tập",
    "## Tóm tắt",
    "## Tài liệu tham khảo",
)
LIVE_SECTION = "Thử nghiệm trực tiếp"
_LIVE_ALIASES = re.compile(
    r"bản demo|minh hoạ tương tác|minh họa tương tác|thử nghiệm tương tác|\bdemo\b", re.I
)
_EXERCISE = re.compile(r"^\d+\.\s+\*\*\((dễ|vừa|khó)\)\*\*\s+\S", re.M)
_NUMBERED = re.compile(r"^\d+\.\s+\S", re.M)


def template_problems(path) -> list[str]:
    """Khuôn chung của một bài giảng `lectures/NN_*.ipynb`:

    - ô đầu là tiêu đề `# Bài NN — …` (NN là hai chữ số đầu tên tệp);
    - đủ các mục LECTURE_SECTIONS, đúng thứ tự, mỗi mục một lần;
    - mục "Tự kiểm tra" có ít nhất một ô gọi `quiz(`;
    - "Câu hỏi": các câu viết `**Câu N.** …`, đánh số liên tục từ 1;
    - "Bài tập": 3–5 bài đánh số, mỗi bài ghi mức độ `**(dễ)**`, `**(vừa)**` hoặc `**(khó)**`;
    - mục trực tiếp (nếu có) tên là "Thử nghiệm trực tiếp", không "Bản demo"/"Minh hoạ tương tác";
    - "Tài liệu tham khảo" gọi ít nhất một ghi chú của khoá học theo tên (NOTE_TITLES).
    """
    path = pathlib.Path(path)
    cells = load_cells(path)
    name = rel(path)
    probs = []
    num = path.name[:2]
    first = cells[0].source.splitlines()[0] if cells and cells[0].source else ""
    if not re.match(rf"# Bài {re.escape(num)} — \S", first):
        probs.append(f"{name}: ô đầu phải là tiêu đề '# Bài {num} — …', đang là {first!r}")
    md = [c for c in cells if c.cell_type == "markdown"]
    heads = [
        (c.index, ln.strip())
        for c in md
        for ln in _FENCED.sub("", c.source).splitlines()
        if ln.startswith("## ")
    ]
    found = []
    for sec in LECTURE_SECTIONS:
        at = [i for i, (_, h) in enumerate(heads) if h == sec]
        if len(at) != 1:
            probs.append(f"{name}: cần đúng một mục '{sec}', có {len(at)}")
        else:
            found.append((at[0], sec))
    order = [s for _, s in sorted(found)]
    if order != [s for s in LECTURE_SECTIONS if s in order]:
        probs.append(f"{name}: các mục phải theo thứ tự {' → '.join(LECTURE_SECTIONS)}: {order}")
    for idx, h in heads:
        if _LIVE_ALIASES.search(h) and LIVE_SECTION.lower() not in h.lower():
            probs.append(
                f"{name} ô #{idx}: mục '{h}' — mục tương tác tên là '{LIVE_SECTION}' (glossary.md)"
            )

    def section_text(title):
        """Văn bản của mục `title` (tới tiêu đề `## ` kế tiếp) và các ô mã trong đó."""
        out, code, inside = [], [], False
        for c in cells:
            lines = c.source.splitlines() if c.cell_type == "markdown" else []
            if c.cell_type == "code":
                if inside:
                    code.append(c.source)
                continue
            for ln in lines:
                if ln.startswith("## "):
                    inside = ln.strip() == title
                    continue
                if inside:
                    out.append(ln)
        return "\n".join(out), code

    quiz_md, quiz_code = section_text("## Tự kiểm tra")
    if "## Tự kiểm tra" in order and not any("quiz(" in s for s in quiz_code):
        probs.append(f"{name}: mục 'Tự kiểm tra' cần ít nhất một ô gọi quiz(…)")
    q, _ = section_text("## Câu hỏi")
    other = re.findall(r"^\*\*(?!Câu \d+\.\*\* )\S*\d+\..*$", q, flags=re.M)
    if other:
        probs.append(f"{name}: câu hỏi phải viết '**Câu N.** …': {other[:3]}")
    numbers = [int(n) for n in re.findall(r"^\*\*Câu (\d+)\.\*\* ", q, flags=re.M)]
    if "## Câu hỏi" in order and (not numbers or numbers != list(range(1, len(numbers) + 1))):
        probs.append(
            f"{name}: câu hỏi phải đánh số '**Câu 1.**', '**Câu 2.**'… liên tục: {numbers}"
        )
    ex, _ = section_text("## Bài tập")
    if "## Bài tập" in order:
        items = _NUMBERED.findall(ex)
        marked = _EXERCISE.findall(ex)
        if not 3 <= len(items) <= 5:
            probs.append(f"{name}: mục 'Bài tập' cần 3–5 bài đánh số, có {len(items)}")
        if len(marked) != len(items):
            probs.append(
                f"{name}: mỗi bài tập ghi mức độ ngay sau số: '1. **(dễ)** …' "
                f"({len(marked)}/{len(items)} bài có)"
            )
    refs, _ = section_text("## Tài liệu tham khảo")
    if "## Tài liệu tham khảo" in order and not any(t in refs for t in NOTE_TITLES):
        probs.append(f"{name}: 'Tài liệu tham khảo' phải gọi ít nhất một ghi chú theo tên")
    return probs


# --------------------------------------------------------------------------- dòng lệnh


def check_file(path, glossary: Glossary | None = None, spelling: bool = True) -> list[str]:
    path = pathlib.Path(path)
    probs = nfc_problems(path)
    if path.suffix in (".ipynb", ".md") and path.resolve() != GLOSSARY.resolve():
        probs += glossary_problems(path, glossary)
        if spelling and (path.suffix == ".ipynb" or path.name == "README.md"):
            probs += spelling_problems(path)
        if is_lecture_file(path):
            probs += internal_reference_problems(path)
            if path.suffix == ".ipynb":
                probs += template_problems(path) + import_style_problems(path)
        probs += decimal_point_problems(path) + banned_word_problems(path)
        if path.suffix == ".ipynb":
            probs += axis_label_problems(path)
        probs += [f"(cảnh báo) {p}" for p in english_prose_problems(path)]
    return probs


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    paths = [pathlib.Path(a) for a in argv] or [*find_notebooks(), *find_markdown_docs()]
    glossary = parse_glossary()
    probs = list(glossary.errors)
    spelling = hunspell_available()
    if not spelling:
        print(
            "CHÚ Ý: chưa có hunspell + từ điển vi_VN nên bỏ qua kiểm tra chính tả; "
            f"cài bằng: apt-get install -y {' '.join(APT_PACKAGES)}",
            file=sys.stderr,
        )
    for p in paths:
        probs += check_file(p, glossary, spelling=spelling)
    for p in probs:
        print(p)
    sys.stdout.flush()
    errors = [p for p in probs if not p.startswith("(cảnh báo)")]
    print(
        f"{len(errors)} lỗi, {len(probs) - len(errors)} cảnh báo trong {len(paths)} tệp.",
        file=sys.stderr,
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
