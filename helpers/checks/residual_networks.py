"""Visible tests of the week 2 notebook ``Residual_Networks`` (one function per graded function).

Each ``<function>_test(target, ...)`` takes the student's function, runs it on fixed inputs and
compares with the reference in :mod:`helpers.reference.residual_networks` (in the student kit: its values stored
for the visible tests, see :mod:`helpers.checks.stored`); keyword arguments let the hidden tests
call the same checks with fresh shapes, filters, strides and seeds.

Numbers are made comparable with :class:`ShapeSeeded`, an initializer whose values depend only on
the shape of the weight it fills (not on the seed it is given, nor on the order layers are made):
any correct block gives the reference's output to float32 precision, whatever order its layers are
created in and whatever seed it passes. With ``training=True`` batch norm uses the batch's own
statistics, so a missing batch norm changes the numbers a lot; with ``training=False`` a fresh
batch norm is almost the identity, which is why both modes are checked.
"""

from __future__ import annotations

import functools

import numpy as np

from helpers.backend import keras
from helpers.checks.stored import Expected, reference, reference_available
from helpers.grading import all_passed, call, check_close, fail

EXPECTED = Expected("residual_networks")


def ref():
    """The instructor reference (only where it is installed: the repository and the autograder)."""
    return reference("residual_networks")


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
    except Exception:  # noqa: BLE001 - report any failure as a test failure
        fail(fn, "did not return a tensor", expected="the block's output tensor", got=type(value).__name__,
             cause="return X at the end of the function")


def _layer_counts(model):
    counts = {}
    for layer in model.layers:
        name = type(layer).__name__
        counts[name] = counts.get(name, 0) + 1
    return counts


# --- the usual mistakes (built by helpers.reference.residual_networks.bug_block) and their likely causes ---

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


def _diagnoses(X, f, filters, s, training, initializer, candidates):
    """{likely cause: output that mistake gives} for check_close."""
    out = {}
    for bug in candidates:
        try:
            out[_CAUSES[bug]] = _numpy(ref().bug_block(X, f, filters, s, training, initializer, bug), "reference")
        except Exception:  # noqa: BLE001 - a mistake that cannot be built here is not the cause
            continue
    return out


