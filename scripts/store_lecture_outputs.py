"""Run lecture notebooks top to bottom and store their outputs, with a static picture in place of every widget.

    .venv/bin/python scripts/store_lecture_outputs.py course/week2/*.ipynb

A lecture is committed with its outputs so it reads well before anything runs (on GitHub, or in
JupyterLab before the kernel starts). Widgets cannot be stored as live widgets (their state would
be megabytes and needs a kernel to do anything), so each widget output is replaced by what it
showed when it was drawn: every picture (``ipywidgets.Image``) and every HTML text it contains, in
order, and one line naming its controls and their values. Running the notebook brings the live
widget back (the output is then replaced by the widget).

The run time of each notebook is printed and kept in ``metadata.course.run_seconds`` (measured on
the machine that stored it; the test suite checks the lectures' budget by running them itself).
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
CONTROLS = {"IntSliderModel", "FloatSliderModel", "DropdownModel", "ToggleButtonsModel", "CheckboxModel",
            "RadioButtonsModel", "SelectionSliderModel", "IntRangeSliderModel", "FloatRangeSliderModel",
            "FloatLogSliderModel", "ToggleButtonModel", "SelectModel", "IntTextModel", "FloatTextModel",
            "BoundedIntTextModel", "BoundedFloatTextModel"}


def _children(state: dict) -> list[str]:
    refs = list(state.get("children", []))
    for key in ("layout_children",):
        refs += state.get(key, [])
    return [r[len("IPY_MODEL_"):] for r in refs if isinstance(r, str) and r.startswith("IPY_MODEL_")]


def _control_value(model: dict) -> str | None:
    state = model["state"]
    label = state.get("description") or ""
    if "value" in state and not isinstance(state["value"], dict):
        value = state["value"]
    elif "index" in state and state.get("_options_labels"):
        index = state["index"]
        value = state["_options_labels"][index] if isinstance(index, int) else index
    else:
        return None
    if isinstance(value, list):
        value = " - ".join(str(v) for v in value)
    return f"{label} {value}".strip() if label else str(value)


def smaller_png(data: str, above: int = 60_000) -> str:
    """A base64 PNG over ``above`` bytes re-encoded with a 256-colour palette (figures have few
    colours; a photo loses a little), so a lecture's stored pictures stay small."""
    raw = base64.b64decode(data)
    if len(raw) <= above:
        return data
    from PIL import Image

    image = Image.open(io.BytesIO(raw)).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return base64.b64encode(out.getvalue()).decode() if out.tell() < len(raw) else data


def static_outputs(model_id: str, models: dict) -> list[dict]:
    """The outputs that show, without a kernel, what widget ``model_id`` showed when it was drawn.

    models: ``{model_id: {"model_name", "state", "buffers"}}`` (nbclient's stored widget state).
    Returns nbformat display_data outputs: one per picture and per HTML text, in the widget's order,
    then one line naming the controls.
    """
    shown, controls, seen = [], [], set()

    def visit(mid: str) -> None:
        if mid in seen or mid not in models:
            return
        seen.add(mid)
        model = models[mid]
        name, state = model.get("model_name", ""), model.get("state", {})
        if name == "ImageModel":
            data = next((b["data"] for b in model.get("buffers", []) if b.get("path") == ["value"]), None)
            if data and state.get("format", "png") == "png":
                data = smaller_png(data)
                shown.append(nbformat.v4.new_output("display_data", data={"image/png": data, "text/plain": "<picture>"}))
        elif name in ("HTMLModel", "HTMLMathModel") and state.get("value"):
            shown.append(nbformat.v4.new_output("display_data", data={"text/html": state["value"],
                                                                       "text/plain": "<html>"}))
        elif name == "OutputModel":
            for output in state.get("outputs", []):
                shown.append(nbformat.from_dict(output))
        elif name in CONTROLS:
            value = _control_value(model)
            if value and model["state"].get("description"):
                controls.append(value)
        for child in _children(state):
            visit(child)

    visit(model_id)
    note = "Interactive: run the notebook to use this widget"
    if controls:
        note += " (shown here with " + ", ".join(html.escape(c) for c in controls) + ")"
    shown.append(nbformat.v4.new_output("display_data", data={
        "text/html": f"<p style='color:#666;font-size:90%'><i>{note}.</i></p>", "text/plain": note}))
    return shown


def replace_widgets(nb) -> int:
    """Replace every widget output of ``nb`` by :func:`static_outputs` and drop the widget state.
    Returns how many widget outputs were replaced."""
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    replaced = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view is None:
                outputs.append(output)
                continue
            outputs.extend(static_outputs(view["model_id"], state))
            replaced += 1
        cell.outputs = outputs
    nb.metadata.pop("widgets", None)
    return replaced


def store(path: Path, timeout: int = 600) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.monotonic()
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", store_widget_state=True,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    seconds = time.monotonic() - start
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error" or (o.output_type == "stream" and o.name == "stderr")]
    if errors:
        text = errors[0].get("text") or "\n".join(errors[0].get("traceback", []))
        raise SystemExit(f"{path}: a cell raised or wrote to stderr:\n{text[-2000:]}")
    replaced = replace_widgets(nb)
    nb.metadata.setdefault("course", {})["run_seconds"] = round(seconds, 1)
    nbformat.write(nb, path)
    print(f"{path}: ran in {seconds:.1f} s, {replaced} widget(s) stored as pictures, "
          f"{path.stat().st_size / 1e6:.2f} MB")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args(argv)
    os.environ.pop("CNN_COURSE_FAST", None)   # lectures are stored as students see them
    for path in args.notebooks:
        store(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
