"""Tests of week 2, "Transfer Learning" (Keras).

Graded functions:

- ``data_augmenter()`` -> a Keras layer: RandomFlip("horizontal") and RandomRotation(0.2);
- ``transfer_model(image_shape, data_augmentation, backbone)`` -> keras.Model: augmentation,
  the backbone's preprocessing, the frozen backbone called with ``training=False``, global average
  pooling, dropout, one logit;
- ``prepare_fine_tuning(model, base_model, fine_tune_at, base_learning_rate)``: unfreeze the
  backbone's layers from ``fine_tune_at`` on (batch normalisation stays frozen), recompile with a
  ten times smaller learning rate and a cross-entropy on logits.

Inputs to each function are built here, never with the student's other functions nor with the
instructor reference (so the checks need no reference and run the same in the student kit). Visible
tests use the real ImageNet backbone; hidden tests use
:func:`helpers.models.backbones.tiny_backbone`, whose preprocessing differs from the real ones, so code that
hard-codes a backbone or its preprocessing fails them.
"""

from __future__ import annotations

import numpy as np

from helpers.grading import GradingFailure, all_passed, backbone_call_training, call, check_close, fail
from helpers.models.backbones import compile_binary, fine_tune_index, scratch_model

#: prepare_fine_tuning must recompile at this fraction of the first phase's learning rate.
FINE_TUNE_LR_FACTOR = 0.1

RTOL = 1e-3
ATOL = 1e-4

__all__ = [
    "GradingFailure",
    "check_data_augmenter",
    "data_augmenter_test",
    "check_transfer_model",
    "transfer_model_test",
    "check_prepare_fine_tuning",
    "prepare_fine_tuning_test",
]


def _images(shape, n=4, seed=0):
    """(n, H, W, 3) float32 'pixels' in [0, 255] with some structure (so flips and rotations show)."""
    rng = np.random.default_rng(seed)
    h, w, c = shape
    yy, xx = np.mgrid[0:h, 0:w]
    base = (xx * 255.0 / max(w - 1, 1))[None, :, :, None] * rng.uniform(0.3, 1.0, (n, 1, 1, c))
    return np.clip(base + rng.uniform(0, 60, (n, h, w, c)), 0, 255).astype("float32")


# --------------------------------------------------------------------------------------------
# data_augmenter


def _sublayers(layer):
    from helpers.backend import keras

    if isinstance(layer, keras.Sequential):
        found = []
        for sub in layer.layers:
            found += _sublayers(sub)
        return found
    return [layer]


