"""The course's test suite (see README: ``bash course.sh test``). ``REPO`` is the repository root."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
