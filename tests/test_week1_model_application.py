"""Week 1, Convolution_Model_Application: graders proven right, in-process and through the real autograder.

In-process (fast): every buggy variant in tests/variants fails its function's test cell (visible +
hidden tests) with a message naming the function, every correct variant passes, and the
hard-coded variant passes the visible test but not the hidden ones.

Autograder (slow, one `nbgrader autograde` run for a simulated class, training in fast mode): the
reference gets full marks, the untouched release zero, and rounds of buggy variants lose exactly
their functions' points while rounds of correct variants written differently keep full marks.
"""

from __future__ import annotations

import itertools

import pytest

from helpers.grading import GradingFailure
from tests import autograde
from tests.notebook_cells import cells_by_grade_id, load_source, run_cell, visible_part
from tests.variants import convolution_model_application as variants_module
from tests.variants import variants_of

ASSIGNMENT, NOTEBOOK = "week1", "Convolution_Model_Application"
GRADED = ["happyModel", "convolutional_model"]
POINTS = {"happyModel": 50, "convolutional_model": 50}

SOURCE = load_source(ASSIGNMENT, NOTEBOOK)
CELLS = cells_by_grade_id(SOURCE)
REFERENCE = autograde.reference_solutions(SOURCE)
VARIANTS = variants_of(variants_module)
BUGGY = [v for v in VARIANTS if v.kind == "buggy"]
CORRECT = [v for v in VARIANTS if v.kind == "correct"]


def _namespace(replacement=None) -> dict:
    namespace: dict = {}
    run_cell(CELLS["imports"], namespace)
    for function in GRADED:
        run_cell(REFERENCE[f"{function}_solution"], namespace)
    if replacement is not None:
        run_cell(replacement.source, namespace)
    return namespace


def _id(v) -> str:
    return f"{v.function}: {v.description}"


def test_notebook_structure_matches_design():
    for function in GRADED:
        assert f"{function}_solution" in CELLS and f"{function}_tests" in CELLS
        assert "### BEGIN HIDDEN TESTS" in CELLS[f"{function}_tests"], function
    points = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
              for c in SOURCE.cells if c.metadata.get("nbgrader", {}).get("grade")}
    assert points == {f"{f}_tests": p for f, p in POINTS.items()}


@pytest.mark.parametrize("function", GRADED)
def test_reference_passes_its_tests(function, capsys):
    run_cell(CELLS[f"{function}_tests"], _namespace())
    assert capsys.readouterr().out.strip().endswith("All tests passed.")


@pytest.mark.parametrize("variant", BUGGY, ids=_id)
def test_buggy_variant_fails_its_tests(variant):
    with pytest.raises(GradingFailure) as failure:
        run_cell(CELLS[f"{variant.function}_tests"], _namespace(variant))
    message = str(failure.value)
    assert message.startswith(variant.function) and "expected" in message


@pytest.mark.parametrize("variant", CORRECT, ids=_id)
def test_correct_variant_passes_its_tests(variant, capsys):
    run_cell(CELLS[f"{variant.function}_tests"], _namespace(variant))
    assert "All tests passed." in capsys.readouterr().out


def test_hard_coded_input_shape_passes_visible_but_not_hidden_tests():
    hard_coded = next(v for v in BUGGY if "hard-coded" in v.description)
    namespace = _namespace(hard_coded)
    run_cell(visible_part(CELLS["convolutional_model_tests"]), namespace)
    with pytest.raises(GradingFailure, match="input_shape"):
        run_cell(CELLS["convolutional_model_tests"], namespace)


def test_messages_name_the_likely_cause():
    cases = {
        "happyModel: batch norm over the wrong axis (axis=1)": "axis=3",
        "happyModel: conv padding 'same' instead of valid": "padding",
        "happyModel: pool size 3 instead of 2": "2x2",
        "happyModel: batch normalisation layer missing": "order",
        "convolutional_model: first pool 4x4 instead of 8x8": "8x8",
        "convolutional_model: five output units": "6 units",
    }
    for name, phrase in cases.items():
        variant = next(v for v in BUGGY if _id(v) == name)
        with pytest.raises(GradingFailure) as failure:
            run_cell(CELLS[f"{variant.function}_tests"], _namespace(variant))
        assert phrase in str(failure.value), (name, str(failure.value))


