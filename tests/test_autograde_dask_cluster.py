"""``cnn-course autograde --scheduler`` on a real Dask cluster of separate processes, one worker killed.

A scheduler and two workers are started as separate processes on localhost, each in a working
folder of its own (no shared course folder: submissions and grading inputs travel as data). Ten
week-1 submissions, broken ones included, are graded through the scheduler; while the second
submission is being graded, the worker grading it is killed (SIGKILL). The batch must complete,
the killed task must be re-run on the other worker, no grading process of the killed worker may
survive it, and every student must get the same grades as in a plain serial ``nbgrader autograde``
of the same class.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import psutil
import pytest
from nbformat.v4 import new_code_cell

from helpers.instructor import autograde as autograder
from helpers.instructor.nbgrader_calls import nbgrader_env
from tests import REPO, autograde
from tests.variants import convolution_step_by_step as variants_module
from tests.variants import variants_of

pytestmark = pytest.mark.slow

NOTEBOOK = "Convolution_Step_by_Step"


def _class(course: autograde.Course) -> dict[str, object]:
    release = course.release_notebook(NOTEBOOK)
    reference = autograde.reference_solutions(course.source_notebook(NOTEBOOK))
    variants = variants_of(variants_module)
    correct = [v for v in variants if v.kind == "correct"]
    buggy = {v.function: v for v in variants if v.kind == "buggy"}

    def solved(**replace):
        return autograde.fill_solutions(release, dict(reference, **replace))

    crash = solved()
    crash.cells.insert(3, new_code_cell("import os\nos._exit(3)"))
    scratch = solved()
    scratch.cells.insert(5, new_code_cell("print('trying things', 1 + 1)"))
    return {
        "s00_reference": solved(),
        "s01_scratch_cells": scratch,
        "s02_correct_variants": solved(**{f"{v.function}_solution": v.source for v in correct[:2]}),
        "s03_buggy_conv": solved(conv_forward_solution=buggy["conv_forward"].source),
        "s04_buggy_pool": solved(pool_forward_solution=buggy["pool_forward"].source),
        "s05_syntax_error": solved(zero_pad_solution="def zero_pad(X, pad)\n    return X"),
        "s06_kernel_crash": crash,
        "s07_invalid_json": b'{"cells": [ not json',
        "s08_stderr": solved(zero_pad_solution="import sys\n" + reference["zero_pad_solution"].replace(
            "def zero_pad(X, pad):", "def zero_pad(X, pad):\n    print('debug', file=sys.stderr)", 1)),
        "s09_untouched_release": copy.deepcopy(release),
    }


def _grades(root) -> dict[str, dict]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        return {s.student.id: {(nb.name, g.name): g.score for nb in s.notebooks for g in nb.grades}
                for s in gradebook.find_assignment("week1").submissions}


def _start(command: list[str], cwd, log) -> subprocess.Popen:
    cwd.mkdir(parents=True, exist_ok=True)
    handle = open(log, "w")
    return subprocess.Popen(command, cwd=cwd, env=nbgrader_env({"PYTHONPATH": str(REPO)}), stdout=handle,
                            stderr=subprocess.STDOUT, start_new_session=True)


def _grading_child(worker: psutil.Process):
    """The ``nbgrader autograde`` process a worker is running now (it works in a ``job-*`` folder), if any."""
    try:
        for child in worker.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                if os.path.basename(child.cwd()).startswith("job-") and "ipykernel" not in " ".join(child.cmdline()):
                    return child
    except psutil.Error:
        pass
    return None


def test_cluster_with_a_killed_worker_grades_like_serial_nbgrader(tmp_path):
    course = autograde.Course(tmp_path / "course", "week1")
    course.generate()
    for student, notebook in _class(course).items():
        course.submit(student, {NOTEBOOK: notebook})
    serial = autograde.Course(tmp_path / "serial", "week1")
    shutil.rmtree(serial.root)
    shutil.copytree(course.root, serial.root)

    processes = []
    try:
        scheduler_file = tmp_path / "scheduler" / "scheduler.json"
        python = [sys.executable, "-m"]
        processes.append(_start(python + ["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                                          "--no-dashboard", "--scheduler-file", str(scheduler_file)],
                                tmp_path / "scheduler", tmp_path / "scheduler.log"))
        for name in ("a", "b"):
            folder = tmp_path / f"worker-{name}"
            processes.append(_start(python + ["distributed.cli.dask_worker", "--scheduler-file", str(scheduler_file),
                                              "--nthreads", "1", "--no-nanny", "--name", name,
                                              "--local-directory", str(folder / "dask")],
                                    folder, tmp_path / f"worker-{name}.log"))
        scheduler, worker_a, worker_b = processes
        for _ in range(300):
            if scheduler_file.exists() and all(
                    "Starting established connection" in (tmp_path / f"worker-{n}.log").read_text() for n in "ab"):
                break
            time.sleep(0.2)
        else:
            pytest.fail("the Dask cluster did not start:\n" + (tmp_path / "scheduler.log").read_text()[-3000:])

        log: list[str] = []
        result: dict = {}
        run = threading.Thread(target=lambda: result.update(autograder.autograde(
            course.root, "week1", scheduler=str(scheduler_file), log=log.append)))
        started = time.monotonic()
        run.start()
        killed = {}
        victim = psutil.Process(worker_a.pid)
        while run.is_alive() and not killed:  # kill worker a while it grades (the second submission or later)
            child = _grading_child(victim)
            done = len(list((course.root / "autograded").glob("*/week1"))) if (course.root / "autograded").exists() else 0
            if child is not None and done >= 1:
                killed = {"child": child.pid, "job": os.path.basename(child.cwd())}
                os.kill(worker_a.pid, signal.SIGKILL)
                break
            time.sleep(0.1)
        run.join(timeout=900)
        seconds = time.monotonic() - started
        assert killed, "worker a was never seen grading"
        assert not run.is_alive()

        serial_started = time.monotonic()
        serial.nbgrader("autograde", "week1", "--force", check=False)  # exits 1: some submissions fail
        serial_seconds = time.monotonic() - serial_started
        print(f"dask cluster with a killed worker: {seconds:.0f} s; serial nbgrader: {serial_seconds:.0f} s")

        outcomes = result
        assert len(outcomes) == 10 and all(o.status in ("graded", "failed") for o in outcomes.values())
        in_flight = next(s for s in outcomes if killed["job"].startswith(f"job-{s}-"))
        assert outcomes[in_flight].worker.endswith(f":{worker_b.pid}"), (in_flight, outcomes[in_flight])
        time.sleep(1)
        assert not psutil.pid_exists(killed["child"]) or psutil.Process(killed["child"]).status() == psutil.STATUS_ZOMBIE
        assert _grades(course.root) == _grades(serial.root)
        statuses = {s: o.status for s, o in outcomes.items()}
        assert statuses["s00_reference"] == statuses["s03_buggy_conv"] == "graded"
        assert statuses["s06_kernel_crash"] == statuses["s07_invalid_json"] == "failed"
        grades = _grades(course.root)
        full = sum(grades["s00_reference"].values())
        assert full > 0 and sum(grades["s01_scratch_cells"].values()) == full
        assert sum(grades["s03_buggy_conv"].values()) < full and sum(grades["s09_untouched_release"].values()) == 0
        assert any("10 submission(s)" in line and "graded" in line for line in log), log[-3:]
        saved = json.loads((course.root / "reports" / "week1" / "autograde.json").read_text())["students"]
        assert saved["s00_reference"]["timing"]["tests"] > 0 and saved["s00_reference"]["timing"]["wall"] > 0
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)
