"""Record the Neural_Style_Transfer notebook's full-mode run (the numbers its text quotes).

Execute the notebook in full mode first, on a 2-core machine, then read what it printed:

    CNN_COURSE_FAST=0 jupyter nbconvert --to notebook --execute --output /tmp/nst-full.ipynb \\
        source/week4/Neural_Style_Transfer.ipynb
    PYTHONPATH=. python scripts/record_nst_full_run.py /tmp/nst-full.ipynb [--load "0.9 -> 3.1"] [--note "..."]

Writes helpers/viz/nst_backbones/notebook_full_run.json: image size, steps, seconds per step, the
content and style costs at the start and the end of section 8, the time of section 9 and the whole
notebook's time (as its section 9 cell prints it). tests/test_style_features.py checks that the
notebook's text and its IMG_SIZE / STEPS settings agree with it.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import nbformat

from helpers.viz.nst_backbones import RESULTS_DIR

OUT = RESULTS_DIR / "notebook_full_run.json"

PATTERNS = {
    "steps_size_seconds": r"(\d+) steps at (\d+) x \d+: ([\d.]+) s per step",
    "costs": r"J_content ([\d.e+-]+) -> ([\d.e+-]+) \| J_style ([\d.e+-]+) -> ([\d.e+-]+) \(/(\d+)\)",
    "per_layer": r"5 x (\d+) steps at (\d+) x \d+: (\d+) s \| the whole notebook so far: ([\d.]+) minutes",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("executed", type=Path, help="the notebook executed in full mode")
    parser.add_argument("--load", default="", help="load average before -> after the run (uptime)")
    parser.add_argument("--note", default="", help="where and how it ran")
    args = parser.parse_args()
    nb = nbformat.read(args.executed, as_version=4)
    printed = "\n".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                        for out in cell.get("outputs", []) if out.get("name") == "stdout")
    found = {}
    for key, pattern in PATTERNS.items():
        match = re.search(pattern, printed)
        if match is None:
            raise SystemExit(f"{args.executed} has no output matching {pattern!r}: was it run in full mode?")
        found[key] = match.groups()
    steps, size, seconds = found["steps_size_seconds"]
    c0, c1, s0, s1, ratio = found["costs"]
    layer_steps, layer_size, layer_seconds, minutes = found["per_layer"]
    record = {
        "image_size": int(size), "steps": int(steps), "seconds_per_step": float(seconds),
        "J_content_start": float(c0), "J_content_end": float(c1),
        "J_style_start": float(s0), "J_style_end": float(s1), "J_style_ratio": int(ratio),
        "per_layer_steps": int(layer_steps), "per_layer_size": int(layer_size),
        "per_layer_seconds": int(layer_seconds), "notebook_minutes": float(minutes),
        "load_average": args.load, "note": args.note,
    }
    OUT.write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
