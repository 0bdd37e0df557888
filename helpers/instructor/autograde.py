"""Distributed, sandboxed autograding (``cnn-course autograde``) on Dask.

The engine is ``dask.distributed``: a :class:`~distributed.LocalCluster` on this machine by default
(one worker process per core, one submission at a time each), or any running Dask cluster given by
its scheduler address (Slurm via dask-jobqueue, Kubernetes via dask-kubernetes, JupyterHub via
dask-gateway; see ``docs/INSTRUCTOR.md``). Workers need no shared filesystem: every task carries
one student's submitted files as bytes, and the assignment's grading inputs (nbgrader config, a
gradebook with only the instructor's rows, support files) are scattered once to each worker; the
task (:func:`helpers.instructor.grading_task.grade_submission`) runs ``nbgrader autograde`` for that
student in a scratch course of its own, in a sandboxed kernel (:mod:`helpers.instructor.sandbox`:
resource limits + Landlock) under a wall-clock limit, and returns the graded notebooks, the job's
gradebook and the log as data.

Only this process writes the course: :class:`AutogradeRun` checks each returned result (the
instructor tables of the job's gradebook unchanged, the submitted files unchanged), merges the
student's scores through nbgrader's Gradebook API and writes ``autograded/<student>/<assignment>/``;
a student whose code changed them gets no grade (status ``tampered``). A worker that dies mid-task
(killed, machine lost) has its task re-run elsewhere by the scheduler; a kernel that could not start
gets one more try. Each student's record is an :class:`Outcome` (status graded / failed / timeout /
tampered), also written to ``reports/<assignment>/autograde.json``. Pre-checks (callables run on the
submitted files before anything is sent) can mark a submission ``tampered`` without running it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import re
import shutil
import sqlite3
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from helpers.instructor import tampering
from helpers.instructor.grading_task import files_digest, grade_submission, read_files, scratch_root
from helpers.instructor.nbgrader_calls import db_path, db_url, is_sqlite, submissions
from helpers.instructor.progress import Progress

OUTCOMES = "autograde.json"
# instructor tables of the gradebook: a student's code must never change them
INSTRUCTOR_TABLES = ("course", "assignment", "notebook", "base_cell", "grade_cells", "solution_cells",
                     "task_cells", "source_cell")
# tables holding students' data: emptied in the gradebook copy sent to workers
STUDENT_TABLES = ("comment", "grade", "submitted_notebook", "submitted_assignment", "student")
#: ``(student, {relative path: bytes}) -> [reasons]``: a non-empty answer marks the submission tampered
PreCheck = Callable[[str, dict], list]


def sha256_tree(path: Path) -> str:
    digest = hashlib.sha256()
    if path.is_file():
        digest.update(path.read_bytes())
        return digest.hexdigest()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(path)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def instructor_digest(gradebook: Path) -> str:
    """Digest of the gradebook tables that only the instructor writes (cells, tests, points)."""
    digest = hashlib.sha256()
    with sqlite3.connect(f"file:{gradebook}?mode=ro", uri=True) as connection:
        for table in INSTRUCTOR_TABLES:
            try:
                rows = connection.execute(f"SELECT * FROM {table}").fetchall()
            except sqlite3.DatabaseError:
                rows = ["missing"]
            digest.update(table.encode() + repr(sorted(map(repr, rows))).encode())
    return digest.hexdigest()


@dataclass
class Outcome:
    """What happened to one student's submission in an autograde run."""

    student: str
    status: str = "pending"      # graded | failed | timeout | tampered
    seconds: float = 0.0
    job: int = -1                # unused since the Dask engine (kept for old autograde.json readers)
    messages: list[str] = field(default_factory=list)
    worker: str = ""             # the worker that graded it
    #: what the static scan noticed without zeroing (an import of the references, dynamic imports)
    notes: list[str] = field(default_factory=list)
    timing: dict = field(default_factory=dict)  # seconds: other_cells, solutions, tests, kernel_and_nbgrader, wall


@dataclass
class Limits:
    workers: int = max(1, os.cpu_count() or 1)  # LocalCluster workers (not used with a scheduler)
    chunk_size: int = 0            # ignored: the Dask engine grades one submission per task (kept for callers)
    cell_timeout: int | None = None  # seconds per cell (nbgrader Execute.timeout); None = course config
    student_timeout: int = 1800    # wall seconds per submission before its nbgrader is killed
    memory_mb: int = 4096          # address space of a student's kernel
    cpu_seconds: int = 900         # CPU time of a student's kernel (whole notebook)
    file_mb: int = 256             # largest file a student's kernel may write
    pids_max: int = 512            # processes + threads of a kernel and its children (cgroup; fork bombs)
    total_memory_mb: int = 6144    # memory of a kernel and all its children together (cgroup)
    sandbox: bool = True



