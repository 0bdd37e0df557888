"""Tests of week 1, "Convolution Step by Step" (numpy).

Every comparison is against the reference in :mod:`helpers.reference.convolution_step_by_step` (in the
student kit: its values stored for the visible tests, see :mod:`helpers.checks.stored`), on random inputs drawn from a
seeded generator, with the tolerance stated at the top of this module. Inputs given to the
student's function never come from the student's other functions, so one broken function loses
only its own points. ``check_*`` functions take the hyper-parameters as arguments: the visible
tests call them with the values below, the hidden tests in the notebook with fresh ones.

Tolerance: ``|got - expected| <= ATOL + RTOL * |expected|`` element-wise. Values are O(1-10), so
float64 or float32 implementations (loops, einsum, stride tricks, tf.nn.conv2d) all pass, while
every mistake we know of changes some value by far more.
"""

from __future__ import annotations

import numpy as np

from helpers.checks.stored import Expected, reference, reference_available
from helpers.conv import sliding_windows
from helpers.grading import (
    GradingFailure,
    all_passed,
    call,
    check_close,
    check_equal,
    check_shape,
    check_type,
    fail,
)

RTOL = 1e-4
ATOL = 1e-5

_NB = "convolution_step_by_step"
EXPECTED = Expected(_NB)


def ref():
    """The instructor reference (only where it is installed: the repository and the autograder)."""
    return reference(_NB)


# Graded functions that other graded functions may call: while testing the caller, these names
# point to the reference, so each function is graded on its own (see helpers.grading.call). In the
# student kit there is no reference: the student's own helpers are used.
def _conv_helpers():
    if not reference_available():
        return None
    return {"zero_pad": ref().zero_pad, "conv_single_step": ref().conv_single_step}


def _pool_helpers():
    if not reference_available():
        return None
    return {"create_mask_from_window": ref().create_mask_from_window, "distribute_value": ref().distribute_value}


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


# --------------------------------------------------------------------------------------------
# zero_pad


def check_zero_pad(target, shape=(4, 3, 3, 2), pad=3, seed=1):
    """zero_pad(X, pad) on X ~ N(0, 1) of ``shape`` must equal np.pad on height and width only."""
    __tracebackhide__ = True
    X = _rng(seed).standard_normal(shape)
    got = call("zero_pad", target, X, pad)
    expected = EXPECTED("zero_pad", lambda: ref().zero_pad(X, pad), X, pad)
    all_axes = np.pad(X, pad)
    one_side = np.pad(X, ((0, 0), (pad, 0), (pad, 0), (0, 0)))
    check_close(
        "zero_pad", "X_pad", got, expected, RTOL, ATOL,
        diagnoses={
            "all four axes were padded; pad only height (axis 1) and width (axis 2)": all_axes,
            "padding was added on one side only; np.pad takes (before, after) for each axis": one_side,
        },
        cause="the padded values must be 0 and the original image must sit in the middle",
    )


def zero_pad_test(target):
    """Visible test of zero_pad: shape, zero border, original values kept."""
    __tracebackhide__ = True
    X = _rng(1).standard_normal((4, 3, 3, 2))
    got = call("zero_pad", target, X, 3)
    check_type("zero_pad", "the result", got, np.ndarray)
    check_shape("zero_pad", "X_pad", got, (4, 9, 9, 2),
                cause="pad adds `pad` rows/columns on BOTH sides of height and width")
    check_zero_pad(target, (4, 3, 3, 2), 3, seed=1)
    check_zero_pad(target, (2, 5, 4, 3), 1, seed=2)
    check_zero_pad(target, (1, 2, 2, 1), 0, seed=3)
    all_passed()


# --------------------------------------------------------------------------------------------
# conv_single_step


