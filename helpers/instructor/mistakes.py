"""The class-wide mistakes report: per graded function, how many students hit each likely cause.

The course's checks (:func:`helpers.grading.fail`) end every failure message with
``likely cause: ...``; the autograded notebooks keep those messages in the test cells' error
outputs. This module reads them back (no re-run) and writes, next to the other reports:

- ``mistakes.csv``: function, likely cause, students, share of the graded submissions;
- ``mistakes.png``: one horizontal bar chart per function (share of students per cause);
- ``mistakes.html``: one page with the table and the picture, to open in a browser.

A failing test cell without a diagnosed cause (an exception, a check with no diagnosis) counts
under ``no diagnosis (<exception>)``.
"""

from __future__ import annotations

import base64
import csv
import html
import re
import textwrap
from collections import Counter, defaultdict
from pathlib import Path

CAUSE = re.compile(r"likely cause:\s*(.*)", re.S)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _message(output: dict) -> str:
    text = output.get("evalue") or ""
    if not text:
        text = "\n".join(output.get("traceback", []))
    return ANSI.sub("", text)


def diagnose(output: dict, grade_id: str) -> tuple[str, str]:
    """``(function, cause)`` of one error output of a test cell."""
    message = _message(output)
    first = message.strip().splitlines()[0] if message.strip() else ""
    function = first.split(":", 1)[0].strip() if ":" in first else ""
    if not re.fullmatch(r"[A-Za-z_]\w*", function):
        function = re.sub(r"_tests?$", "", grade_id)
    found = CAUSE.search(message)
    if found:
        cause = " ".join(found.group(1).split())  # as written (it may start with a name: dA_prev, mode=...)
    else:
        cause = f"no diagnosis ({output.get('ename', 'error')})"
    return function, cause


def collect(autograded: Path, assignment: str) -> tuple[dict[str, Counter], int]:
    """``({function: Counter(cause -> students)}, number of graded submissions)``."""
    import nbformat

    counts: dict[str, Counter] = defaultdict(Counter)
    folders = sorted(p for p in Path(autograded).glob(f"*/{assignment}") if p.is_dir())
    for folder in folders:
        mine: set[tuple[str, str]] = set()
        for path in sorted(folder.glob("*.ipynb")):
            try:
                nb = nbformat.read(path, as_version=4)
            except Exception:  # an unreadable notebook is the report's business, not this one's
                continue
            for cell in nb.cells:
                meta = cell.metadata.get("nbgrader", {})
                if cell.cell_type != "code" or not meta.get("grade"):
                    continue
                for output in cell.get("outputs", []):
                    if output.get("output_type") == "error":
                        mine.add(diagnose(output, meta.get("grade_id", "")))
        for function, cause in mine:  # a student counts once per (function, cause)
            counts[function][cause] += 1
    return dict(counts), len(folders)


def _plot(counts: dict[str, Counter], total: int, assignment: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    functions = sorted(counts, key=lambda f: -sum(counts[f].values()))
    heights = [max(1, len(counts[f])) for f in functions] or [1]
    top = max([100 * n / max(1, total) for f in functions for n in counts[f].values()] or [1])
    figure, axes = plt.subplots(len(heights), 1, figsize=(10, 0.9 + 0.42 * sum(heights) + 0.5 * len(heights)),
                                gridspec_kw={"height_ratios": heights}, squeeze=False)
    if not functions:
        axes[0, 0].text(0.5, 0.5, "no failed checks", ha="center", va="center")
        axes[0, 0].axis("off")
    for axis, function in zip(axes[:, 0], functions):
        items = counts[function].most_common()[::-1]
        labels = [textwrap.shorten(cause, 95, placeholder=" ...") for cause, _ in items]
        shares = [100 * n / max(1, total) for _, n in items]
        colours = ["#b0b0b0" if cause.startswith("no diagnosis") else "#c8553d" for cause, _ in items]
        bars = axis.barh(range(len(items)), shares, color=colours)
        axis.set_yticks(range(len(items)), [textwrap.fill(label, 60) for label in labels], fontsize=7)
        for bar, (_, n), share in zip(bars, items, shares):
            axis.text(bar.get_width() + 0.5, bar.get_y() + bar.get_height() / 2, f"{n} ({share:.0f}%)",
                      va="center", fontsize=7)
        axis.set_xlim(0, top * 1.2 + 1)  # one scale for every function
        axis.set_title(function, fontsize=9, loc="left", fontweight="bold")
        axis.tick_params(axis="x", labelsize=7)
        axis.spines[["top", "right"]].set_visible(False)
    axes[-1, 0].set_xlabel(f"% of {total} graded submissions", fontsize=8)
    figure.suptitle(f"{assignment}: likely causes of failed checks, per graded function", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110, bbox_inches="tight")  # long wrapped causes stay whole on the left
    plt.close(figure)


def mistakes_report(root: Path, assignment: str, out: Path) -> dict:
    """Write mistakes.csv, mistakes.png and mistakes.html into ``out``; return paths and counts."""
    counts, total = collect(Path(root) / "autograded", assignment)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = [(function, cause, n, round(100 * n / max(1, total), 1))
            for function in sorted(counts, key=lambda f: -sum(counts[f].values()))
            for cause, n in counts[function].most_common()]
    with open(out / "mistakes.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["function", "likely_cause", "students", "percent_of_graded"])
        writer.writerows(rows)
    _plot(counts, total, assignment, out / "mistakes.png")
    picture = base64.b64encode((out / "mistakes.png").read_bytes()).decode()
    table = "\n".join(f"<tr><td>{html.escape(f)}</td><td>{html.escape(c)}</td><td>{n}</td><td>{p:g}%</td></tr>"
                      for f, c, n, p in rows)
    (out / "mistakes.html").write_text(f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(assignment)}: class-wide mistakes</title>
<style>body{{font-family:sans-serif;max-width:70em;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:left}}td:nth-child(n+3){{text-align:right}}</style></head>
<body><h1>{html.escape(assignment)}: what to re-teach</h1>
<p>{total} graded submission(s). Each row: a graded function, the likely cause its checks diagnosed,
and how many students hit it (each student counted once per cause). Read from the autograded notebooks.</p>
<table><tr><th>function</th><th>likely cause</th><th>students</th><th>share</th></tr>
{table or '<tr><td colspan="4">no failed checks</td></tr>'}
</table>
<p><img alt="likely causes per function" src="data:image/png;base64,{picture}" style="max-width:100%"></p>
</body></html>
""")
    return {"mistakes_csv": out / "mistakes.csv", "mistakes_png": out / "mistakes.png",
            "mistakes_html": out / "mistakes.html", "mistakes": counts, "graded": total}
