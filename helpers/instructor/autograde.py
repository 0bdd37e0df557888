"""Parallel, sandboxed autograding (``cnn-course autograde``).

nbgrader's SQLite gradebook takes one writer, so every job grades a few students in its own scratch
course (a copy of the gradebook, the assignment's non-notebook files and only those students'
submissions), in a kernel started through :mod:`helpers.instructor.sandbox` (resource limits +
Landlock). When a job ends, this process alone merges its students' results into the course
gradebook through nbgrader's Gradebook API and moves the autograded folders into place. Scratch
gradebooks and inputs are checked afterwards: a job whose instructor tables or other students' files
were changed is re-run one student at a time, and the student whose code changes them gets no grade
and is listed in the report. The state of one run lives in an :class:`AutogradeRun` object.
"""

from __future__ import annotations

import concurrent.futures as futures
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

from helpers.instructor import tampering
from helpers.instructor.nbgrader_calls import db_path, nbgrader_env, submissions

SANDBOX_SCRIPT = Path(__file__).resolve().with_name("sandbox.py")
#: The ``helpers`` package: student kernels may read it (the notebooks import it).
PACKAGE_DIR = Path(__file__).resolve().parents[1]
KERNEL_NAME = "cnn-course-sandbox"
OUTCOMES = "autograde.json"
# instructor tables of the gradebook: a student's code must never change them
INSTRUCTOR_TABLES = ("course", "assignment", "notebook", "base_cell", "grade_cells", "solution_cells",
                     "task_cells", "source_cell")


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
    job: int = -1
    messages: list[str] = field(default_factory=list)
    #: what the static scan noticed without zeroing (an import of the references, dynamic imports)
    notes: list[str] = field(default_factory=list)


@dataclass
class Limits:
    workers: int = max(1, os.cpu_count() or 1)
    chunk_size: int = 0            # students per job; 0 = automatic
    cell_timeout: int | None = None  # seconds per cell (nbgrader Execute.timeout); None = course config
    student_timeout: int = 1800    # wall seconds per student before the job is killed
    memory_mb: int = 4096          # address space of a student's kernel
    cpu_seconds: int = 900         # CPU time of a student's kernel (whole notebook)
    file_mb: int = 256             # largest file a student's kernel may write
    sandbox: bool = True


def _kernelspec(job_dir: Path, course: Path, scratch: Path, limits: Limits) -> None:
    spec_dir = job_dir / "jupyter" / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    from helpers.config import data_dir

    deny = [str(course.resolve()), str(scratch.resolve()), str((job_dir / "runtime").resolve())]
    allow = [str(PACKAGE_DIR), str(data_dir())]
    if str(Path(sys.prefix).resolve()).startswith(str(course.resolve())):
        allow.append(sys.prefix)  # a .venv inside the course folder
    argv = [sys.executable, str(SANDBOX_SCRIPT), "--memory-mb", str(limits.memory_mb),
            "--cpu-seconds", str(limits.cpu_seconds), "--file-mb", str(limits.file_mb),
            "--workdir-root", str(job_dir / "work")]
    for path in deny:
        argv += ["--deny", path]
    for path in allow:
        argv += ["--allow-read", path]
    argv += ["--", sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec = {"argv": argv, "display_name": "Python 3 (cnn-course sandbox)", "language": "python",
            "env": {"CNN_COURSE_DATA": str(data_dir())}}
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))


