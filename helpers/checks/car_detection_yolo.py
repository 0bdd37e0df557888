"""Tests of week 3, "Car_Detection_YOLO" (one visible test per graded function, plus ``check_*``).

Expected values are computed here in float64 numpy from the definitions of the notebook (not by
calling an implementation of the graded functions; the student kit has no reference):

- yolo_filter_boxes(boxes, box_confidence, box_class_probs, threshold): class score = confidence x
  class probability; each box keeps its best class (argmax over the last axis) and is kept when that
  score is >= threshold. Returns (scores (N,), boxes (N, 4), classes (N,)).
- iou(box1, box2): boxes (x1, y1, x2, y2); intersection width and height clipped at 0;
  union = area1 + area2 - intersection.
- yolo_non_max_suppression(scores, boxes, classes, max_boxes, iou_threshold): greedy NMS over ALL
  boxes whatever their class, as the original's ``tf.image.non_max_suppression`` (a box is dropped
  when its IoU with a kept, better box is > iou_threshold), at most max_boxes kept.
- yolo_eval(yolo_outputs, image_shape, max_boxes, score_threshold, iou_threshold): corners
  (y1, x1, y2, x2) from yolo_boxes_to_corners, filter, scale_boxes to pixels, NMS.

Boxes may come back in any order (the tests match them one by one), as tensors or numpy arrays.
Random test data keep every score at least 0.01 away from the threshold and every IoU that matters at
least 0.02 away from the IoU threshold, except where a test plants a score exactly at the threshold
(thresholds that float32 represents exactly), so float32 and float64 implementations agree. While
yolo_non_max_suppression runs, ``iou`` in the notebook is a numpy IoU of the tests', and while
yolo_eval runs, ``yolo_filter_boxes`` and ``yolo_non_max_suppression`` are the tests' own: one broken
function costs only its own points. Hidden tests use other shapes, seeds, thresholds and image sizes.
"""

from __future__ import annotations

import numpy as np

from helpers.backend import tf
from helpers.grading import GradingFailure, all_passed, call, check_close, fail

#: Tolerances for scores, IoUs and box fractions; boxes in pixels use PIXEL_ATOL.
RTOL = 1e-4
ATOL = 1e-5
PIXEL_ATOL = 1e-2
#: Random data keep scores this far from the score threshold...
_SCORE_MARGIN = 0.01
#: ... and IoUs between boxes that NMS compares this far from the IoU threshold.
_IOU_MARGIN = 0.02


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


# --------------------------------------------------------------------------------------------
# numpy versions of the definitions (expected values and the usual mistakes)


def _iou_np(box1, box2, clip=True, union="right", plus_one=False, inter="intersection"):
    """IoU of (x1, y1, x2, y2) boxes, with switches that reproduce the usual mistakes."""
    a = [float(v) for v in box1]
    b = [float(v) for v in box2]
    one = 1.0 if plus_one else 0.0
    if inter == "intersection":
        xi1, yi1, xi2, yi2 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    else:  # the box around both (min and max swapped)
        xi1, yi1, xi2, yi2 = min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])
    width, height = xi2 - xi1 + one, yi2 - yi1 + one
    if clip == "product":
        inter_area = max(width * height, 0.0)
    elif clip:
        inter_area = max(width, 0.0) * max(height, 0.0)
    else:
        inter_area = width * height
    area1 = (a[2] - a[0] + one) * (a[3] - a[1] + one)
    area2 = (b[2] - b[0] + one) * (b[3] - b[1] + one)
    if union == "right":
        total = area1 + area2 - inter_area
    elif union == "sum":
        total = area1 + area2
    else:  # "first": intersection over the first box's area
        total = area1
    return inter_area / total if total else float("nan")


