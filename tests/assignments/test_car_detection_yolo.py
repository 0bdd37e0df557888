"""Car_Detection_YOLO: what only this notebook needs (shared proofs: test_grader_proofs.py).

The hand-computed IoUs and filter scores; the checks' numpy NMS agrees with
tf.image.non_max_suppression (and the reference) on random boxes; the made-up data keep their
margins from the thresholds; the checks do not import helpers.reference; the given helpers keep the
original conventions; the notebook's own yolo_eval on the real face detector finds the faces.
"""

from __future__ import annotations

import ast
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib import cbook
from skimage import data

from helpers.backend import tf
from helpers.checks import car_detection_yolo as checks
from helpers.models.tiny_yolo import ANCHORS, load_tiny_face_detector
from helpers.models.yolo_utils import scale_boxes, yolo_boxes_to_corners, yolo_outputs_for_image
from helpers.reference import car_detection_yolo as ref
from tests.assignments.registry import SPECS

SPEC = SPECS["car_detection_yolo"]


def test_hand_computed_ious():
    """The visible test's cases, by hand (the notebook prints them), agree with the numpy IoU and the reference."""
    by_hand = [1 / 7, 0, 0, 0, 0, 1 / 16, 1, 0, 4 / 12]
    assert [case[2] for case in checks.IOU_CASES] == pytest.approx(by_hand)
    for (box1, box2, expected, _) in checks.IOU_CASES:
        assert checks._iou_np(box1, box2) == pytest.approx(expected)
        assert ref.iou(box1, box2) == pytest.approx(expected)
        assert ref.iou(box2, box1) == pytest.approx(expected)


def test_hand_made_filter_case():
    """Scores 0.5 (exactly at the threshold: kept), 0.45, 0.4 (dropped), 0.72 (class 1, kept)."""
    conf = np.array([1.0, 0.9, 0.4, 0.8], np.float32).reshape(2, 2, 1)
    probs = np.array([[0.5, 0.5], [0.5, 0.5], [1.0, 0.0], [0.1, 0.9]], np.float32).reshape(2, 2, 2)
    boxes = np.arange(16, dtype=np.float32).reshape(2, 2, 4)
    scores, kept, classes = ref.yolo_filter_boxes(tf.constant(boxes), tf.constant(conf), tf.constant(probs), 0.5)
    assert scores.numpy() == pytest.approx([0.5, 0.72]) and classes.numpy().tolist() == [0, 1]
    assert kept.numpy().tolist() == [boxes[0, 0].tolist(), boxes[1, 1].tolist()]


@pytest.mark.parametrize("seed", range(6))
def test_numpy_nms_agrees_with_tensorflow_on_random_boxes(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60))
    corners = rng.uniform(0, 100, (n, 2, 2))
    boxes = np.concatenate([corners.min(axis=1), corners.max(axis=1)], axis=1).astype(np.float32)
    scores = rng.uniform(0, 1, n).astype(np.float32)
    classes = rng.integers(0, 5, n)
    for max_boxes, threshold in ((10, 0.5), (3, 0.2), (100, 0.8), (5, 0.0)):
        mine = checks._nms_indices(scores, boxes, classes, max_boxes, threshold)
        theirs = tf.image.non_max_suppression(boxes, scores, max_boxes, iou_threshold=threshold).numpy()
        assert mine.tolist() == theirs.tolist()
        got = ref.yolo_non_max_suppression(tf.constant(scores), tf.constant(boxes), tf.constant(classes),
                                           max_boxes, threshold)
        assert got[0].numpy().tolist() == scores[theirs].tolist()


def test_hand_clusters_keep_the_expected_boxes():
    scores, boxes, classes = checks.NMS_HAND
    assert checks._nms_np(scores, boxes, classes, 10, 0.5)[0] == pytest.approx([0.95, 0.9, 0.5])
    assert checks._nms_np(scores, boxes, classes, 2, 0.5)[0] == pytest.approx([0.95, 0.9])
    assert len(checks._nms_np(scores, boxes, classes, 10, 0.5, per_class=True)[0]) == 4   # class 7 survives
    ious = checks._iou_matrix(boxes)[~np.eye(len(boxes), dtype=bool)]
    for threshold in (0.5, 0.9):
        assert np.min(np.abs(ious - threshold)) > 0.004   # float32 rounding is about 1e-6


def test_made_up_data_keep_their_margins():
    for seed in range(5):
        outputs = checks.synthetic_yolo_outputs(score_threshold=0.55, iou_threshold=0.35, image_shape=(480, 640),
                                                seed=seed)
        scores = (outputs[2] * outputs[3]).max(-1)
        assert np.min(np.abs(scores - 0.55)) >= checks._SCORE_MARGIN
        assert len(checks._eval_np(outputs, (480, 640), 10, 0.55, 0.35)[0]) >= 1
        _, boxes, _ = checks._clusters(6, 4, 0.45, seed)
        ious = checks._iou_matrix(boxes)[~np.eye(len(boxes), dtype=bool)]
        assert np.min(np.abs(ious - 0.45)) >= checks._IOU_MARGIN


def test_checks_do_not_import_the_reference():
    tree = ast.parse(Path(checks.__file__).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not any(name and "reference" in name for name in imported), imported


def test_given_helpers_keep_the_original_conventions():
    corners = yolo_boxes_to_corners(np.array([[0.5, 0.25]], np.float32), np.array([[0.2, 0.1]], np.float32))
    assert corners.numpy() == pytest.approx(np.array([[0.2, 0.4, 0.3, 0.6]]))          # (y1, x1, y2, x2)
    assert scale_boxes(corners, (720, 1280)).numpy() == pytest.approx(np.array([[144, 512, 216, 768]]))


def test_hidden_tests_use_other_answers_than_the_visible_ones():
    hard_coded = sorted(v.function for v in SPEC.notebook.buggy if "hard-coded" in v.description)
    assert hard_coded == ["iou", "yolo_eval", "yolo_filter_boxes", "yolo_non_max_suppression"]


@pytest.mark.parametrize("photo, hand_box", [("astronaut", (182, 80, 275, 190)), ("grace_hopper", (170, 145, 375, 342))])
def test_reference_yolo_eval_finds_the_face_in_real_photos(photo, hand_box):
    """The notebook's part 6: the face detector through yolo_eval finds one face, IoU >= 0.5 with the hand box."""
    if photo == "astronaut":
        image = data.astronaut()
    else:
        with cbook.get_sample_data("grace_hopper.jpg") as handle:
            image = np.asarray(plt.imread(handle))
    outputs, square = yolo_outputs_for_image(_face_model(), image, ANCHORS, 1)
    scores, boxes, classes = ref.yolo_eval(outputs, image_shape=square, score_threshold=0.5, iou_threshold=0.4)
    assert len(scores) == 1 and float(scores[0]) > 0.9 and int(classes[0]) == 0
    y1, x1, y2, x2 = boxes.numpy()[0]
    assert ref.iou((x1, y1, x2, y2), hand_box) >= 0.5


_MODEL = []


def _face_model():
    if not _MODEL:
        _MODEL.append(load_tiny_face_detector())
    return _MODEL[0]
