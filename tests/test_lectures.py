"""The week-1 lecture notebooks: small committed files, every topic of the design covered.

(nbval runs them top to bottom as part of the suite: `pytest --nbval-lax course`.)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import REPO

WEEK1 = REPO / "course" / "week1"
NOTEBOOKS = sorted(WEEK1.glob("*.ipynb"))

# The week-1 lecture topics of the course design (shared/DESIGN.md, outside this repository, lists them;
# README's "For students" names the lectures), each with words that must appear somewhere in the lectures.
WEEK1_TOPICS = {
    "vertical/horizontal edges": ["vertical", "horizontal"],
    "Sobel and Scharr": ["Sobel", "Scharr"],
    "learned filters": ["learn"],
    "light-to-dark vs dark-to-light": ["light-to-dark", "dark-to-light"],
    "valid vs same padding, p=(f-1)/2": ["valid", "same", "p = \\frac{f - 1}{2}"],
    "strides and the output size": ["stride", "\\lfloor"],
    "cross-correlation vs convolution": ["cross-correlation", "flip", "associative"],
    "volumes and multiple filters": ["volume", "n_C"],
    "one conv layer and its parameters": ["bias", "parameters"],
    "a simple ConvNet": ["ConvNet"],
    "max and average pooling, no parameters": ["max pooling", "average pooling", "no parameters"],
    "LeNet-5-like example": ["LeNet"],
    "why convolutions": ["parameter sharing", "sparse connections", "translation"],
}


def read(path: Path) -> dict:
    return json.loads(path.read_text())


def test_there_are_focused_week1_lectures():
    assert len(NOTEBOOKS) >= 3, NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_is_small_and_has_no_widget_state(path):
    nb = read(path)
    assert "widgets" not in nb.get("metadata", {}), f"{path.name}: strip metadata.widgets"
    outputs = sum(len(json.dumps(c.get("outputs", []))) for c in nb["cells"])
    assert outputs < 50_000, f"{path.name}: {outputs} bytes of outputs committed; clear them"
    assert path.stat().st_size < 200_000
    first_code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    assert "import" in "".join(first_code["source"]), "first code cell should hold the imports"


def test_every_week1_topic_is_covered():
    text = "\n".join("".join(c["source"]) for p in NOTEBOOKS for c in read(p)["cells"])
    missing = {topic: [w for w in words if w not in text]
               for topic, words in WEEK1_TOPICS.items() if any(w not in text for w in words)}
    assert not missing, f"week-1 topics without their key words in course/week1: {missing}"


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