def _iou_matrix(boxes):
    """Pairwise IoU of (N, 4) boxes (any consistent corner order: (y1, x1, y2, x2) or (x1, y1, x2, y2))."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    lo = np.maximum(boxes[:, None, :2], boxes[None, :, :2])
    hi = np.minimum(boxes[:, None, 2:], boxes[None, :, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), axis=-1)
    area = np.prod(boxes[:, 2:] - boxes[:, :2], axis=-1)
    union = area[:, None] + area[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def _filter_np(boxes, box_confidence, box_class_probs, threshold, strict=False, score="product"):
    """(scores, boxes, classes) kept by the filter, row-major order; ``strict``/``score`` give mistakes."""
    boxes = np.asarray(boxes, np.float64)
    conf = np.asarray(box_confidence, np.float32)
    probs = np.asarray(box_class_probs, np.float32)
    product = (conf * probs).astype(np.float64)       # float32 product, like TensorFlow's
    classes = np.argmax(product, axis=-1)
    if score == "product":
        class_scores = product.max(axis=-1)
    elif score == "probs":                              # confidence not multiplied
        class_scores = probs.astype(np.float64).max(axis=-1)
    else:                                               # threshold on the confidence alone
        class_scores = conf[..., 0].astype(np.float64)
    mask = class_scores > threshold if strict else class_scores >= np.float32(threshold)
    kept_scores = product.max(axis=-1)[mask] if score == "confidence" else class_scores[mask]
    return kept_scores, boxes.reshape(-1, 4)[mask.reshape(-1)], classes[mask].astype(np.int64)


def _nms_indices(scores, boxes, classes, max_boxes, iou_threshold, per_class=False, ascending=False,
                 inverted=False):
    """Greedy NMS as tf.image.non_max_suppression: indices kept, best score first (ties: lower index)."""
    scores = np.asarray(scores, np.float64).reshape(-1)
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    classes = np.asarray(classes).reshape(-1)
    order = np.argsort(scores if ascending else -scores, kind="stable")
    ious = _iou_matrix(boxes)
    kept = []
    for index in order:
        if max_boxes is not None and len(kept) >= max_boxes:
            break
        rivals = [k for k in kept if not per_class or classes[k] == classes[index]]
        overlaps = [ious[index, k] for k in rivals]
        if inverted:
            drop = any(o <= iou_threshold for o in overlaps)
        else:
            drop = any(o > iou_threshold for o in overlaps)
        if not drop:
            kept.append(int(index))
    return np.array(kept, dtype=np.int64)


def _nms_np(scores, boxes, classes, max_boxes, iou_threshold, **mistake):
    keep = _nms_indices(scores, boxes, classes, max_boxes, iou_threshold, **mistake)
    return (np.asarray(scores, np.float64).reshape(-1)[keep], np.asarray(boxes, np.float64).reshape(-1, 4)[keep],
            np.asarray(classes).reshape(-1)[keep].astype(np.int64))


def _corners_np(box_xy, box_wh):
    """(y1, x1, y2, x2) from centres (x, y) and sizes (w, h), as yolo_boxes_to_corners."""
    xy, wh = np.asarray(box_xy, np.float64), np.asarray(box_wh, np.float64)
    lo, hi = xy - wh / 2, xy + wh / 2
    return np.stack([lo[..., 1], lo[..., 0], hi[..., 1], hi[..., 0]], axis=-1)


def _eval_np(yolo_outputs, image_shape, max_boxes, score_threshold, iou_threshold, scale=True, order="yx"):
    box_xy, box_wh, box_confidence, box_class_probs = yolo_outputs
    corners = _corners_np(box_xy, box_wh)
    if order == "xy, scaled as yx":     # (x1, y1, x2, y2) corners multiplied by (height, width, ...)
        corners = corners[..., [1, 0, 3, 2]]
    scores, boxes, classes = _filter_np(corners, box_confidence, box_class_probs, score_threshold)
    if scale:
        height, width = float(image_shape[0]), float(image_shape[1])
        boxes = boxes * np.array([height, width, height, width])
    if order == "xy":                   # (x1, y1, x2, y2) in pixels
        boxes = boxes[:, [1, 0, 3, 2]]
    return _nms_np(scores, boxes, classes, max_boxes, iou_threshold)


# --------------------------------------------------------------------------------------------
# stand-ins given to the student's functions while they are graded (numpy inside, tensors out)


def _iou_stand_in(box1, box2):
    """The tests' IoU of two (x1, y1, x2, y2) boxes (any consistent corner order)."""
    return _iou_np([float(v) for v in np.asarray(box1).reshape(-1)], [float(v) for v in np.asarray(box2).reshape(-1)])


def _filter_stand_in(boxes, box_confidence, box_class_probs, threshold=.6):
    scores, kept, classes = _filter_np(np.asarray(boxes), np.asarray(box_confidence), np.asarray(box_class_probs),
                                       threshold)
    return (tf.constant(scores, tf.float32), tf.constant(kept.reshape(-1, 4), tf.float32),
            tf.constant(classes, tf.int64))


def _nms_stand_in(scores, boxes, classes, max_boxes=10, iou_threshold=0.5):
    scores, boxes, classes = _nms_np(np.asarray(scores), np.asarray(boxes), np.asarray(classes),
                                     int(np.asarray(max_boxes)), float(np.asarray(iou_threshold)))
    return (tf.constant(scores, tf.float32), tf.constant(boxes.reshape(-1, 4), tf.float32),
            tf.constant(classes, tf.int64))


# --------------------------------------------------------------------------------------------
# reading and comparing results


def _to_numpy(value):
    if hasattr(value, "numpy"):
        value = value.numpy()
    return np.asarray(value)


def _call(function, target, *args, cause, with_reference=None, **kwargs):
    """call(), with ``cause`` as the likely cause when the student's function raises."""
    __tracebackhide__ = True
    try:
        return call(function, target, *args, with_reference=with_reference, **kwargs)
    except GradingFailure as failure:
        text = str(failure)
        if " raised " not in text.splitlines()[0]:
            raise
        first = text.splitlines()[0].split(": ", 1)[1]
        fail(function, first, expected="a result", got="an exception (see above)", cause=cause)


def _triple(function, result, what):
    """(scores (N,), boxes (N, 4), classes (N,)) as float64 / int64 numpy arrays, or a failure."""
    __tracebackhide__ = True
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        fail(function, f"must return three values (scores, boxes, classes) {what}",
             expected="a tuple (scores, boxes, classes)", got=f"{type(result).__name__}"[:100],
             cause="end the function with `return scores, boxes, classes`")
    try:
        scores = _to_numpy(result[0]).astype(np.float64)
        boxes = _to_numpy(result[1]).astype(np.float64)
        classes = _to_numpy(result[2])
    except Exception:  # noqa: BLE001 - anything not convertible is reported
        fail(function, f"returned values that are not numbers {what}", expected="tensors or numpy arrays",
             got=", ".join(type(r).__name__ for r in result), cause="return scores, boxes, classes (tensors)")
    if boxes.size == 0:
        boxes = boxes.reshape(0, 4)
    if scores.ndim != 1 or boxes.ndim != 2 or boxes.shape[1] != 4 or classes.ndim != 1 \
            or not len(scores) == len(boxes) == len(classes):
        fail(function, f"returned values of the wrong shapes {what}",
             expected="scores (N,), boxes (N, 4), classes (N,) for the N boxes kept",
             got=f"scores {scores.shape}, boxes {boxes.shape}, classes {classes.shape}",
             cause="flatten over every axis but the last: tf.boolean_mask(x, mask) with a mask of shape "
                   "box_confidence.shape[:-1] (or scores/boxes/classes were returned in another order)")
    if classes.size and not np.all(np.equal(np.mod(classes.astype(np.float64), 1), 0)):
        fail(function, f"classes are not whole numbers {what}", expected="class indices (integers)",
             got=f"{classes[:5]}", cause="classes = argmax over the last axis (tf.math.argmax(box_scores, axis=-1)); "
                                         "scores and classes may have been swapped")
    return scores, boxes, classes.astype(np.int64)


