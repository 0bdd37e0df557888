"""A PostgreSQL gradebook (``CourseDirectory.db_url``) for every instructor command, on a real server.

A throw-away PostgreSQL server is started from Debian's ``postgresql`` package (``bash course.sh
test`` installs it where missing, as root) in a temporary folder, listening on a Unix socket only,
and the small synthetic assignment of the robustness tests goes through it: generate (nbgrader
writes the instructor rows into PostgreSQL), autograde on Dask (workers receive a SQLite copy of the
instructor rows; the main process merges into PostgreSQL), report, export, and the API behind
formgrader (``NbGraderAPI``). Skipped where no PostgreSQL server binaries are installed.
"""

from __future__ import annotations

import contextlib
import csv
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from helpers.instructor import cli
from helpers.instructor.nbgrader_calls import db_url
from tests import autograde
from tests.test_instructor_robustness import ASSIGNMENT, SOURCE, _solved

pytestmark = pytest.mark.slow


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


@pytest.fixture
def postgres():
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.fail("PostgreSQL is not installed: `bash course.sh test` installs Debian's package when run as "
                    "root; otherwise `sudo apt-get install postgresql`")
    # not below pytest's folders: those are private to the user running pytest
    folder = Path(tempfile.mkdtemp(prefix="cnn-course-postgres-"))
    data, socket_dir = folder / "data", folder / "socket"
    socket_dir.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: the package's postgres account runs it
        shutil.chown(folder, "postgres")
        shutil.chown(socket_dir, "postgres")
        folder.chmod(0o755)
        as_user = ["runuser", "-u", "postgres", "--"]
    subprocess.run(as_user + [initdb, "-D", str(data), "--auth=trust", "-U", "postgres", "--no-sync"],
                   check=True, capture_output=True)
    port = "54329"
    subprocess.run(as_user + [pg_ctl, "-D", str(data), "-l", str(folder / "server.log"), "-w", "-o",
                              f"-k {socket_dir} -p {port} -c listen_addresses=''", "start"], check=True, capture_output=True)
    try:
        subprocess.run(as_user + [_bin("createdb") or "createdb", "-h", str(socket_dir), "-p", port, "-U", "postgres",
                                  "gradebook"], check=True, capture_output=True)
        yield f"postgresql+psycopg2://postgres@/gradebook?host={socket_dir}&port={port}"
    finally:
        stop = subprocess.run(as_user + [pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        if stop.returncode != 0 and (data / "postmaster.pid").exists():
            with contextlib.suppress(OSError, ValueError):
                os.kill(int((data / "postmaster.pid").read_text().split()[0]), signal.SIGQUIT)
        shutil.rmtree(folder, ignore_errors=True)


def test_every_command_on_a_postgresql_gradebook(tmp_path, postgres):
    course = autograde.Course(tmp_path / "course", ASSIGNMENT, notebooks=SOURCE,
                              extra_config=f"c.CourseDirectory.db_url = {postgres!r}")
    root = course.root
    assert db_url(root) == postgres
    course.generate()
    assert not (root / "gradebook.db").exists()  # nbgrader wrote the instructor rows to PostgreSQL
    release = {name: course.release_notebook(name) for name in SOURCE}
    course.submit("alice", _solved(release))
    course.submit("bob", _solved(release, add_solution="def add(a, b):\n    return a - b"))

    started = time.monotonic()
    assert cli.main(["--root", str(root), "autograde", ASSIGNMENT, "--workers", "2", "--timeout", "30"]) == 0
    print(f"autograde into PostgreSQL: {time.monotonic() - started:.0f} s")
    assert not (root / "gradebook.db").exists()

    from nbgrader.api import Gradebook

    with Gradebook(postgres) as gradebook:
        totals = {s.student.id: s.score for s in gradebook.find_assignment(ASSIGNMENT).submissions}
    assert totals == {"alice": 15.0, "bob": 10.0}

    assert cli.main(["--root", str(root), "report", ASSIGNMENT]) == 0
    with open(root / "reports" / ASSIGNMENT / "question_scores.csv") as handle:
        rows = {(r["student"], r["question"]): float(r["score"]) for r in csv.DictReader(handle)}
    assert rows[("bob", "add_tests")] == 0 and rows[("alice", "add_tests")] == 5
    assert (root / "reports" / ASSIGNMENT / "mistakes.html").exists()

    assert cli.main(["--root", str(root), "export", "--to", str(tmp_path / "grades.csv")]) == 0
    with open(tmp_path / "grades.csv") as handle:
        assert {r["student_id"]: float(r["score"]) for r in csv.DictReader(handle)} == totals

    # formgrader's backend: nbgrader's API, configured from the course folder like the server extension
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    submissions = {s["student"]: s for s in api.get_submissions(ASSIGNMENT)}
    assert submissions["bob"]["score"] == 10.0 and submissions["alice"]["autograded"]
    assert api.get_assignment(ASSIGNMENT)["num_submissions"] == 2
