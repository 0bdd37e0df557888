"""Week 1, lectures 5 and 6: receptive fields, a multi-channel convolution step by step, im2col, and
the backward pass of a convolution and of pooling.

Pure functions carry the maths and are what the unit tests check (receptive fields, parameter counts
of stacked filters, the numbers behind one output of a multi-channel convolution, the im2col patch
matrix, input gradients written as a full convolution, finite-difference gradients, the routing of a
pooling gradient). The widget classes (``ReceptiveFieldExplorer``, ``MultiChannelStepper``,
``Im2colExplorer``, ``GradientStampExplorer``, ``PoolGradientExplorer``) are thin wiring: their
controls are attributes, so a test sets ``.value`` and reads the picture or the HTML.

Everything builds on the non-graded maths of :mod:`helpers.conv`; nothing here carries the name of a
graded function of the assignment.
"""

from __future__ import annotations

import time

import ipywidgets as widgets
import numpy as np

from helpers.conv import (
    check_int,
    conv2d,
    correlate2d,
    full_convolve2d,
    output_size,
    sliding_windows,
)
from helpers.viz.photos import load_photo
from helpers.viz.render import figure_image, figure_to_png, grid_html, new_figure, row, signed_limit, slider

# ------------------------------------------------------------------ receptive fields


def receptive_field(kernel_sizes, strides=None) -> list[int]:
    """Receptive field (in input pixels, per axis) of one output after each layer of a stack.

    kernel_sizes: the window size f of each layer (convolution or pooling), first layer first;
    strides: the stride of each layer (default all 1). Uses r_l = r_{l-1} + (f_l - 1) * j_{l-1} and
    j_l = j_{l-1} * s_l with r_0 = j_0 = 1 (j: distance in input pixels between neighbouring
    outputs). Returns [r_1, ..., r_L]; e.g. [3, 3, 3] -> [3, 5, 7].
    """
    kernel_sizes = list(kernel_sizes)
    strides = [1] * len(kernel_sizes) if strides is None else list(strides)
    if not kernel_sizes:
        raise ValueError("kernel_sizes must name at least one layer")
    if len(strides) != len(kernel_sizes):
        raise ValueError(f"one stride per layer: {len(kernel_sizes)} kernel sizes but {len(strides)} strides")
    r, jump, out = 1, 1, []
    for f, s in zip(kernel_sizes, strides):
        r += (check_int("kernel size", f, 1) - 1) * jump
        jump *= check_int("stride", s, 1)
        out.append(r)
    return out


def stack_params(f: int, layers: int, channels: int, bias: bool = False) -> int:
    """Weights of ``layers`` stacked f x f convolutions that keep ``channels`` channels.

    layers * (f*f*channels + bias) * channels; three 3x3 layers: 27 C^2 (no biases), one 7x7: 49 C^2.
    """
    f, layers, channels = check_int("f", f, 1), check_int("layers", layers, 1), check_int("channels", channels, 1)
    return layers * (f * f * channels + int(bool(bias))) * channels


def path_counts(f: int, layers: int) -> np.ndarray:
    """How many paths lead from each input pixel to one output of ``layers`` stacked f x f convolutions.

    Returns an integer array (r, r), r = layers*(f-1) + 1: the all-ones f x f kernel convolved with
    itself ``layers`` times (f=3, two layers: the outer product of [1, 2, 3, 2, 1] with itself). The
    centre of the receptive field is reached by many more paths than its border.
    """
    f, layers = check_int("f", f, 1), check_int("layers", layers, 1)
    ones = np.ones((f, f))
    counts = ones
    for _ in range(layers - 1):
        counts = full_convolve2d(counts, ones)
    return np.rint(counts).astype(int)


def compose_kernels(k1, k2) -> np.ndarray:
    """The one kernel that does what two stacked linear layers do (no activation between them).

    correlate2d(correlate2d(x, k1), k2) == correlate2d(x, compose_kernels(k1, k2)) for 'valid'
    correlations with stride 1; k1 (f1, f1), k2 (f2, f2) -> (f1 + f2 - 1, f1 + f2 - 1).
    """
    return full_convolve2d(k1, k2)


