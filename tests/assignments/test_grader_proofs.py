"""The graders of every assignment notebook proven right, in-process and through the real autograder.

Parametrised over :data:`tests.assignments.registry.SPECS` (one entry per notebook of ``source/``).

In-process (milliseconds per variant): the notebook has one solution and one test cell (with hidden
tests) per graded function with the design's points; the reference passes every test cell; every
buggy variant in ``tests/variants/<nb>.py`` fails its function's tests with a message that names the
function and what was expected (and the likely cause, for the registry's phrases); every correct
variant passes; hard-coded variants pass the visible tests but not the hidden ones.

Autograder (slow; one ``nbgrader autograde`` run per notebook for a simulated class): the reference
gets full marks and its autograded notebook has no error and nothing on stderr; the untouched
release gets zero; buggy rounds lose exactly the buggy functions' points; correct rounds keep full marks.
"""

from __future__ import annotations

import pytest

from tests import autograde
from tests.assignments.registry import SPECS
from tests.grader_proof import assert_rounds_scored, variant_id

KEYS = sorted(SPECS)


def _cases(kind: str, only_hard_coded: bool = False):
    for key in KEYS:
        nb = SPECS[key].notebook
        for variant in getattr(nb, kind):
            if not only_hard_coded or "hard-coded" in variant.description:
                yield pytest.param(key, variant, id=f"{key}: {variant_id(variant)}")


def test_registry_covers_every_source_notebook():
    from tests import REPO

    on_disk = {path.stem for path in (REPO / "source").glob("week*/*.ipynb")}
    assert {spec.notebook.notebook for spec in SPECS.values()} == on_disk


@pytest.mark.parametrize("key", KEYS)
def test_notebook_structure_matches_design(key):
    """One solution cell and one graded test cell (with hidden tests) per function; points sum to 100."""
    nb = SPECS[key].notebook
    nb.assert_structure()
    assert sum(nb.points.values()) == 100


@pytest.mark.parametrize("key", KEYS)
def test_each_function_has_three_buggy_and_one_correct_variant(key):
    nb = SPECS[key].notebook
    for function in nb.graded:
        assert len([v for v in nb.buggy if v.function == function]) >= 3, function
        assert len([v for v in nb.correct if v.function == function]) >= 1, function


@pytest.mark.parametrize("key", KEYS)
def test_autograded_selection_names_existing_variants(key):
    """The registry's selection for the real autograder names variants that exist, and every graded
    function has at least one of them."""
    spec = SPECS[key]
    if spec.autograded is None:
        return
    assert set(spec.autograded) == set(spec.notebook.graded)
    for function, names in spec.autograded.items():
        known = {v.description for v in spec.notebook.buggy if v.function == function}
        assert names and set(names) <= known, set(names) - known


@pytest.mark.parametrize("key,function", [pytest.param(key, function, id=f"{key}: {function}")
                                          for key in KEYS for function in SPECS[key].notebook.graded])
def test_reference_passes_its_tests(key, function):
    """The reference passes the function's visible and hidden tests."""
    SPECS[key].notebook.assert_reference_passes(function)


@pytest.mark.parametrize("key,variant", list(_cases("buggy")))
def test_buggy_variant_fails_its_tests(key, variant):
    SPECS[key].notebook.assert_variant_fails(variant)


@pytest.mark.parametrize("key,variant", list(_cases("correct")))
def test_correct_variant_passes_its_tests(key, variant):
    SPECS[key].notebook.assert_variant_passes(variant)


@pytest.mark.parametrize("key,variant", list(_cases("buggy", only_hard_coded=True)))
def test_hard_coded_variant_passes_visible_but_not_hidden_tests(key, variant):
    spec = SPECS[key]
    visible = spec.hard_coded_visible() if callable(spec.hard_coded_visible) else spec.hard_coded_visible
    spec.notebook.assert_hard_coded_caught(variant, match=spec.hard_coded_match, visible=visible)


@pytest.mark.parametrize("key", KEYS)
def test_messages_name_the_likely_cause(key):
    SPECS[key].notebook.assert_messages_name_causes(SPECS[key].causes)


# --------------------------------------------------------------------------------------------
# the real autograder


@pytest.mark.slow
@pytest.mark.parametrize("key", KEYS)
def test_autograder_scores_the_class_right(key, graded_classes):
    """Reference: full marks and a clean notebook (no error, no stderr output); untouched release: 0;
    buggy rounds lose exactly their functions' points; correct rounds keep full marks."""
    spec, graded = SPECS[key], graded_classes.get(key)
    nb = spec.notebook
    assert graded.scores["reference"] == nb.full_marks()
    executed = graded.course.autograded_notebook("reference", nb.notebook)
    problems = [(index, output.get("ename") or output.get("name"))
                for index, cell in enumerate(executed.cells) if cell.cell_type == "code"
                for output in cell.get("outputs", [])
                if output.output_type == "error" or (output.output_type == "stream" and output.name == "stderr")]
    assert not problems, f"the reference notebook wrote errors or stderr in cells {problems}"
    assert autograde.points(graded.scores["untouched"]) == 0
    plans = graded.plans
    assert any(p.startswith("buggy") for p in plans) and any(p.startswith("correct") for p in plans)
    if spec.autograded is not None:
        selected = sum(len(names) for names in spec.autograded.values())
        assert sum(len(chosen) for p, chosen in plans.items() if p.startswith("buggy")) == selected
    assert_rounds_scored(graded.scores, plans, nb.graded)
