"""``cnn-course report``: per-question score distributions and the submissions that need a look."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from helpers.instructor.autograde import OUTCOMES
from helpers.instructor.nbgrader_calls import db_url, submissions

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
    from nbgrader.api import Gradebook

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
        if outcome and outcome.get("notes"):
            why.append("integrity note: " + "; ".join(outcome["notes"]))
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