def check_conv_single_step(target, shape=(4, 4, 3), seed=1):
    """conv_single_step on a random slice, filter and bias of ``shape`` = (f, f, n_C_prev)."""
    __tracebackhide__ = True
    rng = _rng(seed)
    a_slice, W, b = rng.standard_normal(shape), rng.standard_normal(shape), rng.standard_normal((1, 1, 1))
    got = call("conv_single_step", target, a_slice, W, b)
    if np.size(got) != 1:
        fail("conv_single_step", "must return a single number", expected="a scalar",
             got=f"shape {np.shape(got)}", cause="sum the element-wise product over all axes (np.sum)")
    expected = EXPECTED("conv_single_step", lambda: ref().conv_single_step(a_slice, W, b), a_slice, W, b)
    product = np.sum(a_slice * W)
    check_close(
        "conv_single_step", "Z", float(np.asarray(got).ravel()[0]), expected, RTOL, ATOL,
        diagnoses={
            "the bias b is missing": product,
            "the bias was added to every product before summing (it must be added once)": product + W.size * b.item(),
            "np.mean was used instead of np.sum": np.mean(a_slice * W) + b.item(),
        },
    )


def conv_single_step_test(target):
    """Visible test of conv_single_step: a scalar equal to sum(a_slice_prev * W) + b."""
    __tracebackhide__ = True
    check_conv_single_step(target, (4, 4, 3), seed=1)
    check_conv_single_step(target, (3, 3, 1), seed=2)
    all_passed()


# --------------------------------------------------------------------------------------------
# conv_forward


def _conv_inputs(A_shape, f, n_C, seed):
    rng = _rng(seed)
    A_prev = rng.standard_normal(A_shape)
    W = rng.standard_normal((f, f, A_shape[3], n_C))
    b = rng.standard_normal((1, 1, 1, n_C))
    return A_prev, W, b


def _conv_output_shape(A_prev, W, b, hparameters):
    """Shape of the reference conv_forward's Z for these inputs."""
    return tuple(int(d) for d in EXPECTED("conv_forward.shape", lambda: ref().conv_forward(A_prev, W, b, hparameters)[0].shape,
                                          A_prev, W, b, hparameters))


def check_conv_forward(target, A_shape=(2, 5, 7, 4), f=3, n_C=8, stride=2, pad=1, seed=1):
    """conv_forward on random inputs: Z's shape and values, and the cache (A_prev, W, b, hparameters)."""
    __tracebackhide__ = True
    A_prev, W, b = _conv_inputs(A_shape, f, n_C, seed)
    hparameters = {"stride": stride, "pad": pad}
    result = call("conv_forward", target, A_prev, W, b, dict(hparameters), with_reference=_conv_helpers())
    if not (isinstance(result, tuple) and len(result) == 2):
        fail("conv_forward", "must return a pair (Z, cache)", expected="(Z, cache)", got=repr(type(result)),
             cause="end with `return Z, cache`")
    Z, cache = result

    def compute():
        forward = ref().conv_forward
        return {
            "expected": forward(A_prev, W, b, hparameters)[0],
            "stride_one": forward(A_prev, W, b, {"stride": 1, "pad": pad})[0],
            "no_pad": forward(A_prev, W, b, {"stride": stride, "pad": 0})[0] if f <= min(A_shape[1:3]) else None,
            "zero_b": forward(A_prev, W, np.zeros_like(b), hparameters)[0],
            "flipped": forward(A_prev, W[::-1, ::-1], b, hparameters)[0],
        }

    values = EXPECTED("conv_forward", compute, A_prev, W, b, hparameters)
    expected, no_pad = values["expected"], values["no_pad"]
    m, n_H, n_W = expected.shape[:3]
    diagnoses = {
        "the stride is ignored: window (h, w) must start at row h*stride, column w*stride":
            values["stride_one"][:, :n_H, :n_W, :],
        "the bias is missing": expected - b,
        "every channel got the bias of channel 0: use b[:, :, :, c] for output channel c":
            values["zero_b"] + b[..., 0],
        "the kernel is flipped (mathematical convolution); layers compute a cross-correlation, no flip":
            values["flipped"],
    }
    if n_H != n_W:
        diagnoses["height and width are swapped (n_H and n_W, or h and w, mixed up)"] = np.zeros((m, n_W, n_H, n_C))
    if no_pad is not None:
        diagnoses["the padding is ignored: pad A_prev with zero_pad(A_prev, pad) and slice the padded array"] = no_pad
    check_close(
        "conv_forward", "Z", Z, expected, RTOL, ATOL, diagnoses=diagnoses,
        cause=f"n_H = floor((n_H_prev + 2*pad - f) / stride) + 1 = {n_H} here; "
        "each Z[i, h, w, c] is conv_single_step on the window starting at (h*stride, w*stride)",
    )
    if not (isinstance(cache, tuple) and len(cache) == 4):
        fail("conv_forward", "cache must be the tuple (A_prev, W, b, hparameters)", got=repr(type(cache)))
    check_close("conv_forward", "cache[0] (A_prev)", cache[0], A_prev, RTOL, ATOL,
                cause="store the input A_prev itself in the cache, not its padded version")
    check_close("conv_forward", "cache[1] (W)", cache[1], W, RTOL, ATOL)
    check_close("conv_forward", "cache[2] (b)", cache[2], b, RTOL, ATOL)
    check_equal("conv_forward", "cache[3] (hparameters)", dict(cache[3]), hparameters)


