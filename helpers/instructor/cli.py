"""The ``cnn-course`` command: release -> collect -> autograde -> feedback -> export / report.

A thin layer over nbgrader's own apps (:mod:`helpers.instructor.nbgrader_calls`), plus the two
things nbgrader does not do itself: sandboxed autograding on Dask
(:mod:`helpers.instructor.autograde`) and the report (:mod:`helpers.instructor.report`).

Usage: ``cnn-course --help`` or ``python -m helpers.instructor --help``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helpers.instructor.autograde import Limits, autograde
from helpers.instructor.nbgrader_calls import collect, export, feedback, generate, release
from helpers.instructor.report import report


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

    p = sub.add_parser("generate", help="regenerate release/ASSIGNMENT from source/ (no exchange)",
                       description="nbgrader generate_assignment --force, with nbgrader's environment set up.")
    p.add_argument("assignment")

    p = with_exchange(sub.add_parser("release", help="generate release/ASSIGNMENT from source/ and put it in the exchange",
                                     description="nbgrader generate_assignment + release_assignment."))
    p.add_argument("assignment")
    p.add_argument("--no-generate", action="store_true", help="release the committed release/ folder as it is")

    p = with_exchange(sub.add_parser("collect", help="copy submissions from the exchange into submitted/",
                                     description="nbgrader collect --update (newer submissions replace older ones)."))
    p.add_argument("assignment")

    p = sub.add_parser(
        "autograde", help="grade every submission on Dask (this machine or a cluster), sandboxed",
        description="Autograde submitted/*/ASSIGNMENT with hidden tests on Dask: a local cluster of --workers "
                    "processes by default, or the running cluster at --scheduler. Each task grades one student in a "
                    "scratch course of its own on a worker (no shared filesystem needed: files travel as data); "
                    "only this process merges the results into gradebook.db. Student kernels run with "
                    "CPU/memory/file-size limits and (Linux) a Landlock sandbox that keeps them away from source/, "
                    "the gradebook and other students. Broken submissions are recorded, never fatal; a worker that "
                    "dies has its task re-run elsewhere. Shows live progress and a one-line summary.")
    p.add_argument("assignment")
    p.add_argument("--student", action="append", help="only this student (repeatable)")
    p.add_argument("--workers", type=int, default=Limits.workers,
                   help="local Dask workers, one submission each at a time (default: CPU count, %(default)s)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="use a running Dask cluster: scheduler address (tcp://host:8786) or scheduler file; "
                        "its workers need this course's Python environment, not its files")
    p.add_argument("--timeout", type=int, dest="cell_timeout", help="seconds per cell (default: nbgrader_config.py)")
    p.add_argument("--student-timeout", type=int, default=Limits.student_timeout,
                   help="wall seconds per submission before it is killed (default %(default)s)")
    p.add_argument("--memory-mb", type=int, default=Limits.memory_mb, help="kernel address-space limit, MiB (default %(default)s)")
    p.add_argument("--cpu-seconds", type=int, default=Limits.cpu_seconds, help="kernel CPU-time limit (default %(default)s)")
    p.add_argument("--pids-max", type=int, default=Limits.pids_max,
                   help="processes + threads of a kernel and its children, cgroup (default %(default)s)")
    p.add_argument("--total-memory-mb", type=int, default=Limits.total_memory_mb,
                   help="memory of a kernel and all its children, cgroup, MiB (default %(default)s)")
    p.add_argument("--no-sandbox", action="store_true", help="plain kernels: no limits, no filesystem sandbox")

    p = with_exchange(sub.add_parser("feedback", help="generate HTML feedback and release it to the students",
                                     description="nbgrader generate_feedback + release_feedback."))
    p.add_argument("assignment")
    p.add_argument("--no-release", action="store_true", help="only generate feedback/ (no exchange)")

    p = sub.add_parser("export", help="write the grades CSV (nbgrader export)",
                       description="nbgrader export: one row per student and assignment.")
    p.add_argument("--to", default="grades.csv", help="CSV path (default %(default)s)")
    p.add_argument("--assignment", help="only this assignment")

    p = sub.add_parser("report", help="score distributions, submissions that need a look, class-wide mistakes",
                       description="Writes reports/ASSIGNMENT/scores.png, question_scores.csv and needs_look.csv "
                                   "(failed or timed-out submissions, crashes, missing/renamed/invalid notebooks, "
                                   "edited or deleted test cells, changed metadata, stderr, zero scores) and "
                                   "mistakes.csv/.png/.html: per graded function, how many students hit each likely "
                                   "cause the checks diagnosed (read from the autograded notebooks, no re-run).")
    p.add_argument("assignment")
    p.add_argument("--out", help="output folder (default reports/ASSIGNMENT)")
    p = sub.add_parser("student-kit", help="build what students receive (no references, no solutions): OUT/ and OUT.zip",
                       description="Copies release/, course/ and helpers/ without helpers/reference and the instructor "
                                   "tools, stores the visible tests' expected values (SHA-256 checked), adds a README, "
                                   "course.sh, requirements and a Dockerfile, and zips it. See docs/INSTRUCTOR.md.")
    p.add_argument("out", help="output folder (replaced if it exists); the zip is OUT.zip")
    p.add_argument("--no-zip", action="store_true", help="only the folder")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    root = Path(args.root).resolve()
    if not (root / "nbgrader_config.py").exists():
        print(f"warning: no nbgrader_config.py in {root}", file=sys.stderr)
    if args.command == "generate":
        generate(root, args.assignment)
    elif args.command == "release":
        release(root, args.assignment, args.exchange, args.course_id, generate_first=not args.no_generate)
    elif args.command == "collect":
        collect(root, args.assignment, args.exchange, args.course_id)
    elif args.command == "autograde":
        limits = Limits(workers=max(1, args.workers), cell_timeout=args.cell_timeout,
                        student_timeout=args.student_timeout, memory_mb=args.memory_mb,
                        cpu_seconds=args.cpu_seconds, pids_max=args.pids_max,
                        total_memory_mb=args.total_memory_mb, sandbox=not args.no_sandbox)
        outcomes = autograde(root, args.assignment, args.student, limits, scheduler=args.scheduler)
        bad = [s for s, o in outcomes.items() if o.status != "graded"]
        if bad:
            print(f"{len(bad)} submission(s) not fully graded: {', '.join(bad)} (see `cnn-course report`)")
    elif args.command == "feedback":
        feedback(root, args.assignment, args.exchange, args.course_id, release_to_students=not args.no_release)
    elif args.command == "export":
        export(root, Path(args.to), args.assignment)
    elif args.command == "report":
        report(root, args.assignment, Path(args.out) if args.out else None)
    elif args.command == "student-kit":
        from helpers.instructor.student_kit import build_student_kit

        info = build_student_kit(Path(args.out), root, make_zip=not args.no_zip)
        size = f"{info['size_bytes'] / 1e6:.1f} MB" + (f", zip {info['zip_bytes'] / 1e6:.1f} MB" if info["zip"] else "")
        print(f"student kit: {info['out']} ({size}), {sum(info['stored_values'].values())} stored expected values, "
              f"built in {info['seconds']:.0f} s" + (f"; hand out {info['zip']}" if info["zip"] else ""))
    return 0
