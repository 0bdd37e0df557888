"""Training helpers and shipped weights of the week-2 ResNet-50 on the hand signs.

The architecture (the graded ``identity_block``, ``convolutional_block``, ``ResNet50``) is the
instructor reference in :mod:`helpers.reference.residual_networks`; it is re-exported here (lazily,
where the reference is installed) because notebooks released before the restructure import it from
this path. :func:`trained_on_signs` builds it with the reference, or in the student kit from the
Keras JSON the kit builder writes (:data:`SIGNS_ARCHITECTURE_PATH`).
"""

from __future__ import annotations

import json
from pathlib import Path

from helpers.backend import keras

layers = keras.layers

#: Architecture of :func:`trained_on_signs` as Keras JSON, written by ``cnn-course student-kit``: the
#: student kit has no reference to build it from (the original course also ships its trained model).
SIGNS_ARCHITECTURE_PATH = Path(__file__).resolve().parent / "weights" / "resnet50_signs_architecture.json"

_REEXPORTED = ("RESNET50_STAGES", "convolutional_block", "identity_block", "resnet50")


def __getattr__(name):
    """The re-exported reference names (see the docstring), where the reference is installed."""
    if name in _REEXPORTED:
        from helpers.reference import residual_networks

        return getattr(residual_networks, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def signs_architecture():
    """A fresh ResNet-50 (64x64x3 -> 6 classes) with the layer names of the shipped weights, random weights.

    Built with the reference where it is installed, else from :data:`SIGNS_ARCHITECTURE_PATH`.
    """
    import importlib.util

    if importlib.util.find_spec("helpers.reference") is not None:
        from helpers.reference.residual_networks import resnet50

        return resnet50(input_shape=(64, 64, 3), classes=6)
    if not SIGNS_ARCHITECTURE_PATH.is_file():
        raise ValueError(f"ResNet-50 architecture file missing: {SIGNS_ARCHITECTURE_PATH}")
    return keras.models.model_from_json(SIGNS_ARCHITECTURE_PATH.read_text())


# --------------------------------------------------------------------------------------------
# Training helpers used by scripts/train_resnet50_signs.py (not part of the graded functions)
# --------------------------------------------------------------------------------------------


def batch_norm_layers(model):
    """The model's BatchNormalization layers, in order (nested models are not searched)."""
    return [layer for layer in model.layers if isinstance(layer, layers.BatchNormalization)]


def prepare_for_short_training(model, bn_momentum=0.9, zero_init_residual=True):
    """Set every batch norm's momentum and, optionally, start every residual block as the identity.

    With ``zero_init_residual`` the gamma of each main path's last batch norm (the layers named
    ``bn<block>_branch2c``) is set to 0 (Goyal et al. 2017): the main path then outputs 0 and the
    block computes ReLU(shortcut), so a deep network trains like a shallow one at first. A momentum
    below Keras' 0.99 lets the moving statistics follow the weights during a short training.

    Inputs:
    - model: a ResNet built by :func:`resnet50` (named layers)
    - bn_momentum: float in [0, 1)
    - zero_init_residual: bool

    Returns:
    - the number of batch norms whose gamma was zeroed (16 for ResNet-50)
    """
    if not 0.0 <= float(bn_momentum) < 1.0:
        raise ValueError(f"bn_momentum must be in [0, 1), got {bn_momentum!r}")
    zeroed = 0
    for layer in batch_norm_layers(model):
        layer.momentum = float(bn_momentum)
        if zero_init_residual and layer.name.endswith("_branch2c"):
            layer.gamma.assign(keras.ops.zeros_like(layer.gamma))
            zeroed += 1
    if zero_init_residual and zeroed == 0:
        raise ValueError("zero_init_residual: the model has no batch norm named *_branch2c; "
                         "build it with resnet50(named=True)")
    return zeroed


def recalibrate_batch_norm(model, X, batch_size=120):
    """Replace every batch norm's moving mean and variance by their averages over the batches of X.

    The model runs in training mode on X, batch by batch, and no weight changes: before batch k
    (k = 0, 1, ...) every momentum is set to k / (k + 1), so that after the last batch

        moving_mean     = mean over batches of the batch means
        moving_variance = mean over batches of the batch variances

    Momenta are restored afterwards. Use it after a short training, whose moving averages still
    carry statistics of earlier weights. Frozen batch norms (``trainable=False``) run in inference
    mode in Keras even when called with ``training=True``, so they keep their statistics.

    Inputs:
    - model: a Keras model with BatchNormalization layers
    - X: array (m, ...) of training inputs, m >= 1
    - batch_size: int >= 1

    Returns:
    - the number of batches used
    """
    if len(X) == 0 or int(batch_size) < 1:
        raise ValueError(f"recalibrate_batch_norm needs at least one input and batch_size >= 1, "
                         f"got {len(X)} inputs and batch_size={batch_size!r}")
    bns = batch_norm_layers(model)
    saved = [layer.momentum for layer in bns]
    batches = 0
    try:
        for k, start in enumerate(range(0, len(X), int(batch_size))):
            for layer in bns:
                layer.momentum = k / (k + 1)
            model(X[start:start + int(batch_size)], training=True)
            batches = k + 1
    finally:
        for layer, momentum in zip(bns, saved):
            layer.momentum = momentum
    return batches


#: Curves and test accuracy of the full training run made by scripts/train_resnet50_signs.py.
SIGNS_RUN_FILE = "resnet50_signs_run.json"
#: The weights that run ended with (float16 ``.npz``, keys "<layer>/<index>"; SHA-256 in the run record).
SIGNS_WEIGHTS_PATH = Path(__file__).resolve().parent / "weights" / "resnet50_signs_fp16.npz"


def load_signs_run():
    """Return the recorded full run of ResNet-50 on the hand signs.

    Returns a dict with 'epochs', 'seconds_per_epoch', 'device', 'test_accuracy', 'test_loss',
    'history' (lists 'loss', 'accuracy', 'val_loss', 'val_accuracy', one value per epoch) and the
    training settings; written by ``scripts/train_resnet50_signs.py``. None when no run was recorded.
    """
    path = Path(__file__).with_name(SIGNS_RUN_FILE)
    if not path.is_file():
        return None
    return json.loads(path.read_text())


def trained_on_signs(path=None):
    """ResNet-50 (64x64x3 -> 6 classes) with the weights of the recorded run on the hand signs.

    Inputs:
    - path: an ``.npz`` written by the training script; default :data:`SIGNS_WEIGHTS_PATH`, which is
      checked against the SHA-256 stored in the run record

    Returns:
    - keras.Model, not compiled (compile it to call ``evaluate``)

    Raises ValueError when the file is missing, damaged or does not fit the model.
    """
    from helpers.models.npz_weights import load_npz_weights

    sha256 = None
    if path is None:
        path = SIGNS_WEIGHTS_PATH
        run = load_signs_run() or {}
        sha256 = run.get("weights_sha256")
    model = signs_architecture()
    load_npz_weights(model, path, sha256=sha256, what="ResNet-50 hand-signs weights")
    return model


__all__ = ["load_signs_run", "signs_architecture",
           "trained_on_signs", "batch_norm_layers", "prepare_for_short_training", "recalibrate_batch_norm"]
