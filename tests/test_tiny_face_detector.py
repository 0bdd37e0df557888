"""The converted Tiny-YOLOv2 face detector (helpers.models.tiny_yolo) finds real faces in real photos.

Photos come from installed packages: scikit-image's ``astronaut`` (Eileen Collins, 512 x 512) and
matplotlib's ``grace_hopper.jpg`` (512 wide x 600 high). Face boxes were marked by hand on zoomed,
gridded renderings of the photos: from the hairline or hat brim to the chin, from cheek to cheek.
"""

from __future__ import annotations

import shutil

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib import cbook
from skimage import data

from helpers.models import tiny_yolo
from helpers.models.npz_weights import file_sha256
from helpers.models.tiny_yolo import (
    ANCHORS,
    detect_faces,
    load_tiny_face_detector,
    tiny_face_detector,
    yolo_head,
)

# Hand-marked face boxes (x1, y1, x2, y2) in pixels.
# Astronaut: forehead below the fringe at y ~ 80, chin at y ~ 190, cheeks at x ~ 182 and ~ 275.
ASTRONAUT_FACE = (182, 80, 275, 190)
# Grace Hopper: forehead under the cap's brim at y ~ 145, chin at y ~ 342, cheek edges at x ~ 170 and
# ~ 375 (the glasses stick out a little further on the left).
GRACE_HOPPER_FACE = (170, 145, 375, 342)

# What face-api 1.7.15 itself reports for the two photos (its own TinyFaceDetector.locateFaces,
# inputSize 416, in Node.js on TensorFlow.js's CPU backend, run once while converting):
# score and (x1, y1, x2, y2) in pixels.
FACE_API_ASTRONAUT = (0.975471, (163.252, 75.660, 279.290, 186.644))
FACE_API_GRACE_HOPPER = (0.914962, (141.623, 139.503, 384.338, 349.293))


def iou(box_a, box_b) -> float:
    """Intersection over union of two (x1, y1, x2, y2) boxes."""
    width = max(0.0, min(box_a[2], box_b[2]) - max(box_a[0], box_b[0]))
    height = max(0.0, min(box_a[3], box_b[3]) - max(box_a[1], box_b[1]))
    inter = width * height
    area = lambda box: (box[2] - box[0]) * (box[3] - box[1])
    return inter / (area(box_a) + area(box_b) - inter)


@pytest.fixture(scope="module")
def model():
    return load_tiny_face_detector()


@pytest.fixture(scope="module")
def grace_hopper():
    with cbook.get_sample_data("grace_hopper.jpg") as handle:
        return np.asarray(plt.imread(handle))


@pytest.mark.parametrize("photo, hand_box, face_api", [
    ("astronaut", ASTRONAUT_FACE, FACE_API_ASTRONAUT),
    ("grace_hopper", GRACE_HOPPER_FACE, FACE_API_GRACE_HOPPER),
])
def test_finds_the_one_face_in_real_photos(model, grace_hopper, photo, hand_box, face_api):
    image = data.astronaut() if photo == "astronaut" else grace_hopper
    faces = detect_faces(image, model=model)  # default threshold 0.5
    assert len(faces) == 1, f"{photo}: expected exactly one face above 0.5, got {faces}"
    score, box = faces[0]
    assert score > 0.9, f"{photo}: face found with a low score {score:.3f}"
    assert iou(box, hand_box) >= 0.5, f"{photo}: IoU {iou(box, hand_box):.2f} with the hand-marked box {hand_box}, found {box}"
    # The conversion is faithful: same score and box as face-api itself, to a fraction of a pixel.
    assert score == pytest.approx(face_api[0], abs=1e-4)
    np.testing.assert_allclose(box, face_api[1], atol=0.1)


def test_pixel_coordinates_follow_the_face_in_a_wide_canvas(model):
    # The astronaut pasted at (x=300, y=100) on a 1000 x 700 grey canvas: letterboxing pads the
    # bottom, the face shrinks to 0.416 of its size in the network's input, and the box must come
    # back in the canvas's own pixels.
    canvas = np.full((700, 1000, 3), 128, np.uint8)
    canvas[100:612, 300:812] = data.astronaut()
    faces = detect_faces(canvas, model=model)
    shifted = (ASTRONAUT_FACE[0] + 300, ASTRONAUT_FACE[1] + 100, ASTRONAUT_FACE[2] + 300, ASTRONAUT_FACE[3] + 100)
    assert len(faces) == 1 and iou(faces[0][1], shifted) >= 0.5, faces


