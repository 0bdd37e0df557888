"""Broken and hostile submissions through the real autograder (``cnn-course autograde``).

One small synthetic assignment (two notebooks, three graded functions, 15 points, no TensorFlow so
kernels start fast) and one parallel autograde run for a whole class of bad submissions, batched
four students per job so misbehaving code shares jobs with innocent classmates. Every case must get
a recorded outcome and a reason in the report, the batch must complete, and the control students
must keep full marks. Short limits keep it fast: 4 s per cell, 1.5 GiB per kernel.
"""

from __future__ import annotations

import copy
import sqlite3

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from helpers.instructor import autograde as autograder
from helpers.instructor import report as reporting
from helpers.instructor.sandbox import landlock_abi
from tests import autograde

pytestmark = pytest.mark.slow

ASSIGNMENT = "robust"
TOKEN = "HIDDEN_TOKEN_7f3a"  # appears only in the hidden tests
FULL = {"add_tests": 5.0, "square_tests": 5.0, "double_tests": 5.0}


def _meta(kind: str, grade_id: str, points: int = 5) -> dict:
    if kind == "solution":
        return {"nbgrader": {"solution": True, "grade": False, "locked": False, "grade_id": grade_id,
                             "schema_version": 3}}
    return {"nbgrader": {"solution": False, "grade": True, "locked": True, "grade_id": grade_id,
                         "points": points, "schema_version": 3}}


def _function(name: str, body: str) -> list:
    solution = f"def {name}(*args):\n    ### BEGIN SOLUTION\n{body}\n    ### END SOLUTION\n"
    tests = {
        "add": f'"""add: sums two numbers."""\nassert add(1, 2) == 3\n### BEGIN HIDDEN TESTS\nassert add(-5, 7) == 2, "{TOKEN}"\n### END HIDDEN TESTS\nprint("All tests passed.")',
        "square": f'"""square: x * x."""\nassert square(3) == 9\n### BEGIN HIDDEN TESTS\nassert square(-4) == 16, "{TOKEN}"\n### END HIDDEN TESTS\nprint("All tests passed.")',
        "double": f'"""double: 2 * x."""\nassert double(2) == 4\n### BEGIN HIDDEN TESTS\nassert double(-3) == -6, "{TOKEN}"\n### END HIDDEN TESTS\nprint("All tests passed.")',
    }[name]
    return [new_code_cell(solution, metadata=_meta("solution", f"{name}_solution")),
            new_code_cell(tests, metadata=_meta("tests", f"{name}_tests"))]


