"""Visible tests of the week 2 notebook ``Residual_Networks`` (one function per graded function).

Each ``<function>_test(target, ...)`` takes the student's function, runs it on fixed inputs and
compares with the reference in :mod:`helpers.models.resnet`; keyword arguments let the hidden tests
call the same checks with fresh shapes, filters, strides and seeds.

Numbers are made comparable with :class:`ShapeSeeded`, an initializer whose values depend only on
the shape of the weight it fills (not on the seed it is given, nor on the order layers are made):
any correct block gives the reference's output to float32 precision, whatever order its layers are
created in and whatever seed it passes. With ``training=True`` batch norm uses the batch's own
statistics, so a missing batch norm changes the numbers a lot; with ``training=False`` a fresh
batch norm is almost the identity, which is why both modes are checked.
"""

from __future__ import annotations

import numpy as np

from helpers.backend import keras
from helpers.models import resnet as ref

layers = keras.layers

#: ResNet50(input_shape=(64, 64, 3), classes=6) has this many parameters (23,546,886 trainable +
#: 53,120 batch-norm moving means and variances).
RESNET50_64_6_PARAMS = 23_600_006


class ShapeSeeded(keras.initializers.Initializer):
    """Uniform initializer (Glorot range) whose values are a function of the weight's shape only.

    ``ShapeSeeded(seed=anything)`` and ``ShapeSeeded`` itself both work where a block expects
    ``initializer`` (a class called as ``initializer(seed=0)``).
    """

    def __init__(self, seed=None, salt=7):
        self.salt = int(salt)

    def __call__(self, shape, dtype=None):
        shape = tuple(int(d) for d in shape)
        receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
        fan_in = shape[-2] * receptive if len(shape) >= 2 else shape[0]
        fan_out = shape[-1] * receptive
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        rng = np.random.default_rng([self.salt, *shape])
        values = rng.uniform(-limit, limit, size=shape).astype("float32")
        return keras.ops.convert_to_tensor(values, dtype=dtype or "float32")

    def get_config(self):
        return {"salt": self.salt}


def _initializer_factory(salt):
    """A class-like factory: ``factory(seed=0)`` returns ``ShapeSeeded(salt=salt)``."""

    class _Factory(ShapeSeeded):
        def __init__(self, seed=None):
            super().__init__(seed=seed, salt=salt)

    return _Factory


def _numpy(value, fn):
    try:
        return np.asarray(keras.ops.convert_to_numpy(value), dtype=np.float64)
    except Exception as exc:  # noqa: BLE001 - report any failure as a test failure
        raise AssertionError(
            f"{fn}: expected a tensor (the block's output), got {type(value).__name__} ({exc})") from None


def _layer_counts(model):
    counts = {}
    for layer in model.layers:
        name = type(layer).__name__
        counts[name] = counts.get(name, 0) + 1
    return counts


# --- reference versions of the usual mistakes, used only to name the likely cause of a failure ---

def _bug_block(X, f, filters, s, training, initializer, bug):
    F1, F2, F3 = filters
    shortcut = X
    stride = s or 1
    a = 1 if bug == "stride_middle" else stride
    b = stride if bug == "stride_middle" else 1
    if bug == "training_ignored":
        training = not training
    bn = (lambda t: t) if bug == "no_bn" else (lambda t: layers.BatchNormalization(axis=3)(t, training=training))
    X = layers.Conv2D(F1, 1, strides=a, kernel_initializer=initializer(seed=0))(X)
    X = layers.Activation("relu")(bn(X))
    X = layers.Conv2D(F2, f, strides=b, padding="same", kernel_initializer=initializer(seed=0))(X)
    X = layers.Activation("relu")(bn(X))
    X = layers.Conv2D(F3, 1, kernel_initializer=initializer(seed=0))(X)
    X = bn(X)
    if s is not None and bug != "no_projection":
        shortcut = layers.Conv2D(F3, 1, strides=s, kernel_initializer=initializer(seed=0))(shortcut)
        shortcut = bn(shortcut)
    if bug == "add_after_relu":
        return layers.Activation("relu")(X) + shortcut
    if bug == "no_final_relu":
        return X + shortcut
    return layers.Activation("relu")(X + shortcut)