@pytest.mark.parametrize("photo", ["coffee", "chelsea", "rocket"])
def test_no_face_where_there_is_none(model, photo):
    # A coffee cup, a cat and a rocket launch: nothing above the 0.5 threshold.
    assert detect_faces(getattr(data, photo)(), model=model) == []


def test_thresholds_and_max_faces_are_honoured(model):
    image = data.astronaut()
    many = detect_faces(image, score_threshold=0.01, iou_threshold=0.4, max_faces=10, model=model)
    assert 1 < len(many) <= 10
    scores = [score for score, _ in many]
    assert scores == sorted(scores, reverse=True) and min(scores) > 0.01
    assert detect_faces(image, score_threshold=0.01, max_faces=1, model=model) == many[:1]
    # IoU threshold 1 suppresses nothing: the same boxes and at least one more that overlapped.
    loose = detect_faces(image, score_threshold=0.01, iou_threshold=1.0, max_faces=10, model=model)
    assert len(loose) > len(many) and all(face in loose for face in many)
    # IoU threshold 0 suppresses any overlap: the boxes left are pairwise disjoint.
    strict = detect_faces(image, score_threshold=0.01, iou_threshold=0.0, max_faces=10, model=model)
    assert all(iou(a, b) == 0 for i, (_, a) in enumerate(strict) for _, b in strict[i + 1:])
    for _, (x1, y1, x2, y2) in many:
        assert 0 <= x1 < x2 <= 512 and 0 <= y1 < y2 <= 512


def test_network_shapes_and_head_layout():
    model = tiny_face_detector()
    assert model.input_shape == (None, 416, 416, 3)
    assert model.output_shape == (None, 13, 13, 5 * (5 + 1))
    # face-api's 193,321 numbers plus the 5 x (512 + 1) inserted class-logit weights.
    assert model.count_params() == 193_321 + 5 * 513
    flexible = tiny_face_detector(input_size=None)
    assert tuple(flexible(np.zeros((1, 320, 224, 3), np.float32)).shape) == (1, 10, 7, 30)
    assert tiny_face_detector(input_size=320).output_shape == (None, 10, 10, 30)


def test_converted_head_has_zero_class_logits(model):
    kernel, bias = model.get_layer("head_conv").get_weights()
    assert kernel.shape == (1, 1, 512, 30)
    class_logit = np.arange(30) % 6 == 5
    assert np.all(kernel[..., class_logit] == 0) and np.all(bias[class_logit] == 0)
    assert np.abs(kernel[..., ~class_logit]).max() > 1  # the real detector weights are there


def test_yolo_head_on_a_hand_made_feature_tensor():
    # Grid of 2 rows x 3 columns (not square, so x/y and rows/columns cannot be swapped unnoticed),
    # 2 anchors, 2 classes: 2 x (5 + 2) = 14 channels. All raw numbers 0 except at row 1, column 2,
    # anchor 1: t_x = 0, t_y = ln 3 (sigmoid 0.75), t_w = ln 2, t_h = 0, t_c = ln 4 (sigmoid 0.8),
    # class logits (ln 3, 0) -> probabilities (0.75, 0.25).
    anchors = np.array([[1.0, 2.0], [3.0, 0.5]], np.float32)
    features = np.zeros((1, 2, 3, 2, 7), np.float32)
    features[0, 1, 2, 1] = [0.0, np.log(3.0), np.log(2.0), 0.0, np.log(4.0), np.log(3.0), 0.0]
    box_xy, box_wh, box_confidence, box_class_probs = yolo_head(features.reshape(1, 2, 3, 14), anchors, 2)
    assert tuple(box_xy.shape) == (1, 2, 3, 2, 2) and tuple(box_wh.shape) == (1, 2, 3, 2, 2)
    assert tuple(box_confidence.shape) == (1, 2, 3, 2, 1) and tuple(box_class_probs.shape) == (1, 2, 3, 2, 2)
    # x = (sigmoid(t_x) + column) / grid width, y = (sigmoid(t_y) + row) / grid height.
    np.testing.assert_allclose(box_xy[0, 1, 2, 1], [(0.5 + 2) / 3, (0.75 + 1) / 2], rtol=1e-6)
    np.testing.assert_allclose(box_xy[0, 0, 1, 0], [(0.5 + 1) / 3, (0.5 + 0) / 2], rtol=1e-6)
    # w = exp(t_w) * anchor width / grid width, h = exp(t_h) * anchor height / grid height.
    np.testing.assert_allclose(box_wh[0, 1, 2, 1], [2 * 3.0 / 3, 1 * 0.5 / 2], rtol=1e-6)
    np.testing.assert_allclose(box_wh[0, 0, 0, 0], [1.0 / 3, 2.0 / 2], rtol=1e-6)
    np.testing.assert_allclose(box_confidence[0, 1, 2, 1], [0.8], rtol=1e-6)
    np.testing.assert_allclose(box_confidence[0, 0, 0, 0], [0.5], rtol=1e-6)
    np.testing.assert_allclose(box_class_probs[0, 1, 2, 1], [0.75, 0.25], rtol=1e-6)
    np.testing.assert_allclose(box_class_probs[0, 0, 0, 0], [0.5, 0.5], rtol=1e-6)


