"""Shared set-up of the whole suite.

- Matplotlib draws off-screen (Agg) in every test, before any test module imports pyplot.
- The repository root is ``tests.REPO``.
- The autograder runs shared by the grader proofs live in ``tests/assignments/conftest.py``.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
