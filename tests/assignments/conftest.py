"""One real autograder run per assignment notebook, shared by every test that needs it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests import autograde
from tests.assignments.registry import SPECS


@dataclass
class GradedClass:
    scores: dict   # {student: {grade_id: (score, max)}}
    plans: dict    # {"buggy<i>" | "correct<i>": {function: variant}}
    course: autograde.Course


class GradedClasses:
    """``get(key)`` autogrades the simulated class of notebook ``key`` once (reference, untouched
    release, rounds of variants, the registry's extra students) and keeps the result."""

    def __init__(self, tmp_path_factory):
        self._tmp, self._done = tmp_path_factory, {}

    def get(self, key: str) -> GradedClass:
        if key not in self._done:
            spec = SPECS[key]
            course = spec.notebook.course(self._tmp.mktemp(key))
            scores, plans = spec.notebook.grade_class(course, spec.autograded_buggy_rounds(),
                                                      spec.autograded_correct_rounds(), spec.extra_students)
            self._done[key] = GradedClass(scores, plans, course)
        return self._done[key]


@pytest.fixture(scope="session")
def graded_classes(tmp_path_factory) -> GradedClasses:
    return GradedClasses(tmp_path_factory)
