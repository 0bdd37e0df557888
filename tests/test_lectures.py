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
