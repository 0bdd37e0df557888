"""The class-wide mistakes report and the autograde progress line, on made-up autograded notebooks (fast)."""

from __future__ import annotations

import csv
import io

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

from helpers.grading import GradingFailure, fail
from helpers.instructor.mistakes import diagnose, mistakes_report
from helpers.instructor.progress import Progress

STRIDE = "the stride is ignored (windows move by 1 instead of hparameters[\"stride\"]) and this sentence is long enough to wrap"


def _failure(function, cause=None) -> dict:
    try:
        fail(function, "values differ", expected=1, got=2, cause=cause)
    except GradingFailure as error:
        return new_output("error", ename="GradingFailure", evalue=str(error), traceback=["\x1b[31mGradingFailure\x1b[0m"])
    raise AssertionError


def _graded(outputs_by_cell: dict[str, list]) -> nbformat.NotebookNode:
    cells = []
    for grade_id, outputs in outputs_by_cell.items():
        cell = new_code_cell("check()", metadata={"nbgrader": {"grade": True, "grade_id": grade_id, "points": 5}})
        cell.outputs = outputs
        cells.append(cell)
    return new_notebook(cells=cells)


def test_mistakes_are_counted_per_function_and_cause(tmp_path):
    root = tmp_path
    cases = {
        "ann": {"conv_forward_tests": [_failure("conv_forward", STRIDE)]},
        "bob": {"conv_forward_tests": [_failure("conv_forward", STRIDE)], "zero_pad_tests": [_failure("zero_pad", "pads the batch axis")]},
        "cid": {"conv_forward_tests": [_failure("conv_forward")]},  # no diagnosis
        "dan": {"conv_forward_tests": [new_output("error", ename="NameError", evalue="name 'x' is not defined", traceback=[])]},
        "eve": {"conv_forward_tests": []},  # passed
    }
    for student, cells in cases.items():
        folder = root / "autograded" / student / "week1"
        folder.mkdir(parents=True)
        nbformat.write(_graded(cells), folder / "Convolution_Step_by_Step.ipynb")
    result = mistakes_report(root, "week1", root / "reports")
    assert result["graded"] == 5
    stride = "the stride is ignored (windows move by 1 instead of hparameters[\"stride\"]) and this sentence is long enough to wrap"
    assert result["mistakes"]["conv_forward"][stride] == 2
    assert result["mistakes"]["conv_forward"]["no diagnosis (GradingFailure)"] == 1
    assert result["mistakes"]["conv_forward"]["no diagnosis (NameError)"] == 1  # function from the grade id
    assert result["mistakes"]["zero_pad"]["pads the batch axis"] == 1
    with open(result["mistakes_csv"]) as handle:
        rows = list(csv.DictReader(handle))
    assert {"function": "conv_forward", "likely_cause": stride, "students": "2", "percent_of_graded": "40.0"} in rows
    assert result["mistakes_png"].stat().st_size > 5000
    page = result["mistakes_html"].read_text()
    assert "data:image/png;base64," in page and "40%" in page and "zero_pad" in page


def test_diagnose_reads_the_function_from_the_message():
    assert diagnose(_failure("pool_forward", "mode ignored"), "pool_forward_tests") == ("pool_forward", "mode ignored")


def test_progress_line_counts_rate_eta_and_summary():
    now = [0.0]
    lines: list[str] = []
    progress = Progress(4, log=lines.append, stream=io.StringIO(), every=0, clock=lambda: now[0])
    for status, t in (("graded", 30), ("failed", 60)):
        now[0] = t
        progress.update(status)
    assert "2/4 (50%) graded 1 failed 1 | 2.0/min | elapsed 1m00s | ETA 1m00s" in lines[-1]
    now[0] = 120
    progress.update("timeout")
    progress.update("tampered")
    assert "ETA 0s" in lines[-1]
    assert progress.summary("week1") == "week1: 4 submission(s) in 2m00s: 1 graded, 1 failed, 1 timeout, 1 tampered"