def _errors_by_student(log: str) -> dict[str, list[str]]:
    """``{student: [last exception line of each traceback]}`` from an ``nbgrader autograde`` log."""
    errors: dict[str, list[str]] = {}
    for match in re.finditer(r"There was an error processing assignment '[^']*' for student '([^']*)'", log):
        errors.setdefault(match.group(1), [])
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if "There was an error processing assignment:" in line:
            student = Path(line.split("assignment:")[-1].strip()).parent.name
            reason = None
            for follow in lines[i + 1:]:
                if follow.startswith("[AutogradeApp") and "Traceback" not in follow:
                    break
                text = follow.strip()
                if re.match(r"^[\w.]+(Error|Exception|Interrupt)\b", text):
                    reason = text[:300]
            errors.setdefault(student, []).append(reason or "nbgrader could not process the submission")
    return errors


INFRASTRUCTURE = re.compile(r"Kernel didn't respond|Address already in use|ZMQError")


def merge_student(job_db: Path, main_db: Path | str, assignment: str, student: str) -> None:
    """Copy one student's submission (timestamp, scores, comments, flags) from a job's gradebook
    into the course gradebook (a SQLite file or any gradebook URL), through nbgrader's Gradebook API."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{job_db}") as source:
        try:
            submitted = source.find_submission(assignment, student)
        except MissingEntry:
            return
        record = source.find_student(student)
        student_info = {k: getattr(record, k) for k in ("first_name", "last_name", "email", "lms_user_id")}
        timestamp = submitted.timestamp
        notebooks = {}
        for notebook in submitted.notebooks:
            notebooks[notebook.name] = {
                "flagged": notebook.flagged, "late_submission_penalty": notebook.late_submission_penalty,
                "grades": {g.name: (g.auto_score, g.manual_score, g.extra_credit, g.needs_manual_grade)
                           for g in notebook.grades},
                "comments": {c.name: (c.auto_comment, c.manual_comment) for c in notebook.comments},
            }
    main_url = main_db if isinstance(main_db, str) and "://" in main_db else f"sqlite:///{main_db}"
    with Gradebook(main_url) as target, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy's autoflush notes while nbgrader creates the rows
        target.update_or_create_student(student, **{k: v for k, v in student_info.items() if v is not None})
        kwargs = {"timestamp": timestamp} if timestamp else {}
        submission = target.update_or_create_submission(assignment, student, **kwargs)
        for notebook in submission.notebooks:
            data = notebooks.get(notebook.name)
            if data is None:
                continue
            notebook.flagged = data["flagged"]
            notebook.late_submission_penalty = data["late_submission_penalty"]
            for grade in notebook.grades:
                if grade.name in data["grades"]:
                    (grade.auto_score, grade.manual_score, grade.extra_credit,
                     grade.needs_manual_grade) = data["grades"][grade.name]
            for comment in notebook.comments:
                if comment.name in data["comments"]:
                    comment.auto_comment, comment.manual_comment = data["comments"][comment.name]
        target.db.commit()




def instructor_gradebook(source: Path | str, target: Path) -> None:
    """SQLite copy of the gradebook (a file, or any nbgrader gradebook URL such as PostgreSQL) with the
    instructor's rows only: what a worker needs, and no student data."""
    if isinstance(source, str):
        if not is_sqlite(source):
            _copy_instructor_rows(source, target)
            return
        source = Path(source[len("sqlite:///"):])
    shutil.copy(source, target)
    with contextlib.closing(sqlite3.connect(target)) as connection:
        for table in STUDENT_TABLES:
            with contextlib.suppress(sqlite3.DatabaseError):
                connection.execute(f"DELETE FROM {table}")
        connection.commit()
        connection.execute("VACUUM")


def _copy_instructor_rows(url: str, target: Path) -> None:
    """A new SQLite gradebook at ``target`` (nbgrader's schema) holding the instructor tables of ``url``."""
    from nbgrader.api import Base
    from sqlalchemy import create_engine, insert, select, text

    target.unlink(missing_ok=True)
    source, copy = create_engine(url), create_engine(f"sqlite:///{target}")
    try:
        Base.metadata.create_all(copy)  # nbgrader's schema
        with source.connect() as reader, copy.begin() as writer:
            for table in Base.metadata.sorted_tables:  # parents before children
                if table.name in INSTRUCTOR_TABLES:
                    rows = [dict(row) for row in reader.execute(select(table)).mappings()]
                    if rows:
                        writer.execute(insert(table), rows)
            version = reader.execute(text("SELECT version_num FROM alembic_version")).scalar()
            writer.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
            writer.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": version})
    finally:
        source.dispose()
        copy.dispose()


