"""The ImageNet-pretrained backbone of the transfer-learning notebook, found offline.

Two backbones can play the part, behind the same student code::

    backbone = load_backbone(image_shape=(128, 128, 3))
    backbone.model             # keras.Model: (N, H, W, 3) preprocessed images -> (N, H/32, W/32, C) features
    backbone.preprocess_input  # (N, H, W, 3) RGB in [0, 255] -> the range the model expects
    backbone.name              # "mobilenet_v2" or "efficientnet_lite0"

- Keras's own MobileNetV2 ImageNet weights (the backbone of the original course), used when the
  file is already in the Keras cache (``$KERAS_HOME/models`` or ``~/.keras/models``; e.g. after a
  ``keras.applications.MobileNetV2(weights="imagenet", include_top=False)`` on a connected
  machine). Nothing is downloaded here: the file is loaded by path.
- Otherwise EfficientNet-Lite0 with the converted weights shipped in ``helpers/models/weights``.

Both map [0, 255] pixels to about [-1, 1] and end with 1280 feature channels, so the rest of the
notebook is the same.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np

#: Input sizes for which Keras publishes MobileNetV2 (alpha 1.0) ImageNet weights.
MOBILENET_V2_SIZES = (96, 128, 160, 192, 224)
BACKBONE_NAMES = ("mobilenet_v2", "efficientnet_lite0")
#: First layer to train again when fine-tuning: the start of the third-to-last stage of blocks (stride 16).
FINE_TUNE_FROM = {"efficientnet_lite0": "block5a_expand_conv", "mobilenet_v2": "block_11_expand"}


class Backbone(NamedTuple):
    model: object  # keras.Model
    preprocess_input: Callable
    name: str
    weights: str  # where the weights came from (a path), or "random"


def keras_cache_dir() -> Path:
    """The folder Keras keeps downloaded files in: ``$KERAS_HOME``, else ``~/.keras``."""
    if os.environ.get("KERAS_HOME"):
        return Path(os.environ["KERAS_HOME"]).expanduser()
    return Path.home() / ".keras"


def mobilenet_v2_weights_file(size: int) -> str:
    """Keras's file name for the MobileNetV2 (alpha 1.0) ImageNet weights without the top, at ``size``."""
    return f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{size}_no_top.h5"


def find_mobilenet_v2_weights(image_size: int, cache_dir: str | Path | None = None) -> Path | None:
    """Path of cached MobileNetV2 no-top ImageNet weights, or None if the cache has none.

    Prefers the file trained at ``image_size``, then the nearest published size (the convolution
    weights fit any input size). ``cache_dir`` defaults to :func:`keras_cache_dir`; files are looked
    for in its ``models`` sub-folder (and in the folder itself).
    """
    root = Path(cache_dir) if cache_dir is not None else keras_cache_dir()
    for size in sorted(MOBILENET_V2_SIZES, key=lambda s: (abs(s - image_size), -s)):
        for folder in (root / "models", root):
            path = folder / mobilenet_v2_weights_file(size)
            if path.is_file() and path.stat().st_size > 1_000_000:
                return path
    return None


def choose_backbone(image_size: int, prefer: str = "auto", cache_dir: str | Path | None = None) -> str:
    """Which backbone :func:`load_backbone` will use: "mobilenet_v2" or "efficientnet_lite0".

    prefer -- "auto" (MobileNetV2 when its weights are cached, else EfficientNet-Lite0), or one of
              the two names to force it ("mobilenet_v2" raises ValueError when no weights are cached).
    """
    if prefer not in ("auto", *BACKBONE_NAMES):
        raise ValueError(f"choose_backbone: prefer must be 'auto' or one of {BACKBONE_NAMES}, got {prefer!r}")
    cached = find_mobilenet_v2_weights(image_size, cache_dir)
    if prefer == "mobilenet_v2" and cached is None:
        root = Path(cache_dir) if cache_dir is not None else keras_cache_dir()
        raise ValueError(
            f"choose_backbone: no MobileNetV2 ImageNet weights in {root / 'models'} "
            f"(expected e.g. {mobilenet_v2_weights_file(224)}); use prefer='auto'"
        )
    if prefer == "efficientnet_lite0" or cached is None:
        return "efficientnet_lite0"
    return "mobilenet_v2"


def load_backbone(
    image_shape=(128, 128, 3), prefer: str = "auto", pretrained: bool = True, cache_dir: str | Path | None = None
) -> Backbone:
    """Build the backbone without its classifier: ``model`` maps (N, H, W, 3) to (N, H/32, W/32, 1280).

    pretrained -- False gives the same architecture with random weights (to train from scratch).
    The model is returned trainable; freezing it is the caller's job.
    """
    from helpers.backend import keras
    from helpers.models import efficientnet_lite

    image_shape = tuple(image_shape)
    if len(image_shape) != 3 or image_shape[-1] != 3 or min(image_shape[:2]) < 32:
        raise ValueError(f"load_backbone: image_shape must be (H, W, 3) with H, W >= 32, got {image_shape}")
    name = choose_backbone(image_shape[0], prefer, cache_dir)
    if name == "mobilenet_v2":
        path = find_mobilenet_v2_weights(image_shape[0], cache_dir)
        model = keras.applications.MobileNetV2(
            input_shape=image_shape, include_top=False, weights=str(path) if pretrained else None
        )
        preprocess = keras.applications.mobilenet_v2.preprocess_input
    else:
        path = efficientnet_lite.WEIGHTS_PATH
        model = efficientnet_lite.EfficientNetLite0(
            input_shape=image_shape, include_top=False, weights="imagenet" if pretrained else None
        )
        preprocess = efficientnet_lite.preprocess_input
    return Backbone(model, preprocess, name, str(path) if pretrained else "random")


def preprocess_for(model) -> Callable:
    """The preprocessing function that belongs to a backbone model built by :func:`load_backbone`."""
    from helpers.backend import keras
    from helpers.models import efficientnet_lite

    if model.name.startswith("efficientnet_lite"):
        return efficientnet_lite.preprocess_input
    if model.name.startswith("mobilenetv2"):
        return keras.applications.mobilenet_v2.preprocess_input
    raise ValueError(f"preprocess_for: unknown backbone {model.name!r}")


# --------------------------------------------------------------------------------------------
# Pieces of the transfer-learning notebook that are not graded
# --------------------------------------------------------------------------------------------


def compile_binary(model, learning_rate):
    """Compile for one-logit binary classification: Adam, cross-entropy on logits, accuracy at 0."""
    from helpers.backend import keras

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0)],
    )
    return model


def fine_tune_index(backbone: Backbone) -> int:
    """Index in ``backbone.model.layers`` of the first layer to unfreeze (see :data:`FINE_TUNE_FROM`)."""
    names = [layer.name for layer in backbone.model.layers]
    start = FINE_TUNE_FROM.get(backbone.name)
    if start not in names:
        raise ValueError(f"fine_tune_index: no layer {start!r} in backbone {backbone.name!r}")
    return names.index(start)


def scratch_model(image_shape, data_augmentation, backbone: Backbone, dropout_rate=0.2):
    """The same network as :func:`helpers.reference.transfer_learning.transfer_model` on a backbone with random weights, all trainable.

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
