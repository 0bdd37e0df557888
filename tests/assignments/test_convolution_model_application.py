"""Convolution_Model_Application: what only this notebook's proof needs (shared proofs: test_grader_proofs.py).

The registry's autograder selection pairs three mistakes of each builder into three rounds.
"""

from __future__ import annotations

from tests.assignments.registry import SPECS

SPEC = SPECS["convolution_model_application"]


def test_autograded_selection_makes_three_full_rounds():
    rounds = SPEC.autograded_buggy_rounds()
    assert len(rounds) == 3 and all(len(chosen) == 2 for chosen in rounds)


def test_the_hard_coded_variant_is_the_input_shape_one():
    hard_coded = [v for v in SPEC.notebook.buggy if "hard-coded" in v.description]
    assert [v.function for v in hard_coded] == ["convolutional_model"]


def test_parameter_count_in_the_text_is_the_models():
    """The training section says how many parameters convolutional_model has: it must be the model's."""
    import re

    from helpers.reference.convolution_model_application import convolutional_model

    text = "\n".join(cell.source for cell in SPEC.notebook.source.cells if cell.cell_type == "markdown")
    stated = [int(n.replace(",", "")) for n in re.findall(r"\(([\d,]+) parameters\)", text)]
    assert stated == [convolutional_model((64, 64, 3)).count_params()], stated
