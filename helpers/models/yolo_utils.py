"""Helpers of week 3's "Car_Detection_YOLO" that students are given (not graded).

The original assignment gives these two functions from its ``yad2k`` package; they are written
here with the same names, arguments and conventions:

- :func:`yolo_boxes_to_corners` turns centre/size boxes into corners ordered **(y1, x1, y2, x2)**
  (top, left, bottom, right), the order ``tf.image.non_max_suppression`` and the original
  ``yolo_eval`` use. (The graded ``iou(box1, box2)`` takes (x1, y1, x2, y2); IoU is the same for
  both orders as long as both boxes use the same one.)
- :func:`scale_boxes` multiplies such boxes, given as fractions of the image, by
  (height, width, height, width) to get pixels.

:func:`yolo_outputs_for_image` runs a YOLOv2-style network (``(N, S, S, 3)`` RGB in [0, 255] ->
``(N, S/32, S/32, A * (5 + C))``) on one photo of any size and decodes it with
:func:`helpers.models.tiny_yolo.yolo_head`; the photo is first padded to a square with black at the
bottom or right (letterboxing), so ``yolo_eval(yolo_outputs, image_shape=square_shape)`` gives boxes
directly in the photo's pixels. The week-3 notebook runs the pretrained face detector through it, and
any other detector with the same output layout (e.g. one trained on the street scenes) can use the
same code path.
"""

from __future__ import annotations

import numpy as np

from helpers.backend import tf
from helpers.models.tiny_yolo import letterbox, yolo_head


def yolo_boxes_to_corners(box_xy, box_wh):
    """Boxes given by centre and size -> corners (y1, x1, y2, x2), in the same units.

    box_xy: (..., 2) centres (x, y); box_wh: (..., 2) widths and heights (w, h); tensors or arrays.
    Returns a float32 tensor (..., 4): (y_min, x_min, y_max, x_max) = (y - h/2, x - w/2, y + h/2, x + w/2).
    """
    box_xy = tf.convert_to_tensor(box_xy, dtype=tf.float32)
    box_wh = tf.convert_to_tensor(box_wh, dtype=tf.float32)
    box_mins = box_xy - box_wh / 2.0
    box_maxes = box_xy + box_wh / 2.0
    return tf.concat([
        box_mins[..., 1:2],   # y_min
        box_mins[..., 0:1],   # x_min
        box_maxes[..., 1:2],  # y_max
        box_maxes[..., 0:1],  # x_max
    ], axis=-1)


def scale_boxes(boxes, image_shape):
    """Boxes (y1, x1, y2, x2) as fractions of the image -> pixels of an image of ``image_shape``.

    boxes: (N, 4) tensor or array; image_shape: (height, width) (more entries are ignored).
    Returns a float32 tensor (N, 4): boxes * (height, width, height, width).
    """
    height = float(image_shape[0])
    width = float(image_shape[1])
    image_dims = tf.reshape(tf.constant([height, width, height, width], dtype=tf.float32), [1, 4])
    return tf.convert_to_tensor(boxes, dtype=tf.float32) * image_dims


def yolo_outputs_for_image(model, image_uint8, anchors, num_classes):
    """Run a YOLOv2-style ``model`` on one RGB photo and decode its output with ``yolo_head``.

    model: Keras model, (1, S, S, 3) RGB in [0, 255] -> (1, S/32, S/32, A * (5 + num_classes)), e.g.
    :func:`helpers.models.tiny_yolo.load_tiny_face_detector`; image_uint8: (H, W, 3) uint8;
    anchors: (A, 2) in grid cells; num_classes: C.

    Returns (yolo_outputs, image_shape): yolo_outputs = (box_xy, box_wh, box_confidence,
    box_class_probs) as ``yolo_head`` returns them (fractions of the padded square); image_shape =
    (side, side) with side = max(H, W), the padded square's size in the photo's pixels. Since the
    photo sits at the top-left of that square, ``yolo_eval(yolo_outputs, image_shape)`` gives boxes
    (y1, x1, y2, x2) in the photo's own pixels (a box may reach into the black padding).
    """
    image = np.asarray(image_uint8)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"yolo_outputs_for_image: expected an (H, W, 3) RGB image, got shape {image.shape}")
    size = model.input_shape[1] or 416
    batch, _ = letterbox(image.astype(np.uint8), size)
    features = model(batch, training=False)
    side = max(image.shape[:2])
    return yolo_head(features, anchors, num_classes), (side, side)


__all__ = ["yolo_boxes_to_corners", "scale_boxes", "yolo_outputs_for_image"]
