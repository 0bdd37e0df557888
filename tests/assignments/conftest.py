"""One real autograder run per assignment notebook, shared by every test that needs it, run in the
background while the rest of the suite goes on.

Each run (``nbgrader autograde`` of a simulated class) is a subprocess that mostly waits on its
kernels, while most other tests keep one core busy in the pytest process. So, as soon as the first
test of ``tests/assignments/`` starts, background threads autograde the classes of every notebook
whose slow tests were selected (two at a time), and those slow tests are moved to the end of the
session, where they pick up the finished results. The suite's wall time is then about the longer of
the two streams instead of their sum; what is checked does not change.
"""

from __future__ import annotations

import concurrent.futures as futures
from dataclasses import dataclass

import pytest

from helpers.instructor.nbgrader_calls import nbgrader_env
from tests import autograde
from tests.assignments.registry import SPECS

_NEEDED = pytest.StashKey[list]()


@dataclass
class GradedClass:
    scores: dict   # {student: {grade_id: (score, max)}}
    plans: dict    # {"buggy<i>" | "correct<i>": {function: variant}}
    course: autograde.Course


def _grade(key: str, root, env: dict) -> GradedClass:
    spec = SPECS[key]
    course = spec.notebook.course(root)
    course.env = env
    scores, plans = spec.notebook.grade_class(course, spec.autograded_buggy_rounds(),
                                              spec.autograded_correct_rounds(), spec.extra_students)
    return GradedClass(scores, plans, course)


def _submissions(spec) -> int:
    """How many notebooks the autograder run of ``spec`` grades (reference, untouched, rounds, extras)."""
    return 2 + len(spec.autograded_buggy_rounds()) + len(spec.autograded_correct_rounds()) + len(spec.extra_students)


class GradedClasses:
    """``get(key)``: the autograded class of notebook ``key`` (started in the background, or now)."""

    def __init__(self, tmp_path_factory, keys: list[str]):
        self._tmp = tmp_path_factory
        # taken now, in the main thread: tests that monkeypatch os.environ later must not leak into it
        self._env = nbgrader_env()
        # Two runs at a time (each mostly waits on its kernels' start-up); the classes with the most
        # submissions first, so the last one to finish is a short one.
        self._pool = futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="autograde")
        keys = sorted(keys, key=lambda key: -_submissions(SPECS[key]))
        self._runs = {key: self._pool.submit(_grade, key, tmp_path_factory.mktemp(key), self._env) for key in keys}

    def get(self, key: str) -> GradedClass:
        if key not in self._runs:
            self._runs[key] = self._pool.submit(_grade, key, self._tmp.mktemp(key), self._env)
        return self._runs[key].result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _key_of(item) -> str | None:
    """The notebook whose autograded class ``item`` needs, or None."""
    if "graded_classes" not in getattr(item, "fixturenames", ()):
        return None
    params = getattr(getattr(item, "callspec", None), "params", {})
    if "key" in params:
        return params["key"]
    return item.module.SPEC.key


@pytest.hookimpl(trylast=True)  # after -k/-m deselection: only the classes of selected tests are graded
def pytest_collection_modifyitems(session, config, items):
    """Move the tests that need an autograded class to the end; remember which classes they need."""
    needing = [item for item in items if _key_of(item) is not None]
    keys = []
    for item in needing:
        if _key_of(item) not in keys:
            keys.append(_key_of(item))
    config.stash[_NEEDED] = keys
    items[:] = [item for item in items if _key_of(item) is None] + needing


@pytest.fixture(scope="session")
def graded_classes(tmp_path_factory, request):
    classes = GradedClasses(tmp_path_factory, request.config.stash.get(_NEEDED, []))
    yield classes
    classes.close()


@pytest.fixture(autouse=True, scope="session")
def _start_autograding_early(request):
    """Instantiated by the first test of tests/assignments/: starts the background runs."""
    if request.config.stash.get(_NEEDED, []):
        request.getfixturevalue("graded_classes")
