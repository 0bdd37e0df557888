"""A real pretrained Tiny-YOLOv2 face detector in Keras, and the YOLOv2 head that decodes it.

The network is the "tiny face detector" of the npm package ``@vladmandic/face-api`` 1.7.15 (MIT,
see ``weights/NOTICE``): a Tiny-YOLOv2 whose 3x3 convolutions (but the first) are depthwise-
separable, with batch normalisation folded into the weights. It looks at a 416 x 416 RGB image and
predicts, for every cell of a 13 x 13 grid and each of 5 anchor boxes, a box and a "there is a
face" confidence. Its weights were converted once by ``scripts/convert_tiny_face_detector.py``
into ``weights/tiny_face_detector.npz`` (float32, keys ``"<layer name>/<weight index>"``, about
0.2 M parameters); no TensorFlow.js is needed to run it.

Network (input side length S, a multiple of 32; S = 416 gives a 13 x 13 grid)::

    RGB in [0, 255]  (N, S, S, 3)
    normalise        (x - mean RGB) / 255                                   (N, S, S, 3)
    conv0            3x3 conv, 16, 'valid' (no padding), leaky ReLU 0.1     (N, S-2, S-2, 16)
    pool0            2x2 max pool, stride 2, 'same'                         (N, S/2-1, S/2-1, 16)
    sep_conv1, pool1 3x3 separable conv 32 'same' + leaky, max pool /2      (N, S/4, S/4, 32)
    sep_conv2, pool2 64 channels                                            (N, S/8, S/8, 64)
    sep_conv3, pool3 128 channels                                           (N, S/16, S/16, 128)
    sep_conv4, pool4 256 channels                                           (N, S/32, S/32, 256)
    sep_conv5, pool5 512 channels, then a 2x2 max pool with stride 1        (N, S/32, S/32, 512)
    head_conv        1x1 conv, 5 anchors x (4 box numbers + 1 confidence + 1 class logit)
                                                                            (N, S/32, S/32, 30)

The original network has 25 output channels: one class needs no class score. The converter
inserts a 6th number per anchor, a class logit whose weights and bias are zero, so the output has
the layout of the original course's YOLOv2 (``5 + num_classes`` numbers per anchor: x, y, w, h,
confidence, class logits) and :func:`yolo_head` decodes it unchanged; softmax over one class is 1.

Typical use::

    from helpers.models.tiny_yolo import load_tiny_face_detector, yolo_head, ANCHORS, detect_faces
    faces = detect_faces(image)                    # image: (H, W, 3) uint8 -> [(score, (x1, y1, x2, y2)), ...]

    model = load_tiny_face_detector()              # (N, 416, 416, 3) in [0, 255] -> (N, 13, 13, 30)
    box_xy, box_wh, box_confidence, box_class_probs = yolo_head(model(batch), ANCHORS, 1)
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from helpers.backend import keras, tf
from helpers.models.npz_weights import load_npz_weights

#: The converted weights (float32 arrays in a numpy ``.npz`` archive).
WEIGHTS_PATH = Path(__file__).resolve().parent / "weights" / "tiny_face_detector.npz"
#: SHA-256 of :data:`WEIGHTS_PATH`, checked before loading (printed by the conversion script).
WEIGHTS_SHA256 = "60f2522659685ea55c70828265ddcb6a31a75b38141caac145188e0101c2d5ca"

#: Input side length the detector was trained at; any multiple of 32 works.
DEFAULT_INPUT_SIZE = 416
#: One grid cell covers this many input pixels (five 2x poolings).
GRID_STRIDE = 32
#: The five anchor boxes as (width, height) in grid cells (13 cells = the whole 416 input), from
#: face-api's ``src/tinyFaceDetector/const.ts``. Shape (5, 2).
ANCHORS = np.array([
    [1.603231, 2.094468],
    [6.041143, 7.080126],
    [2.882459, 3.518061],
    [4.266906, 5.178857],
    [9.041765, 10.66308],
], dtype=np.float32)
#: Mean R, G, B the network's training images were centred with (same file); inputs are then / 255.
MEAN_RGB = (117.001, 114.697, 97.404)
#: One class: "face".
CLASS_NAMES = ("face",)
#: Channels of the separable convolutions sep_conv1 ... sep_conv5 (conv0 has 16).
SEPARABLE_CHANNELS = (32, 64, 128, 256, 512)
#: Slope of the leaky ReLU for negative inputs.
LEAKY_SLOPE = 0.1


def tiny_face_detector(input_size: int | None = DEFAULT_INPUT_SIZE, num_anchors: int = len(ANCHORS),
                       num_classes: int = len(CLASS_NAMES)):
    """Build the Tiny-YOLOv2 face detector (random weights; :func:`load_tiny_face_detector` loads them).

    Inputs:
    - input_size: side length S of the square input, a positive multiple of 32 (416 for the
      pretrained weights' native resolution), or None for a model that accepts any square or
      rectangular input whose sides are multiples of 32
    - num_anchors: anchor boxes per grid cell (5 for the pretrained weights)
    - num_classes: class logits per anchor (1 for the pretrained weights)

    Returns a Keras Model named ``tiny_face_detector``: input (None, S, S, 3) RGB with values in
    [0, 255] (normalisation is inside the model), output (None, S/32, S/32, num_anchors * (5 +
    num_classes)) raw features -- (None, 13, 13, 30) for the default -- to decode with
    :func:`yolo_head`.
    """
    if input_size is not None:
        if isinstance(input_size, bool) or not isinstance(input_size, (int, np.integer)) \
                or input_size < GRID_STRIDE or input_size % GRID_STRIDE:
            raise ValueError(f"tiny_face_detector: input_size must be a positive multiple of {GRID_STRIDE} "
                             f"(e.g. 416) or None, got {input_size!r}")
        input_size = int(input_size)
    for label, value in (("num_anchors", num_anchors), ("num_classes", num_classes)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"tiny_face_detector: {label} must be a positive integer, got {value!r}")

    layers = keras.layers
    images = keras.Input(shape=(input_size, input_size, 3), name="image")
    # (x - mean) / 255 as x * (1/255) + (-mean/255), per channel.
    x = layers.Rescaling(scale=1.0 / 255.0, offset=[-m / 255.0 for m in MEAN_RGB], name="normalise")(images)
    # The first convolution is a plain 3x3 one without padding: a 416 input becomes 414 x 414.
    x = layers.Conv2D(16, 3, padding="valid", name="conv0")(x)
    x = layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name="conv0_leaky")(x)
    x = layers.MaxPooling2D(2, strides=2, padding="same", name="pool0")(x)
    for index, channels in enumerate(SEPARABLE_CHANNELS, start=1):
        # Batch norm is folded into the pointwise weights and the bias.
        x = layers.SeparableConv2D(channels, 3, padding="same", name=f"sep_conv{index}")(x)
        x = layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name=f"sep_conv{index}_leaky")(x)
        # Four poolings halve the map; the last keeps 13 x 13 (stride 1, padded at bottom/right).
        stride = 2 if index < len(SEPARABLE_CHANNELS) else 1
        x = layers.MaxPooling2D(2, strides=stride, padding="same", name=f"pool{index}")(x)
    features = layers.Conv2D(num_anchors * (5 + num_classes), 1, name="head_conv")(x)
    return keras.Model(images, features, name="tiny_face_detector")


def load_tiny_face_detector(input_size: int | None = DEFAULT_INPUT_SIZE, path=None, sha256: str | None = WEIGHTS_SHA256):
    """Build :func:`tiny_face_detector` and load the shipped pretrained weights.

    Inputs:
    - input_size: as for :func:`tiny_face_detector` (416 by default; the weights fit any multiple of 32)
    - path: an ``.npz`` of these weights; default :data:`WEIGHTS_PATH`, the converted face-api file
    - sha256: the SHA-256 the file must have (default :data:`WEIGHTS_SHA256`); None skips the check,
      e.g. for weights fine-tuned here

    Returns the Keras Model, (N, S, S, 3) RGB in [0, 255] -> (N, S/32, S/32, 30) raw features.
    Raises ValueError if the file is missing, has another SHA-256 (damaged, replaced, or a Git LFS
    pointer) or does not fit the network.
    """
    model = tiny_face_detector(input_size)
    load_npz_weights(model, WEIGHTS_PATH if path is None else path, sha256=sha256,
                     what="Tiny-YOLOv2 face detector weights")
    return model


def yolo_head(features, anchors, num_classes):
    """Turn a YOLOv2 network's raw features into boxes, confidences and class probabilities.

    Same maths and outputs as the ``yolo_head`` of the original course (YAD2K). For the cell in row
    ``i`` and column ``j`` of an H x W grid and anchor ``a`` with raw numbers ``t``:

    - box_xy = ((sigmoid(t_x) + j) / W, (sigmoid(t_y) + i) / H): the box centre as a fraction of
      the image (x across, y down);
    - box_wh = (exp(t_w) * anchor_w / W, exp(t_h) * anchor_h / H): width and height as fractions
      of the image (anchors are in grid cells);
    - box_confidence = sigmoid(t_c): probability that the box holds an object;
    - box_class_probs = softmax(class logits): probability of each class given an object.

    Inputs:
    - features: (batch, H, W, A * (5 + num_classes)) raw network output (numpy array or eager
      tensor, e.g. ``model(images)``); each anchor's numbers are laid out as x, y, w, h,
      confidence, class logits
    - anchors: (A, 2) anchor widths and heights in grid cells, e.g. :data:`ANCHORS`
    - num_classes: number of classes C (1 for the face detector)

    Returns a tuple of float32 tensors (box_xy, box_wh, box_confidence, box_class_probs) with
    shapes (batch, H, W, A, 2), (batch, H, W, A, 2), (batch, H, W, A, 1), (batch, H, W, A, C).
    """
    anchors = np.asarray(anchors, dtype=np.float32)
    if anchors.ndim != 2 or anchors.shape[1] != 2 or anchors.shape[0] < 1:
        raise ValueError(f"yolo_head: anchors must have shape (num_anchors, 2) (width, height in grid cells), "
                         f"got shape {anchors.shape}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"yolo_head: num_classes must be a positive integer, got {num_classes!r}")
    features = tf.convert_to_tensor(features, dtype=tf.float32)
    if features.shape.rank != 4:
        raise ValueError(f"yolo_head: features must have shape (batch, grid height, grid width, channels), "
                         f"got shape {tuple(features.shape)}")
    num_anchors = anchors.shape[0]
    expected = num_anchors * (5 + int(num_classes))
    if features.shape[-1] != expected:
        raise ValueError(f"yolo_head: features have {features.shape[-1]} channels, expected "
                         f"{num_anchors} anchors x (5 + {num_classes} classes) = {expected}")

    grid_height, grid_width = tf.shape(features)[1], tf.shape(features)[2]
    features = tf.reshape(features, [-1, grid_height, grid_width, num_anchors, 5 + int(num_classes)])
    # Cell offsets (column j, row i) for every cell, shaped (1, H, W, 1, 2) to broadcast over batch and anchors.
    columns, rows = tf.meshgrid(tf.range(grid_width), tf.range(grid_height))
    cell_offset = tf.cast(tf.stack([columns, rows], axis=-1)[tf.newaxis, :, :, tf.newaxis, :], tf.float32)
    grid_size = tf.cast(tf.stack([grid_width, grid_height]), tf.float32)  # (W, H): x divides by W, y by H
    box_xy = (tf.sigmoid(features[..., 0:2]) + cell_offset) / grid_size
    box_wh = tf.exp(features[..., 2:4]) * anchors / grid_size
    box_confidence = tf.sigmoid(features[..., 4:5])
    box_class_probs = tf.nn.softmax(features[..., 5:], axis=-1)
    return box_xy, box_wh, box_confidence, box_class_probs


def letterbox(image_uint8, input_size: int = DEFAULT_INPUT_SIZE):
    """Pad an image to a square with black at the bottom or right, then resize it, as face-api does.

    Inputs:
    - image_uint8: (H, W, 3) RGB image, uint8
    - input_size: side length of the result (a multiple of 32)

    Returns (batch, scale): batch is a (1, input_size, input_size, 3) float32 tensor with values in
    [0, 255]; scale = max(H, W) / input_size turns its pixel coordinates back into the image's (the
    image keeps its top-left corner at (0, 0)). Resizing is bilinear without half-pixel centres,
    like TensorFlow.js's ``resizeBilinear``.
    """
    height, width = image_uint8.shape[:2]
    side = max(height, width)
    padded = np.zeros((1, side, side, 3), dtype=np.float32)
    padded[0, :height, :width] = image_uint8
    batch = tf.raw_ops.ResizeBilinear(images=padded, size=[input_size, input_size],
                                      align_corners=False, half_pixel_centers=False)
    return batch, side / input_size


@lru_cache(maxsize=1)
def _shared_detector():
    """The pretrained 416 x 416 model, built once per process for :func:`detect_faces`."""
    return load_tiny_face_detector(DEFAULT_INPUT_SIZE)


@lru_cache(maxsize=4)
def _compiled_forward(model):
    """``model`` wrapped in a ``tf.function``: a traced graph runs a 416 x 416 image about 4x faster
    on a CPU than an eager Keras call (measured 17 ms vs 80 ms on 2 busy cores)."""
    return tf.function(lambda batch: model(batch, training=False), reduce_retracing=True)


def _check_fraction(name, value, low_open=False):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
            or not np.isfinite(value) or not (0 < value < 1 if low_open else 0 <= value <= 1):
        interval = "(0, 1)" if low_open else "[0, 1]"
        raise ValueError(f"detect_faces: {name} must be a number in {interval}, got {value!r}")


def detect_faces(image_uint8, score_threshold=0.5, iou_threshold=0.4, max_faces=10, model=None):
    """Find the faces in one RGB photo with the pretrained Tiny-YOLOv2 face detector.

    Steps (as face-api's ``TinyFaceDetector``): pad the photo to a square with black at the bottom
    or right and resize it to 416 x 416; run the network; decode with :func:`yolo_head`; keep boxes
    whose score (confidence x class probability, here the confidence) exceeds ``score_threshold``;
    non-max suppression with ``tf.image.non_max_suppression``; scale back to the photo's pixels.
    On the test photos the result equals face-api's own ``locateFaces`` to within 0.02 pixel and
    1e-5 in score (``scripts/convert_tiny_face_detector.py --compare-with-face-api``).

    Inputs:
    - image_uint8: (H, W, 3) RGB photo, numpy uint8 (e.g. ``skimage.data.astronaut()``)
    - score_threshold: keep boxes scoring above this, in (0, 1); face-api's default 0.5
    - iou_threshold: suppress a box overlapping a better one with IoU above this, in [0, 1]; 0.4
    - max_faces: at most this many faces, a positive integer
    - model: a loaded detector (see :func:`load_tiny_face_detector`, any input size); default the
      shipped 416 x 416 one, built on first use

    Returns a list of (score, (x1, y1, x2, y2)), best score first: score a float in (0, 1], the box
    as floats in pixel coordinates of ``image_uint8`` (x across, y down, clipped to the photo).
    Raises ValueError for a non-uint8 or non-RGB image or an out-of-range argument.
    """
    image = image_uint8
    if not isinstance(image, np.ndarray):
        raise ValueError(f"detect_faces: image_uint8 must be a numpy array, got {type(image).__name__}")
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError(f"detect_faces: image_uint8 must be an RGB image of shape (H, W, 3), got shape "
                         f"{image.shape} (grayscale: np.stack([img] * 3, axis=-1); RGBA: img[..., :3])")
    if image.dtype != np.uint8:
        raise ValueError(f"detect_faces: image_uint8 must have dtype uint8 (values 0-255), got {image.dtype} "
                         "(a float image in [0, 1]: (img * 255).round().astype(np.uint8))")
    _check_fraction("score_threshold", score_threshold, low_open=True)
    _check_fraction("iou_threshold", iou_threshold)
    if isinstance(max_faces, bool) or not isinstance(max_faces, (int, np.integer)) or max_faces < 1:
        raise ValueError(f"detect_faces: max_faces must be a positive integer, got {max_faces!r}")

    if model is None:
        model = _shared_detector()
    input_size = model.input_shape[1] or DEFAULT_INPUT_SIZE
    batch, scale = letterbox(image, input_size)
    features = _compiled_forward(model)(batch)
    box_xy, box_wh, box_confidence, box_class_probs = yolo_head(features, ANCHORS, len(CLASS_NAMES))
    scores = tf.reshape(box_confidence * tf.reduce_max(box_class_probs, axis=-1, keepdims=True), [-1])
    # Corners as fractions of the square input, (y1, x1, y2, x2) as tf.image.non_max_suppression wants.
    corners = tf.reshape(tf.concat([box_xy[..., ::-1] - box_wh[..., ::-1] / 2,
                                    box_xy[..., ::-1] + box_wh[..., ::-1] / 2], axis=-1), [-1, 4])
    keep = tf.image.non_max_suppression(corners, scores, max_output_size=int(max_faces),
                                        iou_threshold=float(iou_threshold),
                                        score_threshold=float(score_threshold))
    height, width = image.shape[:2]
    side = input_size * scale  # = max(H, W): fractions of the square input -> photo pixels
    faces = []
    for index in keep.numpy():
        y1, x1, y2, x2 = (corners[index].numpy() * side).tolist()
        box = (min(max(x1, 0.0), width), min(max(y1, 0.0), height),
               min(max(x2, 0.0), width), min(max(y2, 0.0), height))
        faces.append((float(scores[index]), tuple(float(v) for v in box)))
    return faces


__all__ = ["ANCHORS", "MEAN_RGB", "CLASS_NAMES", "DEFAULT_INPUT_SIZE", "WEIGHTS_PATH", "WEIGHTS_SHA256",
           "tiny_face_detector", "load_tiny_face_detector", "yolo_head", "letterbox", "detect_faces"]
