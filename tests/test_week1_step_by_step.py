"""Week 1, Convolution_Step_by_Step: graders proven right, in-process and through the real autograder.

In-process (fast): every buggy variant in tests/variants fails its function's test cell (visible +
hidden tests), every correct variant passes it, and hard-coded variants pass the visible tests but
not the hidden ones (so it is the hidden tests that catch them).

Autograder (slow, one `nbgrader autograde` run for a simulated class): the reference solution gets
full marks, the untouched release gets zero, one broken function loses exactly its points, extra
cells/prints/globals cost nothing, and rounds of buggy and correct variants are scored as above.
"""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from tests import autograde
from tests.grader_proof import AssignmentNotebook, assert_rounds_scored
from tests.grader_proof import variant_id as _id
from tests.notebook_cells import run_cell
from tests.variants import convolution_step_by_step as variants_module

POINTS = {"zero_pad": 10, "conv_single_step": 10, "conv_forward": 20, "pool_forward": 15,
          "conv_backward": 15, "create_mask_from_window": 5, "distribute_value": 5, "pool_backward": 20}
NB = AssignmentNotebook("week1", "Convolution_Step_by_Step", POINTS, variants_module)
GRADED, CELLS, BUGGY, CORRECT = NB.graded, NB.cells, NB.buggy, NB.correct
_namespace = NB.namespace


def test_notebook_structure_matches_design():
    """One solution cell and one graded test cell per function, with the documented points."""
    NB.assert_structure()
    assert sum(POINTS.values()) == 100


def test_each_function_has_three_buggy_and_one_correct_variant():
    for function in GRADED:
        buggy = [v for v in BUGGY if v.function == function]
        correct = [v for v in CORRECT if v.function == function]
        assert len(buggy) >= 3 and len(correct) >= 1, function


@pytest.mark.parametrize("function", GRADED)
def test_reference_passes_its_tests(function):
    NB.assert_reference_passes(function)


@pytest.mark.parametrize("variant", BUGGY, ids=_id)
def test_buggy_variant_fails_its_tests(variant):
    NB.assert_variant_fails(variant)


@pytest.mark.parametrize("variant", CORRECT, ids=_id)
def test_correct_variant_passes_its_tests(variant):
    NB.assert_variant_passes(variant)


@pytest.mark.parametrize("variant", [v for v in BUGGY if "hard-coded" in v.description], ids=_id)
def test_hard_coded_variant_passes_visible_but_not_hidden_tests(variant):
    NB.assert_hard_coded_caught(variant)


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
    NB.assert_messages_name_causes(cases)


# --------------------------------------------------------------------------------------------
# the real autograder


def _with_extras(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A student's messy notebook: prints, scratch globals, extra cells before and after tests."""
    nb = nbformat.from_dict(nb)
    nb.cells.insert(1, new_code_cell("print('scratch work')\nA_prev = None\nW = 'not an array'\nnp.random.seed(3)"))
    nb.cells.insert(6, new_code_cell("for i in range(3):\n    print('trying things', i)\nhparameters = {}"))
    nb.cells.append(new_code_cell("import sys\nprint('done', sys.version_info[:2])\nx = zero_pad(np.ones((1, 2, 2, 1)), 1)"))
    return nb


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """Autograde a simulated class once: ({student: {grade_id: (score, max)}}, round plans)."""
    course = NB.course(tmp_path_factory.mktemp("course"))
    extras = {
        "broken_zero_pad": lambda release: NB.submission(release, {"zero_pad": BUGGY[0]}),
        "extras": lambda release: _with_extras(NB.submission(release, {})),
    }
    return NB.grade_class(course, NB.rounds(BUGGY), NB.rounds(CORRECT), extras)


@pytest.mark.slow
def test_reference_gets_full_marks(graded_class):
    scores, _ = graded_class
    assert scores["reference"] == NB.full_marks()


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
def test_rounds_of_variants_are_scored_right(graded_class):
    """Buggy rounds lose exactly the buggy functions' points; correct rounds keep full marks."""
    scores, plans = graded_class
    assert any(p.startswith("buggy") for p in plans) and any(p.startswith("correct") for p in plans)
    assert_rounds_scored(scores, plans, GRADED)
