"""Numbers the week-3 lectures state in their text, checked against the computation."""

from __future__ import annotations

import json

from helpers.viz import week3
from tests import REPO

WEEK3 = REPO / "course" / "week3"


def text(name: str) -> str:
    nb = json.loads((WEEK3 / name).read_text())
    md = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    return " ".join(md.split())  # line breaks inside a sentence do not matter


def test_lecture_1_sliding_window_numbers():
    cost = week3.sliding_window_multiplies(64, 64)
    md = text("01_Localisation_Landmarks_and_Sliding_Windows.ipynb")
    assert f"on {cost['windows']} overlapping $10\\times10$ patches" in md
    assert f"at every one of the {cost['windows']} positions" in md
    assert f"drops only about {cost['ratio']:.2f}-fold" in md
    assert week3.window_count(16, 16, 14, 2) == 4 and "$2\\times2\\times4$ output" in md


def test_lecture_2_iou_example_and_face_detector_grid():
    md = text("02_IoU_NMS_Anchors_and_Region_Proposals.ipynb")
    assert abs(week3.iou((0, 0, 2, 2), (1, 1, 3, 3)) - 1 / 7) < 1e-12 and "IoU $= 1/7$" in md
    assert "$4/16 = 0.25$" in md and week3.iou((0, 0, 4, 4), (1, 1, 3, 3)) == 0.25
    assert "$13\\cdot13\\cdot5 = 845$" in md


def test_lecture_3_transposed_size_example():
    md = text("03_Segmentation_Transposed_Convolutions_and_U-Net.ipynb")
    assert week3.transposed_output_size(2, 3, 2, 1) == 3 and "$(2 - 1)\\cdot2 + 3 - 2 = 3$" in md
    assert "bottleneck is $12\\times16$ for a $48\\times64$ image" in md
