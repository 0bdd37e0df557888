"""Run an assignment's test cells in-process against variant implementations (fast grader proofs).

The autograder proofs in the slow tests run the real nbgrader pipeline; these helpers check the
same variants in-process in milliseconds, so a grader bug shows up quickly and precisely.
"""

from __future__ import annotations

import nbformat

from tests import REPO


def load_source(assignment: str, notebook: str) -> nbformat.NotebookNode:
    return nbformat.read(REPO / "source" / assignment / f"{notebook}.ipynb", as_version=4)


def cells_by_grade_id(nb: nbformat.NotebookNode) -> dict[str, str]:
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
            if c.cell_type == "code" and "grade_id" in c.metadata.get("nbgrader", {})}


def visible_part(test_source: str) -> str:
    """The test cell as students see it: hidden tests removed."""
    return test_source.split("### BEGIN HIDDEN TESTS")[0]


def run_cell(source: str, namespace: dict) -> None:
    """Execute a cell's Python source (no IPython magics in test cells) in ``namespace``."""
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("%"))
    exec(compile(code, "<test cell>", "exec"), namespace)