_CAUSES = {
    "add_after_relu": "the shortcut is added AFTER the final ReLU; add it to the batch-normed main "
                      "path first, then apply the ReLU",
    "no_final_relu": "the ReLU after the addition is missing",
    "no_bn": "batch normalization is missing (each conv, and the shortcut conv, is followed by "
             "BatchNormalization(axis=3) called with training=training)",
    "stride_middle": "the stride is on the f x f convolution; it belongs on the FIRST 1x1 "
                     "convolution (and on the shortcut conv)",
    "training_ignored": "the batch norm layers ignore the `training` argument; call each one as "
                        "BatchNormalization(axis=3)(X, training=training)",
    "no_projection": "the shortcut is not projected; it needs a 1x1 conv with F3 filters and stride "
                     "s, followed by batch norm",
}


def _likely_cause(got, X, f, filters, s, training, initializer, candidates):
    for bug in candidates:
        try:
            out = _numpy(_bug_block(X, f, filters, s, training, initializer, bug), "reference")
        except Exception:  # noqa: BLE001 - a bug variant that cannot be built is not the cause
            continue
        if out.shape == got.shape and np.allclose(out, got, rtol=1e-4, atol=1e-5):
            return _CAUSES[bug]
    return None


def _check_block(target, fn, X, f, filters, s, seed):
    """Shared checks of identity_block (s is None) and convolutional_block."""
    filters = tuple(int(F) for F in filters)
    initializer = _initializer_factory(salt=seed)
    kwargs = {} if s is None else {"s": s}
    ref_fn = ref.identity_block if s is None else ref.convolutional_block
    stride = 1 if s is None else s
    m, n_H, n_W, _ = X.shape
    expected_shape = (m, -(-n_H // stride), -(-n_W // stride), filters[2])

    # structure: build the block on a symbolic input and count its layers
    inputs = keras.Input(shape=X.shape[1:])
    try:
        counts = _layer_counts(keras.Model(inputs, target(inputs, f, list(filters), training=False,
                                                          initializer=initializer, **kwargs)))
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"{fn}(keras.Input(shape={X.shape[1:]}), f={f}, filters={list(filters)}, ...) "
                             f"raised {type(exc).__name__}: {exc}; the block must also work on symbolic "
                             f"Keras tensors (it is used inside ResNet50)") from None
    n_conv = 3 if s is None else 4
    if counts.get("Conv2D", 0) != n_conv:
        hint = ("the identity block has exactly three convolutions (1x1, f x f, 1x1)" if s is None else
                "the convolutional block has four convolutions: three on the main path and the 1x1 "
                "projection on the shortcut")
        raise AssertionError(f"{fn}: expected {n_conv} Conv2D layers, found {counts.get('Conv2D', 0)}; {hint}.")
    if counts.get("BatchNormalization", 0) != n_conv:
        raise AssertionError(
            f"{fn}: expected {n_conv} BatchNormalization layers (one after each conv), found "
            f"{counts.get('BatchNormalization', 0)}.")

    for training in (False, True):
        call = f"{fn}(X, f={f}, filters={list(filters)}{', s=' + str(s) if s is not None else ''}, " \
               f"training={training}, initializer=...) on X of shape {X.shape}"
        try:
            got = target(X, f, list(filters), training=training, initializer=initializer, **kwargs)
        except Exception as exc:  # noqa: BLE001
            raise AssertionError(f"{call} raised {type(exc).__name__}: {exc}") from None
        got = _numpy(got, fn)
        if got.shape != expected_shape:
            raise AssertionError(
                f"{call}: expected an output of shape {expected_shape}, got {got.shape}. "
                f"Check the number of filters of the last 1x1 conv (F3 = {filters[2]}), 'same' padding "
                f"on the f x f conv, and the stride s placed on the first 1x1 conv only.")
        expected = _numpy(ref_fn(X, f, list(filters), training=training, initializer=initializer, **kwargs), fn)
        if not np.allclose(got, expected, rtol=1e-4, atol=1e-5):
            cands = ["add_after_relu", "no_final_relu", "no_bn", "training_ignored"]
            if s is not None:
                cands += ["stride_middle", "no_projection"]
            cause = _likely_cause(got, X, f, filters, s, training, initializer, cands)
            worst = np.unravel_index(np.argmax(np.abs(got - expected)), got.shape)
            raise AssertionError(
                f"{call}: wrong values; at index {tuple(int(i) for i in worst)} expected "
                f"{expected[worst]:.6f}, got {got[worst]:.6f}. Likely cause: "
                + (cause or "the layers or their order differ from 1x1 conv -> BN -> ReLU -> f x f conv "
                   "('same') -> BN -> ReLU -> 1x1 conv -> BN, + shortcut, ReLU; every conv must use "
                   "kernel_initializer=initializer(seed=0) and every BN axis=3 and training=training"))

def _fixed_input(shape, seed):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * 2.0 + 0.5).astype("float32")


