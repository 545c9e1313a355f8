"""pyproject.toml và environment.yml khai báo cùng các phụ thuộc trực tiếp; README nêu hai lệnh."""

import pathlib
import re
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _name(req: str) -> str:
    return re.split(r"[<>=!~ \[]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject_deps():
    proj = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = list(proj["dependencies"]) + list(proj["optional-dependencies"]["dev"])
    return {_name(r): r for r in reqs}


def _conda_deps():
    names = {}
    text = (ROOT / "environment.yml").read_text(encoding="utf-8")
    for line in text.split("dependencies:", 1)[1].splitlines():
        m = re.match(r"^\s+- (?!-e)([A-Za-z0-9_.\-]+.*)$", line)
        if m and not line.strip().startswith("- pip:"):
            req = m.group(1).split("#")[0].strip()
            if req in ("pip",) or req.startswith("python="):
                continue
            names[_name(req.replace("=", "==", 1) if "==" not in req else req)] = req
    return names


def test_environment_yml_matches_pyproject():
    py, conda = _pyproject_deps(), _conda_deps()
    assert set(py) == set(conda), (
        f"chỉ có trong pyproject: {sorted(set(py) - set(conda))}; "
        f"chỉ có trong environment.yml: {sorted(set(conda) - set(py))}"
    )
    assert py["torch"] == "torch==2.13.0" and conda["torch"] == "torch==2.13.0"
    pinned = [r for n, r in py.items() if "==" in r and n != "torch"]
    assert not pinned, f"chỉ torch được ghim chính xác, còn lại dùng khoảng: {pinned}"


def test_readme_shows_the_two_commands_first():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    first = text[: text.index("make test") + 20]
    assert "make lab" in first and len(first) < 1500
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci
