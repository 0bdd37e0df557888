"""Convolution_Step_by_Step: what only this notebook's grader proof needs (the shared proofs are in
test_grader_proofs.py).

A broken helper (zero_pad) must not cost the functions that call it; through the real autograder,
one broken function loses exactly its points and a messy notebook (prints, scratch globals, extra
cells) keeps full marks.
"""

from __future__ import annotations

import pytest

from tests import autograde
from tests.assignments.registry import SPECS
from tests.notebook_cells import run_cell

SPEC = SPECS["convolution_step_by_step"]
NB = SPEC.notebook


def test_broken_helper_costs_only_its_own_points():
    """A broken zero_pad must not fail conv_forward/conv_backward, which call it."""
    broken = next(v for v in NB.buggy if v.function == "zero_pad")
    namespace = NB.namespace(broken)
    for function in ("conv_forward", "conv_backward"):
        run_cell(NB.cells[f"{function}_tests"], namespace)
    assert namespace["zero_pad"].__code__.co_name == "zero_pad"  # the student's own function is back


@pytest.mark.slow
def test_one_broken_function_loses_exactly_its_points(graded_classes):
    scores = graded_classes.get(SPEC.key).scores
    assert autograde.points(scores["broken_zero_pad"]) == 100 - NB.points["zero_pad"]
    assert scores["broken_zero_pad"]["zero_pad_tests"][0] == 0


@pytest.mark.slow
def test_extra_cells_prints_and_globals_keep_full_marks(graded_classes):
    scores = graded_classes.get(SPEC.key).scores
    assert autograde.points(scores["extras"]) == 100