def check_data_augmenter(target, image_shape=(32, 40, 3), seed=0):
    """data_augmenter() must give flip (horizontal only) + rotation (factor 0.2), identity at inference."""
    __tracebackhide__ = True
    from helpers.backend import keras

    name = "data_augmenter"
    augmenter = call(name, target)
    if not isinstance(augmenter, keras.layers.Layer):
        fail(name, "did not return a Keras layer", expected="keras.Sequential([...]) of augmentation layers",
             got=type(augmenter).__name__, cause="return the Sequential you built (e.g. `return data_augmentation`)")
    layers = _sublayers(augmenter)
    kinds = [type(layer).__name__ for layer in layers]
    flips = [layer for layer in layers if isinstance(layer, keras.layers.RandomFlip)]
    rotations = [layer for layer in layers if isinstance(layer, keras.layers.RandomRotation)]
    if len(flips) != 1:
        fail(name, "should contain exactly one RandomFlip layer", expected="RandomFlip('horizontal') and RandomRotation(0.2)",
             got=kinds, cause="add keras.layers.RandomFlip('horizontal') to the Sequential")
    if flips[0].mode != "horizontal":
        fail(name, "flips in the wrong direction", expected="RandomFlip(mode='horizontal')", got=f"mode={flips[0].mode!r}",
             cause="mirror images left-right only: an upside-down photo is not a realistic training example")
    if len(rotations) != 1:
        fail(name, "should contain exactly one RandomRotation layer", expected="RandomFlip('horizontal') and RandomRotation(0.2)",
             got=kinds, cause="add keras.layers.RandomRotation(0.2) to the Sequential")
    factor = rotations[0].factor
    factor = tuple(float(f) for f in (factor if isinstance(factor, (tuple, list)) else (-factor, factor)))
    if not np.allclose(factor, (-0.2, 0.2)):
        fail(name, "rotates by the wrong amount", expected="RandomRotation(0.2): up to 20% of a full turn either way",
             got=f"factor={factor}", cause="the factor is a fraction of a full turn (2*pi), not an angle in degrees or radians: use 0.2")
    if len(layers) != 2:
        fail(name, "has extra layers", expected="only RandomFlip('horizontal') and RandomRotation(0.2)", got=kinds,
             cause="keep just the two augmentation layers asked for")
    x = _images(image_shape, n=3, seed=seed)
    try:
        same = np.asarray(augmenter(x, training=False))
        keras.utils.set_random_seed(seed)
        moved = np.asarray(augmenter(x, training=True))
    except Exception as err:  # noqa: BLE001
        fail(name, f"the returned layer raised {type(err).__name__} on images of shape {x.shape}: {err}")
    check_close(name, "the output at inference (training=False)", same, x, 1e-5, 1e-3,
                cause="augmentation layers must leave images unchanged when not training")
    if moved.shape != x.shape or np.allclose(moved, x, atol=1e-3):
        fail(name, "does not change images in training mode", expected="flipped/rotated images",
             got="unchanged images", cause="check that the layers are added to the Sequential model")


def data_augmenter_test(target):
    """Visible test of data_augmenter: its layers and their effect."""
    __tracebackhide__ = True
    check_data_augmenter(target, (32, 40, 3), seed=0)
    all_passed()


# --------------------------------------------------------------------------------------------
# transfer_model


def _dense_layers(model):
    from helpers.backend import keras

    return [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]


def _given_augmenter():
    """The data_augmentation given to transfer_model: any augmentation layers do (they are the identity at
    inference), so not the answer of data_augmenter (the student kit has no reference)."""
    from helpers.backend import keras

    return keras.Sequential([keras.layers.RandomTranslation(0.1, 0.1), keras.layers.RandomZoom(0.1)],
                            name="data_augmentation")


def _given_transfer_model(image_shape, backbone):
    """The model given to prepare_fine_tuning: the course's network on ``backbone``, backbone frozen."""
    model = scratch_model(tuple(image_shape), _given_augmenter(), backbone)
    backbone.model.trainable = False
    return model


