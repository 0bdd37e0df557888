"""Tests of week 1, "Convolution Model Application" (Keras).

The student's builders are compared with the references of :mod:`helpers.reference.convolution_model_application`:

- structure, with :func:`helpers.grading.check_model_summary`: layer kinds in order, output shapes,
  parameter counts and the settings that matter (filters, kernel size, strides, padding, pool size,
  batch-norm axis, units, activations). A ``Conv2D(..., activation="relu")`` and a separate
  ``ReLU()`` layer are the same thing, so both are accepted; Sequential or Functional both work.
- behaviour, with :func:`check_same_function`: the reference model gets the student's weights and
  both must give the same outputs on the same random images (so the layers are wired in the
  described order and nothing else changes the numbers). The weights are drawn from a seed and the
  weights' shapes, so the reference's side (its weight shapes and outputs) is stored in the student
  kit for the visible tests (:mod:`helpers.checks.stored`).

Hidden tests call ``check_convolutional_model`` with other input shapes, so a builder that ignores
``input_shape`` fails.
"""

from __future__ import annotations

import numpy as np

from helpers.checks.stored import Expected, reference
from helpers.grading import GradingFailure, all_passed, call, check_close, check_model_summary, fail

EXPECTED = Expected("convolution_model_application")

ATOL = 1e-4

_HAPPY_HINTS = {
    "kind": "the layers must come in this order: ZeroPadding2D, Conv2D, BatchNormalization, ReLU, "
            "MaxPooling2D, Flatten, Dense (sigmoid); a missing or extra layer shifts all the others",
    "padding": "ZeroPadding2D takes padding=3 (3 pixels on every side); the Conv2D itself uses no padding "
               "('valid', the default)",
    "filters": "the convolution has 32 filters",
    "kernel_size": "the convolution's filters are 7x7",
    "strides": "the convolution moves by 1 pixel (strides=1); MaxPooling2D uses its default 2x2 windows and stride",
    "axis": "BatchNormalization normalises the channels, axis=3 (the last axis of (m, n_H, n_W, n_C))",
    "pool_size": "MaxPooling2D uses its default 2x2 windows",
    "units": "a single output unit: the probability that the face smiles",
    "activation": "ReLU after the batch normalisation, and a sigmoid on the single output unit",
    "output_shape": "check the input shape (64, 64, 3) and the padding of each layer",
    "params": "check the number of filters, their size and the number of output units",
    "count": "the model has 7 layers (plus the activations): ZeroPadding2D, Conv2D, BatchNormalization, ReLU, "
             "MaxPooling2D, Flatten, Dense(1, sigmoid)",
}

_SIGNS_HINTS = {
    "kind": "the layers must come in this order: Conv2D, ReLU, MaxPool2D, Conv2D, ReLU, MaxPool2D, Flatten, "
            "Dense (softmax); a missing or extra layer shifts all the others",
    "padding": "both convolutions and both max-pooling layers use padding='same'",
    "filters": "the first convolution has 8 filters, the second 16",
    "kernel_size": "the first convolution's filters are 4x4, the second's 2x2",
    "strides": "convolutions move by 1 pixel; the first max pool uses stride 8, the second stride 4",
    "pool_size": "the first max pool uses 8x8 windows (stride 8), the second 4x4 windows (stride 4)",
    "units": "the output layer has 6 units, one per class (0 to 5 fingers)",
    "activation": "ReLU after each convolution and softmax on the output layer",
    "output_shape": "use the input_shape argument for the Input layer (do not hard-code (64, 64, 3)), and "
                    "check padding and pool sizes",
    "params": "check the number of filters, their sizes and the number of output units",
    "count": "the model has Conv2D, ReLU, MaxPool2D, Conv2D, ReLU, MaxPool2D, Flatten, Dense (softmax)",
}


def _settings_first(rows):
    """Compare a layer's settings before its shape and size, so a message names the setting."""
    late = ("output_shape", "params")
    return [{**{k: v for k, v in row.items() if k not in late}, **{k: row[k] for k in late if k in row}}
            for row in rows]


