"""Instructor command line: release, collect, autograde (in parallel, sandboxed), feedback, export, report.

A thin layer over nbgrader's own apps (each step runs ``python -m nbgrader ...`` in the course
directory), plus the two things nbgrader does not do itself:

* ``autograde`` grades submissions in parallel. nbgrader's SQLite gradebook takes one writer, so
  every job grades a few students in its own scratch course (a copy of the gradebook, the
  assignment's non-notebook files and only those students' submissions), in a kernel that runs in
  ``helpers/sandbox.py`` (resource limits + Landlock). When a job ends, this process alone merges its
  students' results into the course gradebook through nbgrader's Gradebook API and moves the
  autograded folders into place. Scratch gradebooks and inputs are checked afterwards: a job whose
  instructor tables or other students' files were changed is re-run one student at a time, and
  the student whose code changes them gets no grade and is listed in the report.
* ``report`` draws the per-question score distributions and lists the submissions that need a look.

Usage: ``cnn-course --help`` or ``python -m helpers.course --help``.
"""

from __future__ import annotations

import argparse
import concurrent.futures as futures
import csv
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

SANDBOX_SCRIPT = Path(__file__).resolve().with_name("sandbox.py")
KERNEL_NAME = "cnn-course-sandbox"
OUTCOMES = "autograde.json"
# instructor tables of the gradebook: a student's code must never change them
INSTRUCTOR_TABLES = ("course", "assignment", "notebook", "base_cell", "grade_cells", "solution_cells",
                     "task_cells", "source_cell")


# ----------------------------------------------------------------------------------------------
# environment and nbgrader calls


def nbgrader_env(extra: dict | None = None) -> dict:
    """Environment for nbgrader subprocesses: helpers importable, this Python's bin dir on PATH
    (nbgrader runs ``alembic`` from PATH), forced fast mode off (nbgrader's NBGRADER_EXECUTION decides)."""
    env = dict(os.environ)
    env.pop("CNN_COURSE_FAST", None)
    package_root = str(Path(__file__).resolve().parents[1])
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
    """The course's SQLite gradebook (nbgrader's default ``<root>/gradebook.db``)."""
    return Path(root) / "gradebook.db"


def db_url(root: Path) -> str:
    return f"sqlite:///{db_path(root)}"


def exchange_args(exchange: str | None, course_id: str | None) -> list[str]:
    args = []
    if exchange:
        args.append(f"--Exchange.root={Path(exchange).resolve()}")
    if course_id:
        args.append(f"--CourseDirectory.course_id={course_id}")
    return args


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


# ----------------------------------------------------------------------------------------------
# parallel, sandboxed autograding


@dataclass
class Outcome:
    """What happened to one student's submission in an autograde run."""

    student: str
    status: str = "pending"      # graded | failed | timeout | tampered
    seconds: float = 0.0
    job: int = -1
    messages: list[str] = field(default_factory=list)


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


def submissions(root: Path, assignment: str) -> list[str]:
    """Students with a ``submitted/<student>/<assignment>/`` folder, sorted."""
    base = Path(root) / "submitted"
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if (p / assignment).is_dir() and not p.name.startswith("."))


def _kernelspec(job_dir: Path, course: Path, scratch: Path, limits: Limits) -> None:
    spec_dir = job_dir / "jupyter" / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    from helpers.config import data_dir

    deny = [str(course.resolve()), str(scratch.resolve()), str((job_dir / "runtime").resolve())]
    allow = [str(SANDBOX_SCRIPT.parent), str(data_dir())]
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
        "\n# --- helpers.course autograde job overrides ---",
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