def check_transfer_model(target, image_shape, backbone, seed=0):
    """transfer_model(image_shape, data_augmentation, backbone) on the given backbone.

    Checks structure (augmentation used, backbone frozen and called with training=False, dropout,
    one output) and values: at inference the output must equal
    Dense(GlobalAveragePooling(backbone(preprocess(x)))) computed here with the student's Dense.
    """
    __tracebackhide__ = True
    from helpers.backend import keras

    name = "transfer_model"
    image_shape = tuple(image_shape)
    augmenter = _given_augmenter()
    base = backbone.model
    saved = [(layer, layer.trainable) for layer in [base, *base.layers]]
    try:
        model = call(name, target, image_shape=image_shape, data_augmentation=augmenter, backbone=backbone)
        if not isinstance(model, keras.Model):
            fail(name, "did not return a Keras model", expected="keras.Model(inputs, outputs)",
                 got=type(model).__name__, cause="return the model you built")
        if tuple(model.input_shape) != (None, *image_shape):
            fail(name, "has the wrong input shape", expected=(None, *image_shape), got=model.input_shape,
                 cause="use keras.Input(shape=image_shape)")
        if tuple(model.output_shape) != (None, 1):
            fail(name, "has the wrong output shape", expected="(None, 1): one logit per image",
                 got=model.output_shape, cause="end with keras.layers.Dense(1): a single output unit for two classes")
        training = backbone_call_training(model, base)
        if training == "not called":
            fail(name, "does not use the backbone it was given", expected="base_model = backbone.model called on the images",
                 got="backbone.model is not part of the model", cause="call backbone.model (do not build a new backbone)")
        if not any(layer is augmenter for layer in model.layers):
            fail(name, "does not apply data_augmentation", expected="x = data_augmentation(inputs)",
                 got="the data_augmentation layer is not part of the model",
                 cause="apply the data_augmentation argument to the inputs first")
        if base.trainable_weights:
            fail(name, "leaves the backbone trainable", expected="0 trainable weights in the backbone",
                 got=f"{len(base.trainable_weights)} trainable weight tensors",
                 cause="freeze it with base_model.trainable = False before training the new head")
        if training is not False:
            fail(name, "calls the backbone without training=False", expected="base_model(x, training=False)",
                 got=f"training={training!r}",
                 cause="pass training=False so its batch-normalisation layers run in inference mode")
        if not any(isinstance(layer, keras.layers.Dropout) and 0 < layer.rate < 1 for layer in model.layers):
            fail(name, "has no dropout", expected="keras.layers.Dropout(0.2) before the output layer",
                 got=[type(layer).__name__ for layer in model.layers], cause="add a Dropout layer after the pooling")
        dense = _dense_layers(model)
        if not dense:
            fail(name, "has no Dense output layer", expected="keras.layers.Dense(1)", got=[type(l).__name__ for l in model.layers])
        kernel, bias = dense[-1].get_weights()
        channels = base.output_shape[-1]
        if len(dense) > 1 or kernel.shape[0] != channels:
            fail(name, f"the output layer should see the {channels} pooled backbone features",
                 expected=f"Dense(1) on {channels} features", got=f"{len(dense)} Dense layer(s), the last on {kernel.shape[0]} inputs",
                 cause="use keras.layers.GlobalAveragePooling2D() right after the backbone (not Flatten), then Dropout and Dense(1)")
        trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
        if trainable != channels + 1:
            fail(name, "trains more than the new output layer", expected=f"{channels + 1} trainable parameters",
                 got=f"{trainable}", cause="only the new Dense(1) should be trainable while the backbone is frozen")

        x = _images(image_shape, n=4, seed=seed)
        got = np.asarray(model(x, training=False))
        features = np.asarray(base(backbone.preprocess_input(x.copy()), training=False))
        expected = features.mean(axis=(1, 2)) @ kernel + bias
        raw = np.asarray(base(x.copy(), training=False)).mean(axis=(1, 2)) @ kernel + bias
        max_pooled = features.max(axis=(1, 2)) @ kernel + bias
        check_close(
            name, "the model's output (logits at inference)", got, expected, RTOL, ATOL,
            diagnoses={
                "the images are not preprocessed: apply backbone.preprocess_input to them before the backbone": raw,
                "the output has a sigmoid: return the logit (Dense(1) without activation); the loss applies the sigmoid":
                    1 / (1 + np.exp(-expected)),
                "max pooling was used: use GlobalAveragePooling2D": max_pooled,
            },
            cause="the order should be: augmentation, backbone.preprocess_input, backbone, global average pooling, "
            "dropout, Dense(1); use the preprocessing function of the backbone you were given",
        )
        return model
    finally:
        for layer, state in saved:
            layer.trainable = state


def transfer_model_test(target):
    """Visible test of transfer_model on the course's ImageNet backbone at 96x96."""
    __tracebackhide__ = True
    from helpers.models.backbones import load_backbone

    check_transfer_model(target, (96, 96, 3), load_backbone((96, 96, 3)), seed=0)
    all_passed()


# --------------------------------------------------------------------------------------------
# prepare_fine_tuning