def identity_block_test(target, X_shape=(3, 5, 5, 6), f=3, filters=(4, 5, 6), seed=1, verbose=True):
    """Check ``identity_block(X, f, filters, training=True, initializer=random_uniform)``.

    Compares outputs with the reference for training=False and training=True on a fixed input of
    shape ``X_shape`` (its last axis must equal filters[2]), then counts Conv2D/BatchNormalization
    layers of the block built on a symbolic input.
    """
    if X_shape[-1] != filters[2]:
        raise ValueError(f"identity_block_test: X_shape[-1] ({X_shape[-1]}) must equal filters[2] ({filters[2]})")
    X = _fixed_input(X_shape, seed)
    _check_block(target, "identity_block", X, f, filters, None, seed)
    # the default initializer and training arguments must exist
    out = target(X, f, list(filters))
    if tuple(_numpy(out, "identity_block").shape) != tuple(X_shape[:3]) + (filters[2],):
        raise AssertionError("identity_block: calling it with its default arguments gives a wrong shape.")
    if verbose:
        print("All tests passed.")


def convolutional_block_test(target, X_shape=(2, 7, 7, 5), f=3, filters=(3, 4, 6), s=2, seed=2, verbose=True):
    """Check ``convolutional_block(X, f, filters, s=2, training=True, initializer=glorot_uniform)``.

    Same checks as :func:`identity_block_test` plus four Conv2D layers (projection shortcut) and the
    output size ceil(n / s); also checks that s defaults to 2.
    """
    X = _fixed_input(X_shape, seed)
    _check_block(target, "convolutional_block", X, f, filters, s, seed)
    out = _numpy(target(X, f, list(filters)), "convolutional_block")
    want = (X_shape[0], -(-X_shape[1] // 2), -(-X_shape[2] // 2), filters[2])
    if out.shape != want:
        raise AssertionError(
            f"convolutional_block: with the default s the output should have shape {want} (s=2), got {out.shape}.")
    if verbose:
        print("All tests passed.")


def _reference_blocks():
    def identity(X, f, filters, training=True, initializer=ref.random_uniform):
        return ref.identity_block(X, f, filters, training=training, initializer=initializer)

    def convolutional(X, f, filters, s=2, training=True, initializer=ref.glorot_uniform):
        return ref.convolutional_block(X, f, filters, s=s, training=training, initializer=initializer)

    return identity, convolutional


def build_with_reference_blocks(target, *args, **kwargs):
    """Call the student's ``ResNet50`` with the reference blocks swapped into its namespace.

    So a mistake in identity_block or convolutional_block does not cost ResNet50's points too.
    """
    namespace = getattr(target, "__globals__", None)
    if namespace is None:
        return target(*args, **kwargs)
    identity, convolutional = _reference_blocks()
    saved = {name: namespace.get(name, _MISSING) for name in ("identity_block", "convolutional_block")}
    namespace["identity_block"], namespace["convolutional_block"] = identity, convolutional
    try:
        return target(*args, **kwargs)
    finally:
        for name, value in saved.items():
            if value is _MISSING:
                namespace.pop(name, None)
            else:
                namespace[name] = value


_MISSING = object()
_STRUCTURAL = ("ZeroPadding2D", "Conv2D", "BatchNormalization", "MaxPooling2D", "Add", "AveragePooling2D",
               "Flatten", "Dense")


def _signature(model):
    """(layer kind, output shape) of the layers that define the architecture, in graph order."""
    rows = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind in _STRUCTURAL:
            rows.append((kind, tuple(layer.output.shape[1:])))
    return rows


def ResNet50_test(target, input_shape=(64, 64, 3), classes=6, expected_params=RESNET50_64_6_PARAMS,
                  seed=3, verbose=True):
    """Check ``ResNet50(input_shape=(64, 64, 3), classes=6)``.

    Builds it with the reference blocks (see :func:`build_with_reference_blocks`) and compares layer
    kinds and output shapes in order, the parameter count and the softmax output.
    """
    fn = "ResNet50"
    try:
        model = build_with_reference_blocks(target, input_shape=input_shape, classes=classes)
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"{fn}(input_shape={input_shape}, classes={classes}) raised "
                             f"{type(exc).__name__}: {exc}") from None
    if not isinstance(model, keras.Model):
        raise AssertionError(f"{fn}: expected a keras.Model, got {type(model).__name__}.")
    if tuple(model.input_shape[1:]) != tuple(input_shape):
        raise AssertionError(f"{fn}: expected the model's input shape {tuple(input_shape)}, got "
                             f"{tuple(model.input_shape[1:])}; build keras.Input(shape=input_shape).")
    if tuple(model.output_shape[1:]) != (classes,):
        raise AssertionError(f"{fn}: expected an output of shape (None, {classes}), got {model.output_shape}; "
                             f"the last layer is Dense(classes, activation='softmax').")
    expected = ref.resnet50(input_shape=input_shape, classes=classes, named=False)
    got_sig, want_sig = _signature(model), _signature(expected)
    for i, (g, w) in enumerate(zip(got_sig, want_sig)):
        if g != w:
            raise AssertionError(
                f"{fn}: architecture layer #{i} (counting padding, conv, batch norm, pooling, add, flatten, "
                f"dense layers) should be {w[0]} with output shape {w[1]}, got {g[0]} with {g[1]}. Check the "
                f"stem (pad 3, conv 7x7/2 with 64 filters, BN, ReLU, max pool 3x3/2), the stage filters and "
                f"strides (stage 2's convolutional block has s=1), and the head (average pool 2x2, flatten, dense).")
    if len(got_sig) != len(want_sig):
        raise AssertionError(f"{fn}: expected {len(want_sig)} architecture layers, got {len(got_sig)}; stages "
                             f"have 3, 4, 6 and 3 blocks (one convolutional block then identity blocks).")
    n = model.count_params()
    if expected_params is not None and n != expected_params:
        raise AssertionError(f"{fn}: expected {expected_params:,} parameters, got {n:,}.")
    rng = np.random.default_rng(seed)
    X = rng.random((3,) + tuple(input_shape), dtype=np.float32)
    batch = _numpy(model(X, training=False), fn)
    if not np.allclose(batch.sum(axis=1), 1.0, atol=1e-4) or batch.min() < 0:
        raise AssertionError(f"{fn}: the outputs should be probabilities (softmax), rows sum to "
                             f"{batch.sum(axis=1)}.")
    if verbose:
        print("All tests passed.")


__all__ = ["ShapeSeeded", "identity_block_test", "convolutional_block_test", "ResNet50_test",
           "build_with_reference_blocks", "RESNET50_64_6_PARAMS"]
