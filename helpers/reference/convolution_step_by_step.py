"""Instructor reference of Convolution_Step_by_Step (week 1): the eight graded functions.

Never part of the student kit. Same names, signatures and semantics as the assignment (NHWC; the
cache of ``conv_forward`` is ``(A_prev, W, b, hparameters)``, of ``pool_forward``
``(A_prev, hparameters)``; hparameters keys ``"stride"``, ``"pad"``, ``"f"``), vectorised on top of
:mod:`helpers.conv`: every receptive field is a strided view (:func:`helpers.conv.sliding_windows`),
forward passes are one matrix product or one reduction, and the backward passes loop only over the
``f * f`` kernel offsets.
"""

from __future__ import annotations

import numpy as np

from helpers.conv import conv2d, output_size, pad_hw, pool_nhwc, sliding_windows

__all__ = ["zero_pad", "conv_single_step", "conv_forward", "pool_forward", "conv_backward",
           "create_mask_from_window", "distribute_value", "pool_backward"]


def _check_array(name: str, x, ndim: int) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {x.shape}")
    return x


def _conv_shapes(A_prev, W, b, hparameters):
    A_prev = _check_array("A_prev", A_prev, 4)
    W = _check_array("W", W, 4)
    b = np.asarray(b)
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"W must hold square f x f filters, got shape {W.shape}")
    if W.shape[2] != A_prev.shape[3]:
        raise ValueError(
            f"W has {W.shape[2]} input channels but A_prev has {A_prev.shape[3]} "
            f"(W: (f, f, n_C_prev, n_C) = {W.shape}, A_prev: {A_prev.shape})"
        )
    if b.size != W.shape[3]:
        raise ValueError(f"b must hold one bias per filter ({W.shape[3]}), got shape {b.shape}")
    try:
        stride, pad = hparameters["stride"], hparameters["pad"]
    except (KeyError, TypeError) as err:
        raise ValueError('hparameters must be a dict with keys "stride" and "pad"') from err
    f = W.shape[0]
    n_H = output_size(A_prev.shape[1], f, pad, stride)
    n_W = output_size(A_prev.shape[2], f, pad, stride)
    return A_prev, W, b, f, stride, pad, n_H, n_W


def zero_pad(X: np.ndarray, pad: int) -> np.ndarray:
    """Pad the height and width of a batch of images with zeros.

    X: (m, n_H, n_W, n_C) -> (m, n_H + 2*pad, n_W + 2*pad, n_C). Batch and channels are untouched.
    """
    X = _check_array("X", X, 4)
    if int(pad) != pad or pad < 0:
        raise ValueError(f"pad must be an integer >= 0, got {pad!r}")
    return pad_hw(X, pad)


def conv_single_step(a_slice_prev: np.ndarray, W: np.ndarray, b) -> float:
    """One output value: ``sum(a_slice_prev * W) + b``.

    a_slice_prev: (f, f, n_C_prev), W: (f, f, n_C_prev), b: (1, 1, 1) -> Python float.
    """
    return float(np.sum(np.asarray(a_slice_prev) * np.asarray(W)) + float(np.sum(b)))


def conv_forward(A_prev: np.ndarray, W: np.ndarray, b: np.ndarray, hparameters: dict):
    """Forward pass of a convolution layer, vectorised (im2col + one matrix product).

    A_prev: (m, n_H_prev, n_W_prev, n_C_prev); W: (f, f, n_C_prev, n_C); b: (1, 1, 1, n_C);
    hparameters: {"stride": s, "pad": p}.

    Returns Z: (m, n_H, n_W, n_C) with ``n_H = floor((n_H_prev + 2p - f) / s) + 1`` (same for W)
    and ``Z[i, h, w, c] = sum(A_pad[i, h*s:h*s+f, w*s:w*s+f, :] * W[..., c]) + b[..., c]``,
    and cache = (A_prev, W, b, hparameters) for :func:`conv_backward`.
    """
    A_prev, W, b, f, stride, pad, n_H, n_W = _conv_shapes(A_prev, W, b, hparameters)
    return conv2d(A_prev, W, b, stride=stride, pad=pad), (A_prev, W, b, hparameters)


def conv_backward(dZ: np.ndarray, cache: tuple):
    """Backward pass of :func:`conv_forward`.

    dZ: (m, n_H, n_W, n_C), gradient of the cost with respect to Z;
    cache: (A_prev, W, b, hparameters) from the forward pass.

    Returns dA_prev: (m, n_H_prev, n_W_prev, n_C_prev), dW: (f, f, n_C_prev, n_C),
    db: (1, 1, 1, n_C), where (each input position receives from every window that covers it)::

        dA_pad[i, h*s + u, w*s + v, :] += W[u, v, :, c] * dZ[i, h, w, c]
        dW[u, v, :, c] += A_pad[i, h*s + u, w*s + v, :] * dZ[i, h, w, c]
        db[c] = sum of dZ[..., c]
    """
    A_prev, W, b, hparameters = cache
    A_prev, W, b, f, stride, pad, n_H, n_W = _conv_shapes(A_prev, W, b, hparameters)
    dZ = np.asarray(dZ, dtype=np.result_type(A_prev, W, np.float64))
    m, n_C = A_prev.shape[0], W.shape[3]
    if dZ.shape != (m, n_H, n_W, n_C):
        raise ValueError(f"dZ must have shape {(m, n_H, n_W, n_C)} (the shape of Z), got {dZ.shape}")
    A_pad = zero_pad(A_prev, pad)
    columns = sliding_windows(A_pad, f, stride)  # (m, n_H, n_W, f, f, n_C_prev)
    dW = np.tensordot(columns, dZ, axes=([0, 1, 2], [0, 1, 2]))  # (f, f, n_C_prev, n_C)
    db = dZ.sum(axis=(0, 1, 2)).reshape(1, 1, 1, n_C)
    dA_pad = np.zeros(A_pad.shape, dtype=dZ.dtype)
    for u in range(f):
        for v in range(f):
            dA_pad[:, u : u + stride * n_H : stride, v : v + stride * n_W : stride, :] += dZ @ W[u, v].T
    dA_prev = dA_pad[:, pad : pad + A_prev.shape[1], pad : pad + A_prev.shape[2], :]
    return dA_prev, dW, db


