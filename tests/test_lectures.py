"""The lecture notebooks of every week: stored with their outputs, under 2 MB, every topic of the design covered.

(nbval runs them top to bottom as part of the suite: `pytest --nbval-lax course`.)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import REPO
from tests.lecture_topics import TOPICS

WEEK1 = REPO / "course" / "week1"
LECTURES = sorted(REPO.glob("course/week*/*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
MAX_BYTES = 2_000_000


def read(path: Path) -> dict:
    return json.loads(path.read_text())


def lecture_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def test_there_are_focused_lectures_every_week_that_has_topics():
    for week, topics in TOPICS.items():
        if topics:
            assert len(list((REPO / "course" / week).glob("*.ipynb"))) >= 2, f"course/{week} needs its lectures"


@pytest.mark.parametrize("path", LECTURES, ids=lecture_id)
def test_lecture_is_stored_with_its_outputs_and_no_widget_state(path):
    """Committed lectures keep their outputs (they read well before anything runs: on GitHub or in a
    JupyterLab without a kernel), as stored by scripts/store_lecture_outputs.py: every code cell has
    run, in order, without an error or stderr; every widget is stored as the pictures it showed
    (no live-widget output, no widget state); the file stays under 2 MB."""
    nb = read(path)
    assert "widgets" not in nb.get("metadata", {}), f"{path.name}: strip metadata.widgets"
    assert path.stat().st_size < MAX_BYTES, f"{path.name}: {path.stat().st_size:,} bytes (limit {MAX_BYTES:,})"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert "import" in "".join(code[0]["source"]), "the first code cell should hold the imports"
    counts = [c.get("execution_count") for c in code]
    assert all(counts) and counts == sorted(counts), \
        f"{path.name}: store its outputs with scripts/store_lecture_outputs.py (execution counts {counts})"
    for cell in code:
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", f"{path.name}: a stored error"
            assert output.get("name") != "stderr", f"{path.name}: stored stderr: {output.get('text', '')[:300]}"
            assert WIDGET_VIEW not in output.get("data", {}), \
                f"{path.name}: a live widget output is stored; store it with scripts/store_lecture_outputs.py"
    pictures = sum("image/png" in o.get("data", {}) for c in code for o in c.get("outputs", []))
    assert pictures >= 1, f"{path.name}: no stored picture"


@pytest.mark.parametrize("week", [w for w, t in TOPICS.items() if t])
def test_every_topic_of_the_week_is_covered(week):
    text = "\n".join("".join(c["source"]) for p in sorted((REPO / "course" / week).glob("*.ipynb"))
                     for c in read(p)["cells"])
    missing = {topic: [w for w in words if w not in text]
               for topic, words in TOPICS[week].items() if any(w not in text for w in words)}
    assert not missing, f"{week} topics without their key words in course/{week}: {missing}"


def test_pooling_numbers_in_lecture_2_are_computed():
    """Lecture 2 says what max and average pooling (f = s = 8) do to the cat's dark pixels at the
    playground's default size: the percentages in the text are the computed ones."""
    from helpers import viz
    from helpers.conv import pool2d

    photo = viz.load_photo("chelsea", size=viz.PoolingPlayground().size)
    dark = [100 * (image < 0.25).mean() for image in (photo, pool2d(photo, 8, mode="max"), pool2d(photo, 8, mode="average"))]
    text = "".join("".join(c["source"]) for c in read(WEEK1 / "02_Padding_Strides_Volumes_and_Pooling.ipynb")["cells"])
    assert (f"pixels darker than 0.25 are {dark[0]:.1f}% of the photo,\n  {dark[1]:.0f}% after max pooling "
            f"and {dark[2]:.1f}% after average pooling") in text, dark
