"""Instructor reference of week 3's "Car_Detection_YOLO": the graded functions, original signatures.

Conventions (the original assignment's):

- ``yolo_filter_boxes``: the score of box b for class c is box_confidence[b] * box_class_probs[b, c];
  each box keeps its best class (argmax over the last axis) and is kept when that class score is
  >= threshold. Outputs are flattened over every leading axis (batch, grid rows, columns, anchors),
  in row-major order, as ``tf.boolean_mask`` gives them.
- ``iou``: boxes as corners (x1, y1, x2, y2), x1 < x2 and y1 < y2; the intersection's width and
  height are clipped at 0, union = area1 + area2 - intersection.
- ``yolo_non_max_suppression``: ``tf.image.non_max_suppression`` over ALL boxes, whatever their
  class (the original's semantics: a box of one class can suppress an overlapping box of another
  class); a box is suppressed when its IoU with a kept, higher-scoring box is > iou_threshold; at
  most max_boxes are kept, best score first.
- ``yolo_eval``: boxes from ``yolo_boxes_to_corners`` are (y1, x1, y2, x2) fractions of the image;
  filtered with score_threshold, scaled to pixels by ``scale_boxes(boxes, image_shape)``, then
  non-max suppressed. The boxes returned are (y1, x1, y2, x2) in pixels.
"""

from __future__ import annotations

from helpers.backend import tf
from helpers.models.yolo_utils import scale_boxes, yolo_boxes_to_corners


def yolo_filter_boxes(boxes, box_confidence, box_class_probs, threshold=.6):
    """Keep the boxes whose best class score is >= threshold.

    boxes (..., 4), box_confidence (..., 1), box_class_probs (..., C).
    Returns (scores (N,), boxes (N, 4), classes (N,) int64).
    """
    box_scores = box_confidence * box_class_probs
    box_classes = tf.math.argmax(box_scores, axis=-1)
    box_class_scores = tf.math.reduce_max(box_scores, axis=-1)
    filtering_mask = box_class_scores >= threshold
    scores = tf.boolean_mask(box_class_scores, filtering_mask)
    boxes = tf.boolean_mask(boxes, filtering_mask)
    classes = tf.boolean_mask(box_classes, filtering_mask)
    return scores, boxes, classes


def iou(box1, box2):
    """Intersection over union of two boxes (x1, y1, x2, y2)."""
    (box1_x1, box1_y1, box1_x2, box1_y2) = box1
    (box2_x1, box2_y1, box2_x2, box2_y2) = box2
    xi1 = max(box1_x1, box2_x1)
    yi1 = max(box1_y1, box2_y1)
    xi2 = min(box1_x2, box2_x2)
    yi2 = min(box1_y2, box2_y2)
    inter_width = max(xi2 - xi1, 0)
    inter_height = max(yi2 - yi1, 0)
    inter_area = inter_width * inter_height
    box1_area = (box1_x2 - box1_x1) * (box1_y2 - box1_y1)
    box2_area = (box2_x2 - box2_x1) * (box2_y2 - box2_y1)
    union_area = box1_area + box2_area - inter_area
    return inter_area / union_area


def yolo_non_max_suppression(scores, boxes, classes, max_boxes=10, iou_threshold=0.5):
    """Non-max suppression over all boxes (any class) with tf.image.non_max_suppression."""
    max_boxes_tensor = tf.constant(max_boxes, dtype=tf.int32)
    nms_indices = tf.image.non_max_suppression(boxes, scores, max_boxes_tensor, iou_threshold=iou_threshold)
    scores = tf.gather(scores, nms_indices)
    boxes = tf.gather(boxes, nms_indices)
    classes = tf.gather(classes, nms_indices)
    return scores, boxes, classes


def yolo_eval(yolo_outputs, image_shape=(720, 1280), max_boxes=10, score_threshold=.6, iou_threshold=.5):
    """yolo_head's outputs -> (scores, boxes (y1, x1, y2, x2) in pixels, classes) after filtering and NMS."""
    box_xy, box_wh, box_confidence, box_class_probs = yolo_outputs
    boxes = yolo_boxes_to_corners(box_xy, box_wh)
    scores, boxes, classes = yolo_filter_boxes(boxes, box_confidence, box_class_probs, threshold=score_threshold)
    boxes = scale_boxes(boxes, image_shape)
    scores, boxes, classes = yolo_non_max_suppression(scores, boxes, classes, max_boxes=max_boxes,
                                                      iou_threshold=iou_threshold)
    return scores, boxes, classes
