"""Convolution and pooling in numpy: reference versions for grading and fast ones for lectures.

Layout is NHWC everywhere, as in the week-1 assignment:

- ``A_prev``: activations, shape ``(m, n_H_prev, n_W_prev, n_C_prev)``
- ``W``: filters, shape ``(f, f, n_C_prev, n_C)``
- ``b``: biases, shape ``(1, 1, 1, n_C)``
- ``hparameters``: ``{"stride": s, "pad": p}`` for convolutions, ``{"f": f, "stride": s}`` for pooling

The layers compute a *cross-correlation* (the kernel is not flipped), like every deep learning
library. Output sizes follow ``n_out = floor((n_in + 2p - f) / s) + 1``.

Two implementations of the forward convolution live here:

- :func:`conv_forward_loops` -- four nested loops, exactly the computation students write; slow,
  kept as the readable definition and as the baseline of ``benchmarks/conv_speed.py``.
- :func:`conv_forward` -- vectorised im2col: every receptive field is gathered with a strided
  view, then one matrix product computes all outputs. Used by the lectures and by the graders.

Backward passes (:func:`conv_backward`, :func:`pool_backward`) loop only over the ``f * f``
kernel offsets and are vectorised over examples, positions and channels.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

__all__ = [
    "output_size",
    "zero_pad",
    "conv_single_step",
    "conv_forward",
    "conv_forward_loops",
    "conv_backward",
    "pool_forward",
    "pool_backward",
    "create_mask_from_window",
    "distribute_value",
    "convolve2d",
    "correlate2d",
]


def output_size(n: int, f: int, pad: int = 0, stride: int = 1) -> int:
    """Spatial output size of a convolution or pooling window: ``floor((n + 2*pad - f) / stride) + 1``.

    Raises ValueError when the window does not fit (``f > n + 2*pad``) or an argument is not a
    positive integer (``pad`` may be 0).
    """
    for name, value, minimum in (("n", n, 1), ("f", f, 1), ("pad", pad, 0), ("stride", stride, 1)):
        if int(value) != value or value < minimum:
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if f > n + 2 * pad:
        raise ValueError(
            f"a {f}x{f} window does not fit in an input of size {n} with padding {pad} "
            f"(needs f <= n + 2*pad = {n + 2 * pad})"
        )
    return (n + 2 * pad - f) // stride + 1


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
    return np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="constant", constant_values=0)


def conv_single_step(a_slice_prev: np.ndarray, W: np.ndarray, b) -> float:
    """One output value: ``sum(a_slice_prev * W) + b``.

    a_slice_prev: (f, f, n_C_prev), W: (f, f, n_C_prev), b: (1, 1, 1) -> Python float.
    """
    return float(np.sum(np.asarray(a_slice_prev) * np.asarray(W)) + float(np.sum(b)))


def _windows(X: np.ndarray, f: int, stride: int, n_H: int, n_W: int) -> np.ndarray:
    """Strided view of every f x f receptive field.

    X: (m, H, W, C) -> view (m, n_H, n_W, f, f, C) where
    ``view[i, h, w] == X[i, h*stride : h*stride + f, w*stride : w*stride + f, :]``. No copy is made.
    """
    sm, sh, sw, sc = X.strides
    return as_strided(
        X,
        shape=(X.shape[0], n_H, n_W, f, f, X.shape[3]),
        strides=(sm, sh * stride, sw * stride, sh, sw, sc),
        writeable=False,
    )


def conv_forward(A_prev: np.ndarray, W: np.ndarray, b: np.ndarray, hparameters: dict):
    """Forward pass of a convolution layer, vectorised (im2col + one matrix product).

    A_prev: (m, n_H_prev, n_W_prev, n_C_prev); W: (f, f, n_C_prev, n_C); b: (1, 1, 1, n_C);
    hparameters: {"stride": s, "pad": p}.

    Returns Z: (m, n_H, n_W, n_C) with ``n_H = floor((n_H_prev + 2p - f) / s) + 1`` (same for W)
    and ``Z[i, h, w, c] = sum(A_pad[i, h*s:h*s+f, w*s:w*s+f, :] * W[..., c]) + b[..., c]``,
    and cache = (A_prev, W, b, hparameters) for :func:`conv_backward`.
    """
    A_prev, W, b, f, stride, pad, n_H, n_W = _conv_shapes(A_prev, W, b, hparameters)
    A_pad = zero_pad(A_prev, pad)
    columns = _windows(A_pad, f, stride, n_H, n_W)  # (m, n_H, n_W, f, f, n_C_prev), a view
    n_C = W.shape[3]
    # One row per output position, one column per (kernel row, kernel col, channel): im2col.
    Z = np.dot(columns.reshape(-1, f * f * W.shape[2]), W.reshape(-1, n_C))
    Z = Z.reshape(A_prev.shape[0], n_H, n_W, n_C) + b.reshape(1, 1, 1, n_C)
    return Z, (A_prev, W, b, hparameters)


def conv_forward_loops(A_prev: np.ndarray, W: np.ndarray, b: np.ndarray, hparameters: dict):
    """Same result as :func:`conv_forward`, written as four nested loops (slow, readable)."""
    A_prev, W, b, f, stride, pad, n_H, n_W = _conv_shapes(A_prev, W, b, hparameters)
    A_pad = zero_pad(A_prev, pad)
    m, n_C = A_prev.shape[0], W.shape[3]
    Z = np.zeros((m, n_H, n_W, n_C))
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                window = A_pad[i, h * stride : h * stride + f, w * stride : w * stride + f, :]
                for c in range(n_C):
                    Z[i, h, w, c] = np.sum(window * W[..., c]) + b[..., c].item()
    return Z, (A_prev, W, b, hparameters)


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
    columns = _windows(A_pad, f, stride, n_H, n_W)
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
    windows = _windows(A_prev, f, stride, n_H, n_W)  # (m, n_H, n_W, f, f, n_C)
    A = windows.max(axis=(3, 4)) if mode == "max" else windows.mean(axis=(3, 4))
    return A, (A_prev, hparameters)


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
        windows = _windows(A_prev, f, stride, n_H, n_W)
        window_max = windows.max(axis=(3, 4))
    for u in range(f):
        for v in range(f):
            target = dA_prev[:, u : u + stride * n_H : stride, v : v + stride * n_W : stride, :]
            if mode == "max":
                target += (windows[:, :, :, u, v, :] == window_max) * dA
            else:
                target += dA / (f * f)
    return dA_prev


def correlate2d(image: np.ndarray, kernel: np.ndarray, pad: int = 0, stride: int = 1) -> np.ndarray:
    """Cross-correlation of one grey image with one kernel (what conv layers compute).

    image: (H, W), kernel: (f, f) -> (floor((H + 2p - f)/s) + 1, floor((W + 2p - f)/s) + 1).
    """
    image = _check_array("image", image, 2).astype(np.float64)
    kernel = _check_array("kernel", kernel, 2).astype(np.float64)
    Z, _ = conv_forward(image[None, :, :, None], kernel[:, :, None, None], np.zeros((1, 1, 1, 1)),
                        {"stride": stride, "pad": pad})
    return Z[0, :, :, 0]


def convolve2d(image: np.ndarray, kernel: np.ndarray, pad: int = 0, stride: int = 1) -> np.ndarray:
    """Mathematical convolution: cross-correlation with the kernel flipped in both directions.

    image: (H, W), kernel: (f, f) -> same output shape as :func:`correlate2d`.
    """
    kernel = _check_array("kernel", kernel, 2)
    return correlate2d(image, kernel[::-1, ::-1], pad=pad, stride=stride)
