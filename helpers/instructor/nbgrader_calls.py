"""nbgrader's own apps, called as ``python -m nbgrader ...`` in the course folder, and the environment they get.

:func:`nbgrader_env` is the one place that builds that environment (the test harness in
``tests/autograde.py`` uses it too): ``helpers`` importable, this Python's ``bin`` first on PATH
(nbgrader runs ``alembic`` from PATH), forced fast mode off (nbgrader's ``NBGRADER_EXECUTION`` decides).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def nbgrader_env(extra: dict | None = None) -> dict:
    """Environment for nbgrader subprocesses: helpers importable, this Python's bin dir on PATH
    (nbgrader runs ``alembic`` from PATH), forced fast mode off (nbgrader's NBGRADER_EXECUTION decides)."""
    env = dict(os.environ)
    env.pop("CNN_COURSE_FAST", None)
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = package_root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.update(extra or {})
    return env


def run_nbgrader(root: Path, *args: str, env: dict | None = None, check: bool = True,
                 timeout: float | None = None, log: Path | None = None) -> subprocess.CompletedProcess:
    """``python -m nbgrader ARGS`` in ``root``; output to ``log`` (or captured); raise on failure if ``check``."""
    command = [sys.executable, "-m", "nbgrader", *args]
    if log is not None:
        with open(log, "w") as handle:
            process = subprocess.run(command, cwd=root, env=env or nbgrader_env(), stdout=handle,
                                     stderr=subprocess.STDOUT, text=True, timeout=timeout)
        process.stdout = log.read_text(errors="replace")
    else:
        process = subprocess.run(command, cwd=root, env=env or nbgrader_env(), capture_output=True,
                                 text=True, timeout=timeout)
        process.stdout = (process.stdout or "") + (process.stderr or "")
    if check and process.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed ({process.returncode}):\n{process.stdout[-6000:]}")
    return process


def db_path(root: Path) -> Path:
    """The course's SQLite gradebook file: from ``CourseDirectory.db_url`` when it is a SQLite URL,
    else nbgrader's default ``<root>/gradebook.db`` (which does not exist for a server gradebook)."""
    url = db_url(root)
    if url.startswith("sqlite:///"):
        return Path(root) / url[len("sqlite:///"):]  # an absolute path stays as it is
    return Path(root) / "gradebook.db"


def db_url(root: Path) -> str:
    """The course's gradebook URL: ``CourseDirectory.db_url`` of its nbgrader_config.py (SQLite or a
    server such as PostgreSQL), else nbgrader's default ``sqlite:///<root>/gradebook.db``."""
    root = Path(root)
    if (root / "nbgrader_config.py").exists():
        from traitlets.config.loader import PyFileConfigLoader

        config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
        if "CourseDirectory" in config and "db_url" in config.CourseDirectory:
            return str(config.CourseDirectory.db_url)
    return f"sqlite:///{root / 'gradebook.db'}"


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite:")


def exchange_args(exchange: str | None, course_id: str | None) -> list[str]:
    args = []
    if exchange:
        args.append(f"--Exchange.root={Path(exchange).resolve()}")
    if course_id:
        args.append(f"--CourseDirectory.course_id={course_id}")
    return args


def submissions(root: Path, assignment: str) -> list[str]:
    """Students with a ``submitted/<student>/<assignment>/`` folder, sorted."""
    base = Path(root) / "submitted"
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if (p / assignment).is_dir() and not p.name.startswith("."))


def generate(root: Path, assignment: str, log=print) -> None:
    """``nbgrader generate_assignment ASSIGNMENT --force``: source/ -> release/ (hidden tests and solutions out).

    Through :func:`nbgrader_env`, so it works without the venv activated (nbgrader needs ``alembic``
    on PATH; without it, ``--force`` has already emptied release/ASSIGNMENT when it fails)."""
    run_nbgrader(root, "generate_assignment", assignment, "--force")
    log(f"generated release/{assignment}/ from source/{assignment}/")


def release(root: Path, assignment: str, exchange: str | None = None, course_id: str | None = None,
            generate_first: bool = True, log=print) -> None:
    if generate_first:
        generate(root, assignment, log=log)
    run_nbgrader(root, "release_assignment", assignment, "--force", *exchange_args(exchange, course_id))
    log(f"released {assignment} to the exchange")


def collect(root: Path, assignment: str, exchange: str | None = None, course_id: str | None = None, log=print) -> list[str]:
    run_nbgrader(root, "collect", assignment, "--update", *exchange_args(exchange, course_id))
    students = submissions(root, assignment)
    log(f"collected {assignment}: {len(students)} submission(s) in submitted/")
    return students


def feedback(root: Path, assignment: str, exchange: str | None = None, course_id: str | None = None,
             release_to_students: bool = True, log=print) -> None:
    # the hidden tests stay out of the pages through GenerateFeedback.preprocessors in nbgrader_config.py
    run_nbgrader(root, "generate_feedback", assignment, "--force")
    log(f"generated feedback/*/{assignment}/")
    if release_to_students:
        run_nbgrader(root, "release_feedback", assignment, *exchange_args(exchange, course_id))
        log("released feedback to the exchange")


def export(root: Path, to: Path, assignment: str | None = None, log=print) -> Path:
    to = Path(to).resolve()
    args = ["export", f"--to={to}"] + ([f"--assignment={assignment}"] if assignment else [])
    run_nbgrader(root, *args)
    log(f"grades written to {to}")
    return to
