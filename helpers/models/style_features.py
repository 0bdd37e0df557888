"""Style-transfer features from EfficientNet-Lite0, plain or softmax-smoothed (why style transfer uses VGG).

Neural style transfer (Gatys et al., 2015) is nearly always run on VGG. Wang, Li and Vasconcelos
(CVPR 2021, "Rethinking and Improving the Robustness of Image Style Transfer") traced why networks
with residual connections, such as ResNet, transfer style badly: their feature maps are *peaky* --
a few huge values, the rest near zero -- so their Gram matrices are dominated by a handful of
entries. Their fix passes each layer's activation through a softmax before the Gram matrices and
the content comparison. Here the softmax runs over all entries of a layer's activation, positions
and channels together, for each image separately (our reading): :func:`softmax_smoothing`.

Measured on EfficientNet-Lite0 (whose blocks end without a ReLU), it does not help: see
``helpers/viz/nst_backbones`` and section 10 of the Neural_Style_Transfer notebook.

- :func:`softmax_smoothing` -- ``softmax(a / temperature)`` over each image's entries (numpy or tensor).
- :func:`activation_entropy` -- how spread out an activation is: the entropy of ``|a| / sum |a|``,
  divided by its largest possible value (1 = all entries equal, 0 = one entry holds everything).
- :func:`efficientnet_style_model` -- EfficientNet-Lite0 (ImageNet weights shipped with the course)
  as a frozen model taking RGB images in [0, 1] and returning the activations of the chosen layers,
  optionally softmax-smoothed; :data:`EFFICIENTNET_STYLE_LAYERS` / :data:`EFFICIENTNET_CONTENT_LAYER`
  pick one layer per resolution, the counterpart of VGG's ``block<b>_conv1`` + last conv.

Used by ``scripts/measure_nst_backbones.py`` (the run the Neural_Style_Transfer notebook quotes).
"""

from __future__ import annotations

import numpy as np

#: One layer per resolution, like VGG's first conv of each block: the stem (1/2 of the image side),
#: then the output of the last block at 1/4, 1/8, 1/16 and 1/32 (the residual stream, after the
#: identity shortcut is added back). Equal weights, as for VGG.
EFFICIENTNET_STYLE_LAYERS = [("stem_relu", 0.2), ("block2b_add", 0.2), ("block3b_add", 0.2),
                             ("block5c_add", 0.2), ("block6d_add", 0.2)]
#: Content layer: the deepest output at 1/16 of the image side, as VGG16's block5_conv3.
EFFICIENTNET_CONTENT_LAYER = [("block5c_add", 1)]


def softmax_smoothing(activations, temperature: float = 1.0):
    """Softmax over all entries of each image's activation: ``exp(a / T) / sum(exp(a / T))``.

    activations: array or tensor of shape (m, n_H, n_W, n_C) (any shape with the images first,
      at least 2 dimensions). temperature: T > 0; larger T flattens the result further.
    Returns the same shape, float32: every entry positive, each image's entries summing to 1. The
    result does not change when a constant is added to all entries of one image, keeps the order
    of the entries, and moves entries with the activation (a permutation of the positions or
    channels permutes the output the same way). Works inside ``tf.GradientTape``.
    """
    if not temperature > 0:
        raise ValueError(f"softmax_smoothing: temperature must be > 0, got {temperature!r}")
    if isinstance(activations, np.ndarray):
        a = activations.astype(np.float32)
        if a.ndim < 2:
            raise ValueError(f"softmax_smoothing: expected shape (m, ...) with at least 2 dimensions, got {a.shape}")
        flat = a.reshape(a.shape[0], -1) / np.float32(temperature)
        flat = np.exp(flat - flat.max(axis=1, keepdims=True))
        return (flat / flat.sum(axis=1, keepdims=True)).reshape(a.shape)
    from helpers.backend import tf

    a = tf.cast(activations, tf.float32)
    if a.shape.rank is not None and a.shape.rank < 2:
        raise ValueError(f"softmax_smoothing: expected shape (m, ...) with at least 2 dimensions, got {a.shape}")
    flat = tf.reshape(a, (tf.shape(a)[0], -1)) / float(temperature)
    return tf.reshape(tf.nn.softmax(flat, axis=-1), tf.shape(a))