def _chunks(students: list[str], limits: Limits) -> list[list[str]]:
    size = limits.chunk_size or max(1, min(8, -(-len(students) // (2 * max(1, limits.workers)))))
    return [students[i:i + size] for i in range(0, len(students), size)]


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
    outcomes = {s: Outcome(s) for s in students}
    if not students:
        log(f"no submissions of {assignment} in {root / 'submitted'}")
        return outcomes
    source_digest = sha256_tree(root / "source") if (root / "source").exists() else ""
    scratch = Path(tempfile.mkdtemp(prefix=f"cnn-course-autograde-{assignment}-"))
    template = scratch / "template.db"
    shutil.copy(db_path(root), template)
    template_digest = instructor_digest(template)
    inputs = {s: sha256_tree(root / "submitted" / s / assignment) for s in students}
    lock, counter, retries = threading.Lock(), iter(range(10 ** 9)), {}
    main_digest = [sha256_tree(db_path(root))]
    backup = scratch / "course-gradebook.backup.db"
    shutil.copy(db_path(root), backup)
    started = time.monotonic()

    def job(chunk: list[str]) -> tuple[list[str], Path, int | str, str, float, int]:
        with lock:
            index = next(counter)
        job_dir = _prepare_job(root, scratch, assignment, chunk, index, template, limits)
        begin = time.monotonic()
        status, text = _run_job(job_dir, assignment, chunk, limits)
        return chunk, job_dir, status, text, time.monotonic() - begin, index

    def finish(chunk, job_dir, status, text, seconds, index) -> list[str]:
        """Check a finished job and merge its students; return the students to re-run one by one."""
        tampered = []
        if instructor_digest(job_dir / "gradebook.db") != template_digest:
            tampered.append("its code changed the gradebook's tests/points")
        for student in chunk:
            if sha256_tree(job_dir / "submitted" / student / assignment) != inputs[student]:
                tampered.append(f"the submitted files of {student} were changed while grading")
        if len(chunk) > 1 and (tampered or status == "timeout"):
            return chunk  # find out who, one student at a time; the others are graded afresh
        errors = _errors_by_student(text)
        produced = {s: (job_dir / "autograded" / s / assignment).exists() for s in chunk}
        unexplained = [s for s in chunk if not produced[s] and s not in errors]
        rerun = unexplained if (status != 0 and len(chunk) > 1) else []  # the whole job died
        for s in chunk:  # a kernel that could not start (port race between jobs): one more try alone
            if INFRASTRUCTURE.search(" ".join(errors.get(s, []))) and retries.get(s, 0) < 1:
                retries[s] = retries.get(s, 0) + 1
                rerun.append(s)
        with lock:
            if sha256_tree(db_path(root)) != main_digest[0]:
                log("WARNING: the course gradebook was changed by something else while grading; "
                    "restored from this run's own copy")
                shutil.copy(backup, db_path(root))
            for student in chunk:
                if student in rerun:
                    continue
                outcome = outcomes[student]
                outcome.seconds, outcome.job = round(seconds / len(chunk), 1), index
                if tampered:
                    outcome.status, outcome.messages = "tampered", tampered
                    continue
                if status == "timeout":
                    outcome.status = "timeout"
                    outcome.messages = [f"killed after {limits.student_timeout} s (whole submission)"]
                    continue
                merge_student(job_dir / "gradebook.db", db_path(root), assignment, student)
                done = job_dir / "autograded" / student / assignment
                target = root / "autograded" / student / assignment
                if target.exists():
                    _rmtree(target)
                if produced[student]:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.move(str(done), str(target))
                if student in errors or not produced[student]:
                    outcome.status = "failed"
                    outcome.messages = errors.get(student) or [f"nbgrader produced no autograded notebook (exit {status})"]
                else:
                    outcome.status = "graded"
            main_digest[0] = sha256_tree(db_path(root))
            shutil.copy(db_path(root), backup)
        return rerun

    plan = _chunks(students, limits)
    log(f"autograding {len(students)} submission(s) of {assignment}: {len(plan)} job(s) on "
        f"{limits.workers} worker(s), sandbox {'on' if limits.sandbox else 'off'}")
    try:
        with futures.ThreadPoolExecutor(max_workers=limits.workers) as pool:
            pending = {pool.submit(job, chunk) for chunk in plan}
            while pending:
                finished, pending = futures.wait(pending, return_when=futures.FIRST_COMPLETED)
                for future in finished:
                    rerun = finish(*future.result())
                    pending |= {pool.submit(job, [s]) for s in rerun}
                    for s in future.result()[0]:
                        if s not in rerun:
                            log(f"  {s}: {outcomes[s].status}" + (f" ({'; '.join(outcomes[s].messages)})"
                                                                if outcomes[s].messages else ""))
    finally:
        if not os.environ.get("CNN_COURSE_KEEP_SCRATCH"):
            shutil.rmtree(scratch, ignore_errors=True)
        else:
            log(f"scratch kept: {scratch}")
    if source_digest and sha256_tree(root / "source") != source_digest:
        log("WARNING: source/ changed while grading; check `git status source/`")
    log(f"done in {time.monotonic() - started:.1f} s")
    _save_outcomes(root, assignment, outcomes, limits, time.monotonic() - started)
    return outcomes


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


# ----------------------------------------------------------------------------------------------
# report: score distributions and submissions that need a look

ERROR_KINDS = [  # (exception name pattern, what it means for the instructor)
    (r"CellTimeoutError|TimeoutError", "a cell ran past the time limit (infinite loop?)"),
    (r"DeadKernelError", "the kernel died (crash, os._exit, CPU or memory limit)"),
    (r"MemoryError", "ran out of its memory limit"),
    (r"StdinNotImplementedError", "called input()"),
    (r"SyntaxError|IndentationError|TabError", "syntax error"),
    (r"PermissionError", "tried to access a file outside its sandbox"),
]


def _release_cells(root: Path, assignment: str, notebook: str) -> dict[str, dict] | None:
    """``{grade_id: {"source", "nbgrader"}}`` of the released student version, if it is there."""
    import nbformat

    path = Path(root) / "release" / assignment / f"{notebook}.ipynb"
    if not path.exists():
        return None
    nb = nbformat.read(path, as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: {"source": c.source, "nbgrader": dict(c.metadata["nbgrader"]),
                                                 "cell_type": c.cell_type}
            for c in nb.cells if "grade_id" in c.metadata.get("nbgrader", {})}


def _gradebook_rows(root: Path, assignment: str) -> tuple[list[str], dict, dict]:
    """(notebook names, {(notebook, grade_id): max_score}, {student: {(notebook, grade_id): score}})."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url(root)) as gradebook:
        record = gradebook.find_assignment(assignment)
        names = [nb.name for nb in record.notebooks]
        maxima = {(nb.name, cell.name): float(cell.max_score) for nb in record.notebooks for cell in nb.grade_cells}
        scores: dict[str, dict] = {}
        for submission in record.submissions:
            mine = scores.setdefault(submission.student.id, {})
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    mine[(notebook.name, grade.name)] = float(grade.score or 0.0)
    return names, maxima, scores


def _strip_hidden(source: str) -> str:
    return re.sub(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", "", source, flags=re.S).rstrip()


def review(root: Path, assignment: str) -> dict[str, list[str]]:
    """Why each submission needs a look (students with nothing to see are left out)."""
    import nbformat

    root = Path(root)
    names, _, scores = _gradebook_rows(root, assignment)
    outcomes_path = root / "reports" / assignment / OUTCOMES
    outcomes = json.loads(outcomes_path.read_text())["students"] if outcomes_path.exists() else {}
    students = sorted(set(submissions(root, assignment)) | set(scores) | set(outcomes))
    reasons: dict[str, list[str]] = {}
    for student in students:
        why: list[str] = []
        outcome = outcomes.get(student)
        if outcome and outcome["status"] != "graded":
            why.append(f"autograde {outcome['status']}: " + "; ".join(outcome["messages"]))
        folder = root / "submitted" / student / assignment
        present = sorted(p.stem for p in folder.glob("*.ipynb")) if folder.is_dir() else []
        for name in names:
            if name not in present:
                why.append(f"missing notebook {name}.ipynb")
        extra = [p for p in present if p not in names]
        if extra:
            why.append("unexpected notebook(s) " + ", ".join(f"{p}.ipynb" for p in extra) + " (renamed?)")
        for name in names:
            path = folder / f"{name}.ipynb"
            if not path.exists():
                continue
            try:
                submitted = nbformat.read(path, as_version=4)
            except Exception as error:  # nbformat raises several kinds for broken files
                why.append(f"{name}.ipynb is not a valid notebook ({type(error).__name__})")
                continue
            release = _release_cells(root, assignment, name)
            by_id = {c.metadata["nbgrader"]["grade_id"]: c for c in submitted.cells
                     if "grade_id" in c.metadata.get("nbgrader", {})}
            for grade_id, reference in (release or {}).items():
                cell = by_id.get(grade_id)
                kind = "test" if reference["nbgrader"].get("grade") else "answer"
                if cell is None:
                    why.append(f"{name}: {kind} cell {grade_id} deleted (restored from the gradebook if it is a test)")
                    continue
                meta = {k: v for k, v in cell.metadata["nbgrader"].items() if k not in ("checksum", "cell_type")}
                expected = {k: v for k, v in reference["nbgrader"].items() if k not in ("checksum", "cell_type")}
                if meta != expected:
                    changed = sorted(k for k in set(meta) | set(expected) if meta.get(k) != expected.get(k))
                    why.append(f"{name}: nbgrader metadata of {grade_id} changed ({', '.join(changed)})")
                if reference["nbgrader"].get("locked") and _strip_hidden(cell.source) != _strip_hidden(reference["source"]):
                    why.append(f"{name}: locked {kind} cell {grade_id} edited (the original was graded)")
            graded_path = root / "autograded" / student / assignment / f"{name}.ipynb"
            if graded_path.exists():
                why.extend(f"{name}: {problem}" for problem in _execution_problems(nbformat.read(graded_path, as_version=4)))
        if student in scores and scores[student] and sum(scores[student].values()) == 0:
            why.append("zero score")
        if why:
            reasons[student] = list(dict.fromkeys(why))
    return reasons


def _execution_problems(nb) -> list[str]:
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        label = cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell {index}"
        graded = cell.metadata.get("nbgrader", {}).get("grade", False)
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                for pattern, meaning in ERROR_KINDS:
                    if re.search(pattern, output.ename):
                        problems.append(f"{label}: {meaning} ({output.ename})")
                        break
            elif output.output_type == "stream" and output.name == "stderr" and graded:
                problems.append(f"{label}: wrote to stderr (nbgrader scores such a test cell 0)")
            elif output.output_type == "stream" and "... Output truncated ..." in output.text:
                problems.append(f"{label}: output flooded (truncated)")
    return problems


def report(root: Path, assignment: str, out: Path | None = None, log=print) -> dict:
    """Write ``reports/<assignment>/``: scores.png (per-question distributions), question_scores.csv,
    needs_look.csv; print the submissions that need a look. Returns the paths and the reasons."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    root = Path(root)
    out = Path(out) if out else root / "reports" / assignment
    out.mkdir(parents=True, exist_ok=True)
    names, maxima, scores = _gradebook_rows(root, assignment)
    questions = list(maxima)
    with open(out / "question_scores.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "notebook", "question", "score", "max_score"])
        for student in sorted(scores):
            for notebook, question in questions:
                writer.writerow([student, notebook, question, scores[student].get((notebook, question), 0.0),
                                 maxima[(notebook, question)]])
    columns = min(4, max(1, len(questions)))
    rows = -(-max(1, len(questions)) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.4 * rows), squeeze=False)
    for axis in axes.flat[len(questions):]:
        axis.set_visible(False)
    for axis, key in zip(axes.flat, questions):
        values = [scores[s].get(key, 0.0) for s in scores]
        maximum = maxima[key]
        bins = [i * maximum / 10 for i in range(11)] if maximum > 0 else [0, 1]
        axis.hist(values, bins=bins, color="#4878a8", edgecolor="white")
        full = sum(v >= maximum for v in values)
        axis.set_title(f"{key[1]}\n{full}/{len(values)} full marks", fontsize=8)
        axis.set_xlabel(f"score (max {maximum:g})", fontsize=7)
        axis.tick_params(labelsize=7)
    totals = [sum(s.values()) for s in scores.values()]
    figure.suptitle(f"{assignment}: {len(scores)} submissions, mean total "
                    f"{(sum(totals) / len(totals)) if totals else 0:.1f} / {sum(maxima.values()):g}", fontsize=10)
    figure.tight_layout()
    figure.savefig(out / "scores.png", dpi=110)
    plt.close(figure)
    reasons = review(root, assignment)
    with open(out / "needs_look.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "total", "reasons"])
        for student, why in reasons.items():
            writer.writerow([student, sum(scores.get(student, {}).values()), " | ".join(why)])
    log(f"{len(scores)} submission(s); per-question distributions: {out / 'scores.png'}")
    log(f"{len(reasons)} need a look ({out / 'needs_look.csv'}):")
    for student, why in reasons.items():
        log(f"  {student}: " + "; ".join(why))
    return {"png": out / "scores.png", "csv": out / "question_scores.csv", "needs_look": out / "needs_look.csv",
            "reasons": reasons}


# ----------------------------------------------------------------------------------------------
# the other steps: straight nbgrader apps


def release(root: Path, assignment: str, exchange: str | None = None, course_id: str | None = None,
            generate: bool = True, log=print) -> None:
    if generate:
        run_nbgrader(root, "generate_assignment", assignment, "--force")
        log(f"generated release/{assignment}/ from source/{assignment}/")
    run_nbgrader(root, "release_assignment", assignment, "--force", *exchange_args(exchange, course_id))
    log(f"released {assignment} to the exchange")


def collect(root: Path, assignment: str, exchange: str | None = None, course_id: str | None = None, log=print) -> list[str]:
    run_nbgrader(root, "collect", assignment, "--update", *exchange_args(exchange, course_id))
    students = submissions(root, assignment)
    log(f"collected {assignment}: {len(students)} submission(s) in submitted/")
    return students


def feedback(root: Path, assignment: str, exchange: str | None = None, course_id: str | None = None,
             release_to_students: bool = True, log=print) -> None:
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


# ----------------------------------------------------------------------------------------------
# command line


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cnn-course",
        description="Instructor workflow for the CNN course, over nbgrader: "
                    "release -> collect -> autograde -> feedback -> export / report.",
        epilog="Typical week: cnn-course release week1; (students fetch and submit); cnn-course collect week1; "
               "cnn-course autograde week1; cnn-course report week1; cnn-course feedback week1; "
               "cnn-course export --to grades.csv. Run from the course folder (where nbgrader_config.py is) "
               "or pass --root.")
    parser.add_argument("--root", default=".", help="nbgrader course folder (default: current folder)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_exchange(p):
        p.add_argument("--exchange", help="exchange folder (default: nbgrader config, /srv/nbgrader/exchange)")
        p.add_argument("--course", dest="course_id", help="course id (default: nbgrader config)")
        return p

    p = with_exchange(sub.add_parser("release", help="generate release/ASSIGNMENT from source/ and put it in the exchange",
                                     description="nbgrader generate_assignment + release_assignment."))
    p.add_argument("assignment")
    p.add_argument("--no-generate", action="store_true", help="release the committed release/ folder as it is")

    p = with_exchange(sub.add_parser("collect", help="copy submissions from the exchange into submitted/",
                                     description="nbgrader collect --update (newer submissions replace older ones)."))
    p.add_argument("assignment")

    p = sub.add_parser(
        "autograde", help="grade every submission, in parallel and sandboxed",
        description="Autograde submitted/*/ASSIGNMENT with hidden tests. Each job grades a few students in its own "
                    "scratch course with its own gradebook copy, merged into gradebook.db afterwards; student kernels "
                    "run with CPU/memory/file-size limits and (Linux) a Landlock sandbox that keeps them away from "
                    "source/, the gradebook and other students. Broken submissions are recorded, never fatal.")
    p.add_argument("assignment")
    p.add_argument("--student", action="append", help="only this student (repeatable)")
    p.add_argument("--workers", type=int, default=Limits.workers, help="parallel jobs (default: CPU count, %(default)s)")
    p.add_argument("--chunk-size", type=int, default=0, help="students per job (default: automatic, at most 8)")
    p.add_argument("--timeout", type=int, dest="cell_timeout", help="seconds per cell (default: nbgrader_config.py)")
    p.add_argument("--student-timeout", type=int, default=Limits.student_timeout,
                   help="wall seconds per submission before it is killed (default %(default)s)")
    p.add_argument("--memory-mb", type=int, default=Limits.memory_mb, help="kernel address-space limit, MiB (default %(default)s)")
    p.add_argument("--cpu-seconds", type=int, default=Limits.cpu_seconds, help="kernel CPU-time limit (default %(default)s)")
    p.add_argument("--no-sandbox", action="store_true", help="plain kernels: no limits, no filesystem sandbox")

    p = with_exchange(sub.add_parser("feedback", help="generate HTML feedback and release it to the students",
                                     description="nbgrader generate_feedback + release_feedback."))
    p.add_argument("assignment")
    p.add_argument("--no-release", action="store_true", help="only generate feedback/ (no exchange)")

    p = sub.add_parser("export", help="write the grades CSV (nbgrader export)",
                       description="nbgrader export: one row per student and assignment.")
    p.add_argument("--to", default="grades.csv", help="CSV path (default %(default)s)")
    p.add_argument("--assignment", help="only this assignment")

    p = sub.add_parser("report", help="per-question score distributions (PNG) and the submissions that need a look",
                       description="Writes reports/ASSIGNMENT/scores.png, question_scores.csv and needs_look.csv: "
                                   "failed or timed-out submissions, crashes, missing/renamed/invalid notebooks, "
                                   "edited or deleted test cells, changed metadata, stderr, zero scores.")
    p.add_argument("assignment")
    p.add_argument("--out", help="output folder (default reports/ASSIGNMENT)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    root = Path(args.root).resolve()
    if not (root / "nbgrader_config.py").exists():
        print(f"warning: no nbgrader_config.py in {root}", file=sys.stderr)
    if args.command == "release":
        release(root, args.assignment, args.exchange, args.course_id, generate=not args.no_generate)
    elif args.command == "collect":
        collect(root, args.assignment, args.exchange, args.course_id)
    elif args.command == "autograde":
        limits = Limits(workers=max(1, args.workers), chunk_size=args.chunk_size, cell_timeout=args.cell_timeout,
                        student_timeout=args.student_timeout, memory_mb=args.memory_mb,
                        cpu_seconds=args.cpu_seconds, sandbox=not args.no_sandbox)
        outcomes = autograde(root, args.assignment, args.student, limits)
        bad = [s for s, o in outcomes.items() if o.status != "graded"]
        if bad:
            print(f"{len(bad)} submission(s) not fully graded: {', '.join(bad)} (see `cnn-course report`)")
    elif args.command == "feedback":
        feedback(root, args.assignment, args.exchange, args.course_id, release_to_students=not args.no_release)
    elif args.command == "export":
        export(root, Path(args.to), args.assignment)
    elif args.command == "report":
        report(root, args.assignment, Path(args.out) if args.out else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
