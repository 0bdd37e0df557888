"""Instructor reference of Transfer_Learning (week 2): ``data_augmenter``, ``transfer_model``, ``prepare_fine_tuning``.

Never part of the student kit. The checks (:mod:`helpers.checks.transfer_learning`) build the
inputs of each graded function with these (never with the student's other functions, so one broken
function costs only its own points); the benchmark and the notebook's from-scratch baseline use the
same settings.
"""

from __future__ import annotations

from helpers.models.backbones import Backbone, compile_binary, load_backbone

#: Settings of the reference solution.
ROTATION_FACTOR = 0.2
DROPOUT_RATE = 0.2
FINE_TUNE_LR_FACTOR = 0.1


def data_augmenter():
    """keras.Sequential: RandomFlip("horizontal") then RandomRotation(0.2). (N, H, W, 3) -> same shape."""
    from helpers.backend import keras

    return keras.Sequential(
        [keras.layers.RandomFlip("horizontal"), keras.layers.RandomRotation(ROTATION_FACTOR)],
        name="data_augmentation",
    )


def transfer_model(image_shape=(96, 96, 3), data_augmentation=None, backbone: Backbone | None = None,
                   dropout_rate=DROPOUT_RATE):
    """Frozen backbone (called with training=False) + global average pooling + dropout + one logit.

    (N, H, W, 3) images in [0, 255] -> (N, 1) logits. Freezes ``backbone.model``.
    data_augmentation None -> :func:`data_augmenter`; backbone None -> ``load_backbone(image_shape)``.
    """
    from helpers.backend import keras

    data_augmentation = data_augmenter() if data_augmentation is None else data_augmentation
    backbone = load_backbone(image_shape) if backbone is None else backbone
    base = backbone.model
    base.trainable = False
    inputs = keras.Input(shape=tuple(image_shape), name="images")
    x = data_augmentation(inputs)
    x = backbone.preprocess_input(x)
    x = base(x, training=False)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    x = keras.layers.Dropout(dropout_rate, name="dropout")(x)
    outputs = keras.layers.Dense(1, name="logit")(x)
    return keras.Model(inputs, outputs, name="transfer_model")


def prepare_fine_tuning(model, base_model, fine_tune_at, base_learning_rate):
    """Unfreeze base_model's layers from index ``fine_tune_at`` on (batch norm stays frozen), recompile at lr/10."""
    from helpers.backend import keras

    base_model.trainable = True
    for index, layer in enumerate(base_model.layers):
        layer.trainable = index >= fine_tune_at and not isinstance(layer, keras.layers.BatchNormalization)
    return compile_binary(model, FINE_TUNE_LR_FACTOR * base_learning_rate)


__all__ = ["data_augmenter", "transfer_model", "prepare_fine_tuning", "ROTATION_FACTOR", "DROPOUT_RATE",
           "FINE_TUNE_LR_FACTOR"]
