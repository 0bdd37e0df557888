"""``cnn-course student-kit OUT``: the folder (and zip) students receive, without the answers.

What goes in: the release notebooks (``release/``), the lectures (``course/``), the ``helpers``
package WITHOUT ``helpers/reference/`` (the instructor references), ``helpers/instructor/`` and the
old instructor path ``helpers/course.py``; the data generators and shipped weights come with
``helpers``. The visible tests need values computed with the references: they are computed here,
by running every visible test with the reference solutions while :func:`helpers.checks.stored.recording`
keeps them, and written to ``helpers/checks/expected/<nb>.npz`` with a SHA-256 manifest. The kit
gets its own README, ``pyproject.toml``, ``requirements.txt`` (no instructor or test tools),
``course.sh`` (``lab``, ``check``) and a ``Dockerfile`` (a JupyterHub image context).

What stays out: ``source/`` (solutions, hidden tests), ``tests/`` (variants), ``autograded/``,
the gradebook, ``scripts/``, ``benchmarks/``, the generated data cache. Before writing the zip the
builder checks that no solution block of a ``source/`` notebook appears in any file of the kit.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import nbformat

#: Parts of ``helpers`` students never receive.
EXCLUDED_HELPERS = ("reference", "instructor", "course.py")
#: Requirements of the instructor's and maintainers' tools only.
INSTRUCTOR_ONLY_REQUIREMENTS = ("nbgrader", "pytest", "nbval", "playwright", "ruff", "dask", "psycopg2-binary")
#: Solution blocks students are given anyway, with why (not counted as leaks).
GIVEN_SOLUTIONS = {
    "J = alpha * J_content + beta * J_style":
        "total_cost is the formula the notebook states, J(G) = alpha J_content + beta J_style; the visible "
        "test's failure message repeats it",
}
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", ".DS_Store")

KIT_README = """\
# Convolutional Neural Networks: your course kit

Four weeks of convolutional neural networks as JupyterLab notebooks: lectures in `course/`, one
assignment a week in `release/` (two notebooks each). Everything works offline on a laptop CPU:
the data sets are generated on your machine and the pretrained weights come with the kit.

## The two commands

With Python 3.11 and bash (Linux or macOS; on Windows use WSL), in this folder:

```bash
bash course.sh lab     # 1. set up .venv (first time: a few minutes) and open the course in JupyterLab
bash course.sh check   # 2. check the kit: the visible tests of every assignment load and report
```

`check` runs every visible test of every assignment on a placeholder that is not implemented yet
and expects each to say so: it proves that the tests, their stored expected values (checked by
SHA-256) and TensorFlow work on your machine. It does not need your answers.

## Working on an assignment

Open `release/weekN/<Assignment>.ipynb`, write your code where a cell says `# YOUR CODE HERE`
(delete the `raise NotImplementedError()` line) and run the test cell under each function:
`All tests passed.` means the visible tests pass; a failure names the function, what was expected,
what came, and the likely cause. The autograder also runs hidden tests with other shapes, seeds
and hyper-parameters. Do not rename functions or edit the test cells.

The visible tests compare with expected values stored in `helpers/checks/expected/` (one file per
notebook, listed with their SHA-256 in `MANIFEST.json`). If a test says they are missing or
altered, get the kit again from your instructor.

GPU (optional, Linux + NVIDIA driver): after `bash course.sh lab`, run
`.venv/bin/pip install "tensorflow[and-cuda]==2.21.0"`.
"""

# The kit's course.sh: its own commands around the repository's find_python and setup_venv (taken from
# the repository's course.sh when the kit is built, so the two set up Python the same way).
KIT_COURSE_SH = """\
#!/usr/bin/env bash
# The kit's two commands (see README.md):
#   bash course.sh lab     set up .venv from requirements.txt (first time, or when it changed) and open JupyterLab
#   bash course.sh check   run every visible test once (placeholder answers) to check the kit works here
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
ROOT=$(pwd)
VENV="${COURSE_VENV:-$ROOT/.venv}"

{python_and_venv}cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
  lab)
    setup_venv
    extra=()
    if [ "$(id -u)" = "0" ]; then
      echo "course.sh: running as root (fine in a container; on your own machine use a normal user)" >&2
      extra=(--allow-root)
    fi
    exec "$VENV/bin/jupyter" lab "${extra[@]}" "$@"
    ;;
  check)
    setup_venv
    exec "$VENV/bin/python" -m helpers.checks.verify "$@"
    ;;
  *)
    echo "usage: bash course.sh lab|check" >&2
    exit 2
    ;;