def _match(got_boxes, expected_boxes, box_atol):
    """For each expected box, the index of a distinct got box equal to it (within tolerance), or None."""
    used = np.zeros(len(got_boxes), dtype=bool)
    matched = []
    for box in expected_boxes:
        close = np.all(np.abs(got_boxes - box) <= box_atol + RTOL * np.abs(box), axis=1) & ~used
        if not close.any():
            return None
        index = int(np.argmax(close))
        used[index] = True
        matched.append(index)
    return np.array(matched, dtype=np.int64)


def _explains(got, candidate, box_atol) -> bool:
    """Does a mistake's (scores, boxes, classes) equal what the student returned (any order)?"""
    g_scores, g_boxes, g_classes = got
    c_scores, c_boxes, c_classes = (np.asarray(x) for x in candidate)
    if len(g_boxes) != len(c_boxes):
        return False
    order = _match(g_boxes, c_boxes.reshape(-1, 4), box_atol)
    if order is None:
        return False
    return bool(np.allclose(g_scores[order], c_scores, rtol=RTOL, atol=ATOL) and np.array_equal(g_classes[order], c_classes))


def _first_cause(got, diagnoses, box_atol, default):
    for cause, candidate in diagnoses.items():
        if candidate is not None and _explains(got, candidate, box_atol):
            return cause
    return default


def _count(n):
    return f"{n} box" if n == 1 else f"{n} boxes"


def _show(box):
    return "(" + ", ".join(f"{v:.4g}" for v in box) + ")"


def _compare(function, got, expected, what, diagnoses, cause, box_atol=ATOL, unit=""):
    """Compare a returned (scores, boxes, classes) with the expected one, in any order."""
    __tracebackhide__ = True
    g_scores, g_boxes, g_classes = got
    e_scores, e_boxes, e_classes = expected
    e_boxes = np.asarray(e_boxes, np.float64).reshape(-1, 4)
    if len(g_boxes) != len(e_boxes):
        fail(function, f"kept {_count(len(g_boxes))} {what}", expected=_count(len(e_boxes)),
             got=_count(len(g_boxes)), cause=_first_cause(got, diagnoses, box_atol, cause))
    order = _match(g_boxes, e_boxes, box_atol)
    if order is None:
        missing = next(i for i in range(len(e_boxes)) if _match(g_boxes, e_boxes[i:i + 1], box_atol) is None)
        fail(function, f"did not keep the right boxes {what}",
             expected=f"box {_show(e_boxes[missing])}{unit} (score {e_scores[missing]:.4f}) among those kept",
             got=f"no such box; e.g. {_show(g_boxes[0])}{unit}" if len(g_boxes) else "no such box",
             cause=_first_cause(got, diagnoses, box_atol, cause))
    score_diagnoses = {}   # the scores of the mistakes that keep the same boxes, in the expected boxes' order
    for name, candidate in diagnoses.items():
        c_boxes = np.asarray(candidate[1], np.float64).reshape(-1, 4)
        if len(c_boxes) == len(e_boxes):
            c_order = _match(c_boxes, e_boxes, box_atol)
            if c_order is not None:
                score_diagnoses[name] = np.asarray(candidate[0], np.float64)[c_order]
    check_close(function, f"scores {what}", g_scores[order], e_scores, RTOL, ATOL, diagnoses=score_diagnoses,
                cause=cause)
    wrong = np.flatnonzero(g_classes[order] != np.asarray(e_classes))
    if wrong.size:
        i = int(wrong[0])
        class_cause = "classes = argmax of the class scores over the LAST axis (the classes), as integers"
        if np.array_equal(g_classes[order], np.asarray(e_classes) + 1):
            class_cause = "the classes are 1 too large: argmax already counts from 0"
        fail(function, f"classes differ {what}", expected=f"class {int(e_classes[i])} for box {_show(e_boxes[i])}{unit}",
             got=f"class {int(g_classes[order][i])} ({wrong.size} of {len(e_classes)} classes differ)",
             cause=class_cause)


# --------------------------------------------------------------------------------------------
# yolo_filter_boxes

_FILTER_CAUSE = ("box_scores = box_confidence * box_class_probs; box_classes = argmax and box_class_scores = max "
                 "of box_scores over the LAST axis (the classes, axis=-1); keep where box_class_scores >= threshold "
                 "(tf.boolean_mask on scores, boxes and classes)")
_FILTER_RAISED = ("box_confidence (..., 1) times box_class_probs (..., C) gives box_scores (..., C); take "
                  "tf.math.argmax and tf.math.reduce_max over axis=-1, so the mask has box_confidence's shape "
                  "without its last axis, and apply it with tf.boolean_mask(x, mask)")


