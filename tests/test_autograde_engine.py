"""Fast checks of the Dask engine's pieces that need no kernel: the instructor-only gradebook sent
to workers, the file round trip, and the time split read from nbclient's cell timestamps."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path

import pytest

from helpers.instructor import autograde as autograder
from helpers.instructor.grading_task import files_digest, read_files, time_split, write_files


@pytest.mark.filterwarnings("ignore:Object of type")  # SQLAlchemy's autoflush notes inside nbgrader
def test_workers_get_the_instructor_rows_and_no_student_data(tmp_path, monkeypatch):
    from nbgrader.api import Gradebook

    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])  # alembic
    course = tmp_path / "gradebook.db"
    with Gradebook(f"sqlite:///{course}") as gradebook:
        gradebook.update_or_create_assignment("week1")
        gradebook.update_or_create_notebook("Part_A", "week1")
        gradebook.update_or_create_grade_cell("add_tests", "Part_A", "week1", max_score=5, cell_type="code")
        gradebook.update_or_create_source_cell("add_tests", "Part_A", "week1", source="assert add(1, 2) == 3",
                                               cell_type="code", locked=True)
        gradebook.update_or_create_student("alice", first_name="Alice", email="alice@example.org")
        gradebook.update_or_create_submission("week1", "alice")
    template = tmp_path / "template.db"
    autograder.instructor_gradebook(course, template)
    assert autograder.instructor_digest(template) == autograder.instructor_digest(course)
    with sqlite3.connect(template) as db:
        for table in autograder.STUDENT_TABLES:
            assert db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0, table
    assert b"alice" not in template.read_bytes()


def test_files_travel_as_bytes_and_never_leave_their_folder(tmp_path):
    source = tmp_path / "a"
    (source / "data").mkdir(parents=True)
    (source / "Part_A.ipynb").write_text("{}")
    (source / "data" / "x.bin").write_bytes(b"\0\1")
    (source / "link").symlink_to("/etc/hostname")
    files = read_files(source)
    assert files == {"Part_A.ipynb": b"{}", "data/x.bin": b"\0\1"}  # symlinks are not followed
    write_files(tmp_path / "b", dict(files, **{"../escaped.txt": b"no"}))
    assert read_files(tmp_path / "b") == files and not (tmp_path / "escaped.txt").exists()
    assert files_digest(read_files(tmp_path / "b")) == files_digest(files)


def _cell(kind: str | None, start: str, end: str) -> dict:
    meta = {"execution": {"iopub.execute_input": start, "shell.execute_reply": end}}
    if kind:
        meta["nbgrader"] = {"grade": kind == "tests", "solution": kind == "solution", "grade_id": "x"}
    return {"cell_type": "code", "metadata": meta, "source": "", "outputs": []}


def test_time_split_by_cell_kind():
    cells = [_cell(None, "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:01.500Z"),       # imports
             _cell("solution", "2026-01-01T00:00:02.000Z", "2026-01-01T00:00:02.250Z"),
             _cell("tests", "2026-01-01T00:00:03.000Z", "2026-01-01T00:00:07.000Z"),
             {"cell_type": "markdown", "metadata": {}, "source": ""}]
    split = time_split({"Part_A.ipynb": json.dumps({"cells": cells}).encode()}, wall=10.0)
    assert split == {"other_cells": 1.5, "solutions": 0.25, "tests": 4.0, "kernel_and_nbgrader": 4.25, "wall": 10.0}
