"""Fork bombs and many-process memory hogs through the real autograder: the cgroup limits of the sandbox.

Two hostile students and a control share a run of the small synthetic assignment of the robustness
tests. The fork bomb forks sleeping children until ``fork`` is refused (bounded at 3,000, so that a
machine without the limit is not hurt); the memory hog starts six children of 300 MiB each, more
than the kernel's 1 GiB total allows. The batch must complete, the control keep full marks, the
memory hog keep the points of its tests (the OOM killer takes its extra processes), the fork bomb
cost only its own notebook (its children hold its quota), and nothing they started may outlive the
grading. Skipped where cgroups cannot be written (not root, macOS).
"""

from __future__ import annotations

import glob

import pytest

from helpers.instructor import autograde as autograder
from helpers.instructor.sandbox import cgroup_dirs, cgroups_available
from tests import autograde
from tests.test_instructor_robustness import ASSIGNMENT, FULL, SOURCE, _solved, _with_cell

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not cgroups_available(), reason="needs write access to /sys/fs/cgroup")]

FORK_BOMB = """
import os, time
forked, refused = 0, None
for _ in range(3000):
    try:
        pid = os.fork()
    except OSError as error:
        refused = type(error).__name__
        break
    if pid == 0:
        time.sleep(120)
        os._exit(0)
    forked += 1
print('forked', forked, 'refused', refused, os.environ.get('CNN_COURSE_CGROUP'))
"""

MEMORY_HOG = """
import os
children = []
for _ in range(6):
    pid = os.fork()
    if pid == 0:
        block = bytearray(300 * 2**20)
        for i in range(0, len(block), 4096):
            block[i] = 1
        os._exit(0)
    children.append(pid)
statuses = [os.waitpid(pid, 0)[1] for pid in children]
print('children killed:', sum(status == 9 for status in statuses), 'of', len(statuses))
"""


def test_fork_bomb_and_memory_hog_are_contained(tmp_path):
    course = autograde.Course(tmp_path / "course", ASSIGNMENT, notebooks=SOURCE)
    course.generate()
    release = {name: course.release_notebook(name) for name in SOURCE}
    good = _solved(release)
    course.submit("control", good)
    course.submit("fork_bomb", _with_cell(good, "Part_A", FORK_BOMB))
    course.submit("memory_hog", _with_cell(good, "Part_A", MEMORY_HOG))
    limits = autograder.Limits(workers=2, cell_timeout=60, memory_mb=1536, cpu_seconds=120, student_timeout=240,
                               pids_max=64, total_memory_mb=1024)
    outcomes = autograder.autograde(course.root, ASSIGNMENT, limits=limits, log=lambda *a: None)
    assert outcomes["control"].status == outcomes["memory_hog"].status == "graded"
    assert outcomes["fork_bomb"].status in ("graded", "failed")  # recorded; the batch went on
    for student in ("control", "memory_hog"):
        scores = {**course.scores(student, "Part_A"), **course.scores(student, "Part_B")}
        assert {k: v[0] for k, v in scores.items()} == FULL, student
    # the bomb's sleeping children hold the kernel's quota, so its own later cells may fail (no new
    # thread): the cost stays with that student
    output = lambda student: "".join(o.get("text", "") for c in course.autograded_notebook(student, "Part_A").cells
                                     if c.cell_type == "code" for o in c.get("outputs", []))  # noqa: E731
    bomb = output("fork_bomb").split()
    assert bomb[bomb.index("refused") + 1] == "BlockingIOError" and int(bomb[bomb.index("forked") + 1]) < 64
    assert "pids.max=64" in output("fork_bomb")
    hog = output("memory_hog")
    assert "children killed:" in hog and not hog.split("children killed:")[1].strip().startswith("0 ")
    for student in ("fork_bomb", "memory_hog"):  # their groups are gone: a group with a process in it cannot be removed
        assert not [path for _, pattern in cgroup_dirs(f"job-{student}-*") for path in glob.glob(pattern)]