def _filter_inputs(shape, num_classes, threshold, seed):
    """Random (boxes, box_confidence, box_class_probs) float32, grid ``shape`` (leading axes + anchors),
    with planted boxes: exactly at the threshold, confident but unsure of the class, sure of the class
    but not confident; every other class score at least 0.01 from the threshold."""
    rng = _rng(seed)
    shape = tuple(int(s) for s in shape)
    boxes = rng.uniform(0, 1, shape + (4,)).astype(np.float32)
    conf = rng.uniform(0, 1, shape + (1,)).astype(np.float32)
    logits = rng.standard_normal(shape + (num_classes,)) * 2.5
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs = (probs / probs.sum(-1, keepdims=True)).astype(np.float32)
    flat_conf, flat_probs = conf.reshape(-1, 1), probs.reshape(-1, num_classes)
    n = flat_conf.shape[0]
    planted = rng.choice(n, size=min(3, n), replace=False)
    t = np.float32(threshold)
    if len(planted) > 0 and num_classes >= 2 and (1 - t) / (num_classes - 1) < t:
        flat_conf[planted[0]] = 1.0                       # class score exactly at the threshold: kept
        flat_probs[planted[0]] = (1 - t) / (num_classes - 1)
        flat_probs[planted[0], rng.integers(num_classes)] = t
    if len(planted) > 1:                                 # confident, but unsure of the class: dropped
        flat_conf[planted[1]] = np.float32(min(1.0, t + 0.3))
        flat_probs[planted[1]] = 1.0 / num_classes
    if len(planted) > 2:                                 # sure of the class, not confident: dropped
        flat_conf[planted[2]] = np.float32(t * 0.5)
        flat_probs[planted[2]] = 0.0
        flat_probs[planted[2], rng.integers(num_classes)] = 1.0
    for _ in range(10):
        scores = (flat_conf * flat_probs).max(-1)
        near = np.abs(scores - t) < _SCORE_MARGIN
        if len(planted) > 0:
            near[planted[0]] = False
        if not near.any():
            break
        flat_conf[near] *= np.float32(0.8)
    return boxes, conf, probs


def _filter_diagnoses(boxes, conf, probs, threshold):
    diagnoses = {
        "the comparison is strict (>); keep boxes whose class score is >= threshold":
            _filter_np(boxes, conf, probs, threshold, strict=True),
        "the threshold was applied to the class probabilities alone: box_scores = box_confidence * "
        "box_class_probs (the confidence is not multiplied in)": _filter_np(boxes, conf, probs, threshold, score="probs"),
        "the threshold was applied to box_confidence alone: the score is confidence x class probability, "
        "and its maximum over the classes is compared": _filter_np(boxes, conf, probs, threshold, score="confidence"),
    }
    if threshold != 0.6:
        diagnoses["the argument threshold is ignored (0.6 is written in the code)"] = _filter_np(boxes, conf, probs, 0.6)
    scores, kept, classes = _filter_np(boxes, conf, probs, threshold)
    mask = (np.asarray(conf, np.float32) * np.asarray(probs, np.float32)).max(-1) >= np.float32(threshold)
    diagnoses["scores are the boxes' confidences; the score of a box is its best class score, confidence x "
              "class probability (reduce_max of box_scores over the last axis)"] = (
        np.asarray(conf, np.float64)[..., 0][mask], kept, classes)
    return diagnoses


def check_yolo_filter_boxes(target, shape=(4, 4, 3), num_classes=5, threshold=0.5, seed=1):
    """yolo_filter_boxes on random boxes, confidences and class probabilities of grid ``shape``
    (leading axes, then anchors) with ``num_classes`` classes, with planted boxes at the threshold."""
    __tracebackhide__ = True
    fn = "yolo_filter_boxes"
    boxes, conf, probs = _filter_inputs(shape, num_classes, threshold, seed)
    what = f"(grid {tuple(shape)}, {num_classes} classes, threshold={threshold})"
    result = _call(fn, target, tf.constant(boxes), tf.constant(conf), tf.constant(probs), threshold=threshold,
                   cause=_FILTER_RAISED)
    got = _triple(fn, result, what)
    expected = _filter_np(boxes, conf, probs, threshold)
    _compare(fn, got, expected, what, _filter_diagnoses(boxes, conf, probs, threshold), _FILTER_CAUSE)


def _check_filter_empty(target, threshold=0.99):
    """A threshold above every class score: nothing kept."""
    __tracebackhide__ = True
    fn = "yolo_filter_boxes"
    boxes, conf, probs = _filter_inputs((3, 3, 2), 4, 0.5, seed=7)
    conf = np.minimum(conf, np.float32(0.9))
    what = f"(threshold {threshold} above every score)"
    got = _triple(fn, _call(fn, target, tf.constant(boxes), tf.constant(conf), tf.constant(probs),
                            threshold=threshold, cause=_FILTER_RAISED), what)
    _compare(fn, got, _filter_np(boxes, conf, probs, threshold), what,
             _filter_diagnoses(boxes, conf, probs, threshold), _FILTER_CAUSE)


def _check_filter_hand(target):
    """Four boxes, two classes, threshold 0.5: scores 0.5 (kept, exactly at the threshold), 0.45
    (confidence 0.9 x 0.5: dropped), 0.4 (0.4 x 1.0: dropped), 0.72 (0.8 x 0.9, class 1: kept)."""
    __tracebackhide__ = True
    fn = "yolo_filter_boxes"
    boxes = np.array([[0.1, 0.1, 0.3, 0.3], [0.2, 0.5, 0.4, 0.9], [0.6, 0.1, 0.9, 0.2], [0.5, 0.5, 0.7, 0.8]],
                     np.float32).reshape(2, 2, 4)
    conf = np.array([1.0, 0.9, 0.4, 0.8], np.float32).reshape(2, 2, 1)
    probs = np.array([[0.5, 0.5], [0.5, 0.5], [1.0, 0.0], [0.1, 0.9]], np.float32).reshape(2, 2, 2)
    what = "(four hand-made boxes, threshold 0.5: scores 0.5, 0.45, 0.4, 0.72)"
    got = _triple(fn, _call(fn, target, tf.constant(boxes), tf.constant(conf), tf.constant(probs), threshold=0.5,
                            cause=_FILTER_RAISED), what)
    _compare(fn, got, _filter_np(boxes, conf, probs, 0.5), what, _filter_diagnoses(boxes, conf, probs, 0.5),
             _FILTER_CAUSE)


