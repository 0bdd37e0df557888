"""Reference pieces of the transfer-learning notebook (week 2), used by its tests and its experiments.

- :func:`reference_augmenter`, :func:`reference_transfer_model`, :func:`reference_fine_tuning`:
  what the graded functions should do, used to build inputs for the tests of the OTHER graded
  functions (so one broken function costs only its own points) and for the scratch baseline;
- :func:`scratch_model`: the same network with a randomly initialised backbone, all trainable;
- :func:`tiny_backbone`: a small stand-in backbone (with its own preprocessing) for fast hidden tests;
- :func:`backbone_call_training`: the ``training`` value a model passes when it calls its backbone;
- :func:`plot_history`: accuracy/loss curves with a "start fine-tuning" marker.
"""

from __future__ import annotations

import numpy as np

from helpers.models.backbones import Backbone

#: Settings of the reference solution.
ROTATION_FACTOR = 0.2
DROPOUT_RATE = 0.2
FINE_TUNE_LR_FACTOR = 0.1
#: First layer to train again when fine-tuning: the start of the third-to-last stage of blocks (stride 16).
FINE_TUNE_FROM = {"efficientnet_lite0": "block5a_expand_conv", "mobilenet_v2": "block_11_expand"}


def reference_augmenter():
    """keras.Sequential: RandomFlip("horizontal") then RandomRotation(0.2). (N, H, W, 3) -> same shape."""
    from helpers.backend import keras

    return keras.Sequential(
        [keras.layers.RandomFlip("horizontal"), keras.layers.RandomRotation(ROTATION_FACTOR)],
        name="data_augmentation",
    )


def reference_transfer_model(image_shape, data_augmentation, backbone: Backbone, dropout_rate=DROPOUT_RATE):
    """Frozen backbone (called with training=False) + global average pooling + dropout + one logit.

    (N, H, W, 3) images in [0, 255] -> (N, 1) logits. Freezes ``backbone.model``.
    """
    from helpers.backend import keras

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


def compile_binary(model, learning_rate):
    """Compile for one-logit binary classification: Adam, cross-entropy on logits, accuracy at 0."""
    from helpers.backend import keras

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0)],
    )
    return model


def reference_fine_tuning(model, base_model, fine_tune_at, base_learning_rate):
    """Unfreeze base_model's layers from index ``fine_tune_at`` on (batch norm stays frozen), recompile at lr/10."""
    from helpers.backend import keras

    base_model.trainable = True
    for index, layer in enumerate(base_model.layers):
        layer.trainable = index >= fine_tune_at and not isinstance(layer, keras.layers.BatchNormalization)
    return compile_binary(model, FINE_TUNE_LR_FACTOR * base_learning_rate)


def fine_tune_index(backbone: Backbone) -> int:
    """Index in ``backbone.model.layers`` of the first layer to unfreeze (see :data:`FINE_TUNE_FROM`)."""
    names = [layer.name for layer in backbone.model.layers]
    start = FINE_TUNE_FROM.get(backbone.name)
    if start not in names:
        raise ValueError(f"fine_tune_index: no layer {start!r} in backbone {backbone.name!r}")
    return names.index(start)