class ReceptiveFieldExplorer(widgets.VBox):
    """Stack layers of f x f convolutions (optionally each followed by 2x2 max pooling) and see the
    region of a real photo that one output of the last layer depends on, with the number of paths
    from each pixel, and the weights of the stack compared with one layer of the same reach."""

    def __init__(self, layers=2, f=3, channels=64, pool=False, photo="chelsea", size=240):
        self.layers = slider("layers", layers, 1, 6)
        self.f = widgets.SelectionSlider(options=[1, 3, 5, 7], value=f, description="kernel f",
                                         style={"description_width": "100px"})
        self.channels = slider("channels C", channels, 1, 512)
        self.pool = widgets.Checkbox(value=pool, description="2x2 max pool after each conv", indent=False,
                                     layout=widgets.Layout(width="auto"))
        self.image = figure_image()
        self.info = widgets.HTML()
        self.photo = load_photo(photo, size)
        self.photo_name = photo
        for c in (self.layers, self.f, self.channels, self.pool):
            c.observe(self._update, names="value")
        super().__init__([row([widgets.VBox([self.layers, self.f]), widgets.VBox([self.channels, self.pool])]),
                          self.image, self.info])
        self._update()

    def kernel_sizes(self) -> tuple[list[int], list[int]]:
        sizes, strides = [], []
        for _ in range(self.layers.value):
            sizes.append(self.f.value)
            strides.append(1)
            if self.pool.value:
                sizes.append(2)
                strides.append(2)
        return sizes, strides

    def _update(self, _=None):
        from matplotlib.patches import Rectangle

        L, f, C = self.layers.value, self.f.value, self.channels.value
        sizes, strides = self.kernel_sizes()
        r = receptive_field(sizes, strides)[-1]
        img = self.photo
        h, w = img.shape
        cy, cx = h // 2, w // 2
        top, left = cy - r // 2, cx - r // 2
        heat = np.full(img.shape, np.nan)
        counts = path_counts(f, L) if not self.pool.value else np.ones((r, r), int)
        y0, x0, y1, x1 = max(top, 0), max(left, 0), min(top + r, h), min(left + r, w)
        if not self.pool.value:  # with pooling the paths are uneven; only the box is drawn
            heat[y0:y1, x0:x1] = counts[y0 - top:y1 - top, x0 - left:x1 - left] / counts.max()
        z = max(r + 6, 15)  # the zoomed crop around the output's centre
        zt, zl = min(max(cy - z // 2, 0), max(h - z, 0)), min(max(cx - z // 2, 0), max(w - z, 0))
        fig = new_figure(10.5, 3.4, dpi=80)
        axes = fig.subplots(1, 3, gridspec_kw={"width_ratios": [w / h, 1, 0.8]})
        for ax, (t0, l0, t1, l1) in zip(axes, ((0, 0, h, w), (zt, zl, min(zt + z, h), min(zl + z, w)))):
            ax.imshow(img[t0:t1, l0:l1], cmap="gray", vmin=0, vmax=1,
                      extent=(l0 - 0.5, l1 - 0.5, t1 - 0.5, t0 - 0.5))
            ax.imshow(heat[t0:t1, l0:l1], cmap="autumn_r", alpha=0.6, vmin=0, vmax=1,
                      extent=(l0 - 0.5, l1 - 0.5, t1 - 0.5, t0 - 0.5))
            ax.add_patch(Rectangle((left - 0.5, top - 0.5), r, r, fill=False, lw=2, ec="#00b8d4"))
            ax.set_xlim(l0 - 0.5, l1 - 0.5)
            ax.set_ylim(t1 - 0.5, t0 - 0.5)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[0].add_patch(Rectangle((zl - 0.5, zt - 0.5), z, z, fill=False, lw=1, ec="white", ls="--"))
        axes[0].set_title(f"one output sees {r}x{r} of {h}x{w}", fontsize=12)
        axes[1].set_title("zoom: paths per pixel" if not self.pool.value else "zoom", fontsize=12)
        if not self.pool.value and r <= 7:
            for (i, j), v in np.ndenumerate(counts):
                axes[1].text(left + j, top + i, str(v), ha="center", va="center", fontsize=7 if r <= 5 else 5)
        single = stack_params(r, 1, C)
        stacked = stack_params(f, L, C)
        bars = axes[2].bar([f"{L} x {f}x{f}", f"1 x {r}x{r}"], [stacked, single], color=["#1976d2", "#e53935"])
        axes[2].set_ylim(0, max(stacked, single) * 1.25)
        for b_, v in zip(bars, (stacked, single)):
            axes[2].text(b_.get_x() + b_.get_width() / 2, v, f"{v:,}", ha="center", va="bottom", fontsize=9)
        axes[2].set_title(f"weights, C = {C} in and out", fontsize=12)
        axes[2].set_yticks([])
        self.image.value = figure_to_png(fig)
        per_layer = receptive_field([f] * L)
        self.info.value = (
            f"<div>{L} layer(s) of {f}x{f}" + (" each followed by 2x2 max pooling (stride 2)" if self.pool.value else "")
            + f": receptive field <b>{r}x{r}</b>"
            + ("" if self.pool.value else
               f" (after each layer: {', '.join(str(v) for v in per_layer)}); the colour shows how many "
               f"paths lead from each pixel to the output (centre {path_counts(f, L).max():,}, corner 1)")
            + f".</div><div>weights (no biases): stack {L}&middot;{f}&sup2;&middot;C&sup2; = {L * f * f}C&sup2;"
            f" = {stacked:,}; one {r}x{r} layer {r * r}C&sup2; = {single:,}; non-linearities: {L} vs 1.</div>")


# ------------------------------------------------------------------ a multi-channel convolution, step by step


def demo_volume(n: int, channels: int, seed: int = 0) -> np.ndarray:
    """A small (n, n, channels) volume of integers 0..9 from ``seed``."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 10, size=(check_int("n", n, 1), check_int("n", n, 1), check_int("channels", channels, 1)))


def demo_filters(f: int, channels: int, filters: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Filters (f, f, channels, filters) of integers in {-1, 0, 1} and biases (filters,) in -3..3."""
    rng = np.random.default_rng(seed)
    W = rng.integers(-1, 2, size=(check_int("f", f, 1), f, check_int("channels", channels, 1),
                                  check_int("filters", filters, 1)))
    return W, rng.integers(-3, 4, size=filters)


def multichannel_step(x, W, b, position: int, k: int, stride: int = 1) -> dict:
    """The numbers behind one output of a multi-channel convolution (no padding).

    x: (H, W, C); W: (f, f, C, K); b: (K,); position: output index in reading order; k: the filter.
    Returns row/col (top-left of the window in x), out_row/out_col, window (f, f, C), products
    (f, f, C) = window * W[..., k], channel_sums (C,), bias, value = channel_sums.sum() + bias, and
    output (n_H, n_W, K), the whole convolution (helpers.conv.conv2d).
    """
    x, W, b = np.asarray(x), np.asarray(W), np.asarray(b).reshape(-1)
    if x.ndim != 3 or W.ndim != 4 or W.shape[2] != x.shape[2] or b.size != W.shape[3]:
        raise ValueError(f"need x (H, W, C), W (f, f, C, K), b (K,); got {x.shape}, {W.shape}, {b.shape}")
    f, K = W.shape[0], W.shape[3]
    n_H, n_W = output_size(x.shape[0], f, 0, stride), output_size(x.shape[1], f, 0, stride)
    if not 0 <= position < n_H * n_W:
        raise ValueError(f"position must be in [0, {n_H * n_W - 1}], got {position}")
    if not 0 <= k < K:
        raise ValueError(f"filter k must be in [0, {K - 1}], got {k}")
    out_row, out_col = divmod(position, n_W)
    r, c = out_row * stride, out_col * stride
    window = x[r:r + f, c:c + f, :]
    products = window * W[..., k]
    sums = products.sum(axis=(0, 1))
    return {"row": r, "col": c, "out_row": out_row, "out_col": out_col, "window": window,
            "products": products, "channel_sums": sums, "bias": b[k], "value": sums.sum() + b[k],
            "output": conv2d(x[None], W, b)[0] if stride == 1 else conv2d(x[None], W, b, stride=stride)[0]}


class MultiChannelStepper(widgets.VBox):
    """A 3-channel input, two 3x3x3 filters with biases: each output is the sum over channels of
    the window times the filter's slice, plus the filter's bias. Sliders over output positions and
    filters."""

    CHANNEL_COLOURS = ("#ffcdd2", "#c8e6c9", "#bbdefb")

    def __init__(self, n=5, f=3, filters=2, seed=0):
        self.x = demo_volume(n, 3, seed)
        self.W, self.b = demo_filters(f, 3, filters, seed + 1)
        out = output_size(n, f)
        self.position = slider("position", 0, 0, out * out - 1)
        self.filter = slider("filter k", 0, 0, filters - 1)
        self.grids = widgets.HTML()
        self.position.observe(self._update, names="value")
        self.filter.observe(self._update, names="value")
        super().__init__([row([self.position, self.filter]), self.grids])
        self._update()

    def _update(self, _=None):
        k, f = self.filter.value, self.W.shape[0]
        st = multichannel_step(self.x, self.W, self.b, self.position.value, k)
        names = ("R", "G", "B")
        blocks = []
        for c in range(3):
            terms = " + ".join(f"{a}&middot;{'(' + str(w) + ')' if w < 0 else w}"
                               for a, w in zip(st["window"][..., c].ravel(), self.W[..., c, k].ravel()))
            blocks.append(
                "<div style='display:flex;flex-wrap:wrap;gap:8px;align-items:center'>"
                + grid_html(self.x[..., c], (st["row"], st["col"], f, f), caption=f"input {names[c]}",
                            color=self.CHANNEL_COLOURS[c])
                + "<span style='font-size:140%'>&lowast;</span>"
                + grid_html(self.W[..., c, k], caption=f"filter {k}: {names[c]}")
                + f"<span style='font-family:monospace;max-width:330px'>= {terms} = <b>{st['channel_sums'][c]}</b></span>"
                "</div>")
        z = st["output"][..., k].round().astype(int)
        shown = np.where(np.arange(z.size).reshape(z.shape) <= self.position.value, z, 0)
        total = (f"<div style='font-family:monospace;font-size:110%;margin:6px 0'>z[{st['out_row']}, "
                 f"{st['out_col']}, {k}] = {' + '.join(f'({s})' if s < 0 else str(s) for s in st['channel_sums'])}"
                 f" + bias {'(' + str(st['bias']) + ')' if st['bias'] < 0 else st['bias']} = <b>{st['value']}</b></div>")
        out_grid = grid_html(shown, (st["out_row"], st["out_col"], 1, 1), filled=self.position.value + 1,
                             caption=f"output {k}")
        self.grids.value = "".join(blocks) + total + out_grid


# ------------------------------------------------------------------ convolution as a matrix product


def patch_matrix(x, f: int, stride: int = 1, pad: int = 0) -> np.ndarray:
    """im2col: every f x f x C window of one image as a row of a matrix.

    x: (H, W, C) -> (n_H * n_W, f * f * C); rows in reading order of the output positions, columns
    ordered (kernel row, kernel column, channel) like ``W.reshape(f * f * C, K)``.
    """
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"x must be one image (H, W, C), got shape {x.shape}")
    pad = check_int("pad", pad, 0)
    windows = sliding_windows(np.pad(x, ((pad, pad), (pad, pad), (0, 0)))[None], f, stride)[0]
    return windows.reshape(-1, f * f * x.shape[2])


def conv_as_matrix_product(x, W, b=None, stride: int = 1, pad: int = 0) -> np.ndarray:
    """One image convolved by (patch matrix) @ (filters as columns) + bias, reshaped to a volume.

    x: (H, W, C); W: (f, f, C, K); b: (K,) or None -> (n_H, n_W, K), equal to conv2d(x[None], W, b)[0].
    """
    x, W = np.asarray(x), np.asarray(W)
    if W.ndim != 4 or x.ndim != 3 or W.shape[2] != x.shape[2]:
        raise ValueError(f"need x (H, W, C) and W (f, f, C, K); got {x.shape} and {W.shape}")
    f, K = W.shape[0], W.shape[3]
    P = patch_matrix(x, f, stride, pad)
    n_H = output_size(x.shape[0], f, pad, stride)
    n_W = output_size(x.shape[1], f, pad, stride)
    Z = P @ W.reshape(-1, K)
    if b is not None:
        Z = Z + np.asarray(b).reshape(1, K)
    return Z.reshape(n_H, n_W, K)


def best_time(fn, repeat: int = 3) -> float:
    """The shortest of ``repeat`` wall-clock timings of ``fn()`` in seconds (the least disturbed run)."""
    best = float("inf")
    for _ in range(check_int("repeat", repeat, 1)):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


class Im2colExplorer(widgets.VBox):
    """A small grey image, its 3x3 windows unrolled as the rows of the patch matrix, and a filter
    unrolled as a column: each output is one row times the column. The slider picks the row."""

    def __init__(self, n=6, f=3, seed=0):
        self.x = demo_volume(n, 1, seed)
        self.kernel = demo_filters(f, 1, 1, seed + 1)[0]
        self.f = f
        self.P = patch_matrix(self.x, f)
        out = output_size(n, f)
        self.position = slider("row / output", 0, 0, out * out - 1)
        self.image = figure_image()
        self.info = widgets.HTML()
        self.position.observe(self._update, names="value")
        super().__init__([self.position, self.image, self.info])
        self._update()

    def _update(self, _=None):
        from matplotlib.patches import Rectangle

        p, f, n = self.position.value, self.f, self.x.shape[0]
        out = output_size(n, f)
        r, c = divmod(p, out)
        z = (self.P @ self.kernel.reshape(-1, 1)).reshape(out, out)
        fig = new_figure(9.5, 3.6, dpi=80)
        axes = fig.subplots(1, 4, gridspec_kw={"width_ratios": [n, self.P.shape[1], 1.6, out]})
        axes[0].imshow(self.x[..., 0], cmap="Greys", vmin=0, vmax=20)
        axes[0].add_patch(Rectangle((c - 0.5, r - 0.5), f, f, fill=False, lw=2.5, ec="#e65100"))
        axes[0].set_title(f"input {n}x{n}", fontsize=12)
        axes[1].imshow(self.P, cmap="Greys", vmin=0, vmax=20, aspect="auto")
        axes[1].add_patch(Rectangle((-0.5, p - 0.5), self.P.shape[1], 1, fc="#ffe0b2", lw=2.5, ec="#e65100"))
        axes[1].set_title(f"patch matrix {self.P.shape[0]}x{self.P.shape[1]}", fontsize=12)
        k = self.kernel.reshape(-1, 1)
        axes[2].imshow(k, cmap="RdBu_r", vmin=-1.5, vmax=1.5, aspect="auto")
        axes[2].set_title("filter\ncolumn", fontsize=12)
        lim = signed_limit(z)
        axes[3].imshow(z, cmap="RdBu_r", vmin=-1.6 * lim, vmax=1.6 * lim)
        axes[3].add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, lw=2.5, ec="#e65100"))
        axes[3].set_title(f"output {out}x{out}", fontsize=12)
        for ax, a in zip(axes, (self.x[..., 0], self.P, k, z)):
            if a.size <= 80 or ax is axes[1]:
                for (i, j), v in np.ndenumerate(a):
                    if ax is axes[1] and i != p:
                        continue
                    ax.text(j, i, f"{v:g}", ha="center", va="center", fontsize=7,
                            color="black")
            ax.set_xticks([])
            ax.set_yticks([])
        self.image.value = figure_to_png(fig)
        terms = " + ".join(f"{a}&middot;{'(' + str(w) + ')' if w < 0 else w}"
                           for a, w in zip(self.P[p], self.kernel.ravel()))
        self.info.value = (f"<div style='font-family:monospace'>row {p} of the patch matrix &middot; filter column"
                           f" = {terms} = <b>{z[r, c]:g}</b> = output[{r}, {c}]</div>")


