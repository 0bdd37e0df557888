"""Visible tests of the week 3 notebook ``Image_Segmentation_UNet`` (one function per graded function).

Each ``<function>_test(target)`` takes the student's function and compares it with the reference in
:mod:`helpers.reference.image_segmentation_unet` (in the student kit: the reference's summaries and
outputs stored for the visible tests, see :mod:`helpers.checks.stored`); the ``check_<function>`` functions take keyword
arguments so the hidden tests can call the same checks with fresh sizes, filter counts, class counts
and seeds.

The graded functions build Keras layers with ``kernel_initializer="he_normal"``, so two correct
blocks start from different random weights. To compare numbers, a check builds the student's block
and the reference on a symbolic ``keras.Input``, then overwrites every weight with
:func:`shape_seeded_weights`: values that depend only on the layer's kind, the weight's name and its
shape (not on the order the layers were made, nor on their names). Any correct block then computes
the reference's output to float32 precision, while a swapped concatenation, a missing ReLU or a skip
connection wired to the wrong block changes it. What the weights hide (the kernel initializer, the
dropout rate) is checked on the layers themselves.
"""

from __future__ import annotations

import functools
import types
import zlib

import numpy as np

from helpers.backend import keras
from helpers.checks.stored import Expected, reference, reference_available
from helpers.grading import GradingFailure, all_passed, call, check_close, fail, summarize_model

EXPECTED = Expected("image_segmentation_unet")


def ref():
    """The instructor reference (only where it is installed: the repository and the autograder)."""
    return reference("image_segmentation_unet")


layers = keras.layers

#: unet_model(input_size=(96, 128, 3), n_filters=32, n_classes=23) has this many parameters.
UNET_PARAMS = 8_640_471

_SKIP_CAUSE = ("each upsampling block joins the skip connection of the encoder block with the same height and "
               "width: ublock6 <- cblock4[1], ublock7 <- cblock3[1], ublock8 <- cblock2[1], ublock9 <- cblock1[1] "
               "(the second output of conv_block, taken before pooling), and the first upsampling block starts "
               "from the bottleneck cblock5[0]")


# --------------------------------------------------------------------------------------------
# comparable weights


def shape_seeded_weights(model, salt=0):
    """Overwrite every weight of ``model`` with values that depend only on (salt, layer kind, weight
    name, shape): kernels uniform in the Glorot range, biases uniform in [-0.1, 0.1]."""
    for layer in model.layers:
        kind = zlib.crc32(type(layer).__name__.encode())
        for weight in layer.weights:
            shape = tuple(int(d) for d in weight.shape)
            name = weight.name.split("/")[-1]
            rng = np.random.default_rng([int(salt), kind, zlib.crc32(name.encode()), *shape])
            if name == "kernel" and len(shape) >= 2:
                receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
                limit = np.sqrt(6.0 / (receptive * (shape[-2] + shape[-1])))
            else:
                limit = 0.1
            weight.assign(rng.uniform(-limit, limit, size=shape).astype("float32"))


def _fixed_input(shape, seed):
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


def _numpy(value, fn, what):
    try:
        return np.asarray(keras.ops.convert_to_numpy(value), dtype=np.float64)
    except Exception:  # noqa: BLE001 - report any failure as a test failure
        fail(fn, f"{what} is not a tensor", expected="a Keras tensor", got=type(value).__name__,
             cause="return the tensors the Keras layers produced")


def _outputs(model, arrays):
    out = model(arrays if len(arrays) > 1 else arrays[0], training=False)
    return [np.asarray(keras.ops.convert_to_numpy(o), dtype=np.float64) for o in (out if isinstance(out, (list, tuple)) else [out])]


def _build(fn, target, inputs, kwargs, cause, with_reference=None):
    """Call ``target`` on symbolic inputs; a failure to build gets ``cause`` as its likely cause."""
    __tracebackhide__ = True
    try:
        return call(fn, target, *inputs, with_reference=with_reference, **kwargs)
    except GradingFailure as failure:
        message = str(failure)
        if "raised" in message.splitlines()[0] and cause:
            first = message.splitlines()[0]
            shown = ", ".join(f"{k}=" + (f"keras.Input of shape {tuple(v.shape)}" if hasattr(v, "shape") else repr(v))
                              for k, v in kwargs.items())
            fail(fn, first[len(fn) + 2:], expected="a result", got=f"an exception when called with ({shown})",
                 cause=cause)
        raise