def test_yolo_head_matches_a_loop_over_cells_on_the_real_output(model):
    features = np.asarray(model(np.random.default_rng(1).uniform(0, 255, (2, 416, 416, 3)).astype(np.float32)))
    box_xy, box_wh, box_confidence, box_class_probs = (np.asarray(t) for t in yolo_head(features, ANCHORS, 1))
    raw = features.reshape(2, 13, 13, 5, 6)
    sigmoid = lambda v: 1 / (1 + np.exp(-v))
    for n, row, column, anchor in [(0, 0, 0, 0), (1, 3, 11, 4), (0, 12, 5, 2)]:
        t = raw[n, row, column, anchor]
        np.testing.assert_allclose(box_xy[n, row, column, anchor],
                                   [(sigmoid(t[0]) + column) / 13, (sigmoid(t[1]) + row) / 13], rtol=1e-5)
        np.testing.assert_allclose(box_wh[n, row, column, anchor], np.exp(t[2:4]) * ANCHORS[anchor] / 13, rtol=1e-5)
        np.testing.assert_allclose(box_confidence[n, row, column, anchor], [sigmoid(t[4])], rtol=1e-5)
    np.testing.assert_allclose(box_class_probs, 1.0)  # one class


def test_bad_arguments_raise_value_error(model):
    image = data.astronaut()
    bad_calls = [
        (lambda: detect_faces(image.astype(np.float32) / 255, model=model), "uint8"),
        (lambda: detect_faces(image[..., 0], model=model), r"\(H, W, 3\)"),
        (lambda: detect_faces(np.dstack([image, image[..., :1]]), model=model), r"\(H, W, 3\)"),
        (lambda: detect_faces(image.tolist(), model=model), "numpy array"),
        (lambda: detect_faces(image, score_threshold=0, model=model), "score_threshold"),
        (lambda: detect_faces(image, score_threshold=1.5, model=model), "score_threshold"),
        (lambda: detect_faces(image, iou_threshold=-0.1, model=model), "iou_threshold"),
        (lambda: detect_faces(image, max_faces=0, model=model), "max_faces"),
        (lambda: detect_faces(image, max_faces=2.5, model=model), "max_faces"),
        (lambda: tiny_face_detector(input_size=100), "multiple of 32"),
        (lambda: tiny_face_detector(num_anchors=0), "num_anchors"),
        (lambda: yolo_head(np.zeros((1, 13, 13, 25)), ANCHORS, 1), "expected 5 anchors"),
        (lambda: yolo_head(np.zeros((13, 13, 30)), ANCHORS, 1), "batch"),
        (lambda: yolo_head(np.zeros((1, 13, 13, 30)), np.zeros((5, 3)), 1), "anchors"),
        (lambda: yolo_head(np.zeros((1, 13, 13, 30)), ANCHORS, 0), "num_classes"),
    ]
    for call, message in bad_calls:
        with pytest.raises(ValueError, match=message):
            call()


def test_weights_ship_with_their_licence_and_notice():
    folder = tiny_yolo.WEIGHTS_PATH.parent
    assert "MIT License" in (folder / "LICENSE-face-api-MIT.txt").read_text(encoding="utf-8")
    notice = (folder / "NOTICE").read_text(encoding="utf-8")
    assert "tiny_face_detector.npz" in notice and "@vladmandic/face-api 1.7.15" in notice


def test_weights_are_checked_by_sha256(tmp_path):
    assert file_sha256(tiny_yolo.WEIGHTS_PATH) == tiny_yolo.WEIGHTS_SHA256
    damaged = tmp_path / "tiny_face_detector.npz"
    shutil.copy(tiny_yolo.WEIGHTS_PATH, damaged)
    with open(damaged, "r+b") as handle:  # flip one byte in the middle of the archive
        handle.seek(damaged.stat().st_size // 2)
        byte = handle.read(1)
        handle.seek(-1, 1)
        handle.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ValueError, match="SHA-256.*damaged or was replaced"):
        load_tiny_face_detector(path=damaged)
    with pytest.raises(ValueError, match="not found"):
        load_tiny_face_detector(path=tmp_path / "missing.npz")
