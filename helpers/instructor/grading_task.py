"""What a grading worker runs for one submission: data in, data out, no shared filesystem.

:func:`grade_submission` is the task that :mod:`helpers.instructor.autograde` sends to Dask workers
(any machine with the course's Python environment and this ``helpers`` package installed). It gets

- ``shared`` (the same for every student of the assignment, scattered once to each worker): the
  course's ``nbgrader_config.py`` text, a gradebook holding only the instructor's rows (cells, hidden
  tests, points; no student data) as SQLite bytes, the assignment's non-notebook support files, and
  the limits;
- ``task``: the student's id and their submitted files as bytes;

builds a one-student nbgrader course in a scratch folder of its own below
``<tmp>/cnn-course-grading`` (every kernel is denied that whole folder, the worker's Dask folder
and, when it exists on that machine, the course folder), runs ``nbgrader autograde`` there with
sandboxed kernels (:mod:`helpers.instructor.sandbox`) under a wall-clock limit, and returns the
autograded files, the job's gradebook (bytes), the nbgrader log, a digest of the submitted files
after grading and a time split. Only the main process touches the course gradebook.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import hashlib
import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from helpers.instructor.sandbox import remove_cgroups

SANDBOX_SCRIPT = Path(__file__).resolve().with_name("sandbox.py")
#: The ``helpers`` package: student kernels may read it (the notebooks import it).
PACKAGE_DIR = Path(__file__).resolve().parents[1]
KERNEL_NAME = "cnn-course-sandbox"
SCRATCH_NAME = "cnn-course-grading"


def scratch_root() -> Path:
    """The folder below which every grading job of this machine lives (denied to all kernels)."""
    root = Path(tempfile.gettempdir()) / SCRATCH_NAME
    root.mkdir(mode=0o700, exist_ok=True)
    return root


def files_digest(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name])
    return digest.hexdigest()


def read_files(folder: Path) -> dict[str, bytes]:
    """``{relative path: bytes}`` of the regular files below ``folder`` (symlinks are left out)."""
    folder = Path(folder)
    if not folder.is_dir():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.is_symlink() and not any(part.startswith(".ipynb_checkpoints") for part in p.parts)}


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    for name, content in files.items():
        path = (folder / name).resolve()
        if not str(path).startswith(str(folder.resolve()) + os.sep):
            continue  # a path leaving the folder (../): never written
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def _worker_directory() -> str | None:
    try:
        from distributed import get_worker

        return get_worker().local_directory
    except (ImportError, ValueError, AttributeError):
        return None


def _kernelspec(job_dir: Path, deny: list[str], limits: dict) -> None:
    from helpers.config import data_dir

    spec_dir = job_dir / "jupyter" / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    allow = [str(PACKAGE_DIR), str(data_dir())]
    if any(str(Path(sys.prefix).resolve()).startswith(str(Path(d).resolve())) for d in deny):
        allow.append(sys.prefix)  # a .venv inside the course folder
    argv = [sys.executable, str(SANDBOX_SCRIPT), "--memory-mb", str(limits["memory_mb"]),
            "--cpu-seconds", str(limits["cpu_seconds"]), "--file-mb", str(limits["file_mb"]),
            "--workdir-root", str(job_dir / "work"), "--cgroup", job_dir.name,
            "--pids-max", str(limits.get("pids_max", 512)), "--total-memory-mb", str(limits.get("total_memory_mb", 6144))]
    for path in deny:
        argv += ["--deny", path]
    for path in allow:
        argv += ["--allow-read", path]
    argv += ["--", sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec = {"argv": argv, "display_name": "Python 3 (cnn-course sandbox)", "language": "python",
            "env": {"CNN_COURSE_DATA": str(data_dir())}}
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))


def _die_with_parent() -> None:
    """In the nbgrader child: SIGKILL when the worker thread that started it dies (worker killed)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG


_FORK_CONTEXT = None


def _fork_context():
    """A fork server that imported nbgrader once (:mod:`helpers.instructor._warm_nbgrader`); None where unavailable."""
    global _FORK_CONTEXT
    if _FORK_CONTEXT is None and os.environ.get("CNN_COURSE_COLD_NBGRADER") != "1":
        try:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["helpers.instructor._warm_nbgrader"])
            _FORK_CONTEXT = context
        except ValueError:
            return None
    return _FORK_CONTEXT


def _nbgrader_child(job_dir: str, env: dict, argv: list[str], log: str) -> None:
    """``nbgrader ARGV`` in a process forked from the warm fork server (own session, output to ``log``)."""
    os.setsid()
    _die_with_parent()
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.chdir(job_dir)
    os.environ.clear()
    os.environ.update(env)
    sys.argv = ["nbgrader", *argv]
    from nbgrader.apps.nbgraderapp import main

    main()


def run_nbgrader(job_dir: Path, env: dict, argv: list[str], log: Path, timeout: float) -> int | str:
    """Run ``nbgrader ARGV`` in ``job_dir``: forked from a warm fork server when possible, else
    ``python -m nbgrader``; killed with everything it started after ``timeout`` s (returns "timeout")."""
    context = _fork_context()
    if context is not None:
        process = context.Process(target=_nbgrader_child, args=(str(job_dir), env, argv, str(log)), daemon=False)
        process.start()
        process.join(timeout)
        status: int | str = process.exitcode if process.exitcode is not None else "timeout"
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # the kernel it started (or everything, on timeout)
        process.join()
        return status
    with open(log, "w") as handle:
        process = subprocess.Popen([sys.executable, "-m", "nbgrader", *argv], cwd=job_dir, env=env, stdout=handle,
                                   stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_die_with_parent)
        try:
            status = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            status = "timeout"
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # nbgrader and the kernel it started
        process.wait()
    return status