esac
"""

def kit_course_sh(repo_course_sh: Path) -> str:
    """The kit's course.sh, with ``find_python`` and ``setup_venv`` copied from the repository's."""
    text = repo_course_sh.read_text()
    start, end = text.index("find_python() {\n"), text.index("\n}\n", text.index("setup_venv() {\n")) + 3
    return KIT_COURSE_SH.replace("{python_and_venv}", text[start:end] + "\n")


KIT_DOCKERFILE = """\
# JupyterHub / Docker image of the course kit: docker build -t cnn-course-kit . && docker run -p 8888:8888 cnn-course-kit
FROM python:3.11-slim
RUN useradd --create-home --uid 1000 jovyan
WORKDIR /home/jovyan/course
COPY --chown=jovyan:jovyan . .
RUN pip install --no-cache-dir -r requirements.txt && python -m helpers.checks.verify --quick
USER jovyan
EXPOSE 8888
CMD ["jupyter", "lab", "--ip=0.0.0.0", "--no-browser"]
"""

KIT_PYPROJECT = """\
[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "cnn-course-helpers"
version = "{version}"
description = "Shared code of the offline Convolutional Neural Networks course (student kit)."
requires-python = ">=3.11"
license = "MIT"

[tool.setuptools.packages.find]
include = ["helpers*"]

[tool.setuptools.package-data]
"*" = ["*.json", "*.txt", "*.weights.h5", "*.npz", "*.jpg", "*.md", "LICENSE*", "NOTICE*"]
"""


# --------------------------------------------------------------------------------------------
# solution blocks


def solution_blocks(root: Path, min_chars: int = 20) -> list[tuple[str, str]]:
    """``(where, text)`` of every ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` block of ``source/``.

    Text is normalised (:func:`normalise`); blocks shorter than ``min_chars`` (e.g. ``pass``) and those of
    :data:`GIVEN_SOLUTIONS` are skipped.
    """
    blocks = []
    for path in sorted((Path(root) / "source").rglob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for index, cell in enumerate(nb.cells):
            for match in re.finditer(r"### BEGIN SOLUTION(.*?)### END SOLUTION", cell.source, flags=re.S):
                text = normalise(match.group(1))
                if len(text) >= min_chars and text not in GIVEN_SOLUTIONS:
                    blocks.append((f"{path.relative_to(root)} cell {index}", text))
    return blocks


def normalise(text: str) -> str:
    """Code without comments, blank lines and indentation, lines joined by newlines."""
    lines = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            lines.append(re.sub(r"\s+", " ", line))
    return "\n".join(lines)


def _readable_text(path: Path) -> str | None:
    if path.suffix in (".npz", ".jpg", ".png", ".h5", ".zip"):
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return None
    if path.suffix == ".ipynb":  # notebook sources are JSON strings: read the cells' code
        try:
            nb = nbformat.reads(text, as_version=4)
            text = "\n".join(cell.source for cell in nb.cells)
        except Exception:  # noqa: BLE001 - an unreadable notebook is scanned as plain text
            pass
    return text


def solution_leaks(kit: Path, blocks: list[tuple[str, str]]) -> list[str]:
    """``"<kit file>: <source cell>"`` for every solution block found (normalised) in a kit file."""
    leaks = []
    for path in sorted(p for p in Path(kit).rglob("*") if p.is_file()):
        text = _readable_text(path)
        if not text:
            continue
        flat = normalise(text)
        leaks += [f"{path.relative_to(kit)}: {where}" for where, block in blocks if block in flat]
    return leaks


# --------------------------------------------------------------------------------------------
# stored expected values


def _notebook_key(path: Path) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", path.stem).lower()


def _run_cell(source: str, namespace: dict) -> None:
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    exec(compile(code, "<cell>", "exec"), namespace)  # noqa: S102 - the course's own instructor notebooks


def record_expected_values(folder: Path, root: Path) -> dict[str, int]:
    """Run every visible test with the reference solutions; write the values it asked for.

    For each instructor notebook of ``root/source`` whose checks module has an ``EXPECTED`` store,
    runs its imports cell and solution cells (as a student's finished notebook would), then the
    visible part of every test cell, while :func:`helpers.checks.stored.recording` keeps the values.
    Writes ``folder/<nb>.npz`` and ``folder/MANIFEST.json``; returns ``{nb: number of values}``.
    """
    import importlib

    from helpers.checks import stored

    counts: dict[str, int] = {}
    with stored.recording() as recorder:
        for path in sorted((Path(root) / "source").rglob("*.ipynb")):
            if ".ipynb_checkpoints" in path.parts:
                continue
            nb = _notebook_key(path)
            checks = importlib.import_module(f"helpers.checks.{nb}")
            if not isinstance(getattr(checks, "EXPECTED", None), stored.Expected):
                continue
            cells = {c.metadata["nbgrader"]["grade_id"]: c.source for c in nbformat.read(path, as_version=4).cells
                     if c.cell_type == "code" and "grade_id" in c.metadata.get("nbgrader", {})}
            namespace: dict = {}
            with contextlib.redirect_stdout(io.StringIO()):
                _run_cell(cells["imports"], namespace)
            for grade_id, source in cells.items():
                if grade_id.endswith("_solution"):
                    _run_cell("\n".join(line for line in source.splitlines()
                                        if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")), namespace)
            for grade_id, source in cells.items():
                if not grade_id.endswith("_tests"):
                    continue
                with contextlib.redirect_stdout(io.StringIO()) as printed:
                    _run_cell(source.split("### BEGIN HIDDEN TESTS")[0], namespace)
                if "All tests passed." not in printed.getvalue():
                    raise RuntimeError(f"{nb}: the reference did not pass the visible part of {grade_id}: {printed.getvalue()}")
            counts[nb] = len(recorder.get(nb, {}))
        folder.mkdir(parents=True, exist_ok=True)
        for nb, values in recorder.items():
            stored.write_store(nb, values, folder)
    stored.write_manifest(folder)
    return counts


def write_resnet_architecture(path: Path) -> None:
    """The Keras JSON of the shipped ResNet-50's architecture (the kit cannot build it without the reference)."""
    from helpers.models.resnet import signs_architecture

    path.write_text(signs_architecture().to_json())


# --------------------------------------------------------------------------------------------
# the kit


def _kit_requirements(root: Path) -> str:
    """The repository's requirements.txt without the instructor-only pins and the comments just above them."""
    kept, comments = [], []
    for line in (root / "requirements.txt").read_text().splitlines():
        if line.startswith("#"):
            comments.append(line)  # belongs to the requirement below it, or ends at a blank line
            continue
        name = re.split(r"[=<>\[ ]", line.strip(), maxsplit=1)[0].lower()
        if name not in INSTRUCTOR_ONLY_REQUIREMENTS:
            kept += comments + [line]
        comments = []
    text = "\n".join(kept + comments)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def _git_commit(root: Path) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def build_student_kit(out: Path, root: Path | None = None, make_zip: bool = True) -> dict:
    """Build the student kit in ``out`` (replaced if it exists) and ``out.zip``; return what was built.

    root: the course repository (default: the one this package was imported from).
    Returns ``{"out", "zip", "seconds", "size_bytes", "zip_bytes", "stored_values", "commit"}``
    (``out/KIT.json`` keeps the commit and the number of stored values). Raises RuntimeError when a solution would leak into the kit.
    """
    import helpers

    started = time.perf_counter()
    root = Path(root) if root is not None else Path(helpers.__file__).resolve().parents[1]
    out = Path(out).resolve()
    if out == root or any(root / part in (out, *out.parents) for part in ("helpers", "release", "course", "source")):
        raise ValueError(f"student-kit: {out} would overwrite part of the course; choose another folder")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)

    for folder in ("release", "course"):
        shutil.copytree(root / folder, out / folder, ignore=_IGNORED)
    shutil.copytree(root / "helpers", out / "helpers", ignore=_IGNORED)
    for name in EXCLUDED_HELPERS:
        target = out / "helpers" / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    expected_dir = out / "helpers" / "checks" / "expected"
    if expected_dir.exists():
        shutil.rmtree(expected_dir)

    stored_values = record_expected_values(expected_dir, root)
    write_resnet_architecture(out / "helpers" / "models" / "weights" / "resnet50_signs_architecture.json")

    (out / "README.md").write_text(KIT_README)
    (out / "course.sh").write_text(kit_course_sh(root / "course.sh"))
    (out / "course.sh").chmod(0o755)
    (out / "Dockerfile").write_text(KIT_DOCKERFILE)
    (out / "pyproject.toml").write_text(KIT_PYPROJECT.format(version=helpers.__version__))
    (out / "requirements.txt").write_text(_kit_requirements(root))

    leaks = solution_leaks(out, solution_blocks(root))
    if leaks:
        shutil.rmtree(out)
        raise RuntimeError("student-kit: solution code of source/ found in the kit, nothing written:\n  " + "\n  ".join(leaks))

    info = {"out": str(out), "commit": _git_commit(root), "stored_values": stored_values,
            "size_bytes": folder_size(out), "zip": None, "zip_bytes": None}
    (out / "KIT.json").write_text(json.dumps({"commit": info["commit"], "stored_values": stored_values}, indent=1) + "\n")
    if make_zip:
        archive = shutil.make_archive(str(out), "zip", root_dir=out.parent, base_dir=out.name)
        info["zip"], info["zip_bytes"] = archive, Path(archive).stat().st_size
    info["seconds"] = round(time.perf_counter() - started, 1)
    return info


__all__ = ["EXCLUDED_HELPERS", "build_student_kit", "folder_size", "normalise", "record_expected_values",
           "solution_blocks", "solution_leaks", "write_resnet_architecture"]