def yolo_filter_boxes_test(target):
    """Visible test of yolo_filter_boxes."""
    __tracebackhide__ = True
    _check_filter_hand(target)
    check_yolo_filter_boxes(target, shape=(4, 4, 3), num_classes=5, threshold=0.5, seed=1)
    check_yolo_filter_boxes(target, shape=(1, 3, 5, 2), num_classes=3, threshold=0.375, seed=2)
    _check_filter_empty(target)
    all_passed()


# --------------------------------------------------------------------------------------------
# iou

#: Hand-computed cases: (box1, box2, IoU, what). Boxes (x1, y1, x2, y2).
IOU_CASES = (
    ((2, 1, 4, 3), (1, 2, 3, 4), 1 / 7, "partial overlap: intersection 1, union 4 + 4 - 1 = 7"),
    ((1, 2, 3, 4), (5, 6, 7, 8), 0.0, "disjoint boxes (apart in x and in y)"),
    ((0, 0, 2, 2), (3, 0, 5, 2), 0.0, "disjoint boxes side by side (apart in x only)"),
    ((0, 0, 2, 2), (2, 0, 4, 2), 0.0, "boxes touching along an edge"),
    ((1, 1, 2, 2), (2, 2, 3, 3), 0.0, "boxes touching at a corner"),
    ((1, 1, 5, 5), (2, 2, 3, 3), 1 / 16, "a small box inside a large one: 1 / 16"),
    ((1, 2, 4, 6), (1, 2, 4, 6), 1.0, "identical boxes"),
    ((1, 1, 1, 3), (0, 0, 2, 2), 0.0, "a zero-area box (a vertical segment) inside another box"),
    ((0, 0, 4, 2), (1, -1, 3, 3), 1 / 3, "a cross: intersection 2 x 2 = 4, union 8 + 8 - 4 = 12"),
)

_IOU_CAUSE = ("xi1 = max(x1's), yi1 = max(y1's), xi2 = min(x2's), yi2 = min(y2's); inter_area = max(xi2 - xi1, 0) * "
              "max(yi2 - yi1, 0); union = box1_area + box2_area - inter_area; iou = inter_area / union")


def _iou_diagnoses(box1, box2):
    return {
        "the intersection's width and height are not clipped at 0, each separately: use max(xi2 - xi1, 0) * "
        "max(yi2 - yi1, 0), or boxes that do not overlap get a non-zero IoU (clipping only the product is not "
        "enough: two negative numbers multiply to a positive area)": _iou_np(box1, box2, clip=False),
        "the intersection's area was clipped at 0 after multiplying: clip the width and the height separately "
        "(two negative numbers multiply to a positive one)": _iou_np(box1, box2, clip="product"),
        "the union counts the intersection twice: union = box1_area + box2_area - inter_area":
            _iou_np(box1, box2, union="sum"),
        "the intersection is divided by the first box's area; divide by the union": _iou_np(box1, box2, union="first"),
        "max and min are swapped: the intersection's top-left corner is the max of the top-left corners, its "
        "bottom-right corner the min of the bottom-right corners": _iou_np(box1, box2, inter="hull"),
        "1 was added to widths and heights (a pixel-count convention); here width = x2 - x1":
            _iou_np(box1, box2, plus_one=True),
    }


def _check_one_iou(target, box1, box2, what):
    __tracebackhide__ = True
    fn = "iou"
    expected = _iou_np(box1, box2)
    got = _call(fn, target, tuple(box1), tuple(box2), cause="box1 and box2 are tuples (x1, y1, x2, y2): unpack them "
                "with (box1_x1, box1_y1, box1_x2, box1_y2) = box1 and use Python's max/min (or np.maximum)")
    try:
        value = np.asarray(_to_numpy(got), dtype=np.float64)
    except Exception:  # noqa: BLE001
        fail(fn, f"did not return a number for {what}", expected="a number", got=type(got).__name__,
             cause="return inter_area / union_area")
    if value.size != 1:
        fail(fn, f"must return one number for {what}", expected="a number", got=f"shape {value.shape}",
             cause="return inter_area / union_area, a single number")
    diagnoses = {cause: v for cause, v in _iou_diagnoses(box1, box2).items() if np.isfinite(v)}
    check_close(fn, f"iou({_show(box1)}, {_show(box2)}) ({what})", float(value.reshape(())), expected, RTOL, ATOL,
                diagnoses=diagnoses, cause=_IOU_CAUSE)


def check_iou(target, n=12, scale=10.0, seed=1):
    """iou on ``n`` random pairs of boxes (overlapping, disjoint, nested) of size up to ``scale``, then on
    the hand-computed cases moved and stretched by a random amount (the IoU does not change)."""
    __tracebackhide__ = True
    rng = _rng(seed)
    for index in range(n):
        x1, y1 = rng.uniform(0, scale, 2)
        w1, h1 = rng.uniform(0.1, scale / 2, 2)
        box1 = (x1, y1, x1 + w1, y1 + h1)
        kind = index % 3
        if kind == 0:   # overlapping
            x2, y2 = x1 + rng.uniform(-0.8, 0.8) * w1, y1 + rng.uniform(-0.8, 0.8) * h1
            w2, h2 = rng.uniform(0.3, 1.5) * w1, rng.uniform(0.3, 1.5) * h1
        elif kind == 1:  # apart in x, overlapping in y
            x2, y2 = x1 + w1 + rng.uniform(0.05, 1.0), y1 + rng.uniform(-0.5, 0.5) * h1
            w2, h2 = rng.uniform(0.1, scale / 2, 2)
        else:            # nested
            x2, y2 = x1 + rng.uniform(0, 0.4) * w1, y1 + rng.uniform(0, 0.4) * h1
            w2, h2 = rng.uniform(0.1, 0.6) * w1, rng.uniform(0.1, 0.6) * h1
        box2 = (x2, y2, x2 + w2, y2 + h2)
        if rng.uniform() < 0.5:
            box1, box2 = box2, box1
        _check_one_iou(target, [float(v) for v in box1], [float(v) for v in box2],
                       f"random pair {index + 1}, seed {seed}")
    stretch, shift = rng.uniform(0.5, 3.0), rng.uniform(-5, 5, 2)
    for box1, box2, _, what in IOU_CASES:
        moved = [[float(b[0] * stretch + shift[0]), float(b[1] * stretch + shift[1]),
                  float(b[2] * stretch + shift[0]), float(b[3] * stretch + shift[1])] for b in (box1, box2)]
        _check_one_iou(target, moved[0], moved[1], what.split(":")[0] + f", moved and scaled x{stretch:.2f}")


