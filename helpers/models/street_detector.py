"""A YOLOv2-style detector for the street scenes of week 3, on a frozen EfficientNet-Lite0 (shipped).

The network, for a (N, 256, 384, 3) RGB frame in [0, 255]:

- the ImageNet EfficientNet-Lite0 backbone (``helpers/models/weights/efficientnet_lite0.npz``),
  frozen, read at four depths: ``block2b_add`` (stride 4, (N, 64, 96, 24)), ``block3b_add``
  (stride 8, (N, 32, 48, 40)), ``block5c_add`` (stride 16, (N, 16, 24, 112)) and
  ``block7a_project_bn`` (stride 32, (N, 8, 12, 320));
- the **trunk** (stage 1): the stride-16 and stride-32 maps through 1x1 convolutions (96 channels),
  the stride-32 one upsampled x2, concatenated, a 1x1 and two 3x3 convolutions: (N, 16, 24, 96).
  It was trained with a 1x1 output convolution on a 16 x 24 grid (:func:`build_coarse_head`,
  ``scripts/train_street_detector_gpu.py``, on a GPU) and is frozen afterwards;
- the **fine branch** (stage 2, ``scripts/train_street_detector.py``, on 2 CPU cores): concatenated
  on the 32 x 48 grid, the trunk's map upsampled x2, the stride-8 map through a 1x1 convolution
  (64 channels) and the stride-4 map through a 2x2 convolution of stride 2 (32 channels: each cell
  sees its four 4-pixel positions apart, as space-to-depth and a 1x1 convolution would); then two
  3x3 convolutions (64 channels) and a 1x1 convolution to ``A * (5 + C)`` = 5 * (5 + 5) = 50
  numbers per cell of a **32 x 48 grid of 8-pixel cells**, laid out per anchor as x, y, w, h,
  confidence, class logits: the layout that :func:`helpers.models.tiny_yolo.yolo_head` decodes into
  (box_xy, box_wh, box_confidence, box_class_probs), as the original course's ``yolo_head`` does.

:func:`load_street_detector` runs backbone and head on each frame and on its mirror image and returns
the mean of the two raw outputs, the mirror's put back into the frame's layout (:func:`mirror_average`,
:func:`unflip_raw`; ``mirror=False`` for one pass).

Only the head's weights (trunk and fine branch) are shipped (float16,
``weights/street_detector_head_fp16.npz``, SHA-256 checked); the anchors (5, in cells of the 32 x 48
grid, from k-means with 1 - IoU as the distance on the training boxes) are stored in the same file.
Classes: :data:`helpers.data.street.DETECTION_CLASSES`.

Also here, as pure functions for the training scripts and the tests: k-means anchors
(:func:`kmeans_anchors`), the YOLOv2 training targets (:func:`yolo_targets`) and loss
(:func:`yolo_loss`), and evaluation with pycocotools' COCOeval (:func:`coco_average_precision`).
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np

from helpers.models import npz_weights

#: Input frames: height, width, channels (RGB in [0, 255]).
INPUT_SHAPE = (256, 384, 3)
#: Pixels per grid cell of the shipped detector: the grid is 32 x 48.
STRIDE = 8
GRID_SHAPE = (INPUT_SHAPE[0] // STRIDE, INPUT_SHAPE[1] // STRIDE)
#: Backbone layers read by the head (stride 4, stride 8, stride 16, stride 32).
FEATURE_LAYERS = ("block2b_add", "block3b_add", "block5c_add", "block7a_project_bn")
#: Stage 1 (the trunk with its own output, :func:`build_coarse_head`): stride 16, a 16 x 24 grid.
COARSE_STRIDE = 16
COARSE_GRID = (INPUT_SHAPE[0] // COARSE_STRIDE, INPUT_SHAPE[1] // COARSE_STRIDE)
COARSE_LAYERS = FEATURE_LAYERS[2:]
#: Strides and channels of the backbone maps read.
FEATURE_STRIDES = (4, 8, 16, 32)
FEATURE_CHANNELS = (24, 40, 112, 320)
CLASS_NAMES = ("car", "truck", "pedestrian", "traffic light", "traffic sign")
NUM_ANCHORS = 5
NUM_CLASSES = len(CLASS_NAMES)
HEAD_CHANNELS = 96
FINE_CHANNELS = 64
#: Channels the stride-4 map is reduced to (a 2x2 convolution of stride 2, onto the 32 x 48 grid).
STRIDE4_CHANNELS = 32
#: The trunk's layers with weights (stage 1, frozen in stage 2).
TRUNK_LAYERS = tuple(f"{name}_{part}" for name in ("reduce32", "reduce16", "mix", "head1", "head2")
                     for part in ("conv", "bn"))
WEIGHTS_PATH = Path(__file__).resolve().parent / "weights" / "street_detector_head_fp16.npz"
#: SHA-256 of the shipped head (printed by scripts/train_street_detector.py --ship).
WEIGHTS_SHA256 = "2179f2907c64bc4b86a6935a95d8bad2a6f999c6f517a1622606b0520c0100ae"
RUN_RECORD = Path(__file__).resolve().parent / "street_detector_run.json"
#: True boxes smaller than this (pixels) are also reported apart: "objects >= 64 px²".
MIN_AREA_PX2 = 64.0
#: True boxes per frame that yolo_targets pads to (the loss's ignore test compares with all of them).
MAX_TRUE_BOXES = 64


# --------------------------------------------------------------------------------------------
# anchors
# --------------------------------------------------------------------------------------------

def shape_iou(wh, centroids):
    """IoU of boxes of sizes wh (N, 2) with boxes of sizes centroids (K, 2), all centred at one point: (N, K)."""
    wh = np.asarray(wh, dtype=np.float64)
    centroids = np.asarray(centroids, dtype=np.float64)
    inter = np.minimum(wh[:, None, 0], centroids[None, :, 0]) * np.minimum(wh[:, None, 1], centroids[None, :, 1])
    return inter / (wh[:, None].prod(-1) + centroids[None].prod(-1) - inter)


def kmeans_anchors(wh, k=5, seed=0, iterations=30, center="median", distinct_starts=False):
    """k-means on box shapes with 1 - IoU as the distance (YOLOv2, Redmon & Farhadi 2017).

    wh (N, 2) widths and heights (any unit, all positive); k anchors. The centroids start at k boxes
    drawn with ``default_rng(seed)`` (among the distinct shapes if ``distinct_starts``, so that no two
    start equal); then, at most ``iterations`` times, each box joins the centroid it overlaps most
    (:func:`shape_iou`, both boxes centred at one point) and each centroid moves to the ``center``
    ("median" or "mean") of its boxes; it stops early once no box changes centroid.
    Returns (anchors (k, 2) sorted by area, labels (N,) the index of each box's best anchor,
    mean IoU of a box with its best anchor).
    """
    wh = np.asarray(wh, dtype=np.float64)
    if wh.ndim != 2 or wh.shape[1] != 2 or np.any(wh <= 0):
        raise ValueError(f"kmeans_anchors: wh must be (N, 2) positive sizes, got shape {wh.shape}")
    if center not in ("median", "mean"):
        raise ValueError(f"kmeans_anchors: center must be 'median' or 'mean', got {center!r}")
    pool = np.unique(wh, axis=0) if distinct_starts else wh
    if not 1 <= k <= len(pool):
        what = "distinct box shapes" if distinct_starts else "boxes"
        raise ValueError(f"kmeans_anchors: k = {k} must be between 1 and the {len(pool)} {what}")
    centroids = pool[np.random.default_rng(seed).choice(len(pool), k, replace=False)]
    reduce = np.median if center == "median" else np.mean
    labels = None
    for _ in range(iterations):
        nearest = np.argmax(shape_iou(wh, centroids), axis=1)
        if labels is not None and np.array_equal(nearest, labels):
            break                               # the centroids were made from these very groups
        labels = nearest
        centroids = np.array([reduce(wh[labels == j], axis=0) if np.any(labels == j) else centroids[j] for j in range(k)])
    centroids = centroids[np.argsort(centroids.prod(-1))]
    overlaps = shape_iou(wh, centroids)
    return centroids, np.argmax(overlaps, axis=1), float(overlaps.max(axis=1).mean())


# --------------------------------------------------------------------------------------------
# networks
# --------------------------------------------------------------------------------------------

def feature_extractor(layers=FEATURE_LAYERS):
    """The frozen backbone: (N, 256, 384, 3) RGB in [0, 255] -> its maps at ``layers``, a list
    ([(N, 64, 96, 24), (N, 32, 48, 40), (N, 16, 24, 112), (N, 8, 12, 320)] for FEATURE_LAYERS)."""
    from helpers.backend import keras
    from helpers.models import efficientnet_lite

    base = efficientnet_lite.EfficientNetLite0(input_shape=INPUT_SHAPE, include_top=False, weights="imagenet")
    inputs = keras.Input(shape=INPUT_SHAPE, name="frames")
    cut = keras.Model(base.input, [base.get_layer(name).output for name in layers], name="backbone")
    cut.trainable = False
    outputs = cut(efficientnet_lite.preprocess_input(inputs), training=False)
    return keras.Model(inputs, outputs, name="street_backbone")


def block_features(backbone, n, seed):
    """Render ``make_detection_scenes(n, seed)`` at INPUT_SHAPE and run the frozen ``backbone`` on it.

    Returns (features: a list of float16 arrays, one per backbone output (n, h, w, c), boxes: n arrays
    (k, 4) x1, y1, x2, y2 pixels, labels: n arrays (k,)).
    """
    from helpers.data import street

    images, boxes, labels = street.make_detection_scenes(n, seed, *INPUT_SHAPE[:2])
    maps = backbone.predict(images.astype(np.float32), batch_size=16, verbose=0)
    maps = maps if isinstance(maps, (list, tuple)) else [maps]
    return [np.asarray(m, np.float16) for m in maps], boxes, labels


def _conv_bn(x, filters, size, name, strides=1):
    from helpers.backend import keras

    layers = keras.layers
    x = layers.Conv2D(filters, size, strides=strides, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.LeakyReLU(0.1, name=f"{name}_leaky")(x)


def _trunk(stride16, stride32, channels):
    from helpers.backend import keras

    layers = keras.layers
    up = layers.UpSampling2D(2, name="up")(_conv_bn(stride32, channels, 1, "reduce32"))
    x = layers.Concatenate(name="merge")([_conv_bn(stride16, channels, 1, "reduce16"), up])
    x = _conv_bn(x, channels, 1, "mix")
    x = _conv_bn(x, channels, 3, "head1")
    return _conv_bn(x, channels, 3, "head2")


def _fine_branch(stride4, stride8, trunk, channels, outputs, stride4_channels=STRIDE4_CHANNELS):
    from helpers.backend import keras

    layers = keras.layers
    parts = [layers.UpSampling2D(2, name="up8")(trunk), _conv_bn(stride8, channels, 1, "reduce8")]
    if stride4_channels:
        # the stride-4 map onto the 32 x 48 grid: a 2x2 convolution of stride 2 (space-to-depth and a
        # 1x1 convolution in one), so each 8-pixel cell sees its four 4-pixel positions apart
        parts.append(_conv_bn(stride4, stride4_channels, 2, "reduce4", strides=2))
    x = layers.Concatenate(name="merge8")(parts)
    x = _conv_bn(x, channels, 3, "fine1")
    x = _conv_bn(x, channels, 3, "fine2")
    return layers.Conv2D(outputs, 1, name="yolo_output")(x)


def _inputs(strides):
    from helpers.backend import keras

    channels = dict(zip(FEATURE_STRIDES, FEATURE_CHANNELS))
    return [keras.Input(shape=(None, None, channels[s]), name=f"stride{s}") for s in strides]


def build_head(num_anchors=NUM_ANCHORS, num_classes=NUM_CLASSES, channels=HEAD_CHANNELS, fine_channels=FINE_CHANNELS):
    """The trained part: [(N, 64, 96, 24), (N, 32, 48, 40), (N, 16, 24, 112), (N, 8, 12, 320)] ->
    (N, 32, 48, A * (5 + C)) raw numbers (the trunk, then the fine branch)."""
    from helpers.backend import keras

    inputs = _inputs(FEATURE_STRIDES)
    out = _fine_branch(inputs[0], inputs[1], _trunk(inputs[2], inputs[3], channels), fine_channels,
                       num_anchors * (5 + num_classes))
    return keras.Model(inputs, out, name="street_yolo_head")


def build_coarse_head(num_anchors=NUM_ANCHORS, num_classes=NUM_CLASSES, channels=HEAD_CHANNELS):
    """Stage 1: [(N, 16, 24, 112), (N, 8, 12, 320)] -> (N, 16, 24, A * (5 + C)): the trunk and a 1x1
    output convolution (``yolo_output``) on the 16 x 24 grid; what scripts/train_street_detector_gpu.py trains."""
    from helpers.backend import keras

    inputs = _inputs((16, 32))
    out = keras.layers.Conv2D(num_anchors * (5 + num_classes), 1, name="yolo_output")(_trunk(*inputs, channels))
    return keras.Model(inputs, out, name="street_yolo_coarse_head")


def build_trunk(channels=HEAD_CHANNELS):
    """The trunk alone: [(N, 16, 24, 112), (N, 8, 12, 320)] -> (N, 16, 24, channels) (stage 2 caches its output)."""
    from helpers.backend import keras

    inputs = _inputs((16, 32))
    return keras.Model(inputs, _trunk(*inputs, channels), name="street_trunk")


def build_fine_branch(num_anchors=NUM_ANCHORS, num_classes=NUM_CLASSES, channels=HEAD_CHANNELS,
                      fine_channels=FINE_CHANNELS, stride4_channels=STRIDE4_CHANNELS):
    """Stage 2's trained part: [(N, 64, 96, 24) stride-4 map, (N, 32, 48, 40) stride-8 map,
    (N, 16, 24, channels) trunk output] -> (N, 32, 48, A * (5 + C)); its layers carry the names they
    have in :func:`build_head`. ``stride4_channels=0`` leaves the stride-4 map out (the layout shipped
    before it; its input is then ignored)."""
    from helpers.backend import keras

    stride4, stride8 = _inputs((4, 8))
    trunk = keras.Input(shape=(None, None, channels), name="trunk")
    out = _fine_branch(stride4, stride8, trunk, fine_channels, num_anchors * (5 + num_classes), stride4_channels)
    return keras.Model([stride4, stride8, trunk], out, name="street_fine_branch")


def load_head_weights(head, path=None, sha256=WEIGHTS_SHA256):
    """Load the shipped head (float16 npz, SHA-256 checked) into ``head``; returns the anchors (5, 2) in cells."""
    path = npz_weights.verified_file(WEIGHTS_PATH if path is None else path, sha256, "street detector head")
    with np.load(path) as archive:
        arrays = {key: archive[key] for key in archive.files}
    anchors = np.asarray(arrays.pop("anchors"), np.float32)
    npz_weights.set_weights_by_name(head, arrays, path, "street detector head")
    return anchors


def head_arrays(head, anchors):
    """The head's weights as a dict of float16 arrays ``<layer>/<i>`` plus ``anchors`` (for saving)."""
    arrays = {"anchors": np.asarray(anchors, np.float32)}
    for layer in head.layers:
        for i, w in enumerate(layer.get_weights()):
            arrays[f"{layer.name}/{i}"] = np.asarray(w, np.float16)
    return arrays


