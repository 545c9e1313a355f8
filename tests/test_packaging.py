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


def test_make_lab_student_settings(tmp_path):
    """`make lab`: trang đầu hiển thị Markdown đã dựng, không có bảng tin, phông mã có dấu tiếng
    Việt, giao diện nbgrader của giảng viên bị tắt, học viên làm trong bản sao `my-work/`."""
    import json
    import subprocess

    dry = subprocess.run(
        ["make", "-n", "lab", "LANG=vi_VN.UTF-8"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    cmd = dry[dry.index("printf") : dry.index("overrides.json", dry.index("printf"))]
    cmd = cmd.rsplit(">", 1)[0] + f"> {tmp_path / 'o.json'}"
    subprocess.run(["bash", "-c", cmd], check=True)
    settings = json.loads((tmp_path / "o.json").read_text(encoding="utf-8"))
    assert settings["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"] == {
        "markdown": "Markdown Preview"
    }
    assert settings["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    font = settings["@jupyterlab/apputils-extension:themes"]["overrides"]["code-font-family"]
    assert "DejaVu Sans Mono" in font
    assert settings["@jupyterlab/translation-extension:plugin"]["locale"] == "vi_VN"
    assert "labextension disable --level=sys_prefix $p" in dry
    assert "@jupyter/nbgrader:create-assignment" in dry and "@jupyter/nbgrader:formgrader" in dry
    assert '--ServerApp.root_dir="' in dry and '/my-work"' in dry
    assert "cp -rn lectures exercises my-work/" in dry
    assert "my-work/" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