# ------------------------------------------------------------------ backward pass


def input_gradient(dZ, kernel) -> np.ndarray:
    """Gradient of a loss with respect to the input of a 'valid', stride-1 cross-correlation.

    Forward: Z = correlate2d(X, kernel), X (H, W), kernel (f, f), Z (H-f+1, W-f+1). Given
    dZ = dL/dZ (same shape as Z), returns dL/dX (H, W): the 'full' convolution of dZ with the kernel,
    i.e. a full cross-correlation of dZ with the kernel flipped in both directions.
    """
    return full_convolve2d(dZ, kernel)


def kernel_gradient(X, dZ) -> np.ndarray:
    """Gradient of a loss with respect to the kernel of Z = correlate2d(X, kernel) (valid, stride 1).

    X (H, W), dZ (H-f+1, W-f+1) -> (f, f): the valid cross-correlation of the input with dZ.
    """
    return correlate2d(X, dZ)


def numerical_gradient(loss, x, eps: float = 1e-6) -> np.ndarray:
    """Central finite differences (loss(x + eps e_i) - loss(x - eps e_i)) / (2 eps) for every entry i.

    loss: a function of an array shaped like x returning a float; x is not modified.
    """
    if eps <= 0:
        raise ValueError(f"eps must be > 0, got {eps}")
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        plus = loss(x)
        x[i] = old - eps
        minus = loss(x)
        x[i] = old
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def relative_error(a, b) -> float:
    """max |a - b| / max(max |a|, max |b|, 1e-12): how far two gradients are apart, relative to their size."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.abs(a - b).max() / max(np.abs(a).max(), np.abs(b).max(), 1e-12))


def gradient_stamp(shape, kernel, position: int) -> np.ndarray:
    """dL/dX when only output ``position`` (reading order) has dL/dZ = 1: the kernel itself, pasted
    over the window that produced that output. shape: (H, W) of X; kernel (f, f)."""
    kernel = np.asarray(kernel, float)
    f = kernel.shape[0]
    n_W = output_size(shape[1], f)
    n_H = output_size(shape[0], f)
    if not 0 <= position < n_H * n_W:
        raise ValueError(f"position must be in [0, {n_H * n_W - 1}], got {position}")
    r, c = divmod(position, n_W)
    out = np.zeros(shape)
    out[r:r + f, c:c + f] = kernel
    return out


class GradientStampExplorer(widgets.VBox):
    """The backward pass of a convolution as stamps: each output sends its gradient dZ[h, w] back to
    the pixels of its window, weighted by the same kernel. Adding the stamps of all outputs up to
    the slider's position builds the full convolution of dZ with the kernel."""

    def __init__(self, n=8, count=10, seed=0):
        rng = np.random.default_rng(seed)
        self.kernel = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])  # Sobel, asymmetric
        self.shape = (n, n)
        out = output_size(n, 3)
        self.dZ = np.round(rng.normal(size=(out, out)), 1)
        self.position = slider("outputs added", min(max(count, 1), out * out), 1, out * out)
        self.image = figure_image()
        self.info = widgets.HTML()
        self.position.observe(self._update, names="value")
        super().__init__([self.position, self.image, self.info])
        self._update()

    def partial_gradient(self, count: int) -> np.ndarray:
        """Sum of the first ``count`` stamps dZ[h, w] * stamp(h, w) (reading order)."""
        return sum((self.dZ.flat[p] * gradient_stamp(self.shape, self.kernel, p) for p in range(count)),
                   np.zeros(self.shape))

    def _update(self, _=None):
        from matplotlib.patches import Rectangle

        count = self.position.value
        out = self.dZ.shape[0]
        last = count - 1
        r, c = divmod(last, out)
        partial = self.partial_gradient(count)
        full = input_gradient(self.dZ, self.kernel)
        lim = signed_limit(full)
        fig = new_figure(10, 2.9, dpi=80)
        axes = fig.subplots(1, 4)
        shown = np.where(np.arange(self.dZ.size).reshape(self.dZ.shape) < count, self.dZ, 0.0)
        panels = [(shown, f"dZ {out}x{out}: the first {count}"), (self.dZ.flat[last] * gradient_stamp(self.shape, self.kernel, last),
                   f"stamp of dZ[{r},{c}] = {self.dZ[r, c]:g}"),
                  (partial, f"sum of {count} stamps"), (full, "full convolution of dZ, K")]
        for i, (ax, (a, title)) in enumerate(zip(axes, panels)):
            ax.imshow(a, cmap="RdBu_r", vmin=-lim if i else -2.5, vmax=lim if i else 2.5)
            ax.set_title(title, fontsize=11)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[0].add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, lw=2, ec="#e65100"))
        axes[1].add_patch(Rectangle((c - 0.5, r - 0.5), 3, 3, fill=False, lw=2, ec="#e65100"))
        self.image.value = figure_to_png(fig)
        done = np.allclose(partial, full)
        self.info.value = (f"<div>{count} of {self.dZ.size} outputs added; the sum "
                           + ("<b>equals</b>" if done else "does not yet equal")
                           + " the full convolution of dZ with the kernel (largest difference "
                           f"{np.abs(partial - full).max():.2f}).</div>")


