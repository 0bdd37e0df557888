"""Convolution and pooling maths in numpy, for lectures, figures and checks.

Layout is NHWC everywhere, as in the week-1 assignment: a batch of activations ``A`` has shape
``(m, n_H, n_W, n_C)``, filters ``W`` have shape ``(f, f, n_C_prev, n_C)``, biases ``(n_C,)`` or
``(1, 1, 1, n_C)``. Layers compute a *cross-correlation* (the kernel is not flipped), like every deep
learning library, and output sizes follow ``n_out = floor((n_in + 2p - f) / s) + 1``.

These functions deliberately do NOT carry the graded names or signatures of the assignment (the
instructor references of ``zero_pad``, ``conv_forward``, ... live in
:mod:`helpers.reference.convolution_step_by_step`, which builds on this module):

- :func:`output_size` -- the output-size formula, with clear errors when a window does not fit;
- :func:`sliding_windows` -- a strided view of every f x f receptive field (no copy);
- :func:`conv2d` -- vectorised im2col convolution of a batch (one matrix product);
- :func:`conv2d_loops` -- the same as four nested loops (readable definition, benchmark baseline);
- :func:`pool_nhwc` -- max/average pooling of a batch, each channel on its own;
- :func:`correlate2d`, :func:`convolve2d`, :func:`pool2d` -- one grey image with one kernel;
- :func:`full_correlate2d`, :func:`full_convolve2d` -- 'full' 2-D operations (output grows), used to
  show associativity and the input gradient of a convolution.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

__all__ = [
    "output_size",
    "check_int",
    "sliding_windows",
    "pad_hw",
    "conv2d",
    "conv2d_loops",
    "pool_nhwc",
    "correlate2d",
    "convolve2d",
    "full_correlate2d",
    "full_convolve2d",
    "pool2d",
]


def check_int(name: str, value, minimum: int) -> int:
    """``value`` as an int if it is an integer >= ``minimum``, else ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer, float)) or int(value) != value:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def output_size(n: int, f: int, pad: int = 0, stride: int = 1) -> int:
    """Spatial output size of a convolution or pooling window: ``floor((n + 2*pad - f) / stride) + 1``.

    Raises ValueError when the window does not fit (``f > n + 2*pad``) or an argument is not a
    positive integer (``pad`` may be 0).
    """
    n, f = check_int("n", n, 1), check_int("f", f, 1)
    pad, stride = check_int("pad", pad, 0), check_int("stride", stride, 1)
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


def pad_hw(X, pad: int) -> np.ndarray:
    """Zero padding of height and width: (m, H, W, C) -> (m, H + 2*pad, W + 2*pad, C)."""
    X = _check_array("X", X, 4)
    pad = check_int("pad", pad, 0)
    return np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)))


def sliding_windows(X, f: int, stride: int = 1) -> np.ndarray:
    """Strided view of every f x f receptive field of a batch (no padding, no copy).

    X: (m, H, W, C) -> read-only view (m, n_H, n_W, f, f, C) with ``n_H = floor((H - f)/stride) + 1``
    (same for W) and ``view[i, h, w] == X[i, h*stride : h*stride + f, w*stride : w*stride + f, :]``.
    """
    X = _check_array("X", X, 4)
    n_H = output_size(X.shape[1], f, 0, stride)
    n_W = output_size(X.shape[2], f, 0, stride)
    sm, sh, sw, sc = X.strides
    return as_strided(X, shape=(X.shape[0], n_H, n_W, f, f, X.shape[3]),
                      strides=(sm, sh * stride, sw * stride, sh, sw, sc), writeable=False)


def _conv_arguments(A, W, b):
    A = _check_array("A", A, 4)
    W = _check_array("W", W, 4)
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"W must hold square f x f filters, got shape {W.shape}")
    if W.shape[2] != A.shape[3]:
        raise ValueError(f"W has {W.shape[2]} input channels but A has {A.shape[3]} "
                         f"(W: (f, f, n_C_prev, n_C) = {W.shape}, A: {A.shape})")
    b = np.zeros(W.shape[3]) if b is None else np.asarray(b)
    if b.size != W.shape[3]:
        raise ValueError(f"b must hold one bias per filter ({W.shape[3]}), got shape {b.shape}")
    return A, W, b.reshape(1, 1, 1, -1)


def conv2d(A, W, b=None, stride: int = 1, pad: int = 0) -> np.ndarray:
    """Convolution layer (cross-correlation) of a batch, vectorised with im2col.

    A: (m, n_H_prev, n_W_prev, n_C_prev); W: (f, f, n_C_prev, n_C); b: n_C biases or None.
    Returns Z: (m, n_H, n_W, n_C), ``n_H = floor((n_H_prev + 2*pad - f) / stride) + 1``, where
    ``Z[i, h, w, c] = sum(A_pad[i, h*s:h*s+f, w*s:w*s+f, :] * W[..., c]) + b[c]``.
    Every receptive field is gathered by :func:`sliding_windows`, then one matrix product
    (rows: output positions; columns: kernel row, kernel column, channel) computes all outputs.
    """
    A, W, b = _conv_arguments(A, W, b)
    f, n_C = W.shape[0], W.shape[3]
    columns = sliding_windows(pad_hw(A, pad), f, stride)  # (m, n_H, n_W, f, f, n_C_prev)
    Z = columns.reshape(-1, f * f * W.shape[2]) @ W.reshape(-1, n_C)
    return Z.reshape(*columns.shape[:3], n_C) + b


