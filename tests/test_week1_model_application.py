"""Week 1, Convolution_Model_Application: graders proven right, in-process and through the real autograder.

In-process (fast): every buggy variant in tests/variants fails its function's test cell (visible +
hidden tests) with a message naming the function, every correct variant passes, and the
hard-coded variant passes the visible test but not the hidden ones.

Autograder (slow, one `nbgrader autograde` run for a simulated class, training in fast mode): the
reference gets full marks, the untouched release zero, and rounds of buggy variants lose exactly
their functions' points while rounds of correct variants written differently keep full marks.
"""

from __future__ import annotations

import pytest

from tests import autograde
from tests.grader_proof import AssignmentNotebook, assert_rounds_scored
from tests.grader_proof import variant_id as _id
from tests.variants import convolution_model_application as variants_module

POINTS = {"happyModel": 50, "convolutional_model": 50}
NB = AssignmentNotebook("week1", "Convolution_Model_Application", POINTS, variants_module)
GRADED, BUGGY, CORRECT = NB.graded, NB.buggy, NB.correct


def test_notebook_structure_matches_design():
    NB.assert_structure()


@pytest.mark.parametrize("function", GRADED)
def test_reference_passes_its_tests(function):
    NB.assert_reference_passes(function)


@pytest.mark.parametrize("variant", BUGGY, ids=_id)
def test_buggy_variant_fails_its_tests(variant):
    NB.assert_variant_fails(variant)


@pytest.mark.parametrize("variant", CORRECT, ids=_id)
def test_correct_variant_passes_its_tests(variant):
    NB.assert_variant_passes(variant)


def test_hard_coded_input_shape_passes_visible_but_not_hidden_tests():
    hard_coded = next(v for v in BUGGY if "hard-coded" in v.description)
    assert hard_coded.function == "convolutional_model"
    NB.assert_hard_coded_caught(hard_coded, match="input_shape")


def test_messages_name_the_likely_cause():
    cases = {
        "happyModel: batch norm over the wrong axis (axis=1)": "axis=3",
        "happyModel: conv padding 'same' instead of valid": "padding",
        "happyModel: pool size 3 instead of 2": "2x2",
        "happyModel: batch normalisation layer missing": "order",
        "convolutional_model: first pool 4x4 instead of 8x8": "8x8",
        "convolutional_model: five output units": "6 units",
    }
    NB.assert_messages_name_causes(cases)


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


AUTOGRADED_DESCRIPTIONS = {name for names in AUTOGRADED_BUGGY.values() for name in names}


def test_autograded_selection_exists():
    rounds = NB.rounds(BUGGY, AUTOGRADED_DESCRIPTIONS)
    assert len(rounds) == 3 and all(len(chosen) == 2 for chosen in rounds)
    for function, names in AUTOGRADED_BUGGY.items():
        assert set(names) <= {v.description for v in BUGGY if v.function == function}


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """Autograde a simulated class once; return ({student: {grade_id: (score, max)}}, plans)."""
    course = NB.course(tmp_path_factory.mktemp("course"))
    return NB.grade_class(course, NB.rounds(BUGGY, AUTOGRADED_DESCRIPTIONS), NB.rounds(CORRECT))


@pytest.mark.slow
def test_reference_gets_full_marks(graded_class):
    scores, _ = graded_class
    assert scores["reference"] == NB.full_marks()


@pytest.mark.slow
def test_untouched_release_gets_zero(graded_class):
    scores, _ = graded_class
    assert autograde.points(scores["untouched"]) == 0


@pytest.mark.slow
def test_rounds_of_variants_are_scored_right(graded_class):
    """Buggy rounds lose exactly the buggy functions' points; correct rounds keep full marks."""
    scores, plans = graded_class
    assert any(p.startswith("buggy") for p in plans) and any(p.startswith("correct") for p in plans)
    assert_rounds_scored(scores, plans, GRADED)