def _notebook(cells: list) -> nbformat.NotebookNode:
    nb = new_notebook(cells=[new_markdown_cell("A small assignment."), new_code_cell("import numpy as np")] + cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


SOURCE = {
    "Part_A": _notebook(_function("add", "    a, b = args\n    return a + b") +
                        _function("square", "    (x,) = args\n    return x * x")),
    "Part_B": _notebook(_function("double", "    (x,) = args\n    return 2 * x")),
}
RIGHT = {"add_solution": "def add(a, b):\n    return a + b", "square_solution": "def square(x):\n    return x * x",
         "double_solution": "def double(x):\n    return 2 * x"}


def _solved(release: dict, **replace) -> dict:
    sources = dict(RIGHT, **replace)
    return {name: autograde.fill_solutions(nb, {k: v for k, v in sources.items()
                                                if any(c.metadata.get("nbgrader", {}).get("grade_id") == k for c in nb.cells)})
            for name, nb in release.items()}


def _with_cell(nbs: dict, notebook: str, source: str, position: int = 2) -> dict:
    nbs = copy.deepcopy(nbs)
    nbs[notebook].cells.insert(position, new_code_cell(source))
    return nbs


def _cell(nb, grade_id):
    return autograde.solution_cell(nb, grade_id)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = autograde.Course(tmp_path_factory.mktemp("robust"), ASSIGNMENT, notebooks=SOURCE)
    course.generate()
    root = course.root.resolve()
    release = {name: course.release_notebook(name) for name in SOURCE}
    good = _solved(release)
    cases: dict[str, dict] = {"control1": good, "control2": copy.deepcopy(good)}

    cases["infinite_loop"] = _solved(release, add_solution="def add(a, b):\n    while True:\n        pass")
    cases["kernel_crash"] = _with_cell(good, "Part_A", "import os\nos._exit(3)", position=4)
    cases["memory_hog"] = _with_cell(good, "Part_A", "hog = []\nwhile True:\n    hog.append(np.empty(256 * 2**20, dtype=np.uint8))")
    cases["output_flood"] = _with_cell(good, "Part_A", "for i in range(200000):\n    print('spam', i)")
    cases["stderr"] = _solved(release, add_solution="import sys\ndef add(a, b):\n    print('debug', file=sys.stderr)\n    return a + b")
    cases["syntax_error"] = _solved(release, square_solution="def square(x)\n    return x * x")
    cases["input_call"] = _with_cell(good, "Part_A", "name = input('your name? ')")

    deleted = _solved(release, add_solution="def add(a, b):\n    return 0")
    deleted["Part_A"].cells = [c for c in deleted["Part_A"].cells
                               if c.metadata.get("nbgrader", {}).get("grade_id") != "add_tests"]
    cases["deleted_test"] = deleted
    edited = _solved(release, add_solution="def add(a, b):\n    return 0")
    _cell(edited["Part_A"], "add_tests").source = 'print("All tests passed.")'
    cases["edited_test"] = edited
    meta = _solved(release, add_solution="def add(a, b):\n    return 0")
    _cell(meta["Part_A"], "add_tests").metadata["nbgrader"].update(points=500, grade=False, locked=False)
    _cell(meta["Part_A"], "square_tests").metadata["nbgrader"]["points"] = 50
    cases["changed_metadata"] = meta

    cases["renamed_notebook"] = {"Part_A_final": good["Part_A"], "Part_B": good["Part_B"]}
    cases["missing_notebook"] = {"Part_A": good["Part_A"]}
    cases["invalid_json"] = {"Part_A": b'{"cells": [ this is not json', "Part_B": good["Part_B"]}

    attempts = {  # absolute paths: the worst case, a student who knows the instructor's layout
        "source": f"{root}/source/{ASSIGNMENT}/Part_A.ipynb",
        "gradebook": f"{root}/gradebook.db",
        "release": f"{root}/release/{ASSIGNMENT}/Part_A.ipynb",
        "own_graded_notebook": "Part_A.ipynb",
        "job_gradebook": "../../gradebook.db",
    }
    cases["reads_tests"] = _with_cell(good, "Part_A", f"""
import glob, os
found = []
for label, path in {attempts!r}.items():
    try:
        with open(path, 'rb') as handle:
            found.append(label + ':' + handle.read().decode('latin-1'))
        print('READ', label)
    except OSError as error:
        print('blocked', label, type(error).__name__)
for path in glob.glob('../../submitted/*/{ASSIGNMENT}/*.ipynb'):
    try:
        open(path).read(); print('READ classmate', path)
    except OSError as error:
        print('blocked classmate', type(error).__name__)
print('LEAK' if any({TOKEN!r} in text for text in found) else 'no hidden tests seen')
""")
    cases["writes_instructor_files"] = _with_cell(good, "Part_A", f"""
import glob, os, signal, socket, sqlite3
targets = [{str(root / 'source' / ASSIGNMENT / 'Part_A.ipynb')!r}, {str(root / 'gradebook.db')!r},
           {str(root / 'submitted' / 'control1' / ASSIGNMENT / 'Part_A.ipynb')!r}, '../../gradebook.db']
targets += glob.glob('../../submitted/*/{ASSIGNMENT}/*.ipynb')
for path in targets:
    try:
        with open(path, 'a') as handle:
            handle.write('pwned')
        print('WROTE', path)
    except OSError as error:
        print('blocked write', type(error).__name__)
try:
    db = sqlite3.connect('../../gradebook.db'); db.execute('UPDATE grade_cells SET max_score = 0'); db.commit()
    print('WROTE job gradebook')
except Exception as error:
    print('blocked sqlite', type(error).__name__)
for pid in (os.getppid(), 1):
    try:
        os.kill(pid, signal.SIGKILL); print('KILLED', pid)
    except OSError as error:
        print('blocked kill', type(error).__name__)
try:
    socket.create_connection(('127.0.0.1', 22), timeout=1); print('CONNECTED')
except OSError as error:
    print('blocked connect', type(error).__name__)
""")

    for student, notebooks in cases.items():
        course.submit(student, notebooks)
    source_before = autograder.sha256_tree(root / "source")
    limits = autograder.Limits(workers=2, chunk_size=4, cell_timeout=4, memory_mb=1536, cpu_seconds=120,
                         student_timeout=240)
    outcomes = autograder.autograde(root, ASSIGNMENT, limits=limits)
    result = reporting.report(root, ASSIGNMENT)
    scores = {}
    for student in cases:
        scores[student] = {}
        for name in ("Part_A", "Part_B"):
            try:
                scores[student].update({k: v[0] for k, v in course.scores(student, name).items()})
            except Exception:  # no submission row at all
                pass
    return {"course": course, "root": root, "outcomes": outcomes, "scores": scores,
            "reasons": result["reasons"], "source_before": source_before, "result": result}


def _output(graded, student, notebook="Part_A") -> str:
    path = graded["root"] / "autograded" / student / ASSIGNMENT / f"{notebook}.ipynb"
    nb = nbformat.read(path, as_version=4)
    return "\n".join(o.get("text", "") + " ".join(o.get("traceback", [])) for c in nb.cells if c.cell_type == "code"
                     for o in c.get("outputs", []))


def _reasons(graded, student) -> str:
    return " | ".join(graded["reasons"].get(student, []))


def test_batch_completes_and_every_student_has_an_outcome(graded):
    assert set(graded["outcomes"]) == set(graded["scores"])
    assert all(o.status in ("graded", "failed", "timeout", "tampered") for o in graded["outcomes"].values())
    assert (graded["result"]["png"]).stat().st_size > 1000


def test_controls_keep_full_marks(graded):
    for student in ("control1", "control2"):
        assert graded["outcomes"][student].status == "graded"
        assert graded["scores"][student] == FULL
        assert student not in graded["reasons"]


# (student, the test cells it loses, what the report says): each fault costs at most its own cell
# and is named in the report.
CONTAINED_FAULTS = [
    ("infinite_loop", ["add_tests"], "time limit"),              # times out; only that test is lost
    ("memory_hog", [], "memory"),                                # hits the limit; the kernel survives
    ("stderr", ["add_tests"], "stderr"),                         # a test cell writing to stderr scores 0
    ("syntax_error", ["square_tests"], "syntax error"),          # costs only its function
    ("input_call", [], "input()"),                               # input() fails fast instead of hanging
    ("edited_test", ["add_tests"], "add_tests edited"),          # the original test cell is put back
]


@pytest.mark.parametrize("student,lost,phrase", CONTAINED_FAULTS, ids=[case[0] for case in CONTAINED_FAULTS])
def test_fault_is_contained_and_reported(graded, student, lost, phrase):
    assert graded["scores"][student] == dict(FULL, **dict.fromkeys(lost, 0.0))
    assert phrase in _reasons(graded, student)


def test_kernel_crash_is_recorded_and_contained(graded):
    outcome = graded["outcomes"]["kernel_crash"]
    assert outcome.status == "failed" and "DeadKernelError" in " ".join(outcome.messages)
    assert sum(graded["scores"]["kernel_crash"].values()) == 0
    assert "autograde failed" in _reasons(graded, "kernel_crash")


def test_output_flood_is_truncated(graded):
    assert graded["scores"]["output_flood"] == FULL
    assert "flooded" in _reasons(graded, "output_flood")
    path = graded["root"] / "autograded" / "output_flood" / ASSIGNMENT / "Part_A.ipynb"
    assert path.stat().st_size < 200_000


def test_deleted_test_cell_earns_nothing(graded):
    assert graded["scores"]["deleted_test"].get("add_tests", 0.0) == 0.0
    assert "add_tests deleted" in _reasons(graded, "deleted_test")


def test_changed_metadata_cannot_raise_points(graded):
    """nbgrader refuses a test cell whose grade/locked flags were switched off (checksum mismatch)."""
    outcome = graded["outcomes"]["changed_metadata"]
    assert outcome.status == "failed" and "Inconsistent checksums" in " ".join(outcome.messages)
    assert sum(graded["scores"]["changed_metadata"].values()) == 0
    assert "metadata of add_tests changed" in _reasons(graded, "changed_metadata")


def test_renamed_and_missing_notebooks(graded):
    assert graded["scores"]["renamed_notebook"] == dict(FULL, add_tests=0.0, square_tests=0.0)
    assert "missing notebook Part_A.ipynb" in _reasons(graded, "renamed_notebook")
    assert "Part_A_final.ipynb" in _reasons(graded, "renamed_notebook")
    assert graded["scores"]["missing_notebook"] == dict(FULL, double_tests=0.0)
    assert "missing notebook Part_B.ipynb" in _reasons(graded, "missing_notebook")


def test_invalid_notebook_json_is_recorded(graded):
    assert graded["outcomes"]["invalid_json"].status == "failed"
    assert "not a valid notebook" in _reasons(graded, "invalid_json")
    assert sum(graded["scores"]["invalid_json"].values()) == 0


@pytest.mark.skipif(landlock_abi() == 0, reason="needs Linux Landlock to block reads")
def test_hidden_tests_and_solutions_cannot_be_read(graded):
    output = _output(graded, "reads_tests")
    assert "READ" not in output and "LEAK" not in output
    assert "no hidden tests seen" in output
    assert graded["scores"]["reads_tests"] == FULL


@pytest.mark.skipif(landlock_abi() == 0, reason="needs Linux Landlock to block writes")
def test_instructor_files_and_classmates_cannot_be_changed(graded):
    output = _output(graded, "writes_instructor_files")
    assert "blocked write" in output and "WROTE" not in output
    assert "KILLED" not in output and "CONNECTED" not in output
    assert graded["outcomes"]["writes_instructor_files"].status == "graded"
    assert autograder.sha256_tree(graded["root"] / "source") == graded["source_before"]
    with sqlite3.connect(graded["root"] / "gradebook.db") as db:
        assert {row[0] for row in db.execute("SELECT max_score FROM grade_cells")} == {5.0}
    assert b"pwned" not in (graded["root"] / "submitted" / "control1" / ASSIGNMENT / "Part_A.ipynb").read_bytes()
