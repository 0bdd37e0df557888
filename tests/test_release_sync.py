"""release/ is what nbgrader generates from source/: regenerate into a temporary course and compare.

Only volatile notebook metadata (language_info, widget state) is ignored; cells, their sources,
outputs and nbgrader metadata (checksums included) must be identical, and no file may be missing
or extra.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.instructor import cli
from tests import REPO
from tests.autograde import Course

ASSIGNMENTS = sorted(p.name for p in (REPO / "source").iterdir() if p.is_dir() and p.name.startswith("week"))
VOLATILE_METADATA = ("language_info", "widgets")


def _normalised(path: Path) -> dict:
    nb = json.loads(path.read_text())
    for key in VOLATILE_METADATA:
        nb.get("metadata", {}).pop(key, None)
    return nb


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")
            if p.is_file() and ".ipynb_checkpoints" not in p.parts and "__pycache__" not in p.parts}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_matches_a_fresh_generate_assignment(assignment, tmp_path):
    course = Course(tmp_path, assignment)
    assert cli.main(["--root", str(course.root), "generate", assignment]) == 0  # the maintainers' command
    fresh, committed = tmp_path / "release" / assignment, REPO / "release" / assignment
    how = f"regenerate it: cnn-course generate {assignment} (or python -m helpers.instructor generate {assignment})"
    assert committed.is_dir(), f"release/{assignment} is missing; {how}"
    assert _files(fresh) == _files(committed), f"release/{assignment} has other files than a fresh release; {how}"
    for name in sorted(_files(fresh)):
        if name.endswith(".ipynb"):
            same = _normalised(fresh / name) == _normalised(committed / name)
        else:
            same = (fresh / name).read_bytes() == (committed / name).read_bytes()
        assert same, f"release/{assignment}/{name} is out of date; {how}"


def test_every_source_assignment_has_a_release():
    assert ASSIGNMENTS, "no assignment in source/"
    for assignment in ASSIGNMENTS:
        assert (REPO / "release" / assignment).is_dir(), assignment
