"""Old path of the instructor tool, kept so ``python -m helpers.course`` and old scripts keep working.

The tool lives in :mod:`helpers.instructor` (``cnn-course``, ``python -m helpers.instructor``).
"""

import sys

from helpers.instructor.autograde import Limits, Outcome, autograde  # noqa: F401
from helpers.instructor.cli import build_parser, main  # noqa: F401
from helpers.instructor.nbgrader_calls import collect, export, feedback, nbgrader_env, release, run_nbgrader  # noqa: F401
from helpers.instructor.report import report, review  # noqa: F401

if __name__ == "__main__":
    sys.exit(main())
