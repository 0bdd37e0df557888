"""Week 1, Convolution_Step_by_Step: graders proven right, in-process and through the real autograder.

In-process (fast): every buggy variant in tests/variants fails its function's test cell (visible +
hidden tests), every correct variant passes it, and hard-coded variants pass the visible tests but
not the hidden ones (so it is the hidden tests that catch them).

Autograder (slow, one `nbgrader autograde` run for a simulated class): the reference solution gets
full marks, the untouched release gets zero, one broken function loses exactly its points, extra
cells/prints/globals cost nothing, and rounds of buggy and correct variants are scored as above.
"""

from __future__ import annotations

import itertools

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from helpers.grading import GradingFailure
from tests import autograde
from tests.notebook_cells import cells_by_grade_id, load_source, run_cell, visible_part
from tests.variants import variants_of
from tests.variants import convolution_step_by_step as variants_module

ASSIGNMENT, NOTEBOOK = "week1", "Convolution_Step_by_Step"
GRADED = ["zero_pad", "conv_single_step", "conv_forward", "pool_forward", "conv_backward",
          "create_mask_from_window", "distribute_value", "pool_backward"]
POINTS = {"zero_pad": 10, "conv_single_step": 10, "conv_forward": 20, "pool_forward": 15,
          "conv_backward": 15, "create_mask_from_window": 5, "distribute_value": 5, "pool_backward": 20}

SOURCE = load_source(ASSIGNMENT, NOTEBOOK)
CELLS = cells_by_grade_id(SOURCE)
REFERENCE = autograde.reference_solutions(SOURCE)
VARIANTS = variants_of(variants_module)
BUGGY = [v for v in VARIANTS if v.kind == "buggy"]
CORRECT = [v for v in VARIANTS if v.kind == "correct"]


def _namespace(replacement=None) -> dict:
    """The notebook's globals after running its imports and reference solutions (and a variant)."""
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
    """One solution cell and one graded test cell per function, with the documented points."""
    for function in GRADED:
        assert f"{function}_solution" in CELLS and f"{function}_tests" in CELLS
    points = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
              for c in SOURCE.cells if c.metadata.get("nbgrader", {}).get("grade")}
    assert points == {f"{f}_tests": p for f, p in POINTS.items()}
    assert sum(points.values()) == 100
    for function in GRADED:
        assert "### BEGIN HIDDEN TESTS" in CELLS[f"{function}_tests"], function


def test_each_function_has_three_buggy_and_one_correct_variant():
    for function in GRADED:
        buggy = [v for v in BUGGY if v.function == function]
        correct = [v for v in CORRECT if v.function == function]
        assert len(buggy) >= 3 and len(correct) >= 1, function


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


@pytest.mark.parametrize("variant", [v for v in BUGGY if "hard-coded" in v.description], ids=_id)
def test_hard_coded_variant_passes_visible_but_not_hidden_tests(variant):
    namespace = _namespace(variant)
    run_cell(visible_part(CELLS[f"{variant.function}_tests"]), namespace)
    with pytest.raises(GradingFailure):
        run_cell(CELLS[f"{variant.function}_tests"], namespace)


def test_broken_helper_costs_only_its_own_points():
    """A broken zero_pad must not fail conv_forward/conv_backward, which call it."""
    broken = next(v for v in BUGGY if v.function == "zero_pad")
    namespace = _namespace(broken)
    for function in ("conv_forward", "conv_backward"):
        run_cell(CELLS[f"{function}_tests"], namespace)
    assert namespace["zero_pad"].__code__.co_name == "zero_pad"  # the student's own function is back


def test_messages_name_the_likely_cause():
    cases = {
        "conv_forward: ignores the stride when slicing": "stride is ignored",
        "conv_forward: flips the kernel (true convolution)": "kernel is flipped",
        "conv_backward: assigns (=) instead of accumulating (+=)": "accumulated",
        "pool_forward: pools across channels": "across all channels",
        "create_mask_from_window: marks the minimum": "minimum",
        "distribute_value: copies dz without dividing": "without dividing",
    }
    for name, phrase in cases.items():
        variant = next(v for v in BUGGY if _id(v) == name)
        with pytest.raises(GradingFailure) as failure:
            run_cell(CELLS[f"{variant.function}_tests"], _namespace(variant))
        assert phrase in str(failure.value), (name, str(failure.value))


# --------------------------------------------------------------------------------------------
# the real autograder


def _round(variants: list, index: int) -> dict:
    """The index-th variant of each function that has one: {function: variant}."""
    chosen = {}
    for function in GRADED:
        mine = [v for v in variants if v.function == function]
        if index < len(mine):
            chosen[function] = mine[index]
    return chosen


def _submission(release, replacements: dict) -> nbformat.NotebookNode:
    sources = {f"{f}_solution": REFERENCE[f"{f}_solution"] for f in GRADED}
    sources.update({f"{f}_solution": v.source for f, v in replacements.items()})
    return autograde.fill_solutions(release, sources)


def _with_extras(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A student's messy notebook: prints, scratch globals, extra cells before and after tests."""
    nb = nbformat.from_dict(nb)
    nb.cells.insert(1, new_code_cell("print('scratch work')\nA_prev = None\nW = 'not an array'\nnp.random.seed(3)"))
    nb.cells.insert(6, new_code_cell("for i in range(3):\n    print('trying things', i)\nhparameters = {}"))
    nb.cells.append(new_code_cell("import sys\nprint('done', sys.version_info[:2])\nx = zero_pad(np.ones((1, 2, 2, 1)), 1)"))
    return nb


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """Autograde a simulated class once; return {student: {grade_id: (score, max)}}."""
    course = autograde.Course(tmp_path_factory.mktemp("course"), ASSIGNMENT)
    course.generate()
    release = course.release_notebook(NOTEBOOK)
    students = {
        "reference": _submission(release, {}),
        "untouched": release,
        "broken_zero_pad": _submission(release, {"zero_pad": BUGGY[0]}),
        "extras": _with_extras(_submission(release, {})),
    }
    plans = {}
    for index in itertools.count():
        chosen = _round(BUGGY, index)
        if not chosen:
            break
        students[f"buggy{index}"], plans[f"buggy{index}"] = _submission(release, chosen), chosen
    for index in itertools.count():
        chosen = _round(CORRECT, index)
        if not chosen:
            break
        students[f"correct{index}"], plans[f"correct{index}"] = _submission(release, chosen), chosen
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
def test_one_broken_function_loses_exactly_its_points(graded_class):
    scores, _ = graded_class
    assert autograde.points(scores["broken_zero_pad"]) == 100 - POINTS["zero_pad"]
    assert scores["broken_zero_pad"]["zero_pad_tests"][0] == 0


@pytest.mark.slow
def test_extra_cells_prints_and_globals_keep_full_marks(graded_class):
    scores, _ = graded_class
    assert autograde.points(scores["extras"]) == 100


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
