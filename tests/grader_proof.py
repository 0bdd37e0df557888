"""Shared machinery of the grader proofs (tests/assignments/).

An :class:`AssignmentNotebook` bundles one instructor notebook with its variants:

- in-process, :meth:`AssignmentNotebook.namespace` gives the notebook's globals after its imports
  and reference solutions (one function optionally replaced by a variant), so a test cell can be
  run against a variant in milliseconds; the ``assert_*`` methods are the checks every assignment's
  test file makes with it (reference and correct variants pass, buggy ones fail with a message
  naming the function, hard-coded ones pass only the visible tests, messages name the cause);
- through the real autograder, :meth:`AssignmentNotebook.rounds` groups variants into submissions
  (round i holds the i-th variant of every function), :meth:`AssignmentNotebook.submission`
  builds each one from the release, and :func:`assert_rounds_scored` checks that every buggy
  function lost exactly its points and every correct one kept them.
"""

from __future__ import annotations

import contextlib
import io
import re
from types import ModuleType

import nbformat
import pytest

from helpers.grading import GradingFailure
from tests import autograde
from tests.notebook_cells import cells_by_grade_id, load_source, run_cell, visible_part
from tests.variants import Variant, variants_of


def variant_id(variant: Variant) -> str:
    return f"{variant.function}: {variant.description}"


