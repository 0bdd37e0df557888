"""Variants of the week-3 Car_Detection_YOLO functions: usual mistakes (must lose points) and other
correct ways (must keep them).

Each is written as a student would in the notebook, with its names: np, tf, the given
yolo_boxes_to_corners and scale_boxes, and the notebook's other graded functions. The hard-coded
variants are right only for what the visible tests use (shapes, thresholds, coordinate ranges or
image sizes) and must fail only the hidden tests.
"""

# ruff: noqa: F821

import numpy as np

from helpers.backend import tf
from tests.variants import variant

# --------------------------------------------------------------------------------------------
# yolo_filter_boxes


@variant("yolo_filter_boxes", "buggy", "strict comparison (>) instead of >=")
def yolo_filter_boxes_strict(boxes, box_confidence, box_class_probs, threshold=.6):
    box_scores = box_confidence * box_class_probs
    box_classes = tf.math.argmax(box_scores, axis=-1)
    box_class_scores = tf.math.reduce_max(box_scores, axis=-1)
    mask = box_class_scores > threshold
    return tf.boolean_mask(box_class_scores, mask), tf.boolean_mask(boxes, mask), tf.boolean_mask(box_classes, mask)


@variant("yolo_filter_boxes", "buggy", "confidence not multiplied (threshold on the class probabilities)")
def yolo_filter_boxes_no_confidence(boxes, box_confidence, box_class_probs, threshold=.6):
    box_classes = tf.math.argmax(box_class_probs, axis=-1)
    box_class_scores = tf.math.reduce_max(box_class_probs, axis=-1)
    mask = box_class_scores >= threshold
    return tf.boolean_mask(box_class_scores, mask), tf.boolean_mask(boxes, mask), tf.boolean_mask(box_classes, mask)


@variant("yolo_filter_boxes", "buggy", "threshold on the box confidence alone")
def yolo_filter_boxes_confidence_only(boxes, box_confidence, box_class_probs, threshold=.6):
    box_scores = box_confidence * box_class_probs
    box_classes = tf.math.argmax(box_scores, axis=-1)
    box_class_scores = tf.math.reduce_max(box_scores, axis=-1)
    mask = box_confidence[..., 0] >= threshold
    return tf.boolean_mask(box_class_scores, mask), tf.boolean_mask(boxes, mask), tf.boolean_mask(box_classes, mask)


@variant("yolo_filter_boxes", "buggy", "max over the wrong axis (axis=0)")
def yolo_filter_boxes_wrong_axis(boxes, box_confidence, box_class_probs, threshold=.6):
    box_scores = box_confidence * box_class_probs
    box_classes = tf.math.argmax(box_scores, axis=0)
    box_class_scores = tf.math.reduce_max(box_scores, axis=0)
    mask = box_class_scores >= threshold
    return tf.boolean_mask(box_class_scores, mask), tf.boolean_mask(boxes, mask), tf.boolean_mask(box_classes, mask)


@variant("yolo_filter_boxes", "buggy", "hard-coded for the visible tests' thresholds")
def yolo_filter_boxes_hard_coded(boxes, box_confidence, box_class_probs, threshold=.6):
    if threshold not in (0.5, 0.375, 0.99):
        threshold = 0.5
    box_scores = box_confidence * box_class_probs
    box_classes = tf.math.argmax(box_scores, axis=-1)
    box_class_scores = tf.math.reduce_max(box_scores, axis=-1)
    mask = box_class_scores >= threshold
    return tf.boolean_mask(box_class_scores, mask), tf.boolean_mask(boxes, mask), tf.boolean_mask(box_classes, mask)


@variant("yolo_filter_boxes", "correct", "numpy boolean indexing, classes from the probabilities")
def yolo_filter_boxes_numpy(boxes, box_confidence, box_class_probs, threshold=.6):
    box_scores = np.asarray(box_confidence) * np.asarray(box_class_probs)
    classes = np.argmax(np.asarray(box_class_probs), axis=-1)   # the confidence does not change the argmax
    best = np.max(box_scores, axis=-1)
    keep = best >= threshold
    return best[keep], np.asarray(boxes)[keep], classes[keep]


