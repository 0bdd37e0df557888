"""Week 2, Transfer_Learning: graders proven right, in-process and through the real autograder.

In-process: every buggy variant in tests/variants/transfer_learning.py fails its function's test
cell (visible + hidden tests) with a message naming the function; every correct variant passes;
the hard-coded variant passes the visible test but not the hidden ones.

Autograder (slow): one `nbgrader autograde` run for a simulated class: the reference gets full
marks, the untouched release gets zero, rounds of the headline mistakes lose exactly their
functions' points, and the correct variants keep full marks.
"""

from __future__ import annotations

import nbformat
import pytest

from helpers.grading import GradingFailure
from tests import autograde
from tests.notebook_cells import cells_by_grade_id, load_source, run_cell, visible_part
from tests.variants import variants_of
from tests.variants import transfer_learning as variants_module

ASSIGNMENT, NOTEBOOK = "week2", "Transfer_Learning"
GRADED = ["data_augmenter", "transfer_model", "prepare_fine_tuning"]
POINTS = {"data_augmenter": 20, "transfer_model": 50, "prepare_fine_tuning": 30}

SOURCE = load_source(ASSIGNMENT, NOTEBOOK)
CELLS = cells_by_grade_id(SOURCE)
REFERENCE = autograde.reference_solutions(SOURCE)
VARIANTS = variants_of(variants_module)
BUGGY = [v for v in VARIANTS if v.kind == "buggy"]
CORRECT = [v for v in VARIANTS if v.kind == "correct"]

# The mistakes the autograder run must catch (the others are proven in-process only, to keep the
# suite within its time budget: each submission is one full notebook execution in fast mode).
HEADLINE = {
    "data_augmenter": ["flips vertically too", "forgets the rotation"],
    "transfer_model": ["does not freeze the backbone", "calls the backbone with training=True",
                       "forgets the preprocessing", "flattens instead of pooling", "two softmax outputs"],
    "prepare_fine_tuning": ["unfreezes the whole backbone", "keeps the same learning rate",
                            "unfreezes batch normalisation too"],
}


def _namespace(replacement=None) -> dict:
    namespace: dict = {}
    run_cell(CELLS["imports"], namespace)
    namespace["IMG_SHAPE"] = (64, 64, 3)
    for function in GRADED:
        run_cell(REFERENCE[f"{function}_solution"], namespace)
    if replacement is not None:
        run_cell(replacement.source, namespace)
    return namespace


def _id(v) -> str:
    return f"{v.function}: {v.description}"


def test_notebook_structure():
    for function in GRADED:
        assert f"{function}_solution" in CELLS and f"{function}_tests" in CELLS
        assert "### BEGIN HIDDEN TESTS" in CELLS[f"{function}_tests"], function
    points = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
              for c in SOURCE.cells if c.metadata.get("nbgrader", {}).get("grade")}
    assert points == {f"{f}_tests": p for f, p in POINTS.items()}
    assert sum(points.values()) == 100


def test_each_function_has_buggy_and_correct_variants():
    for function in GRADED:
        assert len([v for v in BUGGY if v.function == function]) >= 3, function
        assert len([v for v in CORRECT if v.function == function]) >= 1, function
    for function, names in HEADLINE.items():
        known = {v.description for v in BUGGY if v.function == function}
        assert set(names) <= known, set(names) - known


@pytest.fixture(scope="module")
def reference_namespace():
    return _namespace()


@pytest.mark.parametrize("function", GRADED)
def test_reference_passes_its_tests(function, reference_namespace, capsys):
    run_cell(CELLS[f"{function}_tests"], reference_namespace)
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


def test_hard_coded_preprocessing_passes_visible_but_not_hidden_tests():
    from helpers.models.backbones import choose_backbone

    variant = next(v for v in BUGGY if "hard-coded" in v.description)
    namespace = _namespace(variant)
    if choose_backbone(96) == "efficientnet_lite0":  # its preprocessing is the hard-coded one
        run_cell(visible_part(CELLS["transfer_model_tests"]), namespace)
    with pytest.raises(GradingFailure, match="preprocess"):
        run_cell(CELLS["transfer_model_tests"], namespace)


def test_messages_name_the_likely_cause():
    cases = {
        "transfer_model: forgets the preprocessing": "not preprocessed",
        "transfer_model: sigmoid on the output": "sigmoid",
        "transfer_model: flattens instead of pooling": "GlobalAveragePooling2D",
        "transfer_model: calls the backbone with training=True": "training=False",
        "transfer_model: does not freeze the backbone": "trainable = False",
        "prepare_fine_tuning: keeps the same learning rate": "learning rate of the first phase",
        "prepare_fine_tuning: unfreezes batch normalisation too": "BatchNormalization",
        "data_augmenter: rotates up to half a turn": "fraction of a full turn",
    }
    for name, phrase in cases.items():
        variant = next(v for v in BUGGY if _id(v) == name)
        with pytest.raises(GradingFailure) as failure:
            run_cell(CELLS[f"{variant.function}_tests"], _namespace(variant))
        assert phrase in str(failure.value), (name, str(failure.value))


# --------------------------------------------------------------------------------------------
# the real autograder


def _submission(release, replacements: dict) -> nbformat.NotebookNode:
    sources = {f"{f}_solution": REFERENCE[f"{f}_solution"] for f in GRADED}
    sources.update({f"{f}_solution": v.source for f, v in replacements.items()})
    return autograde.fill_solutions(release, sources)


def _headline_rounds() -> list[dict]:
    rounds = []
    for index in range(max(len(names) for names in HEADLINE.values())):
        chosen = {}
        for function, names in HEADLINE.items():
            if index < len(names):
                chosen[function] = next(v for v in BUGGY if v.function == function and v.description == names[index])
        rounds.append(chosen)
    return rounds


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    course = autograde.Course(tmp_path_factory.mktemp("course"), ASSIGNMENT)
    course.generate()
    release = course.release_notebook(NOTEBOOK)
    students = {"reference": _submission(release, {}), "untouched": release}
    plans = {}
    for index, chosen in enumerate(_headline_rounds()):
        students[f"buggy{index}"], plans[f"buggy{index}"] = _submission(release, chosen), chosen
    correct = {v.function: v for v in CORRECT}
    students["correct"], plans["correct"] = _submission(release, correct), correct
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
def test_correct_variants_keep_full_marks(graded_class):
    scores, plans = graded_class
    lost = {k: v for k, v in scores["correct"].items() if v[0] != v[1]}
    assert not lost, f"correct variants {[_id(v) for v in plans['correct'].values()]} lost {lost}"
