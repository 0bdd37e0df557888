"""``python -m helpers.checks.verify``: check that the visible tests work here (``bash course.sh check``).

1. The stored expected values (``helpers/checks/expected/``, student kit only) match their SHA-256
   manifest and can be read.
2. Unless ``--quick``: every visible test of every assignment runs on a placeholder that still
   raises ``NotImplementedError`` and must say "is not implemented yet", which proves the test,
   its imports (TensorFlow, the shipped weights) and its expected values load on this machine.

Exit status 0 when everything works, 1 otherwise (each problem is printed).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import pkgutil
import sys
import time


def _placeholder(name):
    def function(*args, **kwargs):
        raise NotImplementedError()

    function.__name__ = name
    return function


def check_stores() -> list[str]:
    """Problems with the stored expected values (none where the reference is installed)."""
    import json

    from helpers.checks import stored

    if stored.reference_available():
        return []
    manifest = stored.EXPECTED_DIR / stored.MANIFEST
    try:
        names = sorted(json.loads(manifest.read_text())["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return [f"{manifest} is missing or damaged: get the kit again from your instructor"]
    problems = []
    for name in names:
        try:
            stored._load(name.removesuffix(".npz"), stored.EXPECTED_DIR)
        except stored.ExpectedDataError as err:
            problems.append(str(err))
    return problems


def check_visible_tests() -> tuple[int, list[str]]:
    """Run every visible test on a placeholder; (number run, problems)."""
    from helpers.grading import GradingFailure

    problems, count = [], 0
    for info in pkgutil.iter_modules(importlib.import_module("helpers.checks").__path__):
        if info.name in ("verify", "stored"):
            continue
        module = importlib.import_module(f"helpers.checks.{info.name}")
        for name in getattr(module, "__all__", []):
            if not name.endswith("_test"):
                continue
            function = name[: -len("_test")]
            count += 1
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    getattr(module, name)(_placeholder(function))
                problems.append(f"{info.name}.{name}: passed a placeholder that is not implemented")
            except GradingFailure as failure:
                if "not implemented yet" not in str(failure):
                    problems.append(f"{info.name}.{name}: unexpected message: {failure}")
            except Exception as err:  # noqa: BLE001 - every problem is reported
                problems.append(f"{info.name}.{name}: {type(err).__name__}: {err}")
    return count, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.checks.verify", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only check the stored expected values (no TensorFlow)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    problems = check_stores()
    count = 0
    if not args.quick and not problems:
        count, problems = check_visible_tests()
    for problem in problems:
        print("PROBLEM:", problem)
    if problems:
        print(f"The kit does not work as it should ({len(problems)} problem(s) above).")
        return 1
    what = "stored expected values" if args.quick else f"{count} visible tests and their stored expected values"
    print(f"Kit OK: {what} work here ({time.perf_counter() - started:.0f} s).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