def prepare_job(job_dir: Path, shared: dict, task: dict) -> None:
    """A one-student nbgrader course in ``job_dir``: config, instructor gradebook, support files, submission."""
    assignment, student, limits = shared["assignment"], task["student"], shared["limits"]
    (job_dir / "runtime").mkdir(parents=True)
    overrides = [
        "\n# --- cnn-course autograde job overrides ---",
        "c = get_config()  # noqa: F821",
        f"c.CourseDirectory.root = {str(job_dir)!r}",
        f"c.CourseDirectory.db_url = {('sqlite:///' + str(job_dir / 'gradebook.db'))!r}",
    ]
    if limits.get("cell_timeout"):
        overrides.append(f"c.Execute.timeout = {int(limits['cell_timeout'])}")
    if limits.get("sandbox", True):
        overrides.append(f"c.Execute.kernel_name = {KERNEL_NAME!r}")
        deny = [str(scratch_root())] + [d for d in (shared.get("course_root"), _worker_directory())
                                        if d and os.path.isdir(d)]
        _kernelspec(job_dir, deny, limits)
    (job_dir / "nbgrader_config.py").write_text(shared["config"] + "\n".join(overrides) + "\n")
    (job_dir / "gradebook.db").write_bytes(shared["gradebook"])
    (job_dir / "source" / assignment).mkdir(parents=True)
    write_files(job_dir / "source" / assignment, shared["support"])
    folder = job_dir / "submitted" / student / assignment
    folder.mkdir(parents=True)
    write_files(folder, task["files"])


def _seconds(stamp: str) -> float:
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def time_split(notebooks: dict[str, bytes], wall: float) -> dict[str, float]:
    """Where the seconds of one ``nbgrader autograde`` went, from nbclient's per-cell timestamps.

    ``solutions``: the student's solution cells; ``tests``: the graded test cells (visible and hidden
    tests; the first one that needs TensorFlow pays its import); ``other_cells``: every other code
    cell (imports, set-up and demo cells, the student's scratch cells); ``kernel_and_nbgrader``: the
    rest of the wall time (nbgrader's start, gradebook work, kernel start and shut-down, sanitising
    and writing the notebooks).
    """
    split = {"other_cells": 0.0, "solutions": 0.0, "tests": 0.0}
    for content in notebooks.values():
        try:
            cells = json.loads(content)["cells"]
        except (ValueError, KeyError):
            continue
        for cell in cells:
            meta = cell.get("metadata", {})
            timing = meta.get("execution", {})
            if cell.get("cell_type") != "code" or "iopub.execute_input" not in timing:
                continue
            try:
                seconds = _seconds(timing["shell.execute_reply"]) - _seconds(timing["iopub.execute_input"])
            except (KeyError, ValueError):
                continue
            nbgrader = meta.get("nbgrader", {})
            kind = "tests" if nbgrader.get("grade") else "solutions" if nbgrader.get("solution") else "other_cells"
            split[kind] += seconds
    split["kernel_and_nbgrader"] = max(0.0, wall - sum(split.values()))
    split["wall"] = wall
    return {k: round(v, 2) for k, v in split.items()}


def _clean_orphans() -> None:
    """Remove job folders (and cgroups) left by a grading process that died (a killed worker)."""
    for folder in scratch_root().glob("job-*"):
        try:
            owner = int((folder / "owner.pid").read_text())
            os.kill(owner, 0)
            continue  # its worker is alive
        except ProcessLookupError:
            pass
        except (OSError, ValueError):
            continue  # being created, or not ours to judge
        remove_cgroups(folder.name)
        _rmtree(folder)


def _rmtree(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:  # kernels may leave read-only files
        with contextlib.suppress(OSError):
            path.chmod(0o755 if path.is_dir() else 0o644)
    shutil.rmtree(folder, ignore_errors=True)


def grade_submission(shared: dict, task: dict) -> dict:
    """Grade one student's submission on this worker; see the module docstring for what comes back."""
    from helpers.instructor.nbgrader_calls import nbgrader_env

    assignment, student, limits = shared["assignment"], task["student"], shared["limits"]
    begin = time.monotonic()
    _clean_orphans()
    job_dir = Path(tempfile.mkdtemp(prefix=f"job-{student[:40]}-", dir=scratch_root()))
    (job_dir / "owner.pid").write_text(str(os.getpid()))
    try:
        prepare_job(job_dir, shared, task)
        env = nbgrader_env({"JUPYTER_PATH": str(job_dir / "jupyter") + os.pathsep + os.environ.get("JUPYTER_PATH", ""),
                            "JUPYTER_RUNTIME_DIR": str(job_dir / "runtime")})
        log = job_dir / "nbgrader.log"
        started = time.monotonic()
        status = run_nbgrader(job_dir, env, ["autograde", assignment, "--force"], log, limits["student_timeout"])
        wall = time.monotonic() - started
        left_behind = remove_cgroups(job_dir.name)  # forked processes that left the process group
        autograded = read_files(job_dir / "autograded" / student / assignment)
        produced = (job_dir / "autograded" / student / assignment).is_dir()
        return {
            "student": student, "status": status, "log": log.read_text(errors="replace")[-200_000:],
            "gradebook": (job_dir / "gradebook.db").read_bytes(), "autograded": autograded, "produced": produced,
            "submitted_digest": files_digest(read_files(job_dir / "submitted" / student / assignment)),
            "timing": time_split({k: v for k, v in autograded.items() if k.endswith(".ipynb")}, wall),
            "worker": f"{socket.gethostname()}:{os.getpid()}", "seconds": round(time.monotonic() - begin, 2),
            "killed_left_behind": left_behind,
        }
    finally:
        _rmtree(job_dir)
