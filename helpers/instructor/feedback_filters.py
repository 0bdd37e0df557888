"""What students must not read in their feedback pages: the hidden tests, in the code and in tracebacks.

nbgrader's ``ClearHiddenTests`` (in ``GenerateFeedback.preprocessors`` of the course's nbgrader_config.py)
removes the hidden block from each test cell's source. The cell's error output was written while
grading, though, and IPython prints two lines of context around the failing line of every frame: a
visible check failing just above ``### BEGIN HIDDEN TESTS`` shows the first hidden checks, and a
failing hidden check shows itself (its shapes and seeds). :class:`ClearHiddenTracebackLines`, run
before ``ClearHiddenTests`` while the source still holds the block, replaces the traceback's
context lines of the cell that lie in the hidden block by one line saying so. The error's message
(what was expected, what came, the likely cause) stays.
"""

from __future__ import annotations

import re

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
HIDDEN_NOTE = "      (hidden tests: not shown)"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_CELL_FRAME = re.compile(r"(Cell|Input) In ?\[")          # IPython's header of a frame in the cell's own code
_CONTEXT_LINE = re.compile(r"^(?:-*>)?\s*(\d+)\s")         # "      3 code" or "----> 4 code"


def hidden_line_numbers(source: str) -> set[int]:
    """1-based numbers of the lines of ``source`` from each BEGIN HIDDEN TESTS marker to its END marker
    (both included; an unclosed block runs to the end of the source)."""
    numbers, inside = set(), False
    for number, line in enumerate(source.splitlines(), start=1):
        if BEGIN in line:
            inside = True
        if inside:
            numbers.add(number)
        if END in line:
            inside = False
    return numbers


def clear_hidden_lines(entry: str, hidden: set[int]) -> str:
    """One traceback entry (a frame with its numbered context lines, possibly ANSI-coloured) with every
    context line whose number is in ``hidden`` replaced, run by run, by :data:`HIDDEN_NOTE`. Entries of
    frames outside the cell's code (library files) are returned as they are."""
    if not hidden or not _CELL_FRAME.search(_ANSI.sub("", entry)):
        return entry
    out, previous = [], False
    for line in entry.split("\n"):
        match = _CONTEXT_LINE.match(_ANSI.sub("", line))
        gone = match is not None and int(match.group(1)) in hidden
        if gone and not previous:
            out.append(HIDDEN_NOTE)
        elif not gone:
            out.append(line)
        previous = gone
    return "\n".join(out)


class ClearHiddenTracebackLines(Preprocessor):
    """nbconvert preprocessor for feedback pages: hidden-test lines out of every error output's traceback.
    Must run before nbgrader's ``ClearHiddenTests`` (it reads the hidden block from the cell's source)."""

    enabled = Bool(True, help="on by default (nbconvert's preprocessors are off unless enabled)").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code":
            hidden = hidden_line_numbers(cell.source)
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error" and hidden:
                    output["traceback"] = [clear_hidden_lines(entry, hidden) for entry in output.get("traceback", [])]
        return cell, resources
