"""A YOLOv2-style detector for the street scenes of week 3, on a frozen EfficientNet-Lite0 (shipped).

The network, for a (N, 256, 384, 3) RGB frame in [0, 255]:

- the ImageNet EfficientNet-Lite0 backbone (``helpers/models/weights/efficientnet_lite0.npz``),
  frozen, read at two depths: ``block5c_add`` (stride 16, (N, 16, 24, 112)) and
  ``block7a_project_bn`` (stride 32, (N, 8, 12, 320));
- the head trained here (``scripts/train_street_detector_gpu.py``; before, ``scripts/train_street_detector.py``
  on cached features): both maps through 1x1 convolutions (96
  channels), the stride-32 one upsampled x2, concatenated, a 1x1 and two 3x3 convolutions, and a
  1x1 convolution to ``A * (5 + C)`` = 5 * (5 + 5) = 50 numbers per cell of a 16 x 24 grid,
  laid out per anchor as x, y, w, h, confidence, class logits: the layout that
  :func:`helpers.models.tiny_yolo.yolo_head` decodes into (box_xy, box_wh, box_confidence,
  box_class_probs), as the original course's ``yolo_head`` does.

Only the head's weights are shipped (float16, ``weights/street_detector_head_fp16.npz``, SHA-256
checked); the anchors (5, in grid cells, from k-means with 1 - IoU as the distance on the training
boxes) are stored in the same file. Classes: :data:`helpers.data.street.DETECTION_CLASSES`.

Also here, as pure functions for the training script and the tests: k-means anchors
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
#: Pixels per grid cell: the grid is 16 x 24.
STRIDE = 16
GRID_SHAPE = (INPUT_SHAPE[0] // STRIDE, INPUT_SHAPE[1] // STRIDE)
#: Backbone layers read by the head (stride 16, stride 32).
FEATURE_LAYERS = ("block5c_add", "block7a_project_bn")
CLASS_NAMES = ("car", "truck", "pedestrian", "traffic light", "traffic sign")
NUM_ANCHORS = 5
NUM_CLASSES = len(CLASS_NAMES)
HEAD_CHANNELS = 96
WEIGHTS_PATH = Path(__file__).resolve().parent / "weights" / "street_detector_head_fp16.npz"
#: SHA-256 of the shipped head (printed by scripts/train_street_detector_gpu.py --evaluate ... --ship).
WEIGHTS_SHA256 = "24f773ecf1c3c5364ddaad98056190eebfb613bb539108e9f3f2207b7f5ce2c1"
RUN_RECORD = Path(__file__).resolve().parent / "street_detector_run.json"
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


def kmeans_anchors(wh, k=5, seed=0, iterations=30):
    """k-means on box shapes with 1 - IoU as the distance (the week-3 notebook's algorithm).

    wh (N, 2) widths and heights (any unit, all positive); k anchors; centroids start at k boxes
    drawn with ``default_rng(seed)`` and move to the median of their boxes, ``iterations`` times.
    Returns (anchors (k, 2) sorted by area, mean IoU of a box with its best anchor).
    """
    wh = np.asarray(wh, dtype=np.float64)
    if wh.ndim != 2 or wh.shape[1] != 2 or len(wh) < k or np.any(wh <= 0):
        raise ValueError(f"kmeans_anchors: wh must be (N, 2) positive sizes with N >= k = {k}, got shape {wh.shape}")
    rng = np.random.default_rng(seed)
    centroids = wh[rng.choice(len(wh), k, replace=False)]
    for _ in range(iterations):
        nearest = np.argmax(shape_iou(wh, centroids), axis=1)
        centroids = np.array([np.median(wh[nearest == j], axis=0) if np.any(nearest == j) else centroids[j]
                              for j in range(k)])
    centroids = centroids[np.argsort(centroids.prod(-1))]
    return centroids, float(shape_iou(wh, centroids).max(axis=1).mean())


# --------------------------------------------------------------------------------------------
# networks
# --------------------------------------------------------------------------------------------

def feature_extractor():
    """The frozen backbone: (N, 256, 384, 3) RGB in [0, 255] -> [(N, 16, 24, 112), (N, 8, 12, 320)]."""
    from helpers.backend import keras
    from helpers.models import efficientnet_lite

    base = efficientnet_lite.EfficientNetLite0(input_shape=INPUT_SHAPE, include_top=False, weights="imagenet")
    inputs = keras.Input(shape=INPUT_SHAPE, name="frames")
    cut = keras.Model(base.input, [base.get_layer(name).output for name in FEATURE_LAYERS], name="backbone")
    cut.trainable = False
    outputs = cut(efficientnet_lite.preprocess_input(inputs), training=False)
    return keras.Model(inputs, outputs, name="street_backbone")


def block_features(backbone, n, seed):
    """Render ``make_detection_scenes(n, seed)`` at INPUT_SHAPE and run the frozen ``backbone`` on it.

    Returns (stride-16 features (n, 16, 24, 112) float16, stride-32 features (n, 8, 12, 320) float16,
    boxes: n arrays (k, 4) x1, y1, x2, y2 pixels, labels: n arrays (k,)).
    """
    from helpers.data import street

    images, boxes, labels = street.make_detection_scenes(n, seed, *INPUT_SHAPE[:2])
    fine, coarse = backbone.predict(images.astype(np.float32), batch_size=16, verbose=0)
    return fine.astype(np.float16), coarse.astype(np.float16), boxes, labels


def build_head(num_anchors=NUM_ANCHORS, num_classes=NUM_CLASSES, channels=HEAD_CHANNELS):
    """The trained part: [(N, 16, 24, 112), (N, 8, 12, 320)] -> (N, 16, 24, A * (5 + C)) raw numbers."""
    from helpers.backend import keras

    layers = keras.layers
    fine = keras.Input(shape=(None, None, 112), name="stride16")
    coarse = keras.Input(shape=(None, None, 320), name="stride32")

    def conv_bn(x, filters, size, name):
        x = layers.Conv2D(filters, size, padding="same", use_bias=False, name=f"{name}_conv")(x)
        x = layers.BatchNormalization(name=f"{name}_bn")(x)
        return layers.LeakyReLU(0.1, name=f"{name}_leaky")(x)

    up = layers.UpSampling2D(2, name="up")(conv_bn(coarse, channels, 1, "reduce32"))
    x = layers.Concatenate(name="merge")([conv_bn(fine, channels, 1, "reduce16"), up])
    x = conv_bn(x, channels, 1, "mix")
    x = conv_bn(x, channels, 3, "head1")
    x = conv_bn(x, channels, 3, "head2")
    out = layers.Conv2D(num_anchors * (5 + num_classes), 1, name="yolo_output")(x)
    return keras.Model([fine, coarse], out, name="street_yolo_head")


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


def load_street_detector(path=None, sha256=WEIGHTS_SHA256):
    """Backbone + shipped head as one Keras model; returns (model, anchors, class_names).

    model: (N, 256, 384, 3) RGB in [0, 255] -> (N, 16, 24, 50) raw numbers, for
    ``yolo_head(model(frames), anchors, len(class_names))``; anchors (5, 2) in grid cells.
    """
    from helpers.backend import keras

    backbone = feature_extractor()
    head = build_head()
    anchors = load_head_weights(head, path, sha256)
    inputs = keras.Input(shape=INPUT_SHAPE, name="frames")
    model = keras.Model(inputs, head(backbone(inputs)), name="street_detector")
    return model, anchors, CLASS_NAMES


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
              no_object_scale=1.0, coord_scale=1.0, class_scale=1.0, ignore_iou=0.6):
    """The YOLOv2 loss, averaged over the batch (a scalar tensor of Keras's backend).

    raw (N, H, W, A * (5 + C)) network output; target (N, H, W, A, 6) from :func:`yolo_targets`;
    truth (N, K, 4) true boxes (x, y, w, h fractions). Terms: objectness (sigmoid cross-entropy,
    object_scale on the responsible anchors, no_object_scale elsewhere except where the predicted
    box overlaps a true box by more than ignore_iou), coordinates (cross-entropy of sigmoid(t_x),
    sigmoid(t_y) with the offsets, squared error of t_w, t_h with the log size ratios, weighted by
    2 - w * h), classes (softmax cross-entropy) on the responsible anchors.

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
    inter = ops.prod(ops.maximum(ops.minimum(p_max[..., None, :], t_max) - ops.maximum(p_min[..., None, :], t_min), 0.0), -1)
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
    total = ops.sum(conf_loss + coord_loss + class_loss, axis=(1, 2, 3))
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


def _areas(boxes):
    boxes = np.asarray(boxes, float).reshape(-1, 4)
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def read_run_record(path=RUN_RECORD):
    """The training run's record (JSON) as a dict."""
    return json.loads(Path(path).read_text())


__all__ = [
    "CLASS_NAMES", "FEATURE_LAYERS", "GRID_SHAPE", "INPUT_SHAPE", "MAX_TRUE_BOXES", "NUM_ANCHORS", "STRIDE",
    "block_features", "build_head",
    "coco_average_precision", "detect", "feature_extractor", "head_arrays", "kmeans_anchors", "load_head_weights",
    "load_street_detector", "pack_targets", "packed_yolo_loss", "read_run_record", "shape_iou", "flip_boxes",
    "street_yolo_outputs", "yolo_loss", "yolo_targets",
]