def _make_model(fn, inputs, outputs):
    __tracebackhide__ = True
    try:
        return keras.Model(inputs, outputs)
    except Exception as exc:  # noqa: BLE001
        fail(fn, f"its output does not make a Keras model ({type(exc).__name__}: {exc})",
             expected="tensors made by Keras layers applied to the inputs", got=repr(outputs)[:120],
             cause="build everything from Keras layers applied to the inputs and return the last tensors")


def _without_zero_dropout(model):
    """``model`` as summarize_model sees it, leaving out Dropout layers of rate 0 (they do nothing)."""
    kept = [layer for layer in model.layers if not (type(layer).__name__ == "Dropout" and float(layer.rate) == 0.0)]
    return types.SimpleNamespace(layers=kept, count_params=model.count_params)


def _row_text(row):
    settings = ", ".join(f"{k}={v!r}" for k, v in row.items() if k not in ("kind", "output_shape", "params"))
    return f"{row['kind']}({settings}) -> output {row.get('output_shape')}, {row.get('params')} parameters"


def _compare_rows(fn, got_rows, want_rows, hint):
    """Compare summarize_model rows in order; ``hint(want_row, key)`` gives the likely cause."""
    __tracebackhide__ = True
    for index, (want, have) in enumerate(zip(want_rows, got_rows)):
        for key, value in want.items():
            if key == "padding" and want.get("kernel_size") == (1, 1) == have.get("kernel_size"):
                continue  # a 1x1 convolution gives the same output with 'valid' and 'same' padding
            if have.get(key) != value:
                fail(fn, f"layer {index + 1} ({have['kind']}) differs in {key!r} (layers counted in graph order, "
                         "a built-in activation counted as a layer of its own)",
                     expected=_row_text(want), got=_row_text(have), cause=hint(want, have, key))
    if len(got_rows) != len(want_rows):
        longer = got_rows if len(got_rows) > len(want_rows) else want_rows
        extra = longer[min(len(got_rows), len(want_rows))]
        fail(fn, "has the wrong number of layers (a built-in activation counted as a layer of its own)",
             expected=f"{len(want_rows)} layers", got=f"{len(got_rows)} layers; first "
             f"{'extra' if longer is got_rows else 'missing'}: {_row_text(extra)}", cause=hint(extra, extra, "count"))


def _is_he_normal(initializer):
    if isinstance(initializer, keras.initializers.HeNormal):
        return True
    if isinstance(initializer, keras.initializers.VarianceScaling):
        return (float(initializer.scale) == 2.0 and initializer.mode == "fan_in"
                and initializer.distribution in ("truncated_normal", "normal"))
    return False


def _check_initializers(fn, model, where):
    __tracebackhide__ = True
    for layer in model.layers:
        if type(layer).__name__ == "Conv2D" and tuple(layer.kernel_size) == (3, 3):
            initializer = layer.kernel_initializer
            if not _is_he_normal(initializer):
                fail(fn, f"a 3x3 Conv2D {where} has the wrong kernel initializer", expected="he_normal",
                     got=type(initializer).__name__,
                     cause="wrong kernel initializer: create each 3x3 convolution with kernel_initializer='he_normal'")


# --------------------------------------------------------------------------------------------
# conv_block


_CONV_BLOCK_CAUSES = {
    "no_relu_first": "the first convolution has no ReLU (activation='relu' on both 3x3 convolutions)",
    "no_relu_second": "the second convolution has no ReLU (activation='relu' on both 3x3 convolutions)",
}


