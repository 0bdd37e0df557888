"""The U-Net trained on the generated street scenes (week 3), its run record and segmentation scores.

``scripts/train_unet_street.py`` trains the graded architecture (the instructor's ``unet_model``)
on frames of :func:`helpers.data.street.make_street_scenes` and writes three files:

- ``weights/unet_street_fp16.npz``: the best epoch's weights in float16 (keys "<layer>/<index>"),
  whose SHA-256 is in the run record and checked before loading;
- ``weights/unet_street_fp16_architecture.json``: the model as Keras JSON, with the layer names the
  weights are keyed by. :func:`load_street_unet` builds the model from it, so it needs neither the
  instructor reference (absent from the student kit) nor a fresh Keras session (layer names built in
  a notebook that already made other models get suffixes);
- ``unet_street_run.json``: settings, data seeds and sizes, per-epoch loss, pixel accuracy, mean IoU
  and per-class IoU on held-out frames, wall time, machine load, TensorFlow version.

Scores (numpy only): :func:`confusion_matrix` and :func:`scores_from_confusion` give pixel accuracy
and the IoU of every class present in the true masks (a class absent from the truth is left out of
the mean, whether or not it is predicted; its false positives still lower the other classes' IoU).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

_HERE = Path(__file__).resolve().parent
#: Best epoch's weights of the recorded run, float16.
WEIGHTS_PATH = _HERE / "weights" / "unet_street_fp16.npz"
#: Keras JSON of the trained model (layer names as in the weights file).
ARCHITECTURE_PATH = _HERE / "weights" / "unet_street_fp16_architecture.json"
#: The run record written by scripts/train_unet_street.py.
RUN_PATH = _HERE / "unet_street_run.json"


def architecture_path_for(weights_path) -> Path:
    """Where the training script writes the architecture JSON that goes with ``weights_path``."""
    weights_path = Path(weights_path)
    return weights_path.with_name(weights_path.stem + "_architecture.json")


def confusion_matrix(true, pred, n_classes=23):
    """(n_classes, n_classes) int64 counts, rows = true class, columns = predicted class.

    true, pred: integer arrays of the same shape (e.g. (n, H, W)) with ids in [0, n_classes).
    """
    true = np.asarray(true)
    pred = np.asarray(pred)
    if true.shape != pred.shape:
        raise ValueError(f"confusion_matrix: true {true.shape} and pred {pred.shape} must have the same shape")
    t = true.reshape(-1).astype(np.int64)
    p = pred.reshape(-1).astype(np.int64)
    if t.size and (t.min() < 0 or t.max() >= n_classes or p.min() < 0 or p.max() >= n_classes):
        raise ValueError(f"confusion_matrix: class ids must be in [0, {n_classes})")
    return np.bincount(t * n_classes + p, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def scores_from_confusion(conf, names=None):
    """Pixel accuracy, per-class IoU and mean IoU from a confusion matrix (rows true, columns predicted).

    Returns {"pixel_accuracy": float, "mean_iou": float, "iou": {name: IoU}} where "iou" holds the
    classes present in the truth (row sum > 0), in id order, named by ``names`` (default: CARLA's
    class names of helpers.data.street), and mean_iou is their plain mean.
    """
    conf = np.asarray(conf, dtype=np.float64)
    if conf.ndim != 2 or conf.shape[0] != conf.shape[1] or conf.sum() <= 0:
        raise ValueError(f"scores_from_confusion needs a non-empty square matrix, got shape {conf.shape}")
    if names is None:
        from helpers.data.street import CLASS_NAMES as names
    tp = np.diag(conf)
    truth = conf.sum(axis=1)
    union = truth + conf.sum(axis=0) - tp
    present = np.flatnonzero(truth > 0)
    iou = {names[i]: float(tp[i] / union[i]) for i in present}
    return {"pixel_accuracy": float(tp.sum() / conf.sum()),
            "mean_iou": float(np.mean(list(iou.values()))), "iou": iou}


def segmentation_scores(true, pred, n_classes=23):
    """Pixel accuracy, per-class IoU and mean IoU of predicted masks (see :func:`scores_from_confusion`).

    true, pred: (n, H, W) integer class ids.
    """
    return scores_from_confusion(confusion_matrix(true, pred, n_classes))


def load_street_unet_run():
    """The run record (dict; see the module docstring), or None when no run was recorded."""
    if not RUN_PATH.is_file():
        return None
    return json.loads(RUN_PATH.read_text())


def load_street_unet(weights_path=None):
    """The U-Net trained on the street scenes: (B, 96, 128, 3) floats in [0, 1] -> (B, 96, 128, 23) logits.

    Inputs:
    - weights_path: an ``.npz`` written by the training script (its architecture JSON next to it);
      default :data:`WEIGHTS_PATH`, checked against the SHA-256 in the run record

    Returns a keras.Model, not compiled. Raises ValueError when a file is missing, damaged or does
    not fit the architecture.
    """
    from helpers.backend import keras
    from helpers.models.npz_weights import load_npz_weights

    sha256 = None
    if weights_path is None:
        weights_path = WEIGHTS_PATH
        sha256 = (load_street_unet_run() or {}).get("weights_sha256")
        if sha256 is None:
            raise ValueError(f"no run record with a weights SHA-256 at {RUN_PATH}")
    architecture = architecture_path_for(weights_path)
    if not architecture.is_file():
        raise ValueError(f"street U-Net architecture file missing: {architecture}")
    model = keras.models.model_from_json(architecture.read_text())
    load_npz_weights(model, weights_path, sha256=sha256, what="street-scene U-Net weights")
    return model


def predict_masks(model, images, batch_size=32):
    """Class ids (n, H, W) int64 predicted by ``model`` for uint8 images (n, H, W, 3)."""
    from helpers.backend import keras

    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"predict_masks expects images (n, H, W, 3), got {images.shape}")
    out = []
    for start in range(0, len(images), int(batch_size)):
        logits = model(images[start:start + int(batch_size)].astype(np.float32) / 255.0, training=False)
        out.append(np.argmax(keras.ops.convert_to_numpy(logits), axis=-1))
    return np.concatenate(out)


__all__ = ["ARCHITECTURE_PATH", "RUN_PATH", "WEIGHTS_PATH", "architecture_path_for", "confusion_matrix",
           "load_street_unet", "load_street_unet_run", "predict_masks", "scores_from_confusion",
           "segmentation_scores"]