def conv_forward_test(target):
    """Visible test of conv_forward: shape, values and cache for two sets of hyper-parameters."""
    __tracebackhide__ = True
    A_prev, W, b = _conv_inputs((2, 5, 7, 4), 3, 8, 1)
    Z, _ = call("conv_forward", target, A_prev, W, b, {"stride": 2, "pad": 1}, with_reference=_conv_helpers())
    check_shape("conv_forward", "Z", Z, (2, 3, 4, 8),
                cause="n_H = floor((n_H_prev + 2*pad - f) / stride) + 1 (and the same for n_W)")
    check_conv_forward(target, (2, 5, 7, 4), f=3, n_C=8, stride=2, pad=1, seed=1)
    check_conv_forward(target, (2, 4, 4, 3), f=2, n_C=4, stride=1, pad=0, seed=2)
    all_passed()


# --------------------------------------------------------------------------------------------
# pool_forward


def check_pool_forward(target, A_shape=(2, 5, 5, 3), f=3, stride=1, mode="max", seed=1):
    """pool_forward on random inputs: A's shape and values, and the cache (A_prev, hparameters)."""
    __tracebackhide__ = True
    A_prev = _rng(seed).standard_normal(A_shape)
    hparameters = {"f": f, "stride": stride}
    result = call("pool_forward", target, A_prev, dict(hparameters), mode=mode)
    if not (isinstance(result, tuple) and len(result) == 2):
        fail("pool_forward", "must return a pair (A, cache)", expected="(A, cache)", got=repr(type(result)),
             cause="end with `return A, cache`")
    A, cache = result
    other = "average" if mode == "max" else "max"

    def compute():
        forward = ref().pool_forward
        return {
            "expected": forward(A_prev, hparameters, mode)[0],
            "other": forward(A_prev, hparameters, other)[0],
            "stride_one": forward(A_prev, {"f": f, "stride": 1}, mode)[0] if stride != 1 else None,
        }

    values = EXPECTED("pool_forward", compute, A_prev, hparameters, mode)
    expected = values["expected"]
    n_H, n_W = expected.shape[1:3]
    windows = sliding_windows(A_prev, f, stride)
    across = windows.max(axis=(3, 4, 5)) if mode == "max" else windows.mean(axis=(3, 4, 5))
    diagnoses = {
        f'mode="{mode}" computed the {other} instead: use np.{"max" if mode == "max" else "mean"} for this mode':
            values["other"],
        "the window was pooled across all channels: pool each channel c on its own (slice [..., c])":
            np.repeat(across[..., None], A_shape[3], axis=3),
    }
    if stride != 1:
        diagnoses["the stride is ignored: window (h, w) starts at (h*stride, w*stride)"] = \
            values["stride_one"][:, :n_H, :n_W, :]
    check_close(f'pool_forward(mode="{mode}")', "A", A, expected, RTOL, ATOL, diagnoses=diagnoses,
                cause=f"n_H = floor((n_H_prev - f) / stride) + 1 = {n_H} here; pooling has no padding")
    if not (isinstance(cache, tuple) and len(cache) == 2):
        fail("pool_forward", "cache must be the pair (A_prev, hparameters)", got=repr(type(cache)))
    check_close("pool_forward", "cache[0] (A_prev)", cache[0], A_prev, RTOL, ATOL)
    check_equal("pool_forward", "cache[1] (hparameters)", dict(cache[1]), hparameters)