def pool_gradient(x, dA, f: int, mode: str = "max") -> np.ndarray:
    """Backward pass of f x f pooling with stride f (no padding) on one channel.

    x: (H, W) the pooling input; dA: (H // f, W // f) the gradient of the pooled output. Max: each
    window's gradient goes entirely to the position of its maximum (the first one on a tie), the
    other pixels get 0. Average: it is shared equally, dA / f^2 to every pixel of the window.
    Pixels not covered by any window (when f does not divide H or W) get 0. Returns (H, W).
    """
    x, dA = np.asarray(x, float), np.asarray(dA, float)
    f = check_int("f", f, 1)
    if mode not in ("max", "average"):
        raise ValueError(f'mode must be "max" or "average", got {mode!r}')
    n_H, n_W = output_size(x.shape[0], f, 0, f), output_size(x.shape[1], f, 0, f)
    if dA.shape != (n_H, n_W):
        raise ValueError(f"dA must have the pooled shape {(n_H, n_W)}, got {dA.shape}")
    dx = np.zeros_like(x)
    for h in range(n_H):
        for w in range(n_W):
            window = x[h * f:(h + 1) * f, w * f:(w + 1) * f]
            if mode == "max":
                i, j = np.unravel_index(np.argmax(window), window.shape)
                dx[h * f + i, w * f + j] += dA[h, w]
            else:
                dx[h * f:(h + 1) * f, w * f:(w + 1) * f] += dA[h, w] / (f * f)
    return dx


