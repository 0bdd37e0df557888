"""Harness that runs the real nbgrader pipeline on a temporary copy of the course.

Typical use in a test::

    course = Course(tmp_path, "week1")                    # copies nbgrader_config.py + source/week1
    course.generate()                                     # nbgrader generate_assignment week1
    student = course.release_notebook("Convolution_Step_by_Step")
    solved = fill_solutions(student, {"zero_pad_solution": "def zero_pad(X, pad): ..."})
    course.submit("alice", {"Convolution_Step_by_Step": solved})
    course.autograde()                                    # nbgrader autograde week1 (hidden tests included)
    course.scores("alice", "Convolution_Step_by_Step")    # {"zero_pad_tests": (10.0, 10.0), ...}

Variant implementations (buggy or correct) are plain Python functions in ``tests/variants/``,
registered with :func:`tests.variants.variant`; ``Variant.source`` turns one into the source of a
solution cell.

The subprocesses get ``CNN_COURSE_FAST`` unset, so nbgrader's own ``NBGRADER_EXECUTION`` switch
is what puts training cells in fast mode, as in a real autograding run.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from helpers.instructor.nbgrader_calls import nbgrader_env
from tests import REPO


class Course:
    """A temporary nbgrader course directory holding one assignment copied from ``source/``."""

    def __init__(self, root: Path, assignment: str, notebooks: dict[str, nbformat.NotebookNode] | None = None,
                 extra_config: str = ""):
        """``notebooks``: instructor notebooks ``{name: nb}`` to use instead of ``source/<assignment>``
        (e.g. a small synthetic assignment); ``extra_config``: lines appended to nbgrader_config.py."""
        self.root = Path(root)
        self.assignment = assignment
        #: environment of the nbgrader subprocesses; None: ``nbgrader_env()`` at each call
        self.env: dict | None = None
        self.root.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / "nbgrader_config.py", self.root / "nbgrader_config.py")
        if extra_config:
            with open(self.root / "nbgrader_config.py", "a") as handle:
                handle.write("\n" + extra_config + "\n")
        if notebooks is None:
            shutil.copytree(REPO / "source" / assignment, self.root / "source" / assignment,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        else:
            (self.root / "source" / assignment).mkdir(parents=True, exist_ok=True)
            for name, nb in notebooks.items():
                nbformat.write(nb, self.root / "source" / assignment / f"{name}.ipynb")

    def nbgrader(self, *args: str, check: bool = True, timeout: float = 1800) -> subprocess.CompletedProcess:
        """Run ``nbgrader ARGS`` in the course directory; raise with its log if it fails and check is set."""
        process = subprocess.run(
            [sys.executable, "-m", "nbgrader", *args], cwd=self.root, env=self.env or nbgrader_env(),
            capture_output=True, text=True, timeout=timeout,
        )
        if check and process.returncode != 0:
            raise RuntimeError(f"nbgrader {' '.join(args)} failed ({process.returncode}):\n"
                               f"{process.stdout[-4000:]}\n{process.stderr[-8000:]}")
        return process

    def generate(self) -> None:
        self.nbgrader("generate_assignment", self.assignment, "--force")

    def release_notebook(self, name: str) -> nbformat.NotebookNode:
        """The generated student version of notebook ``name`` (without .ipynb)."""
        return nbformat.read(self.root / "release" / self.assignment / f"{name}.ipynb", as_version=4)

    def source_notebook(self, name: str) -> nbformat.NotebookNode:
        return nbformat.read(self.root / "source" / self.assignment / f"{name}.ipynb", as_version=4)

    def submit(self, student: str, notebooks: dict[str, nbformat.NotebookNode | str | bytes]) -> Path:
        """Place a submission as ``submitted/<student>/<assignment>/``; values are notebooks or raw file contents."""
        folder = self.root / "submitted" / student / self.assignment
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in notebooks.items():
            path = folder / (name if name.endswith(".ipynb") else f"{name}.ipynb")
            if isinstance(content, nbformat.NotebookNode):
                nbformat.write(content, path)
            elif isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)
        (folder / "timestamp.txt").write_text("2026-11-21 09:00:00.000000 UTC")
        return folder

    def autograde(self, *extra: str) -> subprocess.CompletedProcess:
        return self.nbgrader("autograde", self.assignment, "--force", *extra)

    def scores(self, student: str, notebook: str) -> dict[str, tuple[float, float]]:
        """Autograded scores of one submitted notebook: ``{grade_id: (score, max_score)}``."""
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gradebook:
            submission = gradebook.find_submission_notebook(notebook, self.assignment, student)
            return {grade.name: (float(grade.score), float(grade.max_score)) for grade in submission.grades}

    def autograded_notebook(self, student: str, notebook: str) -> nbformat.NotebookNode:
        return nbformat.read(self.root / "autograded" / student / self.assignment / f"{notebook}.ipynb", as_version=4)


def solution_cell(nb: nbformat.NotebookNode, grade_id: str) -> nbformat.NotebookNode:
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return cell
    raise KeyError(f"no cell with grade_id {grade_id!r}")


def fill_solutions(nb: nbformat.NotebookNode, sources: dict[str, str]) -> nbformat.NotebookNode:
    """Copy of ``nb`` whose cells with the given grade ids have the given sources."""
    nb = copy.deepcopy(nb)
    for grade_id, source in sources.items():
        solution_cell(nb, grade_id).source = source
    return nb


def reference_solutions(source_nb: nbformat.NotebookNode) -> dict[str, str]:
    """``{grade_id: source}`` of every solution cell of an instructor notebook, markers removed."""
    sources = {}
    for cell in source_nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            lines = [line for line in cell.source.splitlines()
                     if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")]
            sources[meta["grade_id"]] = "\n".join(lines)
    return sources


def points(scores: dict[str, tuple[float, float]]) -> float:
    return sum(score for score, _ in scores.values())
