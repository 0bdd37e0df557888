"""End to end through a temporary exchange folder with simulated students:
release -> fetch -> submit -> collect -> autograde -> feedback (generate + release + fetch) -> export.

Uses the small two-notebook assignment of the robustness tests (fast kernels); the tool is the same
for every week's assignment (the benchmark runs it on week 1).
"""

from __future__ import annotations

import csv
import html
import re
import subprocess
import sys

import nbformat
import pytest

from helpers.instructor import cli, nbgrader_calls
from tests import autograde
from tests.test_instructor_robustness import RIGHT, SOURCE, TOKEN

pytestmark = pytest.mark.slow

ASSIGNMENT, COURSE_ID = "robust", "cnn-course"
WRONG = {"add_solution": "def add(a, b):\n    return a - b"}
STUDENTS = {"alice": {}, "bob": WRONG, "carol": {"double_solution": "def double(x):\n    return x + x"}}
EXPECTED = {"alice": 15.0, "bob": 10.0, "carol": 15.0}


# nbgrader names a student after the OS account; simulated students on one account get their
# name through the exchange modules' get_username (as JUPYTERHUB_USER does for "jovyan" on a hub).
AS_STUDENT = """import sys
from nbgrader.exchange.default import submit, fetch_feedback
name = sys.argv.pop(1)
for module in (submit, fetch_feedback):
    module.get_username = lambda: name
from nbgrader.apps.nbgraderapp import main
sys.exit(main())
"""


def _as_student(student: str, home, exchange, *args: str) -> subprocess.CompletedProcess:
    env = nbgrader_calls.nbgrader_env({"HOME": str(home)})
    process = subprocess.run([sys.executable, "-c", AS_STUDENT, student, *args, f"--Exchange.root={exchange}",
                              f"--course={COURSE_ID}"], cwd=home, env=env, capture_output=True, text=True)
    assert process.returncode == 0, process.stdout + process.stderr
    return process


def test_release_fetch_submit_collect_autograde_feedback_export(tmp_path):
    exchange = tmp_path / "exchange"
    exchange.mkdir(mode=0o777)
    course = autograde.Course(tmp_path / "course", ASSIGNMENT, notebooks=SOURCE,
                              extra_config=f"c.CourseDirectory.course_id = {COURSE_ID!r}")
    root = course.root
    assert cli.main(["--root", str(root), "release", ASSIGNMENT, "--exchange", str(exchange)]) == 0
    assert (exchange / COURSE_ID / "outbound" / ASSIGNMENT / "Part_A.ipynb").exists()

    for student, changes in STUDENTS.items():
        home = tmp_path / "home" / student
        home.mkdir(parents=True)
        _as_student(student, home, exchange, "fetch_assignment", ASSIGNMENT)
        for name in ("Part_A", "Part_B"):
            path = home / ASSIGNMENT / f"{name}.ipynb"
            nb = nbformat.read(path, as_version=4)
            mine = {k: v for k, v in dict(RIGHT, **changes).items()
                    if any(c.metadata.get("nbgrader", {}).get("grade_id") == k for c in nb.cells)}
            nbformat.write(autograde.fill_solutions(nb, mine), path)
        _as_student(student, home, exchange, "submit", ASSIGNMENT)

    assert cli.main(["--root", str(root), "collect", ASSIGNMENT, "--exchange", str(exchange)]) == 0
    assert nbgrader_calls.submissions(root, ASSIGNMENT) == sorted(STUDENTS)
    assert cli.main(["--root", str(root), "autograde", ASSIGNMENT, "--workers", "2", "--timeout", "30"]) == 0
    assert cli.main(["--root", str(root), "feedback", ASSIGNMENT, "--exchange", str(exchange)]) == 0
    for student in STUDENTS:
        assert (root / "feedback" / student / ASSIGNMENT / "Part_A.html").exists()
    # alice passes everything: her page shows her tests' visible part, and nothing of the hidden block
    # and bob, whose visible test fails just above the hidden block, gets his error without the hidden
    # lines that IPython's traceback prints as context
    pages = {student: html.unescape(re.sub(r"<[^>]+>", "", (root / "feedback" / student / ASSIGNMENT / "Part_A.html").read_text()))
             for student in ("alice", "bob")}
    assert "assert add(1, 2) == 3" in pages["alice"]
    assert "AssertionError" in pages["bob"] and "hidden tests: not shown" in pages["bob"]
    for student, page in pages.items():
        assert "BEGIN HIDDEN TESTS" not in page and TOKEN not in page, f"{student}'s feedback shows the hidden tests"
    home = tmp_path / "home" / "bob"
    _as_student("bob", home, exchange, "fetch_feedback", ASSIGNMENT)
    feedback = list((home / ASSIGNMENT / "feedback").glob("*/Part_A.html"))
    assert feedback and "add_tests" in feedback[0].read_text()

    grades = tmp_path / "grades.csv"
    assert cli.main(["--root", str(root), "export", "--to", str(grades)]) == 0
    with open(grades) as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert {s: float(r["score"]) for s, r in rows.items()} == EXPECTED
    assert all(float(r["max_score"]) == 15.0 and r["assignment"] == ASSIGNMENT for r in rows.values())

    assert cli.main(["--root", str(root), "report", ASSIGNMENT]) == 0
    assert (root / "reports" / ASSIGNMENT / "scores.png").stat().st_size > 1000
    with open(root / "reports" / ASSIGNMENT / "question_scores.csv") as handle:
        per_question = {(r["student"], r["question"]): float(r["score"]) for r in csv.DictReader(handle)}
    assert per_question[("bob", "add_tests")] == 0 and per_question[("alice", "add_tests")] == 5
