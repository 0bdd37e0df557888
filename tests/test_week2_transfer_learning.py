"""Week 2, Transfer_Learning: graders proven right, in-process and through the real autograder.

In-process: every buggy variant in tests/variants/transfer_learning.py fails its function's test
cell (visible + hidden tests) with a message naming the function; every correct variant passes;
the hard-coded variant passes the visible test but not the hidden ones.

Autograder (slow): one `nbgrader autograde` run for a simulated class: the reference gets full
marks, the untouched release gets zero, rounds of the headline mistakes lose exactly their
functions' points, and the correct variants keep full marks.
"""

from __future__ import annotations

import pytest

from tests import autograde
from tests.grader_proof import AssignmentNotebook, assert_rounds_scored
from tests.grader_proof import variant_id as _id
from tests.variants import transfer_learning as variants_module

POINTS = {"data_augmenter": 20, "transfer_model": 50, "prepare_fine_tuning": 30}
# IMG_SHAPE: the notebook's image size, defined in a cell before the graded functions
NB = AssignmentNotebook("week2", "Transfer_Learning", POINTS, variants_module, {"IMG_SHAPE": (64, 64, 3)})
GRADED, BUGGY, CORRECT = NB.graded, NB.buggy, NB.correct

# The mistakes the autograder run must catch (the others are proven in-process only, to keep the
# suite within its time budget: each submission is one full notebook execution in fast mode).
HEADLINE = {
    "data_augmenter": ["flips vertically too", "forgets the rotation"],
    "transfer_model": ["does not freeze the backbone", "calls the backbone with training=True",
                       "forgets the preprocessing", "flattens instead of pooling", "two softmax outputs"],
    "prepare_fine_tuning": ["unfreezes the whole backbone", "keeps the same learning rate",
                            "unfreezes batch normalisation too"],
}


def test_notebook_structure():
    NB.assert_structure()
    assert sum(POINTS.values()) == 100


def test_each_function_has_buggy_and_correct_variants():
    for function in GRADED:
        assert len([v for v in BUGGY if v.function == function]) >= 3, function
        assert len([v for v in CORRECT if v.function == function]) >= 1, function
    for function, names in HEADLINE.items():
        known = {v.description for v in BUGGY if v.function == function}
        assert set(names) <= known, set(names) - known


@pytest.fixture(scope="module")
def reference_namespace():
    return NB.namespace()


@pytest.mark.parametrize("function", GRADED)
def test_reference_passes_its_tests(function, reference_namespace):
    NB.assert_reference_passes(function, reference_namespace)


@pytest.mark.parametrize("variant", BUGGY, ids=_id)
def test_buggy_variant_fails_its_tests(variant):
    NB.assert_variant_fails(variant)


@pytest.mark.parametrize("variant", CORRECT, ids=_id)
def test_correct_variant_passes_its_tests(variant):
    NB.assert_variant_passes(variant)


def test_hard_coded_preprocessing_passes_visible_but_not_hidden_tests():
    from helpers.models.backbones import choose_backbone

    variant = next(v for v in BUGGY if "hard-coded" in v.description)
    assert variant.function == "transfer_model"
    # its preprocessing is EfficientNet-Lite0's, so it passes the visible tests only with that backbone
    NB.assert_hard_coded_caught(variant, match="preprocess", visible=choose_backbone(96) == "efficientnet_lite0")


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
    NB.assert_messages_name_causes(cases)


# --------------------------------------------------------------------------------------------
# the real autograder


HEADLINE_DESCRIPTIONS = {name for names in HEADLINE.values() for name in names}


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """Autograde a simulated class once; return ({student: {grade_id: (score, max)}}, plans)."""
    course = NB.course(tmp_path_factory.mktemp("course"))
    return NB.grade_class(course, NB.rounds(BUGGY, HEADLINE_DESCRIPTIONS), NB.rounds(CORRECT))


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
    assert sum(len(chosen) for p, chosen in plans.items() if p.startswith("buggy")) == len(HEADLINE_DESCRIPTIONS)
    assert any(p.startswith("correct") for p in plans)
    assert_rounds_scored(scores, plans, GRADED)