def _check_block(target, fn, X, f, filters, s, seed):
    """Shared checks of identity_block (s is None) and convolutional_block."""
    filters = tuple(int(F) for F in filters)
    initializer = _initializer_factory(salt=seed)
    kwargs = {} if s is None else {"s": s}
    stride = 1 if s is None else s
    m, n_H, n_W, _ = X.shape
    expected_shape = (m, -(-n_H // stride), -(-n_W // stride), filters[2])
    args = f"f={f}, filters={list(filters)}" + ("" if s is None else f", s={s}")

    # structure: build the block on a symbolic input and count its layers
    inputs = keras.Input(shape=X.shape[1:])
    out = call(fn, target, inputs, f, list(filters), training=False, initializer=initializer, **kwargs)
    try:
        counts = _layer_counts(keras.Model(inputs, out))
    except Exception as exc:  # noqa: BLE001
        fail(fn, f"its output on a symbolic keras.Input does not make a Keras model ({type(exc).__name__}: {exc})",
             cause="build the block only from Keras layers applied to X, and return the last tensor")
    n_conv = 3 if s is None else 4
    if counts.get("Conv2D", 0) != n_conv:
        fail(fn, "has the wrong number of Conv2D layers", expected=n_conv, got=counts.get("Conv2D", 0),
             cause="the identity block has exactly three convolutions (1x1, f x f, 1x1)" if s is None else
             "the convolutional block has four convolutions: three on the main path and the 1x1 projection "
             "(F3 filters, stride s) on the shortcut")
    if counts.get("BatchNormalization", 0) != n_conv:
        fail(fn, "has the wrong number of BatchNormalization layers", expected=n_conv,
             got=counts.get("BatchNormalization", 0),
             cause="every convolution, the shortcut's included, is followed by BatchNormalization(axis=3)")

    cands = ["add_after_relu", "no_final_relu", "no_bn", "training_ignored"]
    if s is not None:
        cands += ["stride_middle", "no_projection"]
    for training in (False, True):
        got = call(fn, target, X, f, list(filters), training=training, initializer=initializer, **kwargs)
        got = _numpy(got, fn)
        what = f"output for X of shape {X.shape}, {args}, training={training}"
        if got.shape != expected_shape:
            fail(fn, f"{what} has the wrong shape", expected=expected_shape, got=got.shape,
                 cause=f"check the number of filters of the last 1x1 conv (F3 = {filters[2]}), 'same' padding on "
                       "the f x f conv, and the stride s on the first 1x1 conv and the shortcut conv only")

        def compute(training=training):
            ref_fn = ref().identity_block if s is None else ref().convolutional_block
            return _numpy(ref_fn(X, f, list(filters), training=training, initializer=initializer, **kwargs), fn)

        key = (X, f, filters, s, training, seed)
        expected = EXPECTED(fn, compute, *key)
        diagnoses = EXPECTED.lazy(f"{fn}.diagnoses",
                                  lambda training=training: _diagnoses(X, f, filters, s, training, initializer, cands),
                                  *key)
        close = np.allclose(got, expected, rtol=1e-4, atol=1e-5)  # mistakes are diagnosed only when needed
        check_close(fn, what, got, expected, rtol=1e-4, atol=1e-5,
                    diagnoses=None if close else diagnoses(),
                    cause="the layers or their order differ from 1x1 conv -> BN -> ReLU -> f x f conv ('same') -> "
                          "BN -> ReLU -> 1x1 conv -> BN, + shortcut, ReLU; every conv must use "
                          "kernel_initializer=initializer(seed=0), every BN axis=3 and training=training")


def _fixed_input(shape, seed):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * 2.0 + 0.5).astype("float32")


def check_identity_block(target, X_shape=(3, 5, 5, 6), f=3, filters=(4, 5, 6), seed=1):
    """Check ``identity_block(X, f, filters, training=True, initializer=random_uniform)``.

    Counts Conv2D/BatchNormalization layers of the block built on a symbolic input, compares outputs
    with the reference for training=False and training=True on a fixed input of shape ``X_shape``
    (its last axis must equal filters[2]), and calls it once with its default arguments.
    """
    __tracebackhide__ = True
    if X_shape[-1] != filters[2]:
        raise ValueError(f"check_identity_block: X_shape[-1] ({X_shape[-1]}) must equal filters[2] ({filters[2]})")
    X = _fixed_input(X_shape, seed)
    _check_block(target, "identity_block", X, f, filters, None, seed)
    out = _numpy(call("identity_block", target, X, f, list(filters)), "identity_block")
    want = tuple(X_shape[:3]) + (filters[2],)
    if out.shape != want:
        fail("identity_block", "called with its default training and initializer, gives the wrong shape",
             expected=want, got=out.shape)


def identity_block_test(target):
    """Visible test of identity_block."""
    __tracebackhide__ = True
    check_identity_block(target)
    all_passed()


def check_convolutional_block(target, X_shape=(2, 7, 7, 5), f=3, filters=(3, 4, 6), s=2, seed=2):
    """Check ``convolutional_block(X, f, filters, s=2, training=True, initializer=glorot_uniform)``.

    Same checks as :func:`check_identity_block` with four Conv2D layers (projection shortcut) and the
    output size ceil(n / s); also checks that s defaults to 2.
    """
    __tracebackhide__ = True
    X = _fixed_input(X_shape, seed)
    _check_block(target, "convolutional_block", X, f, filters, s, seed)
    out = _numpy(call("convolutional_block", target, X, f, list(filters)), "convolutional_block")
    want = (X_shape[0], -(-X_shape[1] // 2), -(-X_shape[2] // 2), filters[2])
    if out.shape != want:
        fail("convolutional_block", "called without s, gives the wrong shape (s defaults to 2)",
             expected=want, got=out.shape)


def convolutional_block_test(target):
    """Visible test of convolutional_block."""
    __tracebackhide__ = True
    check_convolutional_block(target)
    all_passed()


def _reference_blocks():
    """The reference blocks under the notebook's names (None in the student kit: the student's own are used)."""
    if not reference_available():
        return None
    module = ref()

    def identity_block(X, f, filters, training=True, initializer=module.random_uniform):
        return module.identity_block(X, f, filters, training=training, initializer=initializer)

    def convolutional_block(X, f, filters, s=2, training=True, initializer=module.glorot_uniform):
        return module.convolutional_block(X, f, filters, s=s, training=training, initializer=initializer)

    return {"identity_block": identity_block, "convolutional_block": convolutional_block}


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


@functools.lru_cache(maxsize=8)
def _built_signature(input_shape, classes):
    return _signature(ref().resnet50(input_shape=input_shape, classes=classes, named=False))


def _reference_signature(input_shape, classes):
    """Signature of the reference ResNet-50 for these arguments (built once per process)."""
    rows = EXPECTED("ResNet50.signature", lambda: _built_signature(input_shape, classes), input_shape, classes)
    return [(kind, tuple(shape)) for kind, shape in rows]


def check_ResNet50(target, input_shape=(64, 64, 3), classes=6, expected_params=RESNET50_64_6_PARAMS, seed=3):
    """Check ``ResNet50(input_shape=(64, 64, 3), classes=6)``.

    The student's ResNet50 runs with the reference identity_block/convolutional_block in its
    namespace (a broken block costs only the block's points). Compares layer kinds and output shapes
    in graph order with the reference, the parameter count, and the softmax output.
    """
    __tracebackhide__ = True
    fn = "ResNet50"
    model = call(fn, target, input_shape=input_shape, classes=classes, with_reference=_reference_blocks())
    if not isinstance(model, keras.Model):
        fail(fn, "did not return a Keras model", expected="keras.Model", got=type(model).__name__,
             cause="end with model = keras.Model(inputs=X_input, outputs=X) and return it")
    if tuple(model.input_shape[1:]) != tuple(input_shape):
        fail(fn, "has the wrong input shape", expected=tuple(input_shape), got=tuple(model.input_shape[1:]),
             cause="build the input as Input(shape=input_shape)")
    if tuple(model.output_shape[1:]) != (classes,):
        fail(fn, "has the wrong output shape", expected=(None, classes), got=model.output_shape,
             cause="the last layer is Dense(classes, activation='softmax')")
    got_sig, want_sig = _signature(model), _reference_signature(tuple(input_shape), classes)
    hint = ("check the stem (pad 3, conv 7x7/2 with 64 filters, BN, ReLU, max pool 3x3/2), the stages' filters, "
            "number of blocks (3, 4, 6, 3) and strides (stage 2's convolutional block has s=1), and the head "
            "(average pool 2x2, flatten, dense)")
    for i, (g, w) in enumerate(zip(got_sig, want_sig)):
        if g != w:
            fail(fn, f"architecture layer #{i + 1} differs (counting padding, conv, batch norm, pooling, add, "
                     f"flatten and dense layers in order)", expected=f"{w[0]} with output shape {w[1]}",
                 got=f"{g[0]} with output shape {g[1]}", cause=hint)
    if len(got_sig) != len(want_sig):
        fail(fn, "has the wrong number of architecture layers", expected=len(want_sig), got=len(got_sig), cause=hint)
    n = model.count_params()
    if expected_params is not None and n != expected_params:
        fail(fn, "has the wrong number of parameters", expected=f"{expected_params:,}", got=f"{n:,}", cause=hint)
    X = np.random.default_rng(seed).random((2,) + tuple(input_shape), dtype=np.float32)
    probs = _numpy(model(X, training=False), fn)
    if not np.allclose(probs.sum(axis=1), 1.0, atol=1e-4) or probs.min() < 0:
        fail(fn, "does not output probabilities", expected="rows of non-negative numbers summing to 1",
             got=f"row sums {probs.sum(axis=1)}", cause="use activation='softmax' in the last Dense layer")


def ResNet50_test(target):
    """Visible test of ResNet50 (64x64x3 inputs, 6 classes, 23,600,006 parameters)."""
    __tracebackhide__ = True
    check_ResNet50(target)
    all_passed()


__all__ = ["ShapeSeeded", "check_identity_block", "identity_block_test", "check_convolutional_block",
           "convolutional_block_test", "check_ResNet50", "ResNet50_test", "RESNET50_64_6_PARAMS"]