def _conv_block_model(fn, target, shape, n_filters, dropout_prob, max_pooling):
    __tracebackhide__ = True
    inputs = keras.Input(shape=shape)
    result = _build(fn, target, [], {"inputs": inputs, "n_filters": n_filters, "dropout_prob": dropout_prob,
                                     "max_pooling": max_pooling},
                    cause="build two Conv2D(n_filters, 3, activation='relu', padding='same', "
                          "kernel_initializer='he_normal') on inputs, then the optional Dropout and MaxPooling2D")
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        fail(fn, "does not return two tensors", expected="(next_layer, skip_connection)",
             got=f"{type(result).__name__}" + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else ""),
             cause="end with `return next_layer, skip_connection`")
    return inputs, result


def check_conv_block(target, input_shape=(2, 12, 16, 3), n_filters=32, dropout_prob=0.0, max_pooling=True, seed=1):
    """Check ``conv_block(inputs=None, n_filters=32, dropout_prob=0, max_pooling=True)``.

    Builds the block on a symbolic input of shape ``input_shape[1:]``; checks the shapes of
    next_layer and skip_connection, the layers (two 3x3 'same' ReLU convolutions with he_normal,
    Dropout(dropout_prob) after them when dropout_prob > 0, 2x2 max pooling only when max_pooling),
    that the skip connection is taken after dropout and before pooling, and the values of both
    outputs against the reference with the same (shape-seeded) weights.
    """
    __tracebackhide__ = True
    fn = "conv_block"
    _, H, W, _ = input_shape
    args = f"n_filters={n_filters}, dropout_prob={dropout_prob}, max_pooling={max_pooling}"
    inputs, (next_layer, skip) = _conv_block_model(fn, target, input_shape[1:], n_filters, dropout_prob, max_pooling)
    for name, tensor in (("next_layer", next_layer), ("skip_connection", skip)):
        if not hasattr(tensor, "shape"):
            fail(fn, f"{name} is not a tensor", expected="a Keras tensor", got=type(tensor).__name__,
                 cause="return the tensors the Keras layers produced")
    want_skip = (None, H, W, n_filters)
    pooled = (None, H // 2, W // 2, n_filters)
    want_next = pooled if max_pooling else want_skip
    got_skip, got_next = tuple(skip.shape), tuple(next_layer.shape)
    if got_skip != want_skip:
        cause = ("skip connection taken after pooling: the skip connection is the output of the convolutions "
                 "(after dropout), before MaxPooling2D" if got_skip == pooled else
                 f"both convolutions have n_filters={n_filters} filters (the argument, not a fixed number) and "
                 "padding='same'")
        fail(fn, f"skip_connection has the wrong shape ({args}, input {input_shape})", expected=want_skip,
             got=got_skip, cause=cause)
    if got_next != want_next:
        if not max_pooling and got_next == pooled:
            cause = ("pooling always applied: pool only when max_pooling is True; otherwise next_layer is the "
                     "same tensor as skip_connection")
        elif max_pooling and got_next == want_skip:
            cause = "MaxPooling2D(pool_size=(2, 2)) is missing: with max_pooling=True next_layer is pooled"
        else:
            cause = "next_layer is the skip connection, pooled with MaxPooling2D(pool_size=(2, 2)) when max_pooling"
        fail(fn, f"next_layer has the wrong shape ({args}, input {input_shape})", expected=want_next, got=got_next,
             cause=cause)
    model = _make_model(fn, inputs, [next_layer, skip])

    dropouts = [layer for layer in model.layers if type(layer).__name__ == "Dropout" and float(layer.rate) > 0]
    if dropout_prob > 0:
        if not dropouts:
            fail(fn, f"has no Dropout layer ({args})", expected=f"Dropout({dropout_prob})", got="no dropout",
                 cause="dropout not applied: when dropout_prob > 0 add Dropout(dropout_prob) after the second "
                       "convolution")
        if len(dropouts) != 1 or not np.isclose(float(dropouts[0].rate), dropout_prob):
            fail(fn, f"has the wrong dropout ({args})", expected=f"one Dropout({dropout_prob})",
                 got=", ".join(f"Dropout({float(d.rate):g})" for d in dropouts),
                 cause="use one Dropout layer with rate dropout_prob, after the second convolution")
        producer = type(getattr(getattr(skip, "_keras_history", None), "operation", None)).__name__
        if producer != "Dropout":
            fail(fn, f"skip_connection does not come out of the Dropout layer ({args})",
                 expected="skip_connection = the dropout's output", got=f"the output of a {producer} layer",
                 cause="dropout in the wrong place: apply Dropout to the second convolution's output, before "
                       "pooling; that tensor is the skip connection")
    elif dropouts:
        fail(fn, "applies dropout although dropout_prob=0", expected="no Dropout layer (or Dropout(0))",
             got=", ".join(f"Dropout({float(d.rate):g})" for d in dropouts),
             cause="use the rate dropout_prob, and add the Dropout layer only when dropout_prob > 0")

    X = _fixed_input(input_shape, seed)
    key = (tuple(input_shape), n_filters, float(dropout_prob), bool(max_pooling), seed)

    def compute():
        reference_in = keras.Input(shape=input_shape[1:])
        reference = keras.Model(reference_in, list(ref().conv_block(reference_in, n_filters, dropout_prob, max_pooling)))
        rows = summarize_model(reference)
        shape_seeded_weights(reference, seed)
        return {"rows": rows, "outputs": _outputs(reference, [X])}

    def compute_diagnoses():
        diagnoses = [{}, {}]
        for bug, cause in _CONV_BLOCK_CAUSES.items():
            buggy_in = keras.Input(shape=input_shape[1:])
            buggy = keras.Model(buggy_in, list(ref().conv_block_bug(buggy_in, n_filters, dropout_prob, max_pooling, bug)))
            shape_seeded_weights(buggy, seed)
            for index, output in enumerate(_outputs(buggy, [X])):
                diagnoses[index][cause] = output
        return diagnoses

    stored = EXPECTED("conv_block", compute, *key)
    all_diagnoses = EXPECTED.lazy("conv_block.diagnoses", compute_diagnoses, *key)

    def hint(want, have, key):
        if "Activation" in (want["kind"], have["kind"]):
            return ("a ReLU is missing or extra: the first or second convolution has no ReLU; use activation='relu' "
                    "on both 3x3 convolutions and nowhere else")
        if want["kind"] == "MaxPooling2D" or have["kind"] == "MaxPooling2D":
            return "pool with MaxPooling2D(pool_size=(2, 2)) after the convolutions (and dropout), only when max_pooling"
        return ("the block is Conv2D(n_filters, 3, activation='relu', padding='same') twice, then Dropout when "
                "dropout_prob > 0, then MaxPooling2D((2, 2)) when max_pooling")

    _compare_rows(fn, summarize_model(_without_zero_dropout(model)), stored["rows"], hint)
    _check_initializers(fn, model, "of conv_block")

    shape_seeded_weights(model, seed)
    got = _outputs(model, [X])
    expected = stored["outputs"]
    for index, name in ((1, "skip_connection"), (0, "next_layer")):
        close = np.allclose(got[index], expected[index], rtol=1e-4, atol=1e-5)
        diagnoses = None if close else all_diagnoses()[index]
        check_close(fn, name, got[index], expected[index], rtol=1e-4, atol=1e-5, diagnoses=diagnoses,
                    cause=f"(compared with the reference, both with the same fixed weights, {args}, input "
                          f"{input_shape}) two 3x3 convolutions with ReLU and 'same' padding, applied one after "
                          "the other to inputs")


def conv_block_test(target):
    """Visible test of conv_block: 32 filters with pooling and no dropout, then with dropout 0.3 and no pooling."""
    __tracebackhide__ = True
    check_conv_block(target, input_shape=(2, 12, 16, 3), n_filters=32, dropout_prob=0.0, max_pooling=True, seed=1)
    check_conv_block(target, input_shape=(1, 8, 10, 4), n_filters=32, dropout_prob=0.3, max_pooling=False, seed=2)
    all_passed()


# --------------------------------------------------------------------------------------------
# upsampling_block


_UPSAMPLING_CAUSES = {
    "swapped": "concatenate order swapped: join [up, contractive_input] (the transposed convolution's output "
               "first, then the skip connection)",
    "no_relu_first": "the first convolution after the concatenation has no ReLU",
    "no_relu_second": "the second convolution after the concatenation has no ReLU",
}


def check_upsampling_block(target, expansive_shape=(2, 3, 4, 6), contractive_shape=(2, 6, 8, 5), n_filters=32, seed=3):
    """Check ``upsampling_block(expansive_input, contractive_input, n_filters=32)``.

    Builds the block on two symbolic inputs; checks the output shape (twice the expansive input's
    height and width, n_filters channels), the layers (Conv2DTranspose(n_filters, 3, strides=2,
    'same'), Concatenate, two 3x3 'same' ReLU convolutions with he_normal) and the output values
    against the reference with the same (shape-seeded) weights, which tells the concatenation order.
    """
    __tracebackhide__ = True
    fn = "upsampling_block"
    _, h, w, _ = expansive_shape
    args = f"expansive_input {expansive_shape}, contractive_input {contractive_shape}, n_filters={n_filters}"
    expansive, contractive = keras.Input(shape=expansive_shape[1:]), keras.Input(shape=contractive_shape[1:])
    out = _build(fn, target, [], {"expansive_input": expansive, "contractive_input": contractive, "n_filters": n_filters},
                 cause="the transposed convolution must double height and width "
                       "(Conv2DTranspose(n_filters, 3, strides=(2, 2), padding='same')) so that its output can be "
                       "concatenated with contractive_input on the channel axis (axis=3)")
    if not hasattr(out, "shape"):
        fail(fn, "did not return a tensor", expected="the output of the second convolution", got=type(out).__name__,
             cause="end with `return conv`")
    want = (None, 2 * h, 2 * w, n_filters)
    if tuple(out.shape) != want:
        fail(fn, f"output has the wrong shape ({args})", expected=want, got=tuple(out.shape),
             cause="Conv2DTranspose with strides=(2, 2) and padding='same' doubles height and width; it and the "
                   "two convolutions after the concatenation have n_filters filters (the argument, not a fixed "
                   "number) and padding='same'")
    model = _make_model(fn, [expansive, contractive], out)
    rng = np.random.default_rng(seed)
    arrays = [rng.random(expansive_shape, dtype=np.float32), rng.random(contractive_shape, dtype=np.float32)]
    key = (tuple(expansive_shape), tuple(contractive_shape), n_filters, seed)

    def compute():
        ref_e, ref_c = keras.Input(shape=expansive_shape[1:]), keras.Input(shape=contractive_shape[1:])
        reference = keras.Model([ref_e, ref_c], ref().upsampling_block(ref_e, ref_c, n_filters))
        rows = summarize_model(reference)
        shape_seeded_weights(reference, seed)
        return {"rows": rows, "output": _outputs(reference, arrays)[0]}

    def compute_diagnoses():
        diagnoses = {}
        for bug, cause in _UPSAMPLING_CAUSES.items():
            b_e, b_c = keras.Input(shape=expansive_shape[1:]), keras.Input(shape=contractive_shape[1:])
            buggy = keras.Model([b_e, b_c], ref().upsampling_bug(b_e, b_c, n_filters, bug))
            shape_seeded_weights(buggy, seed)
            diagnoses[cause] = _outputs(buggy, arrays)[0]
        return diagnoses

    stored = EXPECTED("upsampling_block", compute, *key)
    all_diagnoses = EXPECTED.lazy("upsampling_block.diagnoses", compute_diagnoses, *key)

    def hint(want_row, have, key):
        if "Conv2DTranspose" in (want_row["kind"], have["kind"]):
            if key == "strides":
                return "transposed conv with the wrong stride: use strides=(2, 2) to double height and width"
            return ("upsample with Conv2DTranspose(n_filters, 3, strides=(2, 2), padding='same') (no activation), "
                    "not UpSampling2D")
        if "Activation" in (want_row["kind"], have["kind"]) and "Concatenate" not in (want_row["kind"], have["kind"]):
            return ("a ReLU is missing or extra: both convolutions after the concatenation use activation='relu', "
                    "the transposed convolution has no activation")
        if "Concatenate" in (want_row["kind"], have["kind"]):
            return "concatenate the transposed convolution's output with contractive_input: concatenate([up, contractive_input], axis=3)"
        return ("after the concatenation come two Conv2D(n_filters, 3, activation='relu', padding='same', "
                "kernel_initializer='he_normal')")

    _compare_rows(fn, summarize_model(model), stored["rows"], hint)
    _check_initializers(fn, model, "of upsampling_block")

    shape_seeded_weights(model, seed)
    got, expected = _outputs(model, arrays)[0], stored["output"]
    diagnoses = None if np.allclose(got, expected, rtol=1e-4, atol=1e-5) else all_diagnoses()
    check_close(fn, "output", got, expected, rtol=1e-4, atol=1e-5, diagnoses=diagnoses,
                cause=f"(compared with the reference, both with the same fixed weights, {args}) "
                      "up = Conv2DTranspose(...)(expansive_input); merge = concatenate([up, contractive_input], axis=3); "
                      "then two 3x3 ReLU convolutions on merge")


def upsampling_block_test(target):
    """Visible test of upsampling_block: 32 filters, a 3x4 input upsampled to 6x8 and joined with a 6x8 skip."""
    __tracebackhide__ = True
    check_upsampling_block(target)
    all_passed()


# --------------------------------------------------------------------------------------------
# unet_model


def _reference_blocks():
    """The reference blocks under the notebook's names (None in the student kit: the student's own are used)."""
    if not reference_available():
        return None
    ref_conv_block, ref_upsampling_block = ref().conv_block, ref().upsampling_block

    def conv_block(inputs=None, n_filters=32, dropout_prob=0, max_pooling=True):
        return ref_conv_block(inputs, n_filters, dropout_prob, max_pooling)

    def upsampling_block(expansive_input, contractive_input, n_filters=32):
        return ref_upsampling_block(expansive_input, contractive_input, n_filters)

    return {"conv_block": conv_block, "upsampling_block": upsampling_block}


@functools.lru_cache(maxsize=8)
def _built_rows(input_size, n_filters, n_classes):
    model = ref().unet_model(input_size=input_size, n_filters=n_filters, n_classes=n_classes)
    return summarize_model(model), model.count_params()


def _reference_rows(input_size, n_filters, n_classes):
    """Summary rows and parameter count of the reference U-Net for these arguments."""
    rows, params = EXPECTED("unet_model.rows", lambda: list(_built_rows(input_size, n_filters, n_classes)),
                            input_size, n_filters, n_classes)
    return rows, params


def check_unet_model(target, input_size=(96, 128, 3), n_filters=32, n_classes=23, expected_params=None, seed=4):
    """Check ``unet_model(input_size=(96, 128, 3), n_filters=32, n_classes=23)``.

    The student's unet_model runs with the reference conv_block and upsampling_block in its
    namespace (a broken block costs only the block's points). Checks the input and output shapes,
    that the last layer is a 1x1 convolution to n_classes logits (no softmax), the parameter count
    (``expected_params``, or the reference's for these arguments), the layers in graph order against
    the reference, and the output on a random image with the same (shape-seeded) weights.
    """
    __tracebackhide__ = True
    fn = "unet_model"
    input_size = tuple(int(s) for s in input_size)
    H, W, _ = input_size
    args = f"input_size={input_size}, n_filters={n_filters}, n_classes={n_classes}"
    model = _build(fn, target, [], {"input_size": input_size, "n_filters": n_filters, "n_classes": n_classes},
                   cause=_SKIP_CAUSE, with_reference=_reference_blocks())
    if not isinstance(model, keras.Model):
        fail(fn, "did not return a Keras model", expected="keras.Model", got=type(model).__name__,
             cause="end with model = keras.Model(inputs=inputs, outputs=conv10) and return it")
    if tuple(model.input_shape[1:]) != input_size:
        fail(fn, f"has the wrong input shape ({args})", expected=(None, *input_size), got=model.input_shape,
             cause="build the input as Input(input_size), using the argument")
    want_out = (None, H, W, n_classes)
    if tuple(model.output_shape) != want_out:
        cause = ("missing final 1x1 conv / wrong n_classes: the last layer is Conv2D(n_classes, 1, padding='same'), "
                 "one logit per class for every pixel")
        if tuple(model.output_shape[1:3]) != (H, W):
            cause = "the decoder must bring the frame back to the input's height and width (four upsampling blocks)"
        fail(fn, f"has the wrong output shape ({args})", expected=want_out, got=model.output_shape, cause=cause)
    last = model.layers[-1]
    config = last.get_config()
    if type(last).__name__ != "Conv2D" or tuple(config.get("kernel_size", ())) != (1, 1):
        fail(fn, "does not end with a 1x1 convolution", expected=f"Conv2D({n_classes}, 1, padding='same')",
             got=type(last).__name__ + (f" with kernel_size {tuple(config['kernel_size'])}" if "kernel_size" in config else ""),
             cause="missing final 1x1 conv: after conv9 add Conv2D(n_classes, 1, padding='same') and return its output")
    activation = config.get("activation", "linear")
    activation = getattr(activation, "__name__", activation)
    if activation != "linear":
        fail(fn, "applies an activation to its output", expected="logits (no activation on the last 1x1 conv)",
             got=f"activation={activation!r}",
             cause="softmax where the loss expects logits: the model is trained with "
                   "SparseCategoricalCrossentropy(from_logits=True), so the last layer has no activation")
    dropouts = sorted(float(layer.rate) for layer in model.layers if type(layer).__name__ == "Dropout" and layer.rate > 0)
    if dropouts != [0.3, 0.3]:
        fail(fn, "has the wrong dropout", expected="dropout_prob=0.3 in the 4th and 5th conv_block",
             got=f"dropout rates {dropouts}", cause="call conv_block with dropout_prob=0.3 for cblock4 and cblock5")
    want_rows, reference_params = _reference_rows(input_size, n_filters, n_classes)
    if expected_params is None:
        expected_params = reference_params
    rows = summarize_model(_without_zero_dropout(model))

    def hint(want, have, key):
        if "Concatenate" in (want["kind"], have["kind"]) or key == "output_shape":
            return _SKIP_CAUSE
        return ("five conv_blocks with n_filters, 2, 4, 8 and 16 times n_filters (dropout 0.3 in the last two, no "
                "pooling in the last), four upsampling_blocks with 8, 4, 2 and 1 times n_filters, then "
                "Conv2D(n_filters, 3, relu, 'same', he_normal) and Conv2D(n_classes, 1, 'same')")

    _compare_rows(fn, rows, want_rows, hint)
    n = model.count_params()
    if n != expected_params:
        fail(fn, f"has the wrong number of parameters ({args})", expected=f"{expected_params:,}", got=f"{n:,}",
             cause=hint({"kind": ""}, {"kind": ""}, "params"))
    _check_initializers(fn, model, "of unet_model")

    X = _fixed_input((1, *input_size), seed)

    def compute():
        reference = ref().unet_model(input_size=input_size, n_filters=n_filters, n_classes=n_classes)
        shape_seeded_weights(reference, seed)
        return _outputs(reference, [X])[0].astype(np.float32)  # float32 outputs: stored without loss

    expected = EXPECTED("unet_model.logits", compute, input_size, n_filters, n_classes, seed)
    shape_seeded_weights(model, seed)
    check_close(fn, "logits", _outputs(model, [X])[0], expected, rtol=1e-3, atol=1e-4,
                cause=f"(compared with the reference, both with the same fixed weights, {args}) " + _SKIP_CAUSE)


def unet_model_test(target):
    """Visible test of unet_model with its defaults: 96x128x3 frames, 32 filters, 23 classes, 8,640,471 parameters."""
    __tracebackhide__ = True
    check_unet_model(target, expected_params=UNET_PARAMS)
    all_passed()


__all__ = ["UNET_PARAMS", "check_conv_block", "check_unet_model", "check_upsampling_block", "conv_block_test",
           "shape_seeded_weights", "unet_model_test", "upsampling_block_test"]