def _pool_shapes(A_prev, hparameters):
    A_prev = _check_array("A_prev", A_prev, 4)
    try:
        f, stride = hparameters["f"], hparameters["stride"]
    except (KeyError, TypeError) as err:
        raise ValueError('hparameters must be a dict with keys "f" and "stride"') from err
    n_H = output_size(A_prev.shape[1], f, 0, stride)
    n_W = output_size(A_prev.shape[2], f, 0, stride)
    return A_prev, f, stride, n_H, n_W


def _check_mode(mode: str) -> None:
    if mode not in ("max", "average"):
        raise ValueError(f'mode must be "max" or "average", got {mode!r}')


def pool_forward(A_prev: np.ndarray, hparameters: dict, mode: str = "max"):
    """Forward pass of a pooling layer (no padding; each channel pooled on its own).

    A_prev: (m, n_H_prev, n_W_prev, n_C); hparameters: {"f": f, "stride": s}; mode "max" or "average".
    Returns A: (m, n_H, n_W, n_C) with ``n_H = floor((n_H_prev - f) / s) + 1``, and
    cache = (A_prev, hparameters).
    """
    _check_mode(mode)
    A_prev, f, stride, n_H, n_W = _pool_shapes(A_prev, hparameters)
    return pool_nhwc(A_prev, f, stride, mode), (A_prev, hparameters)


def create_mask_from_window(x: np.ndarray) -> np.ndarray:
    """Boolean mask of the maximum of ``x`` (every position equal to the max is True). x: (f, f)."""
    x = np.asarray(x)
    return x == np.max(x)


def distribute_value(dz: float, shape: tuple) -> np.ndarray:
    """Spread ``dz`` evenly over an array of ``shape`` = (n_H, n_W): every entry is dz / (n_H * n_W)."""
    n_H, n_W = shape
    return np.full((n_H, n_W), dz / (n_H * n_W))


def pool_backward(dA: np.ndarray, cache: tuple, mode: str = "max") -> np.ndarray:
    """Backward pass of :func:`pool_forward`.

    dA: (m, n_H, n_W, n_C); cache: (A_prev, hparameters). Returns dA_prev with the shape of A_prev.

    - max: each window's gradient goes to the position(s) that held the window's maximum;
    - average: each window's gradient is split evenly, dA / (f * f), over the window.
    Overlapping windows (stride < f) add their contributions.
    """
    _check_mode(mode)
    A_prev, hparameters = cache
    A_prev, f, stride, n_H, n_W = _pool_shapes(A_prev, hparameters)
    dA = np.asarray(dA, dtype=np.float64)
    if dA.shape != (A_prev.shape[0], n_H, n_W, A_prev.shape[3]):
        raise ValueError(
            f"dA must have the shape of the pooled output {(A_prev.shape[0], n_H, n_W, A_prev.shape[3])}, "
            f"got {dA.shape}"
        )
    dA_prev = np.zeros(A_prev.shape, dtype=np.float64)
    if mode == "max":
        windows = sliding_windows(A_prev, f, stride)
        window_max = windows.max(axis=(3, 4))
    for u in range(f):
        for v in range(f):
            target = dA_prev[:, u : u + stride * n_H : stride, v : v + stride * n_W : stride, :]
            if mode == "max":
                target += (windows[:, :, :, u, v, :] == window_max) * dA
            else:
                target += dA / (f * f)
    return dA_prev


# Diagnoses of the checks (not graded names): the course's loops with ``=`` instead of ``+=``.


def conv_backward_assigning(dZ, cache):
    """Diagnosis only: the course's loop with ``=`` instead of ``+=`` for dA_prev and dW."""
    A_prev, W, b, hparameters = cache
    stride, pad, f = hparameters["stride"], hparameters["pad"], W.shape[0]
    A_pad = zero_pad(A_prev, pad)
    dA_pad, dW = np.zeros_like(A_pad), np.zeros_like(W)
    m, n_H, n_W, n_C = dZ.shape
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    vs, hs = h * stride, w * stride
                    dA_pad[i, vs:vs + f, hs:hs + f, :] = W[..., c] * dZ[i, h, w, c]
                    dW[..., c] = A_pad[i, vs:vs + f, hs:hs + f, :] * dZ[i, h, w, c]
    return dA_pad[:, pad:pad + A_prev.shape[1], pad:pad + A_prev.shape[2], :], dW


def pool_backward_assigning(dA, cache, mode):
    """Diagnosis only: the course's loop with ``=`` instead of ``+=``."""
    A_prev, hparameters = cache
    f, stride = hparameters["f"], hparameters["stride"]
    out = np.zeros_like(A_prev)
    m, n_H, n_W, n_C = dA.shape
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    vs, hs = h * stride, w * stride
                    window = A_prev[i, vs:vs + f, hs:hs + f, c]
                    share = (window == window.max()) * dA[i, h, w, c] if mode == "max" else dA[i, h, w, c] / (f * f)
                    out[i, vs:vs + f, hs:hs + f, c] = share
    return out