@contextlib.contextmanager
def dask_client(scheduler: str | None, workers: int, log=print):
    """A Dask client: on ``scheduler`` (an address or a scheduler file) or on a fresh LocalCluster."""
    from distributed import Client, LocalCluster

    if scheduler:
        kwargs = {"scheduler_file": scheduler} if Path(scheduler).is_file() else {"address": scheduler}
        with Client(timeout=60, **kwargs) as client:
            yield client
        return
    try:
        import bokeh  # noqa: F401  (the dashboard needs it)
        dashboard = "127.0.0.1:0"
    except ImportError:
        dashboard = None
    import dask

    with warnings.catch_warnings(), dask.config.set({"distributed.worker.daemon": False}):
        warnings.simplefilter("ignore")  # non-daemonic workers may start the warm nbgrader fork server
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, memory_limit=0,
                               dashboard_address=dashboard, silence_logs=logging.ERROR, host="127.0.0.1")
    try:
        with Client(cluster) as client:
            yield client
    finally:
        cluster.close()


def zero_and_flag(url: str, assignment: str, student: str) -> None:
    """Give every graded cell of ``student``'s submission 0 points (manual score) and flag its notebooks
    (``url``: the course gradebook's database URL)."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(url) as target, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            submission = target.find_submission(assignment, student)
        except MissingEntry:
            return
        for notebook in submission.notebooks:
            notebook.flagged = True
            for grade in notebook.grades:
                grade.manual_score = 0.0
        target.db.commit()


class AutogradeRun:
    """One ``cnn-course autograde`` run: the grading inputs, the digests it checks and the outcomes.

    :meth:`shared` and :meth:`task` build what workers receive (data only); :meth:`finish` checks a
    returned result and merges it into the course (this process only); :meth:`run` drives the Dask
    client, the retries and the progress line.
    """

    def __init__(self, root: Path, assignment: str, students: list[str], limits: Limits, log=print,
                 scheduler: str | None = None, prechecks: list[PreCheck] | None = None):
        self.root, self.assignment, self.students, self.limits, self.log = root, assignment, students, limits, log
        self.scheduler, self.prechecks = scheduler, list(prechecks or [])
        self.outcomes = {s: Outcome(s) for s in students}
        self.source_digest = sha256_tree(root / "source") if (root / "source").exists() else ""
        self.scratch = Path(tempfile.mkdtemp(prefix=f"autograde-{assignment}-", dir=scratch_root()))
        self.template = self.scratch / "template.db"
        self.url = db_url(root)
        try:
            instructor_gradebook(db_path(root) if is_sqlite(self.url) else self.url, self.template)
        except BaseException:
            shutil.rmtree(self.scratch, ignore_errors=True)
            raise
        self.template_digest = instructor_digest(self.template)
        self.inputs: dict[str, str] = {}   # student -> digest of the files sent
        #: {student: {notebook: (flags, notes)}}: the static scan for tampering, done before any kernel runs
        self.scans = {s: {p.stem: tampering.scan_notebook(p)
                          for p in sorted((root / "submitted" / s / assignment).glob("*.ipynb"))} for s in students}
        self.attempts: dict[str, int] = {}
        # a SQLite course gradebook is guarded against other writers (restored from this run's copy);
        # a server gradebook (PostgreSQL) is shared with formgrader & co. on purpose
        self.file = db_path(root) if is_sqlite(self.url) else None
        self.main_digest = sha256_tree(self.file) if self.file else ""
        self.backup = self.scratch / "course-gradebook.backup.db"
        if self.file:
            shutil.copy(self.file, self.backup)

    def shared(self) -> dict:
        """Grading inputs common to every student of the assignment (scattered once per worker)."""
        config = self.root / "nbgrader_config.py"
        source = self.root / "source" / self.assignment
        support = {k: v for k, v in read_files(source).items() if not k.endswith(".ipynb")
                   and "__pycache__" not in k}  # the instructor notebooks (solutions) stay here
        return {"assignment": self.assignment, "config": config.read_text() if config.exists() else "",
                "gradebook": self.template.read_bytes(), "support": support, "limits": asdict(self.limits),
                "course_root": str(self.root)}

    def task(self, student: str) -> dict | None:
        """One student's task (their files as bytes), or None when a pre-check marked it tampered."""
        files = read_files(self.root / "submitted" / student / self.assignment)
        reasons = [reason for check in self.prechecks for reason in check(student, files)]
        if reasons:
            outcome = self.outcomes[student]
            outcome.status, outcome.messages = "tampered", reasons
            return None
        self.inputs[student] = files_digest(files)
        self.attempts[student] = self.attempts.get(student, 0) + 1
        return {"student": student, "files": files}

    def _tampering(self, result: dict, job_db: Path) -> list[str]:
        tampered = []
        if instructor_digest(job_db) != self.template_digest:
            tampered.append("its code changed the gradebook's tests/points")
        if result["submitted_digest"] != self.inputs[result["student"]]:
            tampered.append(f"the submitted files of {result['student']} were changed while grading")
        return tampered

    def finish(self, result: dict) -> bool:
        """Check one returned result and merge it into the course; True: run this student once more."""
        student, status = result["student"], result["status"]
        errors = _errors_by_student(result["log"])
        if (INFRASTRUCTURE.search(" ".join(errors.get(student, []))) and self.attempts.get(student, 0) < 2
                and not result["produced"]):
            return True  # the kernel could not start (port race): one more try
        job_db = self.scratch / f"job-{student}.db"
        job_db.write_bytes(result["gradebook"])
        outcome = self.outcomes[student]
        outcome.seconds, outcome.worker, outcome.timing = result["seconds"], result["worker"], result["timing"]
        try:
            tampered = self._tampering(result, job_db)
            if self.file and sha256_tree(self.file) != self.main_digest:
                self.log("WARNING: the course gradebook was changed by something else while grading; "
                         "restored from this run's own copy")
                shutil.copy(self.backup, self.file)
            if tampered:
                outcome.status, outcome.messages = "tampered", tampered
                return False
            if status == "timeout":
                outcome.status = "timeout"
                outcome.messages = [f"killed after {self.limits.student_timeout} s (whole submission)"]
                return False
            merge_student(job_db, self.url, self.assignment, student)
            target = self.root / "autograded" / student / self.assignment
            if target.exists():
                _rmtree(target)
            if result["produced"]:
                target.mkdir(parents=True)
                for name, content in result["autograded"].items():
                    path = (target / name).resolve()
                    if str(path).startswith(str(target.resolve()) + os.sep):
                        path.parent.mkdir(parents=True, exist_ok=True)
                        path.write_bytes(content)
            if student in errors or not result["produced"]:
                outcome.status = "failed"
                outcome.messages = errors.get(student) or [f"nbgrader produced no autograded notebook (exit {status})"]
            else:
                outcome.status = "graded"
            self._integrity(student, target)
            if self.file:
                self.main_digest = sha256_tree(self.file)
                shutil.copy(self.file, self.backup)
        finally:
            job_db.unlink(missing_ok=True)
        return False

    def _integrity(self, student: str, graded: Path) -> None:
        """Zero and flag a submission that patches the grader: found by the static scan of the submitted
        notebooks, or by the checks in the kernel (their message in the autograded notebooks)."""
        outcome = self.outcomes[student]
        reasons = []
        for notebook, (flags, notes) in self.scans.get(student, {}).items():
            reasons += [f"tampered: {notebook}: {flag}" for flag in flags]
            outcome.notes += [f"{notebook}: {note}" for note in notes]
        for path in sorted(graded.glob("*.ipynb")) if graded.is_dir() else []:
            reasons += [f"tampered: {path.stem}: {line}" for line in tampering.marker_lines(path)]
        if reasons:
            zero_and_flag(self.url, self.assignment, student)
            outcome.status = "tampered"
            outcome.messages = reasons + outcome.messages

    def _failed(self, student: str, error: BaseException) -> None:
        outcome = self.outcomes[student]
        outcome.status = "failed"
        if type(error).__name__ == "KilledWorker":
            outcome.messages = ["the workers grading it died repeatedly (worker crash or lost machine)"]
        else:
            outcome.messages = [f"grading task error: {type(error).__name__}: {str(error)[:300]}"]

    def _report(self, student: str, progress: Progress) -> None:
        outcome = self.outcomes[student]
        progress.update(outcome.status)
        if outcome.status != "graded":
            self.log(f"  {student}: {outcome.status}" + (f" ({'; '.join(outcome.messages)})" if outcome.messages else ""))

    def run(self) -> dict[str, Outcome]:
        from distributed import as_completed

        started = time.monotonic()
        progress = Progress(len(self.students), log=self.log)
        try:
            with dask_client(self.scheduler, self.limits.workers, self.log) as client:
                if self.scheduler:
                    client.wait_for_workers(1, timeout=300)  # a cluster may still be starting its workers
                info = client.scheduler_info()
                workers = len(info.get("workers", {}))
                where = f"scheduler {self.scheduler}" if self.scheduler else "a local Dask cluster"
                self.log(f"autograding {len(self.students)} submission(s) of {self.assignment} on {where} "
                         f"({workers} worker(s)), sandbox {'on' if self.limits.sandbox else 'off'}")
                if "dashboard" in info.get("services", {}):
                    try:
                        import bokeh  # noqa: F401
                        self.log(f"Dask dashboard: {client.dashboard_link}")
                    except ImportError:
                        self.log(f"Dask dashboard: {client.dashboard_link} (its pages need bokeh installed there)")
                shared = client.scatter(self.shared(), broadcast=True)
                futures = as_completed()
                owner = {}

                def submit(student: str) -> None:
                    task = self.task(student)
                    if task is None:
                        self._report(student, progress)
                        return
                    future = client.submit(grade_submission, shared, task, pure=False, retries=1,
                                           key=f"grade-{self.assignment}-{student}-{self.attempts[student]}")
                    owner[future.key] = student
                    futures.add(future)

                for student in self.students:
                    submit(student)
                for future in futures:
                    student = owner.pop(future.key)
                    try:
                        result = future.result()
                    except Exception as error:  # the task raised, or its workers kept dying
                        self._failed(student, error)
                        self._report(student, progress)
                        continue
                    finally:
                        future.release()
                    if self.finish(result):
                        submit(student)
                    else:
                        self._report(student, progress)
        finally:
            if not os.environ.get("CNN_COURSE_KEEP_SCRATCH"):
                shutil.rmtree(self.scratch, ignore_errors=True)
            else:
                self.log(f"scratch kept: {self.scratch}")
        if self.source_digest and sha256_tree(self.root / "source") != self.source_digest:
            self.log("WARNING: source/ changed while grading; check `git status source/`")
        self.log(progress.summary(self.assignment))
        _save_outcomes(self.root, self.assignment, self.outcomes, self.limits, time.monotonic() - started)
        return self.outcomes