def pool_forward_test(target):
    """Visible test of pool_forward: max and average, stride 1 and 2."""
    __tracebackhide__ = True
    for mode in ("max", "average"):
        check_pool_forward(target, (2, 5, 5, 3), f=3, stride=1, mode=mode, seed=1)
        check_pool_forward(target, (2, 5, 5, 3), f=3, stride=2, mode=mode, seed=2)
    all_passed()


# --------------------------------------------------------------------------------------------
# conv_backward


def check_conv_backward(target, A_shape=(2, 5, 7, 4), f=3, n_C=8, stride=2, pad=1, seed=1):
    """conv_backward on a reference cache and random dZ: dA_prev, dW and db."""
    __tracebackhide__ = True
    A_prev, W, b = _conv_inputs(A_shape, f, n_C, seed)
    hparameters = {"stride": stride, "pad": pad}
    dZ = _rng(seed + 1000).standard_normal(_conv_output_shape(A_prev, W, b, hparameters))
    result = call("conv_backward", target, dZ, (A_prev.copy(), W.copy(), b.copy(), dict(hparameters)),
                  with_reference=_conv_helpers())
    if not (isinstance(result, tuple) and len(result) == 3):
        fail("conv_backward", "must return (dA_prev, dW, db)", got=repr(type(result)))
    dA_prev, dW, db = result

    def compute():
        backward, cache = ref().conv_backward, (A_prev, W, b, hparameters)
        dA, dW_, db_ = backward(dZ, cache)
        assigned = ref().conv_backward_assigning(dZ, cache)
        return {"dA": dA, "dW": dW_, "db": db_, "assigned_dA": assigned[0], "assigned_dW": assigned[1],
                "flipped": backward(dZ, (A_prev, W[::-1, ::-1], b, hparameters))[0]}

    values = EXPECTED("conv_backward", compute, A_prev, W, b, hparameters, dZ)
    expected_dA, expected_dW, expected_db = values["dA"], values["dW"], values["db"]
    assigned_dA, assigned_dW, flipped = values["assigned_dA"], values["assigned_dW"], values["flipped"]
    check_close(
        "conv_backward", "dA_prev", dA_prev, expected_dA, RTOL, ATOL,
        diagnoses={
            "gradients were assigned (=) instead of accumulated (+=): overlapping windows must add up": assigned_dA,
            "the kernel was flipped": flipped,
            "dA_prev kept the padding: remove `pad` rows/columns on each side (da_prev_pad[pad:-pad, pad:-pad, :] "
            "fails when pad is 0; slice pad:pad + n_H_prev instead)":
                np.pad(expected_dA, ((0, 0), (pad, pad), (pad, pad), (0, 0))) if pad else expected_dA,
        },
        cause="for every window, add W[:, :, :, c] * dZ[i, h, w, c] to the padded gradient, then remove the padding",
    )
    check_close(
        "conv_backward", "dW", dW, expected_dW, RTOL, ATOL,
        diagnoses={"gradients were assigned (=) instead of accumulated (+=) into dW": assigned_dW},
        cause="dW[:, :, :, c] += a_slice * dZ[i, h, w, c], where a_slice comes from the PADDED A_prev",
    )
    check_close(
        "conv_backward", "db", db, expected_db, RTOL, ATOL,
        diagnoses={"db was summed over the wrong axes: sum dZ over examples, height and width (axes 0, 1, 2)":
                   np.zeros((1, 1, 1, 1))} if n_C != 1 else None,
        cause="db[:, :, :, c] is the sum of dZ[..., c] over examples and positions",
    )