def happy_model_rows():
    """Expected :func:`helpers.grading.summarize_model` rows of happyModel()."""
    return _settings_first([
        {"kind": "ZeroPadding2D", "output_shape": (None, 70, 70, 3), "params": 0, "padding": ((3, 3), (3, 3))},
        {"kind": "Conv2D", "output_shape": (None, 64, 64, 32), "params": 4736, "filters": 32,
         "kernel_size": (7, 7), "strides": (1, 1), "padding": "valid"},
        {"kind": "BatchNormalization", "output_shape": (None, 64, 64, 32), "params": 128, "axis": 3},
        {"kind": "Activation", "output_shape": (None, 64, 64, 32), "params": 0, "activation": "relu"},
        {"kind": "MaxPooling2D", "output_shape": (None, 32, 32, 32), "params": 0, "pool_size": (2, 2),
         "strides": (2, 2), "padding": "valid"},
        {"kind": "Flatten", "output_shape": (None, 32768), "params": 0},
        {"kind": "Dense", "output_shape": (None, 1), "params": 32769, "units": 1},
        {"kind": "Activation", "output_shape": (None, 1), "params": 0, "activation": "sigmoid"},
    ])


def _same_out(n, pool):
    return -(-n // pool)  # ceil: 'same' pooling keeps the partial window


def convolutional_model_rows(input_shape=(64, 64, 3)):
    """Expected summary rows of convolutional_model(input_shape) for an (n_H, n_W, n_C) input."""
    n_h, n_w, n_c = input_shape
    h1, w1 = _same_out(n_h, 8), _same_out(n_w, 8)
    h2, w2 = _same_out(h1, 4), _same_out(w1, 4)
    return _settings_first([
        {"kind": "Conv2D", "output_shape": (None, n_h, n_w, 8), "params": 4 * 4 * n_c * 8 + 8, "filters": 8,
         "kernel_size": (4, 4), "strides": (1, 1), "padding": "same"},
        {"kind": "Activation", "output_shape": (None, n_h, n_w, 8), "params": 0, "activation": "relu"},
        {"kind": "MaxPooling2D", "output_shape": (None, h1, w1, 8), "params": 0, "pool_size": (8, 8),
         "strides": (8, 8), "padding": "same"},
        {"kind": "Conv2D", "output_shape": (None, h1, w1, 16), "params": 2 * 2 * 8 * 16 + 16, "filters": 16,
         "kernel_size": (2, 2), "strides": (1, 1), "padding": "same"},
        {"kind": "Activation", "output_shape": (None, h1, w1, 16), "params": 0, "activation": "relu"},
        {"kind": "MaxPooling2D", "output_shape": (None, h2, w2, 16), "params": 0, "pool_size": (4, 4),
         "strides": (4, 4), "padding": "same"},
        {"kind": "Flatten", "output_shape": (None, h2 * w2 * 16), "params": 0},
        {"kind": "Dense", "output_shape": (None, 6), "params": h2 * w2 * 16 * 6 + 6, "units": 6},
        {"kind": "Activation", "output_shape": (None, 6), "params": 0, "activation": "softmax"},
    ])


def _batch_norms(model):
    return [layer for layer in model.layers if type(layer).__name__ == "BatchNormalization"]


def _random_weights(shapes, bn_variance_shapes, input_shape, seed, batch):
    """Weights of both signs, positive batch-norm variances and images in [0, 1), all from ``seed``."""
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0.0, 0.5, shape).astype("float32") for shape in shapes]
    variances = [rng.uniform(0.5, 2.0, shape).astype("float32") for shape in bn_variance_shapes]
    x = rng.uniform(0.0, 1.0, (batch, *input_shape)).astype("float32")
    return weights, variances, x