class AssignmentNotebook:
    """One graded notebook of ``source/<assignment>/`` and the variants of its functions.

    points: ``{function: points}`` in notebook order, as the design says they are.
    notebook_globals: names the notebook defines between its imports and its solutions (e.g. a
    constant used as a default argument), set in :meth:`namespace` before the solutions run.
    """

    def __init__(self, assignment: str, notebook: str, points: dict[str, int], variants_module: ModuleType,
                 notebook_globals: dict | None = None):
        self.notebook_globals = dict(notebook_globals or {})
        self.assignment, self.notebook = assignment, notebook
        self.points = dict(points)
        self.graded = list(points)
        self.source = load_source(assignment, notebook)
        self.cells = cells_by_grade_id(self.source)
        self.reference = autograde.reference_solutions(self.source)
        self.variants = variants_of(variants_module)
        self.buggy = [v for v in self.variants if v.kind == "buggy"]
        self.correct = [v for v in self.variants if v.kind == "correct"]

    @property
    def key(self) -> str:
        """The notebook's snake_case name, the key of everything that belongs to it
        (``helpers/reference/<key>.py``, ``helpers/checks/<key>.py``, ``tests/variants/<key>.py``)."""
        return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", self.notebook).lower()

    def reference_namespace(self) -> dict:
        """:meth:`namespace` with the reference solutions, built once per notebook and shared by the
        reference checks (their test cells restore any name they swap, so sharing is safe)."""
        if getattr(self, "_reference_namespace", None) is None:
            self._reference_namespace = self.namespace()
        return self._reference_namespace

    def test_cell(self, function: str) -> str:
        return self.cells[f"{function}_tests"]

    def namespace(self, replacement: Variant | None = None) -> dict:
        """The notebook's globals after its imports and reference solutions (and ``replacement``)."""
        namespace: dict = {}
        run_cell(self.cells["imports"], namespace)
        namespace.update(self.notebook_globals)
        for function in self.graded:
            run_cell(self.reference[f"{function}_solution"], namespace)
        if replacement is not None:
            run_cell(replacement.source, namespace)
        return namespace

    def run_tests(self, function: str, namespace: dict, visible_only: bool = False) -> str:
        """Run ``function``'s test cell (or only its visible part) in ``namespace``; return what it printed."""
        cell = self.test_cell(function)
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            run_cell(visible_part(cell) if visible_only else cell, namespace)
        return printed.getvalue()

    def assert_reference_passes(self, function: str, namespace: dict | None = None) -> None:
        """The reference passes ``function``'s visible and hidden tests, ending with the success line."""
        printed = self.run_tests(function, self.reference_namespace() if namespace is None else namespace)
        assert printed.strip().endswith("All tests passed."), printed

    def assert_variant_passes(self, variant: Variant) -> None:
        printed = self.run_tests(variant.function, self.namespace(variant))
        assert "All tests passed." in printed, printed

    def assert_variant_fails(self, variant: Variant) -> None:
        """The variant fails its function's tests with a GradingFailure that starts with the function's
        name and says what was expected."""
        with pytest.raises(GradingFailure) as failure:
            self.run_tests(variant.function, self.namespace(variant))
        message = str(failure.value)
        assert message.startswith(variant.function) and "expected" in message, message

    def assert_broken_helpers_cost_nothing(self, broken_source: str, function: str) -> dict:
        """With the graded helpers that ``function`` builds on replaced by broken ones (``broken_source``,
        a cell defining them), ``function``'s tests still pass (they run with the reference helpers).
        Returns the namespace, to check that the student's own helpers are put back."""
        namespace = self.namespace()
        run_cell(broken_source, namespace)
        printed = self.run_tests(function, namespace)
        assert printed.strip().endswith("All tests passed."), printed
        return namespace

    def assert_hard_coded_caught(self, variant: Variant, match: str | None = None, visible: bool = True) -> None:
        """A variant hard-coded to the visible tests passes them (when ``visible``) and fails the hidden
        ones (with ``match`` in the message when given)."""
        namespace = self.namespace(variant)
        if visible:
            self.run_tests(variant.function, namespace, visible_only=True)
        with pytest.raises(GradingFailure, match=match):
            self.run_tests(variant.function, namespace)

    def assert_messages_name_causes(self, cases: dict[str, str]) -> None:
        """``{variant_id: phrase}``: each buggy variant's failure message contains its phrase."""
        for name, phrase in cases.items():
            variant = next(v for v in self.buggy if variant_id(v) == name)
            with pytest.raises(GradingFailure) as failure:
                self.run_tests(variant.function, self.namespace(variant))
            assert phrase in str(failure.value), (name, str(failure.value))

    def test_points(self) -> dict[str, int]:
        """``{grade_id: points}`` of the notebook's graded cells."""
        return {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
                for c in self.source.cells if c.metadata.get("nbgrader", {}).get("grade")}

    def assert_structure(self) -> None:
        """One solution cell and one test cell (with hidden tests) per function, with the design's points."""
        for function in self.graded:
            assert f"{function}_solution" in self.cells and f"{function}_tests" in self.cells, function
            assert "### BEGIN HIDDEN TESTS" in self.test_cell(function), function
        assert self.test_points() == {f"{f}_tests": p for f, p in self.points.items()}

    def rounds(self, variants: list[Variant], descriptions=None) -> list[dict[str, Variant]]:
        """Round i: ``{function: its i-th variant}`` over the functions that have one.

        descriptions: if given, only variants whose description is in it take part.
        """
        pools = {f: [v for v in variants if v.function == f and (descriptions is None or v.description in descriptions)]
                 for f in self.graded}
        count = max((len(pool) for pool in pools.values()), default=0)
        return [{f: pool[i] for f, pool in pools.items() if i < len(pool)} for i in range(count)]

    def submission(self, release: nbformat.NotebookNode, replacements: dict[str, Variant]) -> nbformat.NotebookNode:
        """The release with every solution cell filled: the reference, or the given variants."""
        sources = {f"{f}_solution": self.reference[f"{f}_solution"] for f in self.graded}
        sources.update({f"{f}_solution": v.source for f, v in replacements.items()})
        return autograde.fill_solutions(release, sources)

    def course(self, root) -> autograde.Course:
        """A temporary nbgrader course holding this notebook alone (the week's others have their own proofs)."""
        return autograde.Course(root, self.assignment, notebooks={self.notebook: self.source})

    def grade_class(self, course: autograde.Course, buggy_rounds, correct_rounds, extra_students=None):
        """Submit reference, untouched release, the rounds (and extras); autograde once.

        Returns ``(scores, plans)``: ``{student: {grade_id: (score, max)}}`` and
        ``{student: {function: variant}}`` for the round students ``buggy<i>`` / ``correct<i>``.
        extra_students: ``{name: function(release) -> notebook}`` for other submissions. The graded
        notebooks stay in ``course`` (``course.autograded_notebook(student, notebook)``).
        """
        course.generate()
        release = course.release_notebook(self.notebook)
        students = {"reference": self.submission(release, {}), "untouched": release}
        plans = {}
        for kind, rounds in (("buggy", buggy_rounds), ("correct", correct_rounds)):
            for index, chosen in enumerate(rounds):
                students[f"{kind}{index}"], plans[f"{kind}{index}"] = self.submission(release, chosen), chosen
        for name, make in (extra_students or {}).items():
            students[name] = make(release)
        for student, nb in students.items():
            course.submit(student, {self.notebook: nb})
        course.autograde()
        return {student: course.scores(student, self.notebook) for student in students}, plans

    def full_marks(self) -> dict[str, tuple[float, float]]:
        return {f"{f}_tests": (float(p), float(p)) for f, p in self.points.items()}


def assert_rounds_scored(scores: dict, plans: dict, graded: list[str]) -> None:
    """Buggy rounds: each replaced function scores 0, every other one full marks.
    Correct rounds: full marks everywhere."""
    for student, chosen in plans.items():
        for function in graded:
            score, maximum = scores[student][f"{function}_tests"]
            if student.startswith("buggy") and function in chosen:
                assert score == 0, f"{variant_id(chosen[function])} kept {score} points"
            elif student.startswith("correct") and function in chosen:
                assert score == maximum, f"{variant_id(chosen[function])} lost points ({score}/{maximum})"
            else:
                assert score == maximum, f"{student}: {function} lost points it should keep ({score}/{maximum})"