def conv_backward_test(target):
    """Visible test of conv_backward: shapes, then values against the reference for two settings."""
    __tracebackhide__ = True
    A_prev, W, b = _conv_inputs((2, 5, 7, 4), 3, 8, 1)
    hparameters = {"stride": 2, "pad": 1}
    dZ = np.ones(_conv_output_shape(A_prev, W, b, hparameters))
    dA_prev, dW, db = call("conv_backward", target, dZ, (A_prev, W, b, hparameters), with_reference=_conv_helpers())
    check_shape("conv_backward", "dA_prev", dA_prev, A_prev.shape, cause="dA_prev has the shape of A_prev (unpadded)")
    check_shape("conv_backward", "dW", dW, W.shape)
    check_shape("conv_backward", "db", db, b.shape, cause="keep db as (1, 1, 1, n_C)")
    check_conv_backward(target, (2, 5, 7, 4), f=3, n_C=8, stride=2, pad=1, seed=1)
    check_conv_backward(target, (2, 4, 4, 3), f=2, n_C=4, stride=1, pad=0, seed=2)
    all_passed()


# --------------------------------------------------------------------------------------------
# create_mask_from_window and distribute_value


def check_create_mask_from_window(target, shape=(2, 3), seed=1, ties=False):
    """create_mask_from_window on a random window (with ``ties``, two entries share the maximum)."""
    __tracebackhide__ = True
    x = _rng(seed).standard_normal(shape)
    if ties:
        flat = x.ravel()
        flat[-1] = flat[0] = flat.max() + 1.0
        x = flat.reshape(shape)
    got = call("create_mask_from_window", target, x)
    expected = EXPECTED("create_mask_from_window", lambda: ref().create_mask_from_window(x), x)
    check_close(
        "create_mask_from_window", "mask", np.asarray(got, dtype=np.float64), expected.astype(np.float64), RTOL, ATOL,
        diagnoses={
            "the mask marks the minimum: compare with np.max(x)": (x == x.min()).astype(float),
            "the mask marks everything but the maximum": (x != x.max()).astype(float),
            "only the first maximum is marked; mark every entry equal to the maximum (x == np.max(x))":
                (np.arange(x.size).reshape(shape) == np.argmax(x)).astype(float),
        },
        cause="mask = (x == np.max(x)): True where x holds its maximum, False elsewhere",
    )


def create_mask_from_window_test(target):
    """Visible test of create_mask_from_window: a boolean-like mask of the window's maximum."""
    __tracebackhide__ = True
    check_create_mask_from_window(target, (2, 3), seed=1)
    check_create_mask_from_window(target, (3, 3), seed=2)
    all_passed()


def check_distribute_value(target, dz=2.0, shape=(2, 2)):
    """distribute_value(dz, shape) must be an array of ``shape`` full of dz / (n_H * n_W)."""
    __tracebackhide__ = True
    got = call("distribute_value", target, dz, shape)
    expected = EXPECTED("distribute_value", lambda: ref().distribute_value(dz, shape), dz, tuple(shape))
    check_close(
        "distribute_value", "a", got, expected, RTOL, ATOL,
        diagnoses={
            "dz was copied to every entry without dividing by the number of entries": np.full(shape, dz),
            "dz was divided by n_H + n_W instead of n_H * n_W": np.full(shape, dz / (shape[0] + shape[1])),
            "the result does not depend on dz (only np.ones / (n_H*n_W))": np.full(shape, 1.0 / (shape[0] * shape[1])),
        },
        cause="average = dz / (n_H * n_W); return np.ones(shape) * average",
    )