def _run_with(model, weights, variances, x):
    dtypes = [w.dtype for w in model.get_weights()]
    model.set_weights([w.astype(d) for w, d in zip(weights, dtypes)])
    for layer, variance in zip(_batch_norms(model), variances):
        layer.moving_variance.assign(variance)
    return np.asarray(model(x, training=False))


def check_same_function(function, model, reference, input_shape, seed, batch=3):
    """Give ``reference`` the weights of ``model``; both must map the same random images alike.

    model: the student's Keras model. reference: a function returning the reference model (called
    only where the reference is installed; the student kit has its weight shapes and outputs stored,
    keyed by ``function``, ``input_shape``, ``seed`` and ``batch``).
    input_shape: (n_H, n_W, n_C) of one image. Images are uniform in [0, 1), drawn with ``seed``.
    """
    __tracebackhide__ = True
    input_shape = tuple(int(d) for d in input_shape)

    def compute():
        twin = reference()
        shapes = [tuple(int(d) for d in w.shape) for w in twin.get_weights()]
        bn_shapes = [tuple(int(d) for d in layer.moving_variance.shape) for layer in _batch_norms(twin)]
        weights, variances, x = _random_weights(shapes, bn_shapes, input_shape, seed, batch)
        return {"shapes": shapes, "output": _run_with(twin, weights, variances, x)}

    stored = EXPECTED(f"{function}.same_function", compute, input_shape, seed, batch)
    shapes = [tuple(int(d) for d in w.shape) for w in model.get_weights()]
    expected_shapes = [tuple(s) for s in stored["shapes"]]
    if shapes != expected_shapes:
        fail(function, "the model's weights do not have the expected shapes", expected=expected_shapes,
             got=shapes, cause="a layer has the wrong size or the layers are in another order")
    # Random weights of both signs, and positive variances for batch normalisation's moving
    # statistics, so that a missing activation or a normalisation over the wrong axis shows.
    bn_shapes = [tuple(int(d) for d in layer.moving_variance.shape) for layer in _batch_norms(model)]
    weights, variances, x = _random_weights(shapes, bn_shapes, input_shape, seed, batch)
    got = _run_with(model, weights, variances, x)
    check_close(function, "the model's output on random images (with the reference's weights)", got,
                stored["output"], rtol=1e-3, atol=ATOL,
                cause="the layers are connected in another order than described, or a layer does something "
                      "else (e.g. an activation applied twice or missing)")


def check_happy_model(target, seed=1):
    """happyModel(): structure of the reference, fresh model per call, same outputs as the reference."""
    __tracebackhide__ = True
    model = call("happyModel", target)
    check_model_summary("happyModel", model, happy_model_rows(), hints=_HAPPY_HINTS)
    if call("happyModel", target) is model:
        fail("happyModel", "returns the same model object twice", expected="a new model on each call",
             got="the same object", cause="build the model inside the function instead of returning a global one")
    check_same_function("happyModel", model, lambda: reference("convolution_model_application").happyModel(),
                        (64, 64, 3), seed)


def check_convolutional_model(target, input_shape=(64, 64, 3), seed=1):
    """convolutional_model(input_shape): structure and outputs of the reference for that shape."""
    __tracebackhide__ = True
    model = call("convolutional_model", target, input_shape)
    check_model_summary("convolutional_model", model, convolutional_model_rows(input_shape), hints=_SIGNS_HINTS)
    check_same_function("convolutional_model", model,
                        lambda: reference("convolution_model_application").convolutional_model(input_shape),
                        input_shape, seed)


def happyModel_test(target):
    """Visible test of happyModel()."""
    __tracebackhide__ = True
    check_happy_model(target, seed=1)
    all_passed()


def convolutional_model_test(target):
    """Visible test of convolutional_model(input_shape)."""
    __tracebackhide__ = True
    check_convolutional_model(target, (64, 64, 3), seed=1)
    all_passed()


__all__ = ["happyModel_test", "convolutional_model_test", "check_happy_model", "check_convolutional_model",
           "check_same_function", "happy_model_rows", "convolutional_model_rows", "GradingFailure"]