def autograde(root: Path, assignment: str, students: list[str] | None = None, limits: Limits | None = None,
              log=print, scheduler: str | None = None, prechecks: list[PreCheck] | None = None) -> dict[str, Outcome]:
    """Autograde every submission of ``assignment`` (or the given students); return their outcomes.

    ``scheduler``: address (``tcp://host:8786``) or scheduler file of a running Dask cluster; None
    starts a LocalCluster of ``limits.workers`` workers. Results land where ``nbgrader autograde``
    puts them: scores in ``gradebook.db``, notebooks in ``autograded/<student>/<assignment>/``;
    outcomes also in ``reports/<assignment>/autograde.json``.

    Called from a script with no ``scheduler``, put the call under ``if __name__ == "__main__":``:
    the LocalCluster starts its workers with multiprocessing's "spawn", which imports the script again.
    """
    root, limits = Path(root).resolve(), limits or Limits()
    if is_sqlite(db_url(root)) and not db_path(root).exists():
        raise SystemExit(f"no gradebook in {root}: run `cnn-course generate {assignment}` (or `release`) first")
    students = students or submissions(root, assignment)
    if not students:
        log(f"no submissions of {assignment} in {root / 'submitted'}")
        return {}
    return AutogradeRun(root, assignment, students, limits, log, scheduler, prechecks).run()


def _rmtree(path: Path) -> None:
    for p in [path, *path.rglob("*")]:
        try:
            p.chmod(0o755 if p.is_dir() else 0o644)
        except OSError:
            pass
    shutil.rmtree(path)


def _save_outcomes(root: Path, assignment: str, outcomes: dict[str, Outcome], limits: Limits, seconds: float) -> None:
    folder = Path(root) / "reports" / assignment
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / OUTCOMES
    previous = json.loads(path.read_text()).get("students", {}) if path.exists() else {}
    previous.update({s: asdict(o) for s, o in outcomes.items()})
    path.write_text(json.dumps({"assignment": assignment, "finished": dt.datetime.now().isoformat(timespec="seconds"),
                                "seconds": round(seconds, 1), "limits": asdict(limits), "students": previous},
                               indent=1))