def iou_test(target):
    """Visible test of iou."""
    __tracebackhide__ = True
    for box1, box2, _, what in IOU_CASES:
        _check_one_iou(target, box1, box2, what.split(":")[0])
    check_iou(target, n=9, scale=10.0, seed=1)
    all_passed()


# --------------------------------------------------------------------------------------------
# yolo_non_max_suppression

_NMS_CAUSE = ("nms_indices = tf.image.non_max_suppression(boxes, scores, max_boxes, iou_threshold=iou_threshold) "
              "over all boxes whatever their class, then tf.gather(scores / boxes / classes, nms_indices)")
_NMS_RAISED = ("tf.image.non_max_suppression(boxes, scores, max_output_size, iou_threshold): boxes (N, 4) first, "
               "then scores (N,); then tf.gather each of scores, boxes and classes with the indices")

#: Hand-made clusters (boxes (y1, x1, y2, x2) in pixels): a car (class 2) seen by three anchors, a
#: pedestrian (class 0) by two, a lone traffic light (class 5) and, over the car, a box of another
#: class (7) that the car's best box suppresses (NMS over all classes, as the original).
NMS_HAND = (
    np.array([0.90, 0.80, 0.70, 0.95, 0.60, 0.50, 0.85], np.float32),
    np.array([[10, 10, 50, 50], [12, 11, 52, 49], [9, 12, 48, 51],
              [100, 100, 160, 140], [102, 98, 161, 142],
              [200, 20, 230, 60],
              [11, 10, 51, 50]], np.float32),
    np.array([2, 2, 2, 0, 0, 5, 7], np.int64),
)


def _nms_diagnoses(scores, boxes, classes, max_boxes, iou_threshold):
    diagnoses = {
        "NMS was done per class; the original suppresses over ALL boxes, whatever their class "
        "(one tf.image.non_max_suppression call on every box)":
            _nms_np(scores, boxes, classes, max_boxes, iou_threshold, per_class=True),
        "boxes are not suppressed: keep a box only if its IoU with every box already kept is <= iou_threshold":
            _nms_np(scores, boxes, classes, max_boxes, 1.0),
        "the boxes with the LOWEST scores were kept first; go through the boxes from the best score down":
            _nms_np(scores, boxes, classes, max_boxes, iou_threshold, ascending=True),
        "the IoU test is reversed: a box is dropped when it overlaps a kept box by MORE than iou_threshold":
            _nms_np(scores, boxes, classes, max_boxes, iou_threshold, inverted=True),
        "max_boxes is ignored: keep at most max_boxes boxes (max_output_size of tf.image.non_max_suppression)":
            _nms_np(scores, boxes, classes, None, iou_threshold),
    }
    if iou_threshold != 0.5:
        diagnoses["the argument iou_threshold is ignored (0.5 is written in the code)"] = \
            _nms_np(scores, boxes, classes, max_boxes, 0.5)
    if max_boxes != 10:
        diagnoses["the argument max_boxes is ignored (10 is written in the code)"] = \
            _nms_np(scores, boxes, classes, 10, iou_threshold)
    return diagnoses


def _check_nms(target, scores, boxes, classes, max_boxes, iou_threshold, what):
    __tracebackhide__ = True
    fn = "yolo_non_max_suppression"
    result = _call(fn, target, tf.constant(scores, tf.float32), tf.constant(boxes.reshape(-1, 4), tf.float32),
                   tf.constant(classes, tf.int64), max_boxes=max_boxes, iou_threshold=iou_threshold,
                   with_reference={"iou": _iou_stand_in}, cause=_NMS_RAISED)
    got = _triple(fn, result, what)
    expected = _nms_np(scores, boxes, classes, max_boxes, iou_threshold)
    _compare(fn, got, expected, what, _nms_diagnoses(scores, boxes, classes, max_boxes, iou_threshold), _NMS_CAUSE,
             box_atol=PIXEL_ATOL)


def _clusters(n_objects, per_object, iou_threshold, seed, size=400.0, num_classes=6):
    """Random clusters of boxes (y1, x1, y2, x2) around ``n_objects`` objects, with every IoU at least
    _IOU_MARGIN from ``iou_threshold``, all scores distinct."""
    for attempt in range(200):
        rng = _rng(seed + 7919 * attempt)
        centres = rng.uniform(0.1 * size, 0.9 * size, (n_objects, 2))
        sizes = rng.uniform(0.06 * size, 0.25 * size, (n_objects, 2))
        object_classes = rng.integers(0, num_classes, n_objects)
        boxes, classes = [], []
        for c, s, k in zip(centres, sizes, object_classes):
            count = rng.integers(1, per_object + 1)
            for _ in range(count):
                jitter = rng.normal(0, 0.12, 4) * np.concatenate([s, s])
                box = np.concatenate([c - s / 2, c + s / 2]) + jitter
                box[2:] = np.maximum(box[2:], box[:2] + 1.0)
                boxes.append(box)
                classes.append(k if rng.uniform() < 0.85 else rng.integers(0, num_classes))
        boxes = np.array(boxes, np.float32)
        ious = _iou_matrix(boxes)
        off_diagonal = ious[~np.eye(len(boxes), dtype=bool)]
        if off_diagonal.size and np.min(np.abs(off_diagonal - iou_threshold)) < _IOU_MARGIN:
            continue
        scores = rng.permutation(np.linspace(0.3, 0.99, len(boxes))).astype(np.float32)
        return scores, boxes, np.array(classes, np.int64)
    raise ValueError(f"_clusters: no layout with IoUs {_IOU_MARGIN} away from {iou_threshold}; change the seed")