@variant("yolo_filter_boxes", "correct", "reshape to rows, then tf.gather with tf.where")
def yolo_filter_boxes_gather(boxes, box_confidence, box_class_probs, threshold=.6):
    num_classes = box_class_probs.shape[-1]
    scores = tf.reshape(box_confidence * box_class_probs, [-1, num_classes])
    flat_boxes = tf.reshape(boxes, [-1, 4])
    best = tf.reduce_max(scores, axis=1)
    index = tf.where(best >= threshold)[:, 0]
    return tf.gather(best, index), tf.gather(flat_boxes, index), tf.gather(tf.argmax(scores, axis=1), index)


# --------------------------------------------------------------------------------------------
# iou


@variant("iou", "buggy", "intersection not clipped at 0")
def iou_not_clipped(box1, box2):
    (x1, y1, x2, y2), (a1, b1, a2, b2) = box1, box2
    inter = (min(x2, a2) - max(x1, a1)) * (min(y2, b2) - max(y1, b1))
    return inter / ((x2 - x1) * (y2 - y1) + (a2 - a1) * (b2 - b1) - inter)


@variant("iou", "buggy", "union counts the intersection twice")
def iou_double_union(box1, box2):
    (x1, y1, x2, y2), (a1, b1, a2, b2) = box1, box2
    inter = max(min(x2, a2) - max(x1, a1), 0) * max(min(y2, b2) - max(y1, b1), 0)
    return inter / ((x2 - x1) * (y2 - y1) + (a2 - a1) * (b2 - b1))


@variant("iou", "buggy", "area clipped after multiplying")
def iou_product_clipped(box1, box2):
    (x1, y1, x2, y2), (a1, b1, a2, b2) = box1, box2
    inter = max((min(x2, a2) - max(x1, a1)) * (min(y2, b2) - max(y1, b1)), 0)
    return inter / ((x2 - x1) * (y2 - y1) + (a2 - a1) * (b2 - b1) - inter)


@variant("iou", "buggy", "pixel-count convention (+1 on widths and heights)")
def iou_plus_one(box1, box2):
    (x1, y1, x2, y2), (a1, b1, a2, b2) = box1, box2
    inter = max(min(x2, a2) - max(x1, a1) + 1, 0) * max(min(y2, b2) - max(y1, b1) + 1, 0)
    return inter / ((x2 - x1 + 1) * (y2 - y1 + 1) + (a2 - a1 + 1) * (b2 - b1 + 1) - inter)


@variant("iou", "buggy", "hard-coded for the visible tests' coordinate range")
def iou_hard_coded(box1, box2):
    if max(abs(v) for v in (*box1, *box2)) > 40:
        return 0.0
    (x1, y1, x2, y2), (a1, b1, a2, b2) = box1, box2
    inter = max(min(x2, a2) - max(x1, a1), 0) * max(min(y2, b2) - max(y1, b1), 0)
    return inter / ((x2 - x1) * (y2 - y1) + (a2 - a1) * (b2 - b1) - inter)


@variant("iou", "correct", "numpy arrays and np.clip")
def iou_numpy(box1, box2):
    a, b = np.asarray(box1, dtype=float), np.asarray(box2, dtype=float)
    top_left, bottom_right = np.maximum(a[:2], b[:2]), np.minimum(a[2:], b[2:])
    inter = np.prod(np.clip(bottom_right - top_left, 0, None))
    union = np.prod(a[2:] - a[:2]) + np.prod(b[2:] - b[:2]) - inter
    return inter / union


@variant("iou", "correct", "TensorFlow ops, returns a scalar tensor")
def iou_tensorflow(box1, box2):
    a, b = tf.constant(box1, tf.float64), tf.constant(box2, tf.float64)
    size = tf.nn.relu(tf.minimum(a[2:], b[2:]) - tf.maximum(a[:2], b[:2]))
    inter = size[0] * size[1]
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


# --------------------------------------------------------------------------------------------
# yolo_non_max_suppression


@variant("yolo_non_max_suppression", "buggy", "per-class NMS")
def yolo_non_max_suppression_per_class(scores, boxes, classes, max_boxes=10, iou_threshold=0.5):
    kept = []
    for c in np.unique(classes.numpy()):
        index = tf.where(classes == c)[:, 0]
        chosen = tf.image.non_max_suppression(tf.gather(boxes, index), tf.gather(scores, index), max_boxes,
                                              iou_threshold=iou_threshold)
        kept.append(tf.gather(index, chosen))
    index = tf.concat(kept, axis=0) if kept else tf.zeros((0,), tf.int64)
    index = tf.gather(index, tf.argsort(tf.gather(scores, index), direction="DESCENDING"))[:max_boxes]
    return tf.gather(scores, index), tf.gather(boxes, index), tf.gather(classes, index)