def conv2d_loops(A, W, b=None, stride: int = 1, pad: int = 0) -> np.ndarray:
    """Same result as :func:`conv2d`, written as four nested loops (slow, readable)."""
    A, W, b = _conv_arguments(A, W, b)
    A_pad = pad_hw(A, pad)
    f, n_C = W.shape[0], W.shape[3]
    n_H = output_size(A.shape[1], f, pad, stride)
    n_W = output_size(A.shape[2], f, pad, stride)
    Z = np.zeros((A.shape[0], n_H, n_W, n_C))
    for i in range(A.shape[0]):
        for h in range(n_H):
            for w in range(n_W):
                window = A_pad[i, h * stride: h * stride + f, w * stride: w * stride + f, :]
                for c in range(n_C):
                    Z[i, h, w, c] = np.sum(window * W[..., c]) + b[0, 0, 0, c]
    return Z


def _check_mode(mode: str) -> str:
    if mode not in ("max", "average"):
        raise ValueError(f'mode must be "max" or "average", got {mode!r}')
    return mode


def pool_nhwc(A, f: int, stride: int, mode: str = "max") -> np.ndarray:
    """Max or average pooling of a batch, no padding, each channel on its own.

    A: (m, n_H_prev, n_W_prev, n_C) -> (m, floor((n_H_prev - f)/stride) + 1, ..., n_C).
    """
    windows = sliding_windows(A, f, stride)  # (m, n_H, n_W, f, f, n_C)
    return windows.max(axis=(3, 4)) if _check_mode(mode) == "max" else windows.mean(axis=(3, 4))


def _as_2d(name: str, x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (H, W), got shape {x.shape}")
    return x


def correlate2d(image, kernel, pad: int = 0, stride: int = 1) -> np.ndarray:
    """Cross-correlation of one grey image with one kernel (what conv layers compute).

    image: (H, W), kernel: (f, f) -> (floor((H + 2p - f)/s) + 1, floor((W + 2p - f)/s) + 1).
    """
    image, kernel = _as_2d("image", image), _as_2d("kernel", kernel)
    return conv2d(image[None, :, :, None], kernel[:, :, None, None], stride=stride, pad=pad)[0, :, :, 0]


def convolve2d(image, kernel, pad: int = 0, stride: int = 1) -> np.ndarray:
    """Mathematical convolution: cross-correlation with the kernel flipped in both directions.

    image: (H, W), kernel: (f, f) -> same output shape as :func:`correlate2d`.
    """
    kernel = _as_2d("kernel", kernel)
    return correlate2d(image, kernel[::-1, ::-1], pad=pad, stride=stride)


def full_correlate2d(a, b) -> np.ndarray:
    """'Full' cross-correlation of two 2-D arrays: shape (Ha+Hb-1, Wa+Wb-1)."""
    a, b = _as_2d("a", a), _as_2d("b", b)
    ph, pw = b.shape[0] - 1, b.shape[1] - 1
    padded = np.pad(a, ((ph, ph), (pw, pw)))
    return conv2d(padded[None, :, :, None], b[:, :, None, None])[0, :, :, 0]


def full_convolve2d(a, b) -> np.ndarray:
    """'Full' mathematical convolution of two 2-D arrays: shape (Ha+Hb-1, Wa+Wb-1).

    Associative: ``full_convolve2d(full_convolve2d(x, k1), k2) == full_convolve2d(x, full_convolve2d(k1, k2))``.
    """
    return full_correlate2d(a, _as_2d("b", b)[::-1, ::-1])


def pool2d(image, f: int, stride: int | None = None, mode: str = "max", pad: int = 0) -> np.ndarray:
    """Max or average pooling of one channel.

    image: (H, W); window f x f; stride defaults to f; zero padding ``pad``.
    Returns (H_out, W_out) with H_out = floor((H + 2*pad - f)/stride) + 1.
    Pooling has hyper-parameters (f, stride, mode) but nothing to learn.
    """
    image = _as_2d("image", image)
    f = check_int("f", f, 1)
    stride = f if stride is None else check_int("stride", stride, 1)
    _check_mode(mode)
    padded = np.pad(image, check_int("pad", pad, 0))
    if f > min(padded.shape):
        raise ValueError(f"pool window {f} is larger than the padded image {padded.shape}")
    return pool_nhwc(padded[None, :, :, None], f, stride, mode)[0, :, :, 0]