def check_yolo_non_max_suppression(target, n_objects=6, per_object=4, max_boxes=10, iou_threshold=0.5, seed=1):
    """yolo_non_max_suppression on random clusters of up to ``per_object`` boxes around ``n_objects``
    objects (boxes (y1, x1, y2, x2) in pixels, some of another class than their cluster)."""
    __tracebackhide__ = True
    scores, boxes, classes = _clusters(n_objects, per_object, iou_threshold, seed)
    _check_nms(target, scores, boxes, classes, max_boxes, iou_threshold,
               f"({len(scores)} boxes around {n_objects} objects, max_boxes={max_boxes}, "
               f"iou_threshold={iou_threshold}, seed {seed})")


def yolo_non_max_suppression_test(target):
    """Visible test of yolo_non_max_suppression."""
    __tracebackhide__ = True
    scores, boxes, classes = NMS_HAND
    _check_nms(target, scores, boxes, classes, 10, 0.5,
               "(hand-made clusters: a car seen 3 times, a pedestrian twice, a traffic light, a box of another "
               "class over the car; expected scores 0.95, 0.9, 0.5)")
    _check_nms(target, scores, boxes, classes, 2, 0.5, "(the same boxes, max_boxes=2: expected scores 0.95, 0.9)")
    _check_nms(target, scores, boxes, classes, 10, 0.9,
               "(the same boxes, iou_threshold=0.9: only near-copies are suppressed)")
    tie_boxes = np.array([[5, 5, 25, 30], [5, 5, 25, 30], [40, 40, 60, 70]], np.float32)
    _check_nms(target, np.array([0.7, 0.7, 0.6], np.float32), tie_boxes, np.array([1, 1, 3], np.int64), 10, 0.5,
               "(two identical boxes with the same score and class: one of them is kept)")
    _check_nms(target, np.zeros((0,), np.float32), np.zeros((0, 4), np.float32), np.zeros((0,), np.int64), 10, 0.5,
               "(no boxes at all: nothing is kept)")
    check_yolo_non_max_suppression(target, n_objects=6, per_object=4, max_boxes=10, iou_threshold=0.5, seed=1)
    check_yolo_non_max_suppression(target, n_objects=8, per_object=3, max_boxes=5, iou_threshold=0.3, seed=2)
    all_passed()


# --------------------------------------------------------------------------------------------
# yolo_eval

_EVAL_CAUSE = ("boxes = yolo_boxes_to_corners(box_xy, box_wh); yolo_filter_boxes(boxes, box_confidence, "
               "box_class_probs, threshold=score_threshold); boxes = scale_boxes(boxes, image_shape); "
               "yolo_non_max_suppression(scores, boxes, classes, max_boxes, iou_threshold)")
_EVAL_RAISED = ("yolo_outputs is (box_xy, box_wh, box_confidence, box_class_probs), in that order; pass "
                "yolo_filter_boxes its arguments as (boxes, box_confidence, box_class_probs, threshold)")


def synthetic_yolo_outputs(grid=(5, 7), anchors=3, num_classes=4, n_objects=4, score_threshold=0.6,
                           iou_threshold=0.5, image_shape=(720, 1280), seed=1):
    """A made-up yolo_head output whose answer is known: background boxes of low score, and
    ``n_objects`` objects, each seen by 2-4 (cell, anchor) pairs with jittered boxes and high scores.

    Returns a tuple of float32 arrays (box_xy (1, H, W, A, 2), box_wh (1, H, W, A, 2), box_confidence
    (1, H, W, A, 1), box_class_probs (1, H, W, A, C)). Scores stay at least 0.01 from
    score_threshold and the IoUs of the boxes kept by the filter at least 0.02 from iou_threshold (in
    the pixels of ``image_shape``).
    """
    height, width = grid
    slots = height * width * anchors
    for attempt in range(200):
        rng = _rng(seed + 104729 * attempt)
        xy = rng.uniform(0, 1, (slots, 2))
        wh = rng.uniform(0.03, 0.3, (slots, 2))
        conf = rng.uniform(0, 0.4, (slots, 1))
        logits = rng.standard_normal((slots, num_classes))
        probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
        free = list(rng.permutation(slots))
        for _ in range(n_objects):
            centre = rng.uniform(0.15, 0.85, 2)
            size = rng.uniform(0.08, 0.3, 2)
            label = rng.integers(num_classes)
            for _ in range(rng.integers(2, 5)):
                if not free:
                    break
                slot = free.pop()
                xy[slot] = centre + rng.normal(0, 0.04, 2) * size
                wh[slot] = size * rng.uniform(0.85, 1.15, 2)
                conf[slot] = rng.uniform(0.6, 1.0)
                probs[slot] = rng.uniform(0, 0.05, num_classes)
                probs[slot, label] = 1.0 - probs[slot].sum() + probs[slot, label]
        conf, probs = conf.astype(np.float32), probs.astype(np.float32)
        for _ in range(10):   # move scores close to the threshold away from it
            near = np.abs((conf * probs).max(-1) - score_threshold) < _SCORE_MARGIN
            if not near.any():
                break
            conf[near] *= np.float32(0.8)
        outputs = tuple(a.astype(np.float32).reshape((1, height, width, anchors, -1))
                        for a in (xy, wh, conf, probs))
        scores = (outputs[2] * outputs[3]).max(-1)
        if scores.size and np.min(np.abs(scores - score_threshold)) < _SCORE_MARGIN:
            continue
        _, kept, _ = _filter_np(_corners_np(outputs[0], outputs[1]), outputs[2], outputs[3], score_threshold)
        ious = _iou_matrix(kept * np.array([image_shape[0], image_shape[1]] * 2))
        off_diagonal = ious[~np.eye(len(kept), dtype=bool)]
        if off_diagonal.size and np.min(np.abs(off_diagonal - iou_threshold)) < _IOU_MARGIN:
            continue
        return outputs
    raise ValueError("synthetic_yolo_outputs: no layout with scores and IoUs away from the thresholds; change the seed")