@variant("yolo_non_max_suppression", "buggy", "iou_threshold ignored (0.5)")
def yolo_non_max_suppression_fixed_threshold(scores, boxes, classes, max_boxes=10, iou_threshold=0.5):
    index = tf.image.non_max_suppression(boxes, scores, max_boxes, iou_threshold=0.5)
    return tf.gather(scores, index), tf.gather(boxes, index), tf.gather(classes, index)


@variant("yolo_non_max_suppression", "buggy", "max_boxes ignored")
def yolo_non_max_suppression_no_limit(scores, boxes, classes, max_boxes=10, iou_threshold=0.5):
    index = tf.image.non_max_suppression(boxes, scores, 1000, iou_threshold=iou_threshold)
    return tf.gather(scores, index), tf.gather(boxes, index), tf.gather(classes, index)


@variant("yolo_non_max_suppression", "buggy", "no suppression, only the best max_boxes")
def yolo_non_max_suppression_top_k(scores, boxes, classes, max_boxes=10, iou_threshold=0.5):
    index = tf.argsort(scores, direction="DESCENDING")[:max_boxes]
    return tf.gather(scores, index), tf.gather(boxes, index), tf.gather(classes, index)


@variant("yolo_non_max_suppression", "buggy", "hard-coded for the visible tests' thresholds")
def yolo_non_max_suppression_hard_coded(scores, boxes, classes, max_boxes=10, iou_threshold=0.5):
    if iou_threshold not in (0.5, 0.9, 0.3):
        iou_threshold = 0.5
    index = tf.image.non_max_suppression(boxes, scores, max_boxes, iou_threshold=iou_threshold)
    return tf.gather(scores, index), tf.gather(boxes, index), tf.gather(classes, index)


@variant("yolo_non_max_suppression", "correct", "greedy loop with the notebook's iou")
def yolo_non_max_suppression_loop(scores, boxes, classes, max_boxes=10, iou_threshold=0.5):
    scores, boxes, classes = np.asarray(scores), np.asarray(boxes), np.asarray(classes)
    keep = []
    for i in np.argsort(-scores, kind="stable"):
        if len(keep) == max_boxes:
            break
        if all(iou(boxes[i], boxes[k]) <= iou_threshold for k in keep):
            keep.append(i)
    keep = np.array(keep, dtype=int)
    return scores[keep], boxes[keep].reshape(-1, 4), classes[keep]


@variant("yolo_non_max_suppression", "correct", "the original: a tf.Variable for max_boxes")
def yolo_non_max_suppression_variable(scores, boxes, classes, max_boxes=10, iou_threshold=0.5):
    max_boxes_tensor = tf.Variable(max_boxes, dtype="int32")
    nms_indices = tf.image.non_max_suppression(boxes, scores, max_boxes_tensor, iou_threshold=iou_threshold)
    return tf.gather(scores, nms_indices), tf.gather(boxes, nms_indices), tf.gather(classes, nms_indices)


# --------------------------------------------------------------------------------------------
# yolo_eval


@variant("yolo_eval", "buggy", "forgets scale_boxes")
def yolo_eval_unscaled(yolo_outputs, image_shape=(720, 1280), max_boxes=10, score_threshold=.6, iou_threshold=.5):
    box_xy, box_wh, box_confidence, box_class_probs = yolo_outputs
    boxes = yolo_boxes_to_corners(box_xy, box_wh)
    scores, boxes, classes = yolo_filter_boxes(boxes, box_confidence, box_class_probs, score_threshold)
    return yolo_non_max_suppression(scores, boxes, classes, max_boxes, iou_threshold)