def distribute_value_test(target):
    """Visible test of distribute_value."""
    __tracebackhide__ = True
    check_distribute_value(target, 2.0, (2, 2))
    check_distribute_value(target, 3.0, (3, 2))
    all_passed()


# --------------------------------------------------------------------------------------------
# pool_backward


def _pool_output_shape(A_prev, hparameters, mode):
    """Shape of the reference pool_forward's A for these inputs."""
    return tuple(int(d) for d in EXPECTED("pool_forward.shape",
                                          lambda: ref().pool_forward(A_prev, hparameters, mode)[0].shape,
                                          A_prev, hparameters, mode))


def check_pool_backward(target, A_shape=(2, 5, 3, 2), f=2, stride=1, mode="max", seed=1):
    """pool_backward on a reference cache and random dA, overlapping windows when stride < f."""
    __tracebackhide__ = True
    A_prev = _rng(seed).standard_normal(A_shape)
    hparameters = {"f": f, "stride": stride}
    dA = _rng(seed + 1000).standard_normal(_pool_output_shape(A_prev, hparameters, mode))
    got = call(f'pool_backward(mode="{mode}")', target, dA, (A_prev.copy(), dict(hparameters)), mode=mode,
               with_reference=_pool_helpers())
    other = "average" if mode == "max" else "max"

    def compute():
        backward, cache = ref().pool_backward, (A_prev, hparameters)
        return {
            "expected": backward(dA, cache, mode),
            "other": backward(dA, cache, other),
            "copied": backward(dA * f * f, cache, "average") if mode == "average" else None,
            "assigned": ref().pool_backward_assigning(dA, cache, mode) if stride < f else None,
        }

    values = EXPECTED("pool_backward", compute, A_prev, hparameters, mode, dA)
    expected = values["expected"]
    diagnoses = {
        f'mode="{mode}" used the {other}-pooling gradient': values["other"],
    }
    if mode == "average":
        # copying dA to every entry of the window instead of dividing it
        diagnoses["dA was copied to the whole window without dividing by f*f (use distribute_value)"] = \
            values["copied"]
    if stride < f:
        diagnoses["gradients were assigned (=) instead of accumulated (+=): overlapping windows must add up"] = \
            values["assigned"]
    check_close(f'pool_backward(mode="{mode}")', "dA_prev", got, expected, RTOL, ATOL, diagnoses=diagnoses,
                cause="dA_prev has A_prev's shape; each window adds its share of dA[i, h, w, c]")


def pool_backward_test(target):
    """Visible test of pool_backward: max and average, overlapping and non-overlapping windows."""
    __tracebackhide__ = True
    A_prev = _rng(1).standard_normal((2, 5, 3, 2))
    hparameters = {"f": 2, "stride": 1}
    dA = np.ones(_pool_output_shape(A_prev, hparameters, "max"))
    got = call("pool_backward", target, dA, (A_prev, hparameters), mode="max", with_reference=_pool_helpers())
    check_shape("pool_backward", "dA_prev", got, A_prev.shape, cause="dA_prev has the shape of A_prev")
    for mode in ("max", "average"):
        check_pool_backward(target, (2, 5, 3, 2), f=2, stride=1, mode=mode, seed=1)
        check_pool_backward(target, (2, 4, 4, 3), f=2, stride=2, mode=mode, seed=2)
    all_passed()


__all__ = [
    "check_conv_backward",
    "check_conv_forward",
    "check_conv_single_step",
    "check_create_mask_from_window",
    "check_distribute_value",
    "check_pool_backward",
    "check_pool_forward",
    "check_zero_pad",
    "conv_backward_test",
    "conv_forward_test",
    "conv_single_step_test",
    "create_mask_from_window_test",
    "distribute_value_test",
    "pool_backward_test",
    "pool_forward_test",
    "zero_pad_test",
    "GradingFailure",
]