def activation_entropy(activations) -> np.ndarray:
    """Normalised entropy of each image's activation seen as a distribution over its entries.

    activations: (m, ...) array or tensor. Each image's entries become ``p = |a| / sum |a|``;
    returns shape (m,), ``-sum(p log p) / log(number of entries)`` in [0, 1]: 1 when all entries
    are equal in size, near 0 when one entry holds nearly everything (a "peaky" activation).
    An all-zero activation raises ValueError (it is no distribution).
    """
    a = np.abs(np.asarray(activations, dtype=np.float64))
    if a.ndim < 2 or a[0].size < 2:
        raise ValueError(f"activation_entropy: expected shape (m, ...) with at least 2 entries per image, got {a.shape}")
    flat = a.reshape(a.shape[0], -1)
    totals = flat.sum(axis=1, keepdims=True)
    if np.any(totals == 0):
        raise ValueError("activation_entropy: an image's activation is all zeros")
    p = flat / totals
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(p), 0.0)
    return -terms.sum(axis=1) / np.log(flat.shape[1])


def efficientnet_style_model(layer_names=None, input_shape=(128, 128, 3), smoothing: bool = False,
                             temperature=1.0):
    """Frozen EfficientNet-Lite0 (shipped ImageNet weights) returning the activations of some layers.

    layer_names: ``[(name, weight), ...]`` or plain names (default
      ``EFFICIENTNET_STYLE_LAYERS + EFFICIENTNET_CONTENT_LAYER``, the style layers then the content
      layer, as ``helpers.models.vgg.get_layer_outputs`` orders VGG's).
    input_shape: (n_H, n_W, 3), at least 32 x 32 (the model takes images of this size only).
    smoothing: True -> every output goes through :func:`softmax_smoothing` with ``temperature``: one
      number for all layers, or one per layer name (e.g. each layer's standard deviation on an image).
    Returns a ``keras.Model`` taking RGB images in [0, 1], shape (m, n_H, n_W, 3) (it applies
    EfficientNet's ``(255 x - 127) / 128`` itself), and returning a list of activations, one per
    name, each (m, n_H_l, n_W_l, n_C_l). Unknown layer names raise ValueError.
    """
    from helpers.backend import keras
    from helpers.models.efficientnet_lite import EfficientNetLite0, preprocess_input
    from helpers.models.vgg import get_layer_outputs

    if layer_names is None:
        layer_names = EFFICIENTNET_STYLE_LAYERS + EFFICIENTNET_CONTENT_LAYER
    names = [entry[0] if isinstance(entry, (tuple, list)) else entry for entry in layer_names]
    if not names:
        raise ValueError("efficientnet_style_model: give at least one layer name")
    temperatures = [float(t) for t in np.broadcast_to(np.asarray(temperature, dtype=np.float64), (len(names),))] \
        if np.ndim(temperature) in (0, 1) and np.size(temperature) in (1, len(names)) else None
    if temperatures is None or not all(t > 0 for t in temperatures):
        raise ValueError(f"efficientnet_style_model: temperature must be > 0, one number or one per layer "
                         f"({len(names)}), got {temperature!r}")
    input_shape = tuple(input_shape)
    if len(input_shape) != 3 or input_shape[-1] != 3:
        raise ValueError(f"efficientnet_style_model: input_shape must be (n_H, n_W, 3), got {input_shape!r}")
    if any(side is None or int(side) < 32 for side in input_shape[:2]):
        raise ValueError(f"efficientnet_style_model: images must be at least 32 x 32, got {input_shape!r}")
    base = EfficientNetLite0(input_shape=input_shape, include_top=False)
    known = {layer.name for layer in base.layers}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"efficientnet_style_model: no layer named {unknown} in EfficientNet-Lite0 "
                         "(see helpers.models.efficientnet_lite.block_names())")
    features = get_layer_outputs(base, names)
    inputs = keras.Input(shape=input_shape, name="rgb_0_1")
    outputs = features(preprocess_input(inputs * 255.0))
    if smoothing:
        outputs = [keras.layers.Lambda(lambda a, t=t: softmax_smoothing(a, t), name=f"softmax_{i}_{name}")(out)
                   for i, (name, out, t) in enumerate(zip(names, outputs, temperatures))]
    model = keras.Model(inputs, list(outputs), name="efficientnet_lite0_softmax" if smoothing else "efficientnet_lite0")
    model.trainable = False
    return model


__all__ = [
    "EFFICIENTNET_CONTENT_LAYER",
    "EFFICIENTNET_STYLE_LAYERS",
    "activation_entropy",
    "efficientnet_style_model",
    "softmax_smoothing",
]