@variant("yolo_eval", "buggy", "corners in (x1, y1, x2, y2) order")
def yolo_eval_xy_corners(yolo_outputs, image_shape=(720, 1280), max_boxes=10, score_threshold=.6, iou_threshold=.5):
    box_xy, box_wh, box_confidence, box_class_probs = yolo_outputs
    boxes = tf.concat([box_xy - box_wh / 2, box_xy + box_wh / 2], axis=-1)
    scores, boxes, classes = yolo_filter_boxes(boxes, box_confidence, box_class_probs, score_threshold)
    height, width = image_shape
    boxes = boxes * tf.constant([[width, height, width, height]], tf.float32)
    return yolo_non_max_suppression(scores, boxes, classes, max_boxes, iou_threshold)


@variant("yolo_eval", "buggy", "score_threshold not passed on")
def yolo_eval_default_threshold(yolo_outputs, image_shape=(720, 1280), max_boxes=10, score_threshold=.6,
                                iou_threshold=.5):
    box_xy, box_wh, box_confidence, box_class_probs = yolo_outputs
    boxes = yolo_boxes_to_corners(box_xy, box_wh)
    scores, boxes, classes = yolo_filter_boxes(boxes, box_confidence, box_class_probs)
    boxes = scale_boxes(boxes, image_shape)
    return yolo_non_max_suppression(scores, boxes, classes, max_boxes, iou_threshold)


@variant("yolo_eval", "buggy", "image_shape ignored (720 x 1280)")
def yolo_eval_fixed_shape(yolo_outputs, image_shape=(720, 1280), max_boxes=10, score_threshold=.6, iou_threshold=.5):
    box_xy, box_wh, box_confidence, box_class_probs = yolo_outputs
    boxes = yolo_boxes_to_corners(box_xy, box_wh)
    scores, boxes, classes = yolo_filter_boxes(boxes, box_confidence, box_class_probs, score_threshold)
    boxes = scale_boxes(boxes, (720, 1280))
    return yolo_non_max_suppression(scores, boxes, classes, max_boxes, iou_threshold)


@variant("yolo_eval", "buggy", "hard-coded for the visible tests' image sizes")
def yolo_eval_hard_coded(yolo_outputs, image_shape=(720, 1280), max_boxes=10, score_threshold=.6, iou_threshold=.5):
    if tuple(image_shape) not in ((720, 1280), (300, 500), (640, 480), (416, 416)):
        image_shape = (720, 1280)
    box_xy, box_wh, box_confidence, box_class_probs = yolo_outputs
    boxes = yolo_boxes_to_corners(box_xy, box_wh)
    scores, boxes, classes = yolo_filter_boxes(boxes, box_confidence, box_class_probs, score_threshold)
    boxes = scale_boxes(boxes, image_shape)
    return yolo_non_max_suppression(scores, boxes, classes, max_boxes, iou_threshold)


@variant("yolo_eval", "correct", "keyword arguments, scale_boxes after NMS (IoU is unchanged by scaling)")
def yolo_eval_scale_last(yolo_outputs, image_shape=(720, 1280), max_boxes=10, score_threshold=.6, iou_threshold=.5):
    box_xy, box_wh, box_confidence, box_class_probs = yolo_outputs
    boxes = yolo_boxes_to_corners(box_xy, box_wh)
    scores, boxes, classes = yolo_filter_boxes(boxes=boxes, box_confidence=box_confidence,
                                               box_class_probs=box_class_probs, threshold=score_threshold)
    scores, boxes, classes = yolo_non_max_suppression(scores, boxes, classes, max_boxes=max_boxes,
                                                      iou_threshold=iou_threshold)
    return scores, scale_boxes(boxes, image_shape), classes


@variant("yolo_eval", "correct", "corners and scaling written out in numpy")
def yolo_eval_numpy(yolo_outputs, image_shape=(720, 1280), max_boxes=10, score_threshold=.6, iou_threshold=.5):
    box_xy, box_wh, box_confidence, box_class_probs = (np.asarray(t) for t in yolo_outputs)
    x, y = box_xy[..., 0], box_xy[..., 1]
    w, h = box_wh[..., 0], box_wh[..., 1]
    boxes = np.stack([y - h / 2, x - w / 2, y + h / 2, x + w / 2], axis=-1)
    scores, boxes, classes = yolo_filter_boxes(boxes, box_confidence, box_class_probs, score_threshold)
    height, width = image_shape
    boxes = np.asarray(boxes) * np.array([height, width, height, width], dtype=np.float32)
    return yolo_non_max_suppression(scores, tf.constant(boxes, tf.float32), classes, max_boxes, iou_threshold)