def scratch_model(image_shape, data_augmentation, backbone: Backbone, dropout_rate=DROPOUT_RATE):
    """The same network as :func:`reference_transfer_model` on a backbone with random weights, all trainable.

    The backbone is called without ``training=False``, so its batch-norm layers learn their
    statistics as in any network trained from scratch. ``backbone`` should be built with
    ``pretrained=False``.
    """
    from helpers.backend import keras

    inputs = keras.Input(shape=tuple(image_shape), name="images")
    x = data_augmentation(inputs)
    x = backbone.preprocess_input(x)
    x = backbone.model(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    x = keras.layers.Dropout(dropout_rate, name="dropout")(x)
    outputs = keras.layers.Dense(1, name="logit")(x)
    return keras.Model(inputs, outputs, name="scratch_model")


def tiny_preprocess(images):
    """Preprocessing of :func:`tiny_backbone`: [0, 255] -> [0, 1] (deliberately unlike the real backbones)."""
    return images / 255.0


def tiny_backbone(image_shape=(48, 48, 3), channels=24, seed=0) -> Backbone:
    """A small backbone with batch norm (conv-BN-ReLU x3, stride 2 each), random weights: fast test stand-in.

    (N, H, W, 3) -> (N, H/8, W/8, channels). Its batch-norm statistics are set to non-trivial
    values, so running it in training or inference mode gives different results.
    """
    from helpers.backend import keras

    rng = np.random.default_rng(seed)
    inputs = keras.Input(shape=tuple(image_shape))
    x = inputs
    for i, width in enumerate((8, 16, channels)):
        x = keras.layers.Conv2D(width, 3, strides=2, padding="same", use_bias=False, name=f"tiny_conv{i}")(x)
        x = keras.layers.BatchNormalization(name=f"tiny_bn{i}")(x)
        x = keras.layers.ReLU(name=f"tiny_relu{i}")(x)
    model = keras.Model(inputs, x, name="tiny_backbone")
    for layer in model.layers:
        weights = layer.get_weights()
        if isinstance(layer, keras.layers.Conv2D):
            layer.set_weights([rng.normal(0, 0.3, w.shape).astype("float32") for w in weights])
        elif isinstance(layer, keras.layers.BatchNormalization):
            n = weights[0].shape
            layer.set_weights([
                rng.uniform(0.5, 1.5, n), rng.normal(0, 0.2, n), rng.normal(0, 0.5, n), rng.uniform(0.5, 2.0, n)
            ])
    return Backbone(model, tiny_preprocess, "tiny", "random")


def backbone_call_training(model, backbone_model):
    """The ``training`` argument ``model`` passes when it calls ``backbone_model``.

    Returns False/True when it is passed, None when it is not, and the string "not called" when
    ``backbone_model`` is not used by ``model``; raises LookupError if Keras's graph cannot be read.
    """
    nodes_by_depth = getattr(model, "_nodes_by_depth", None)
    if nodes_by_depth is None:
        raise LookupError("this Keras version does not expose the model graph")
    calls = [node for nodes in nodes_by_depth.values() for node in nodes if node.operation is backbone_model]
    if not calls:
        return "not called"
    values = []
    for node in calls:
        arguments = node.arguments
        if "training" in arguments.kwargs:
            values.append(arguments.kwargs["training"])
        elif len(arguments.args) > 1:
            values.append(arguments.args[1])
        else:
            values.append(None)
    if any(v is not False for v in values):
        return next(v for v in values if v is not False)
    return False


def plot_history(histories, fine_tune_epoch=None, labels=None, ax=None):
    """Validation (solid) and training (dashed) accuracy per epoch, with a "start fine-tuning" line.

    histories -- dict name -> keras History.history dict (keys "accuracy", "val_accuracy"); the
                 curves of a two-phase run are joined before passing them in.
    fine_tune_epoch -- epoch (count of epochs already done) where fine-tuning started, or None.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    for (name, history), color in zip(histories.items(), ("C0", "C1", "C2", "C3")):
        epochs = np.arange(1, len(history["val_accuracy"]) + 1)
        ax.plot(epochs, history["val_accuracy"], color=color, label=f"{name} (validation)")
        ax.plot(epochs, history["accuracy"], color=color, linestyle="--", alpha=0.6, label=f"{name} (training)")
    if fine_tune_epoch is not None:
        ax.axvline(fine_tune_epoch + 0.5, color="k", linestyle=":")
        ax.text(fine_tune_epoch + 0.6, 0.52, "start fine-tuning", rotation=90, va="bottom")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0.45, 1.01)
    ax.axhline(0.5, color="grey", linewidth=0.5)
    ax.legend(fontsize=8, loc="lower right")
    return ax