def _prepare_job(course: Path, scratch: Path, assignment: str, students: list[str], index: int,
                 template_db: Path, limits: Limits) -> Path:
    job_dir = scratch / f"job-{index:04d}"
    if job_dir.exists():
        shutil.rmtree(job_dir)
    (job_dir / "runtime").mkdir(parents=True)
    config = (course / "nbgrader_config.py").read_text() if (course / "nbgrader_config.py").exists() else ""
    overrides = [
        "\n# --- cnn-course autograde job overrides ---",
        "c = get_config()  # noqa: F821",
        f"c.CourseDirectory.root = {str(job_dir)!r}",
        f"c.CourseDirectory.db_url = {('sqlite:///' + str(job_dir / 'gradebook.db'))!r}",
    ]
    if limits.cell_timeout:
        overrides.append(f"c.Execute.timeout = {int(limits.cell_timeout)}")
    if limits.sandbox:
        overrides.append(f"c.Execute.kernel_name = {KERNEL_NAME!r}")
        _kernelspec(job_dir, course, scratch, limits)
    (job_dir / "nbgrader_config.py").write_text(config + "\n".join(overrides) + "\n")
    shutil.copy(template_db, job_dir / "gradebook.db")
    source = course / "source" / assignment
    (job_dir / "source" / assignment).mkdir(parents=True)
    if source.is_dir():  # support files only: the instructor notebooks (solutions) stay out
        shutil.copytree(source, job_dir / "source" / assignment, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints", "__pycache__"))
    for student in students:
        shutil.copytree(course / "submitted" / student / assignment,
                        job_dir / "submitted" / student / assignment, symlinks=True)
    return job_dir


def _run_job(job_dir: Path, assignment: str, students: list[str], limits: Limits) -> tuple[int | str, str]:
    env = nbgrader_env({"JUPYTER_PATH": str(job_dir / "jupyter") + os.pathsep + os.environ.get("JUPYTER_PATH", ""),
                        "JUPYTER_RUNTIME_DIR": str(job_dir / "runtime")})
    log = job_dir / "nbgrader.log"
    command = [sys.executable, "-m", "nbgrader", "autograde", assignment, "--force"]
    with open(log, "w") as handle:
        process = subprocess.Popen(command, cwd=job_dir, env=env, stdout=handle, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            status: int | str = process.wait(timeout=limits.student_timeout * len(students))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # nbgrader and the kernels it started
            process.wait()
            status = "timeout"
    return status, log.read_text(errors="replace")


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


def merge_student(job_db: Path, main_db: Path, assignment: str, student: str) -> None:
    """Copy one student's submission (timestamp, scores, comments, flags) from a job's gradebook
    into the course gradebook, through nbgrader's Gradebook API."""
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
    with Gradebook(f"sqlite:///{main_db}") as target, warnings.catch_warnings():
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


def zero_and_flag(gradebook: Path, assignment: str, student: str) -> None:
    """Give every graded cell of ``student``'s submission 0 points (manual score) and flag its notebooks."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{gradebook}") as target, warnings.catch_warnings():
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


def _chunks(students: list[str], limits: Limits) -> list[list[str]]:
    size = limits.chunk_size or max(1, min(8, -(-len(students) // (2 * max(1, limits.workers)))))
    return [students[i:i + size] for i in range(0, len(students), size)]


class AutogradeRun:
    """One ``cnn-course autograde`` run: its scratch folder, the digests it checks and the outcomes.

    :meth:`job` grades a chunk of students in a scratch course (any thread); :meth:`finish` checks a
    finished job and merges its students into the course gradebook (under the lock); :meth:`run`
    schedules the chunks on a thread pool and re-runs students one by one where needed.
    """

    def __init__(self, root: Path, assignment: str, students: list[str], limits: Limits, log=print):
        self.root, self.assignment, self.students, self.limits, self.log = root, assignment, students, limits, log
        self.outcomes = {s: Outcome(s) for s in students}
        self.source_digest = sha256_tree(root / "source") if (root / "source").exists() else ""
        self.scratch = Path(tempfile.mkdtemp(prefix=f"cnn-course-autograde-{assignment}-"))
        self.template = self.scratch / "template.db"
        shutil.copy(db_path(root), self.template)
        self.template_digest = instructor_digest(self.template)
        self.inputs = {s: sha256_tree(root / "submitted" / s / assignment) for s in students}
        #: {student: {notebook: (flags, notes)}}: the static scan, done before any kernel runs
        self.scans = {s: {p.stem: tampering.scan_notebook(p)
                          for p in sorted((root / "submitted" / s / assignment).glob("*.ipynb"))} for s in students}
        self.lock, self.next_index, self.retries = threading.Lock(), 0, {}
        self.main_digest = sha256_tree(db_path(root))
        self.backup = self.scratch / "course-gradebook.backup.db"
        shutil.copy(db_path(root), self.backup)

    def job(self, chunk: list[str]) -> tuple[list[str], Path, int | str, str, float, int]:
        """Grade ``chunk`` in a scratch course of its own; return what :meth:`finish` needs."""
        with self.lock:
            index, self.next_index = self.next_index, self.next_index + 1
        job_dir = _prepare_job(self.root, self.scratch, self.assignment, chunk, index, self.template, self.limits)
        begin = time.monotonic()
        status, text = _run_job(job_dir, self.assignment, chunk, self.limits)
        return chunk, job_dir, status, text, time.monotonic() - begin, index

    def _tampering(self, chunk: list[str], job_dir: Path) -> list[str]:
        tampered = []
        if instructor_digest(job_dir / "gradebook.db") != self.template_digest:
            tampered.append("its code changed the gradebook's tests/points")
        for student in chunk:
            if sha256_tree(job_dir / "submitted" / student / self.assignment) != self.inputs[student]:
                tampered.append(f"the submitted files of {student} were changed while grading")
        return tampered

    def finish(self, chunk, job_dir, status, text, seconds, index) -> list[str]:
        """Check a finished job and merge its students; return the students to re-run one by one."""
        tampered = self._tampering(chunk, job_dir)
        if len(chunk) > 1 and (tampered or status == "timeout"):
            return chunk  # find out who, one student at a time; the others are graded afresh
        errors = _errors_by_student(text)
        produced = {s: (job_dir / "autograded" / s / self.assignment).exists() for s in chunk}
        unexplained = [s for s in chunk if not produced[s] and s not in errors]
        rerun = unexplained if (status != 0 and len(chunk) > 1) else []  # the whole job died
        for s in chunk:  # a kernel that could not start (port race between jobs): one more try alone
            if INFRASTRUCTURE.search(" ".join(errors.get(s, []))) and self.retries.get(s, 0) < 1:
                self.retries[s] = self.retries.get(s, 0) + 1
                rerun.append(s)
        with self.lock:
            if sha256_tree(db_path(self.root)) != self.main_digest:
                self.log("WARNING: the course gradebook was changed by something else while grading; "
                         "restored from this run's own copy")
                shutil.copy(self.backup, db_path(self.root))
            for student in chunk:
                if student not in rerun:
                    self._record(student, job_dir, status, errors, produced[student], tampered,
                                 round(seconds / len(chunk), 1), index)
            self.main_digest = sha256_tree(db_path(self.root))
            shutil.copy(db_path(self.root), self.backup)
        return rerun

    def _record(self, student, job_dir, status, errors, produced, tampered, seconds, index) -> None:
        """Set one student's outcome and, when graded, merge their scores and autograded folder."""
        outcome = self.outcomes[student]
        outcome.seconds, outcome.job = seconds, index
        if tampered:
            outcome.status, outcome.messages = "tampered", tampered
            return
        if status == "timeout":
            outcome.status = "timeout"
            outcome.messages = [f"killed after {self.limits.student_timeout} s (whole submission)"]
            return
        merge_student(job_dir / "gradebook.db", db_path(self.root), self.assignment, student)
        done = job_dir / "autograded" / student / self.assignment
        target = self.root / "autograded" / student / self.assignment
        if target.exists():
            _rmtree(target)
        if produced:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(done), str(target))
        if student in errors or not produced:
            outcome.status = "failed"
            outcome.messages = errors.get(student) or [f"nbgrader produced no autograded notebook (exit {status})"]
        else:
            outcome.status = "graded"
        self._integrity(student, target)

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
            zero_and_flag(db_path(self.root), self.assignment, student)
            outcome.status = "tampered"
            outcome.messages = reasons + outcome.messages

    def run(self) -> dict[str, Outcome]:
        started = time.monotonic()
        plan = _chunks(self.students, self.limits)
        self.log(f"autograding {len(self.students)} submission(s) of {self.assignment}: {len(plan)} job(s) on "
                 f"{self.limits.workers} worker(s), sandbox {'on' if self.limits.sandbox else 'off'}")
        try:
            with futures.ThreadPoolExecutor(max_workers=self.limits.workers) as pool:
                pending = {pool.submit(self.job, chunk) for chunk in plan}
                while pending:
                    finished, pending = futures.wait(pending, return_when=futures.FIRST_COMPLETED)
                    for future in finished:
                        rerun = self.finish(*future.result())
                        pending |= {pool.submit(self.job, [s]) for s in rerun}
                        for s in future.result()[0]:
                            if s not in rerun:
                                outcome = self.outcomes[s]
                                self.log(f"  {s}: {outcome.status}"
                                         + (f" ({'; '.join(outcome.messages)})" if outcome.messages else ""))
        finally:
            if not os.environ.get("CNN_COURSE_KEEP_SCRATCH"):
                shutil.rmtree(self.scratch, ignore_errors=True)
            else:
                self.log(f"scratch kept: {self.scratch}")
        if self.source_digest and sha256_tree(self.root / "source") != self.source_digest:
            self.log("WARNING: source/ changed while grading; check `git status source/`")
        self.log(f"done in {time.monotonic() - started:.1f} s")
        _save_outcomes(self.root, self.assignment, self.outcomes, self.limits, time.monotonic() - started)
        return self.outcomes


def autograde(root: Path, assignment: str, students: list[str] | None = None, limits: Limits | None = None,
              log=print) -> dict[str, Outcome]:
    """Autograde every submission of ``assignment`` (or the given students); return their outcomes.

    Results land where ``nbgrader autograde`` puts them: scores in ``gradebook.db``, notebooks in
    ``autograded/<student>/<assignment>/``; outcomes also in ``reports/<assignment>/autograde.json``.
    """
    root, limits = Path(root).resolve(), limits or Limits()
    if not db_path(root).exists():
        raise SystemExit(f"no gradebook in {root}: run `nbgrader generate_assignment {assignment}` (or `release`) first")
    students = students or submissions(root, assignment)
    if not students:
        log(f"no submissions of {assignment} in {root / 'submitted'}")
        return {}
    return AutogradeRun(root, assignment, students, limits, log).run()


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