class PoolGradientExplorer(widgets.VBox):
    """2x2 pooling of a small grid and its backward pass: with max pooling the gradient of each
    window goes to its maximum only; with average pooling it is shared by the four pixels."""

    def __init__(self, n=6, f=2, mode="max", seed=3):
        rng = np.random.default_rng(seed)
        self.f = f
        self.x = rng.permutation(n * n).reshape(n, n)  # distinct whole numbers: no ties
        out = n // f
        self.dA = np.arange(1, out * out + 1, dtype=float).reshape(out, out)
        self.window = slider("window", 0, 0, out * out - 1)
        self.mode = widgets.ToggleButtons(options=["max", "average"], value=mode, description="pooling")
        self.grids = widgets.HTML()
        self.window.observe(self._update, names="value")
        self.mode.observe(self._update, names="value")
        super().__init__([row([self.window, self.mode]), self.grids])
        self._update()

    def _update(self, _=None):
        f, mode = self.f, self.mode.value
        out = self.dA.shape[0]
        r, c = divmod(self.window.value, out)
        pooled = (sliding_windows(self.x[None, :, :, None], f, f).max(axis=(3, 4)) if mode == "max"
                  else sliding_windows(self.x[None, :, :, None], f, f).mean(axis=(3, 4)))[0, :, :, 0]
        dx = pool_gradient(self.x, self.dA, f, mode)
        arrow = "<div style='align-self:center;font-size:150%'>&rarr;</div>"
        window = self.x[r * f:(r + 1) * f, c * f:(c + 1) * f]
        i, j = np.unravel_index(np.argmax(window), window.shape)
        target = (r * f + i, c * f + j, 1, 1) if mode == "max" else (r * f, c * f, f, f)
        self.grids.value = (
            "<div style='display:flex;flex-wrap:wrap;gap:10px;align-items:flex-start'>"
            + grid_html(self.x, (r * f, c * f, f, f), caption="input x") + arrow
            + grid_html(np.round(pooled, 2), (r, c, 1, 1), caption=f"{mode} pool {f}x{f}") + "</div>"
            "<div style='margin:4px 0'>backward: the gradient dA of the pooled output goes back to x</div>"
            "<div style='display:flex;flex-wrap:wrap;gap:10px;align-items:flex-start'>"
            + grid_html(self.dA, (r, c, 1, 1), caption="dA (given)") + arrow
            + grid_html(np.round(dx, 2), target, caption="dx") + "</div>"
            f"<div>window ({r}, {c}): "
            + (f"its maximum {pooled[r, c]:g} alone receives dA = {self.dA[r, c]:g}; the other "
               f"{f * f - 1} pixels get 0 (a small change there does not change the max)."
               if mode == "max" else
               f"each of its {f * f} pixels receives dA / {f * f} = {self.dA[r, c] / (f * f):g}.")
            + "</div>")


__all__ = [
    "receptive_field", "stack_params", "path_counts", "compose_kernels", "ReceptiveFieldExplorer",
    "demo_volume", "demo_filters", "multichannel_step", "MultiChannelStepper",
    "patch_matrix", "conv_as_matrix_product", "best_time", "Im2colExplorer",
    "input_gradient", "kernel_gradient", "numerical_gradient", "relative_error", "gradient_stamp",
    "GradientStampExplorer", "pool_gradient", "PoolGradientExplorer",
]