def check_prepare_fine_tuning(target, image_shape, backbone, fine_tune_at, base_learning_rate):
    """Unfreezing from ``fine_tune_at`` on (batch norm frozen) and recompiling at base_learning_rate / 10."""
    __tracebackhide__ = True
    from helpers.backend import keras

    name = "prepare_fine_tuning"
    base = backbone.model
    model = _given_transfer_model(image_shape, backbone)
    compile_binary(model, base_learning_rate)
    returned = call(name, target, model, base, fine_tune_at, base_learning_rate)
    if returned is not None and returned is not model:
        fail(name, "returned a different model", expected="the model it was given, recompiled", got=type(returned).__name__,
             cause="change the given model in place and return it")
    if not base.trainable:
        fail(name, "leaves the backbone frozen", expected="base_model.trainable = True, then re-freeze the early layers",
             got="base_model.trainable is False", cause="set base_model.trainable = True first")
    early = [layer.name for layer in base.layers[:fine_tune_at] if layer.trainable_weights]
    if early:
        fail(name, f"unfreezes layers before index fine_tune_at={fine_tune_at}",
             expected=f"layers 0..{fine_tune_at - 1} frozen", got=f"{len(early)} of them trainable, e.g. {early[0]!r}",
             cause="after base_model.trainable = True, set layer.trainable = False for base_model.layers[:fine_tune_at]")
    late = base.layers[fine_tune_at:]
    bn_trainable = [l.name for l in late if isinstance(l, keras.layers.BatchNormalization) and l.trainable]
    if bn_trainable:
        fail(name, "unfreezes batch-normalisation layers", expected="BatchNormalization layers kept frozen",
             got=f"{len(bn_trainable)} trainable, e.g. {bn_trainable[0]!r}",
             cause="in Keras 3, fit() runs every trainable BatchNormalization layer in training mode (whatever the "
             "training=False of the backbone call); keep them frozen so they keep their ImageNet statistics")
    frozen_late = [l.name for l in late if l.weights and not isinstance(l, keras.layers.BatchNormalization)
                   and not l.trainable_weights]
    if frozen_late:
        fail(name, f"leaves layers from index fine_tune_at={fine_tune_at} on frozen",
             expected="every non-batch-norm layer from fine_tune_at on trainable",
             got=f"{len(frozen_late)} frozen, e.g. {frozen_late[0]!r}", cause="only the layers BEFORE fine_tune_at stay frozen")
    if not all(layer.trainable for layer in _dense_layers(model)):
        fail(name, "froze the output layer", expected="the Dense head trainable", got="frozen",
             cause="only change the trainable flags of base_model's layers")
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        fail(name, "did not compile the model", expected="model.compile(...)", got="no optimizer",
             cause="recompile after changing trainable flags")
    learning_rate = float(np.asarray(optimizer.learning_rate))
    expected_lr = FINE_TUNE_LR_FACTOR * base_learning_rate
    if not np.isclose(learning_rate, expected_lr, rtol=1e-4):
        cause = "use a learning rate ten times smaller: 0.1 * base_learning_rate"
        if np.isclose(learning_rate, base_learning_rate, rtol=1e-4):
            cause = ("the model still has the learning rate of the first phase: recompile it with an optimizer at "
                     "0.1 * base_learning_rate (large steps would destroy the pretrained features)")
        fail(name, "uses the wrong learning rate", expected=f"{expected_lr:g}", got=f"{learning_rate:g}", cause=cause)
    loss = model.loss
    if not (isinstance(loss, keras.losses.BinaryCrossentropy) and loss.get_config().get("from_logits")):
        fail(name, "uses the wrong loss", expected="keras.losses.BinaryCrossentropy(from_logits=True)",
             got=repr(loss), cause="the model outputs a logit (no sigmoid), so the loss must be told from_logits=True")
    return model


def prepare_fine_tuning_test(target):
    """Visible test of prepare_fine_tuning on the course's ImageNet backbone."""
    __tracebackhide__ = True
    from helpers.models.backbones import load_backbone

    backbone = load_backbone((96, 96, 3))
    check_prepare_fine_tuning(target, (96, 96, 3), backbone, fine_tune_index(backbone), 1e-3)
    all_passed()