# --------------------------------------------------------------------------------------------
# the real autograder


# Each autograded notebook trains two models (fast mode) and costs about half a minute on a quiet
# 2-core machine, so the real autograder sees a selection of variants (every variant is checked
# in-process above): the mistakes the test cells must catch through nbgrader, paired by round.
AUTOGRADED_BUGGY = {
    "happyModel": ["batch norm over the wrong axis (axis=1)", "batch normalisation layer missing",
                   "softmax instead of sigmoid on the output"],
    "convolutional_model": ["hard-coded input shape (64, 64, 3)", "pools with valid padding",
                            "first pool 4x4 instead of 8x8"],
}


def _round(variants: list, index: int, only: dict | None = None) -> dict:
    chosen = {}
    for function in GRADED:
        mine = [v for v in variants if v.function == function
                and (only is None or v.description in only[function])]
        if index < len(mine):
            chosen[function] = mine[index]
    return chosen


def test_autograded_selection_exists():
    for function, names in AUTOGRADED_BUGGY.items():
        assert len(_round(BUGGY, len(names) - 1, AUTOGRADED_BUGGY)) == 2
        assert set(names) <= {v.description for v in BUGGY if v.function == function}


def _submission(release, replacements: dict):
    sources = {f"{f}_solution": REFERENCE[f"{f}_solution"] for f in GRADED}
    sources.update({f"{f}_solution": v.source for f, v in replacements.items()})
    return autograde.fill_solutions(release, sources)


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """Autograde a simulated class once; return ({student: {grade_id: (score, max)}}, plans)."""
    course = autograde.Course(tmp_path_factory.mktemp("course"), ASSIGNMENT)
    course.generate()
    release = course.release_notebook(NOTEBOOK)
    students = {"reference": _submission(release, {}), "untouched": release}
    plans = {}
    for kind, variants, only in (("buggy", BUGGY, AUTOGRADED_BUGGY), ("correct", CORRECT, None)):
        for index in itertools.count():
            chosen = _round(variants, index, only)
            if not chosen:
                break
            students[f"{kind}{index}"], plans[f"{kind}{index}"] = _submission(release, chosen), chosen
    for student, nb in students.items():
        course.submit(student, {NOTEBOOK: nb})
    course.autograde()
    return {student: course.scores(student, NOTEBOOK) for student in students}, plans


@pytest.mark.slow
def test_reference_gets_full_marks(graded_class):
    scores, _ = graded_class
    assert scores["reference"] == {f"{f}_tests": (float(p), float(p)) for f, p in POINTS.items()}


@pytest.mark.slow
def test_untouched_release_gets_zero(graded_class):
    scores, _ = graded_class
    assert autograde.points(scores["untouched"]) == 0


@pytest.mark.slow
def test_buggy_rounds_lose_exactly_the_buggy_functions_points(graded_class):
    scores, plans = graded_class
    for student, chosen in plans.items():
        if not student.startswith("buggy"):
            continue
        for function in GRADED:
            score, maximum = scores[student][f"{function}_tests"]
            if function in chosen:
                assert score == 0, f"{_id(chosen[function])} kept {score} points"
            else:
                assert score == maximum, f"{student}: {function} lost points it should keep"


@pytest.mark.slow
def test_correct_rounds_keep_full_marks(graded_class):
    scores, plans = graded_class
    for student, chosen in plans.items():
        if student.startswith("correct"):
            lost = {k: v for k, v in scores[student].items() if v[0] != v[1]}
            assert not lost, f"{student} ({[_id(v) for v in chosen.values()]}) lost {lost}"
