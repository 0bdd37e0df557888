"""Course-wide settings: where data lives and whether to train in fast mode.

Nothing here imports TensorFlow, so it is cheap to import from anywhere.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Environment variable that forces fast mode on ("1") or off ("0").
FAST_MODE_VARIABLE = "CNN_COURSE_FAST"
#: Environment variable that moves the data folder.
DATA_DIR_VARIABLE = "CNN_COURSE_DATA"


def repo_root() -> Path | None:
    """Return the course repository's root if ``helpers`` is installed from a checkout, else None."""
    root = Path(__file__).resolve().parents[1]
    if (root / "nbgrader_config.py").is_file() and (root / "helpers").is_dir():
        return root
    return None


def data_dir() -> Path:
    """Folder for data files: ``$CNN_COURSE_DATA``, else ``<repo>/data``, else ``~/.cache/cnn-course``.

    Generated data sets are written below it; the original course's ``.h5`` files can be placed
    directly in it. The folder is created if needed. Paths are absolute, so notebooks find the same
    files whatever folder they run in (their own, nbgrader's ``autograded/<student>/...``, a test's
    temporary copy).
    """
    if os.environ.get(DATA_DIR_VARIABLE):
        path = Path(os.environ[DATA_DIR_VARIABLE]).expanduser()
    elif repo_root() is not None:
        path = repo_root() / "data"
    else:
        path = Path.home() / ".cache" / "cnn-course"
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def autograding() -> bool:
    """True while nbgrader executes the notebook (``NBGRADER_EXECUTION`` is ``autograde`` or ``validate``).

    Notebooks skip cells that are not graded and only cost time (long training runs) when it is on.
    """
    return os.environ.get("NBGRADER_EXECUTION", "") in ("autograde", "validate")


def fast_mode() -> bool:
    """True when long training cells should shrink to a quick run.

    Fast mode is on while nbgrader executes a notebook (it sets ``NBGRADER_EXECUTION`` to
    ``autograde`` or ``validate``) and whenever ``CNN_COURSE_FAST=1`` (the test suite sets it).
    ``CNN_COURSE_FAST=0`` forces the full run even under nbgrader.
    """
    forced = os.environ.get(FAST_MODE_VARIABLE)
    if forced is not None and forced.strip() != "":
        return forced.strip() not in ("0", "false", "False", "no")
    return autograding()