def load_street_detector(path=None, sha256=WEIGHTS_SHA256, mirror=True):
    """Backbone + shipped head as one Keras model; returns (model, anchors, class_names).

    model: (N, 256, 384, 3) RGB in [0, 255] -> (N, 32, 48, 50) raw numbers, for
    ``yolo_head(model(frames), anchors, len(class_names))``; anchors (5, 2) in grid cells.
    With ``mirror=True`` (the default) the model also runs on each frame mirrored left-right and
    returns :func:`mirror_average` of the two raw outputs: twice the work, boxes placed better (the
    run record scores the head both ways); ``mirror=False``: one pass.
    """
    from helpers.backend import keras

    backbone = feature_extractor()
    head = build_head()
    anchors = load_head_weights(head, path, sha256)
    inputs = keras.Input(shape=INPUT_SHAPE, name="frames")
    raw = head(backbone(inputs))
    if mirror:
        raw = mirror_average(raw, head(backbone(keras.ops.flip(inputs, axis=2))))
    return keras.Model(inputs, raw, name="street_detector"), anchors, CLASS_NAMES


def unflip_raw(raw_mirrored, num_anchors=NUM_ANCHORS):
    """The raw output of a frame's left-right mirror, (N, H, W, A * (5 + C)), laid out as the
    frame's own: grid column c of the mirror is column W - 1 - c of the frame, and a centre
    sigmoid(t_x) of a cell from the left edge of its cell in the mirror is 1 - sigmoid(t_x) =
    sigmoid(-t_x) from it in the frame, so the columns are reversed and every t_x changes sign.
    t_y, t_w, t_h, the confidence and the class logits stay: the anchors are their own mirror images,
    and each class is its own mirror class (a mirrored car is a car). Works on numpy arrays and
    tensors (``keras.ops``)."""
    from helpers.backend import keras

    ops = keras.ops
    raw_mirrored = ops.convert_to_tensor(raw_mirrored, "float32")
    _, height, width, channels = ops.shape(raw_mirrored)
    if channels % num_anchors:
        raise ValueError(f"unflip_raw: {channels} channels are not {num_anchors} anchors x (5 + classes)")
    per_anchor = ops.reshape(ops.flip(raw_mirrored, axis=2), (-1, height, width, num_anchors, channels // num_anchors))
    sign = np.ones(channels // num_anchors, np.float32)
    sign[0] = -1.0
    return ops.reshape(per_anchor * sign, (-1, height, width, channels))


def mirror_average(raw, raw_mirrored, num_anchors=NUM_ANCHORS):
    """(raw + unflip_raw(raw_mirrored)) / 2: the two views' box offsets, log sizes and logits
    averaged, in the layout ``yolo_head`` decodes. raw, raw_mirrored: (N, H, W, A * (5 + C))."""
    from helpers.backend import keras

    return (keras.ops.convert_to_tensor(raw, "float32") + unflip_raw(raw_mirrored, num_anchors)) / 2.0


def street_yolo_outputs(model, anchors, frames):
    """yolo_head's four tensors for frames (N, 256, 384, 3) uint8 or float in [0, 255]."""
    from helpers.models.tiny_yolo import yolo_head

    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[1:] != INPUT_SHAPE:
        raise ValueError(f"street_yolo_outputs: frames must be (N, {INPUT_SHAPE[0]}, {INPUT_SHAPE[1]}, 3), got {frames.shape}")
    return yolo_head(model(frames.astype(np.float32), training=False), anchors, len(CLASS_NAMES))


def detect(raw, anchors, image_shape=INPUT_SHAPE[:2], score_threshold=0.01, iou_threshold=0.5, max_boxes=100):
    """Detections for scoring (not the notebook's yolo_eval): per-class NMS, low threshold, many boxes.

    raw (N, H, W, A * (5 + C)) network output; anchors (A, 2) cells; image_shape (height, width).
    Returns a list of N tuples (boxes (m, 4) x1, y1, x2, y2 pixels, scores (m,), classes (m,)),
    best score first, m <= max_boxes.
    """
    from helpers.backend import tf
    from helpers.models.tiny_yolo import yolo_head

    anchors = np.asarray(anchors, np.float32)
    box_xy, box_wh, confidence, probs = (np.asarray(v) for v in yolo_head(raw, anchors, len(CLASS_NAMES)))
    height, width = image_shape
    scale = np.array([width, height, width, height], np.float32)
    out = []
    for xy, wh, conf, prob in zip(box_xy, box_wh, confidence, probs):
        corners = (np.concatenate([xy - wh / 2, xy + wh / 2], -1) * scale).reshape(-1, 4)
        scores = (conf * prob).reshape(-1, prob.shape[-1])
        boxes, kept_scores, classes = [], [], []
        for c in range(scores.shape[1]):
            candidates = np.flatnonzero(scores[:, c] >= score_threshold)
            if len(candidates) == 0:
                continue
            yx = corners[candidates][:, [1, 0, 3, 2]]
            keep = tf.image.non_max_suppression(yx, scores[candidates, c], max_boxes, iou_threshold).numpy()
            boxes.append(corners[candidates[keep]])
            kept_scores.append(scores[candidates[keep], c])
            classes.append(np.full(len(keep), c))
        if boxes:
            boxes, kept_scores, classes = np.concatenate(boxes), np.concatenate(kept_scores), np.concatenate(classes)
            order = np.argsort(-kept_scores, kind="stable")[:max_boxes]
            out.append((boxes[order], kept_scores[order], classes[order]))
        else:
            out.append((np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64)))
    return out


# --------------------------------------------------------------------------------------------
# training targets and loss
# --------------------------------------------------------------------------------------------

def yolo_targets(boxes, labels, anchors, grid_shape=GRID_SHAPE, stride=STRIDE, num_classes=NUM_CLASSES,
                 max_boxes=MAX_TRUE_BOXES):
    """YOLOv2 targets for one frame.

    boxes (k, 4) x1, y1, x2, y2 pixels; labels (k,) class indices; anchors (A, 2) in cells.
    Each box goes to the cell holding its centre and to the anchor whose shape fits it best (IoU);
    when two boxes want the same cell and anchor, the later one wins.
    Returns (target (H, W, A, 6 + 0) float32: tx, ty (offsets in the cell, 0..1), tw, th
    (log of size / anchor), object flag, class; padded true boxes (max_boxes, 4) as fractions
    (x_centre, y_centre, w, h) with zeros beyond k).
    """
    gh, gw = grid_shape
    anchors = np.asarray(anchors, np.float64)
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    labels = np.asarray(labels).reshape(-1)
    if len(boxes) != len(labels):
        raise ValueError(f"yolo_targets: {len(boxes)} boxes but {len(labels)} labels")
    if np.any(labels < 0) or np.any(labels >= num_classes):
        raise ValueError(f"yolo_targets: labels must lie in [0, {num_classes}), got {labels}")
    target = np.zeros((gh, gw, len(anchors), 6), np.float32)
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2 / stride            # in cells (x, y)
    size = np.maximum(boxes[:, 2:] - boxes[:, :2], 1.0) / stride
    best = np.argmax(shape_iou(size, anchors), axis=1) if len(boxes) else np.zeros(0, int)
    for (cx, cy), (w, h), a, c in zip(centre, size, best, labels):
        j, i = min(int(cx), gw - 1), min(int(cy), gh - 1)
        target[i, j, a] = (cx - j, cy - i, np.log(w / anchors[a, 0]), np.log(h / anchors[a, 1]), 1.0, c)
    truth = np.zeros((max_boxes, 4), np.float32)
    k = min(len(boxes), max_boxes)
    truth[:k, :2] = centre[:k] / (gw, gh)
    truth[:k, 2:] = size[:k] / (gw, gh)
    return target, truth


def flip_boxes(boxes, width=INPUT_SHAPE[1]):
    """Boxes (k, 4) x1, y1, x2, y2 pixels of a frame ``width`` pixels wide, mirrored left-right
    (as the frame ``image[:, ::-1]``)."""
    boxes = np.asarray(boxes).reshape(-1, 4)
    return np.stack([width - boxes[:, 2], boxes[:, 1], width - boxes[:, 0], boxes[:, 3]], axis=1).astype(boxes.dtype)


def yolo_loss(raw, target, truth, anchors, num_classes=NUM_CLASSES, object_scale=5.0,
              no_object_scale=1.0, coord_scale=1.0, class_scale=1.0, ignore_iou=0.6, giou_scale=0.0):
    """The YOLOv2 loss, averaged over the batch (a scalar tensor of Keras's backend).

    raw (N, H, W, A * (5 + C)) network output; target (N, H, W, A, 6) from :func:`yolo_targets`;
    truth (N, K, 4) true boxes (x, y, w, h fractions). Terms: objectness (sigmoid cross-entropy,
    object_scale on the responsible anchors, no_object_scale elsewhere except where the predicted
    box overlaps a true box by more than ignore_iou), coordinates (cross-entropy of sigmoid(t_x),
    sigmoid(t_y) with the offsets, squared error of t_w, t_h with the log size ratios, weighted by
    2 - w * h), classes (softmax cross-entropy) on the responsible anchors; with ``giou_scale`` > 0
    also giou_scale * (1 - GIoU) of each responsible anchor's box with its true box, where
    GIoU = IoU - (E - U) / E, E the smallest box enclosing both, U their union (Rezatofighi et al.,
    2019). GIoU does not depend on the boxes' scale, so a box of 4 pixels placed 1 pixel off costs
    as much as one of 40 placed 10 pixels off, where the offset term sees a 1-pixel error as
    1/8 of a cell whatever the box's size.

    Written in ``keras.ops`` only, so it also trains under Keras's JAX backend (no TensorFlow);
    boxes are decoded as :func:`helpers.models.tiny_yolo.yolo_head` decodes them.
    """
    from helpers.backend import keras

    ops = keras.ops
    anchors = np.asarray(anchors, np.float32)
    num_anchors = len(anchors)
    raw = ops.convert_to_tensor(raw, "float32")
    _, height, width, _ = ops.shape(raw)
    t = ops.reshape(raw, (-1, height, width, num_anchors, 5 + num_classes))
    # yolo_head's decoding: box centres and sizes as fractions of the frame, (x, y) order
    columns, rows = ops.meshgrid(ops.arange(width), ops.arange(height))
    cell = ops.cast(ops.stack([columns, rows], axis=-1), "float32")[None, :, :, None, :]
    grid = ops.cast(ops.stack([width, height]), "float32")
    box_xy = (ops.sigmoid(t[..., 0:2]) + cell) / grid
    box_wh = ops.exp(t[..., 2:4]) * anchors / grid
    # IoU of every predicted box with every true box of its frame: (N, H, W, A, K)
    p_min, p_max = box_xy - box_wh / 2, box_xy + box_wh / 2
    truth = ops.convert_to_tensor(truth, "float32")[:, None, None, None]
    t_min, t_max = truth[..., :2] - truth[..., 2:] / 2, truth[..., :2] + truth[..., 2:] / 2

    def overlap(a_min, a_max, b_min, b_max):
        """Area shared by boxes given by their corners (broadcast over the leading axes)."""
        return ops.prod(ops.maximum(ops.minimum(a_max, b_max) - ops.maximum(a_min, b_min), 0.0), -1)

    inter = overlap(p_min[..., None, :], p_max[..., None, :], t_min, t_max)
    union = ops.prod(box_wh, -1)[..., None] + ops.prod(truth[..., 2:], -1) - inter
    best_iou = ops.max(inter / ops.maximum(union, 1e-9), axis=-1)
    target = ops.convert_to_tensor(target, "float32")
    obj = target[..., 4]
    noobj = (1.0 - obj) * ops.cast(best_iou < ignore_iou, "float32")
    conf_ce = ops.binary_crossentropy(obj, t[..., 4], from_logits=True)
    conf_loss = object_scale * obj * conf_ce + no_object_scale * noobj * conf_ce
    scale = 2.0 - ops.prod(ops.exp(target[..., 2:4]) * anchors / grid, -1)
    xy_loss = ops.sum(ops.binary_crossentropy(target[..., 0:2], t[..., 0:2], from_logits=True), -1)
    wh_loss = ops.sum(ops.square(t[..., 2:4] - target[..., 2:4]), -1)
    coord_loss = coord_scale * obj * scale * (xy_loss + wh_loss)
    class_ce = ops.sparse_categorical_crossentropy(ops.cast(target[..., 5], "int32"), t[..., 5:], from_logits=True)
    class_loss = class_scale * obj * class_ce
    total = conf_loss + coord_loss + class_loss
    if giou_scale:
        # the responsible anchor's true box, decoded as the prediction is
        true_xy = (target[..., 0:2] + cell) / grid
        true_wh = ops.exp(target[..., 2:4]) * anchors / grid
        q_min, q_max = true_xy - true_wh / 2, true_xy + true_wh / 2
        shared = overlap(p_min, p_max, q_min, q_max)
        joint = ops.prod(box_wh, -1) + ops.prod(true_wh, -1) - shared
        enclosing = ops.prod(ops.maximum(p_max, q_max) - ops.minimum(p_min, q_min), -1)
        giou = shared / ops.maximum(joint, 1e-9) - (enclosing - joint) / ops.maximum(enclosing, 1e-9)
        total = total + giou_scale * obj * (1.0 - giou)
    total = ops.sum(total, axis=(1, 2, 3))
    return ops.mean(total)


def pack_targets(target, truth):
    """Targets (N, H, W, A, 6) and true boxes (N, K, 4) as one (N, H*W*A*6 + K*4) float32 array:
    the ``y`` of ``model.compile(loss=packed_yolo_loss(...))`` / ``train_on_batch``."""
    target, truth = np.asarray(target, np.float32), np.asarray(truth, np.float32)
    return np.concatenate([target.reshape(len(target), -1), truth.reshape(len(truth), -1)], axis=1)


def packed_yolo_loss(anchors, grid_shape=GRID_SHAPE, num_classes=NUM_CLASSES, **scales):
    """A Keras loss ``(y_true, y_pred) -> yolo_loss`` for ``y_true`` made by :func:`pack_targets`
    (targets of a ``grid_shape`` grid); ``scales``: yolo_loss's keyword arguments."""
    from helpers.backend import keras

    ops = keras.ops
    anchors = np.asarray(anchors, np.float32)
    cells = grid_shape[0] * grid_shape[1] * len(anchors) * 6

    def loss(y_true, y_pred):
        target = ops.reshape(y_true[:, :cells], (-1, *grid_shape, len(anchors), 6))
        truth = ops.reshape(y_true[:, cells:], (-1, (y_true.shape[1] - cells) // 4, 4))
        return yolo_loss(y_pred, target, truth, anchors, num_classes, **scales)

    return loss


# --------------------------------------------------------------------------------------------
# evaluation with pycocotools
# --------------------------------------------------------------------------------------------

def coco_average_precision(true_boxes, true_labels, detections, class_names=CLASS_NAMES, iou=0.5, min_area=0.0):
    """AP at one IoU threshold per class and their mean, by pycocotools' COCOeval.

    true_boxes / true_labels: per frame (k, 4) x1, y1, x2, y2 pixels and (k,) class indices;
    detections: per frame (boxes (m, 4) x1, y1, x2, y2, scores (m,), classes (m,)).
    min_area: true boxes with a smaller area (pixels) are not counted, and detections of that size
    that match nothing are not counted as mistakes (COCOeval's area range; 0 counts everything).
    Returns {"per_class": {name: AP or None when the class has no true box}, "mAP": mean over the
    classes that have true boxes, "true_boxes": {name: count in the area range}}.
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    if len(true_boxes) != len(detections) or len(true_boxes) != len(true_labels):
        raise ValueError("coco_average_precision: true_boxes, true_labels and detections must have one entry per frame")
    images, annotations, results = [], [], []
    for i, (boxes, labels, (d_boxes, d_scores, d_classes)) in enumerate(zip(true_boxes, true_labels, detections)):
        images.append({"id": i})
        for box, label in zip(np.asarray(boxes, float).reshape(-1, 4), np.asarray(labels).reshape(-1)):
            w, h = box[2] - box[0], box[3] - box[1]
            annotations.append({"id": len(annotations) + 1, "image_id": i, "category_id": int(label) + 1,
                                "bbox": [float(box[0]), float(box[1]), float(w), float(h)], "area": float(w * h),
                                "iscrowd": 0})
        for box, score, c in zip(np.asarray(d_boxes, float).reshape(-1, 4), np.asarray(d_scores).reshape(-1),
                                 np.asarray(d_classes).reshape(-1)):
            results.append({"image_id": i, "category_id": int(c) + 1, "score": float(score),
                            "bbox": [float(box[0]), float(box[1]), float(box[2] - box[0]), float(box[3] - box[1])]})
    gt = COCO()
    gt.dataset = {"images": images, "annotations": annotations,
                  "categories": [{"id": k + 1, "name": n} for k, n in enumerate(class_names)]}
    with contextlib.redirect_stdout(io.StringIO()):
        gt.createIndex()
        dt = gt.loadRes(results) if results else COCO()
        if not results:
            dt.dataset = {"images": images, "annotations": [], "categories": gt.dataset["categories"]}
            dt.createIndex()
        evaluator = COCOeval(gt, dt, "bbox")
        evaluator.params.iouThrs = np.array([iou])
        evaluator.params.areaRng = [[float(min_area), 1e10]]
        evaluator.params.areaRngLbl = ["all"]
        evaluator.params.maxDets = [100]
        evaluator.evaluate()
        evaluator.accumulate()
    precision = evaluator.eval["precision"][0, :, :, 0, 0]     # (recall points, classes)
    per_class, counts = {}, {}
    for k, name in enumerate(class_names):
        n_true = sum(int(np.sum((np.asarray(lab) == k) & (_areas(b) >= min_area))) for b, lab in zip(true_boxes, true_labels))
        counts[name] = n_true
        column = precision[:, k]
        per_class[name] = float(np.mean(np.maximum(column, 0))) if n_true else None
    valid = [v for v in per_class.values() if v is not None]
    return {"per_class": per_class, "mAP": float(np.mean(valid)) if valid else 0.0, "true_boxes": counts}


def held_out_scores(predict, boxes, labels, anchors, batch=64, min_area=MIN_AREA_PX2):
    """COCOeval AP@0.5 of a head on frames given by ``predict(start, stop)`` -> raw output
    (stop - start, H, W, A * (5 + C)) of frames start..stop-1, with boxes / labels per frame (len(boxes)
    frames); decoded by :func:`detect`. Returns (all objects, objects >= min_area px²), each as
    :func:`coco_average_precision` returns it."""
    detections = []
    for start in range(0, len(boxes), batch):
        detections += detect(predict(start, min(start + batch, len(boxes))), anchors, INPUT_SHAPE[:2])
    return (coco_average_precision(boxes, labels, detections),
            coco_average_precision(boxes, labels, detections, min_area=min_area))


def _areas(boxes):
    boxes = np.asarray(boxes, float).reshape(-1, 4)
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def read_run_record(path=RUN_RECORD):
    """The training run's record (JSON) as a dict."""
    return json.loads(Path(path).read_text())


__all__ = [
    "CLASS_NAMES", "COARSE_GRID", "COARSE_LAYERS", "COARSE_STRIDE", "FEATURE_CHANNELS", "FEATURE_LAYERS",
    "FEATURE_STRIDES",
    "GRID_SHAPE", "INPUT_SHAPE", "MAX_TRUE_BOXES", "MIN_AREA_PX2", "NUM_ANCHORS", "STRIDE", "TRUNK_LAYERS",
    "block_features", "build_coarse_head", "build_fine_branch", "build_head", "build_trunk", "held_out_scores",
    "coco_average_precision", "detect", "feature_extractor", "head_arrays", "kmeans_anchors", "load_head_weights",
    "load_street_detector", "mirror_average", "pack_targets", "packed_yolo_loss", "read_run_record", "shape_iou", "flip_boxes",
    "street_yolo_outputs", "unflip_raw", "yolo_loss", "yolo_targets",
]
