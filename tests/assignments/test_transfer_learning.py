"""Transfer_Learning: what only this notebook's proof needs (shared proofs: test_grader_proofs.py)."""

from __future__ import annotations

from tests.assignments.registry import SPECS

SPEC = SPECS["transfer_learning"]


def test_the_hard_coded_variant_is_the_preprocessing_one():
    hard_coded = [v for v in SPEC.notebook.buggy if "hard-coded" in v.description]
    assert [v.function for v in hard_coded] == ["transfer_model"]