def _eval_diagnoses(outputs, image_shape, max_boxes, score_threshold, iou_threshold):
    height, width = image_shape[0], image_shape[1]
    diagnoses = {
        "the boxes are fractions of the image: scale them to pixels with scale_boxes(boxes, image_shape), "
        "after filtering and before non-max suppression":
            _eval_np(outputs, image_shape, max_boxes, score_threshold, iou_threshold, scale=False),
        "the boxes are (x1, y1, x2, y2); yolo_eval returns them as (y1, x1, y2, x2), the order "
        "yolo_boxes_to_corners gives and scale_boxes expects":
            _eval_np(outputs, image_shape, max_boxes, score_threshold, iou_threshold, order="xy"),
        "the corners are (x1, y1, x2, y2) but were scaled as (y1, x1, y2, x2); use yolo_boxes_to_corners, which "
        "gives (y1, x1, y2, x2), the order scale_boxes expects":
            _eval_np(outputs, image_shape, max_boxes, score_threshold, iou_threshold, order="xy, scaled as yx"),
    }
    if tuple(image_shape) != (720, 1280):
        diagnoses["image_shape is ignored (720 x 1280 is written in the code)"] = \
            _eval_np(outputs, (720, 1280), max_boxes, score_threshold, iou_threshold)
    if height != width:
        diagnoses["image_shape is (height, width); it was used as (width, height)"] = \
            _eval_np(outputs, (width, height), max_boxes, score_threshold, iou_threshold)
    if score_threshold != 0.6:
        diagnoses["score_threshold is ignored (yolo_filter_boxes was called without threshold=score_threshold)"] = \
            _eval_np(outputs, image_shape, max_boxes, 0.6, iou_threshold)
    if iou_threshold != 0.5:
        diagnoses["iou_threshold is ignored (pass it on to yolo_non_max_suppression)"] = \
            _eval_np(outputs, image_shape, max_boxes, score_threshold, 0.5)
    if max_boxes != 10:
        diagnoses["max_boxes is ignored (pass it on to yolo_non_max_suppression)"] = \
            _eval_np(outputs, image_shape, 10, score_threshold, iou_threshold)
    return diagnoses


def check_yolo_eval(target, grid=(5, 7), anchors=3, num_classes=4, n_objects=4, image_shape=(720, 1280),
                    max_boxes=10, score_threshold=0.6, iou_threshold=0.5, seed=1, pass_all=True):
    """yolo_eval on :func:`synthetic_yolo_outputs`; with ``pass_all`` False, the defaults are used
    (and must be image_shape=(720, 1280), max_boxes=10, score_threshold=0.6, iou_threshold=0.5)."""
    __tracebackhide__ = True
    fn = "yolo_eval"
    outputs = synthetic_yolo_outputs(grid, anchors, num_classes, n_objects, score_threshold, iou_threshold,
                                     image_shape, seed)
    tensors = tuple(tf.constant(a) for a in outputs)
    kwargs = dict(image_shape=tuple(image_shape), max_boxes=max_boxes, score_threshold=score_threshold,
                  iou_threshold=iou_threshold) if pass_all else {}
    what = (f"(grid {tuple(grid)}, {anchors} anchors, {num_classes} classes, {n_objects} objects, image_shape="
            f"{tuple(image_shape)}, max_boxes={max_boxes}, score_threshold={score_threshold}, "
            f"iou_threshold={iou_threshold}{'' if pass_all else ', the defaults'})")
    result = _call(fn, target, tensors, cause=_EVAL_RAISED, **kwargs,
                   with_reference={"yolo_filter_boxes": _filter_stand_in, "yolo_non_max_suppression": _nms_stand_in})
    got = _triple(fn, result, what)
    expected = _eval_np(outputs, image_shape, max_boxes, score_threshold, iou_threshold)
    _compare(fn, got, expected, what, _eval_diagnoses(outputs, image_shape, max_boxes, score_threshold,
                                                      iou_threshold), _EVAL_CAUSE, box_atol=PIXEL_ATOL, unit=" px")


def yolo_eval_test(target):
    """Visible test of yolo_eval."""
    __tracebackhide__ = True
    check_yolo_eval(target, pass_all=False, seed=1)
    check_yolo_eval(target, grid=(4, 6), anchors=5, num_classes=3, n_objects=7, image_shape=(300, 500),
                    max_boxes=9, score_threshold=0.7, iou_threshold=0.4, seed=2)
    check_yolo_eval(target, grid=(8, 8), anchors=2, num_classes=5, n_objects=6, image_shape=(640, 480),
                    max_boxes=3, score_threshold=0.5, iou_threshold=0.6, seed=4)
    check_yolo_eval(target, grid=(3, 3), anchors=2, num_classes=2, n_objects=0, image_shape=(416, 416), seed=3)
    all_passed()


__all__ = [
    "IOU_CASES",
    "check_iou",
    "check_yolo_eval",
    "check_yolo_filter_boxes",
    "check_yolo_non_max_suppression",
    "iou_test",
    "yolo_eval_test",
    "yolo_filter_boxes_test",
    "yolo_non_max_suppression_test",
    "GradingFailure",
]
