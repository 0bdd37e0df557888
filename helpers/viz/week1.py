"""Week 1 lectures: the geometry of a convolution, parameter counts, and five widgets.

Pure functions (output sizes explained, window positions, parameter counts, a LeNet-like table, the
step-by-step sliding window) carry the maths and are what the unit tests check; the widget classes
(``ConvExplorer``, ``EdgeExplorer``, ``PoolingPlayground``, ``FlipExplorer``, ``ParameterCounter``)
are thin wiring: their controls are attributes, so a test sets ``.value`` and reads the picture.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np

from helpers.conv import check_int, convolve2d, correlate2d, output_size, pool2d
from helpers.viz.photos import EDGE_KERNELS, PHOTOS, edge_response, load_photo
from helpers.viz.render import (
    figure_image as _figure_image,
)
from helpers.viz.render import (
    figure_to_png,
    grid_html,
    new_figure,
    table_html,
)
from helpers.viz.render import (
    row as _row,
)
from helpers.viz.render import (
    signed_limit as _signed_limit,
)
from helpers.viz.render import (
    slider as _slider,
)


@dataclass
class ConvGeometry:
    """What :func:`describe_geometry` found out about one (n, f, pad, stride) combination."""

    n: int
    f: int
    pad: int
    stride: int
    valid: bool  #: False when the window does not fit at all
    out: int  #: output size (0 when not valid)
    leftover: int  #: rows/columns at the bottom/right of the padded input never visited
    same_pad: float  #: the padding (f-1)/2 that keeps the size with stride 1
    notes: list  #: sentences explaining anything unusual, in plain words


def describe_geometry(n: int, f: int, pad: int = 0, stride: int = 1) -> ConvGeometry:
    """Output size and plain-words notes for one combination (never raises for ints >= their minima)."""
    n = check_int("n", n, 1)
    f = check_int("f", f, 1)
    pad = check_int("pad", pad, 0)
    stride = check_int("stride", stride, 1)
    notes: list[str] = []
    padded = n + 2 * pad
    same_pad = (f - 1) / 2
    if f > padded:
        notes.append(
            f"Not possible: the {f}x{f} kernel is larger than the padded input ({padded}x{padded}). "
            f"Add padding or pick a smaller kernel."
        )
        return ConvGeometry(n, f, pad, stride, False, 0, 0, same_pad, notes)
    out = (padded - f) // stride + 1
    leftover = (padded - f) % stride
    if leftover:
        notes.append(
            f"The stride does not divide n + 2p - f = {padded - f}: the last {leftover} "
            f"row(s)/column(s) of the padded input are never covered by a window. The floor in "
            f"the formula drops them."
        )
    if pad >= f:
        notes.append(
            f"Padding {pad} >= kernel size {f}: the corner windows see only padding zeros, "
            f"so their outputs carry no information."
        )
    if stride > f:
        notes.append(
            f"Stride {stride} > kernel size {f}: the windows skip some pixels entirely."
        )
    if stride == 1 and out == n:
        notes.append(f"'Same' convolution: p = (f-1)/2 = {pad} keeps the size at {n}.")
    elif pad == 0:
        notes.append(f"'Valid' convolution (no padding): the output shrinks by f-1 = {f - 1} per "
                     f"axis when the stride is 1.")
    if f % 2 == 0:
        notes.append(
            f"An even kernel ({f}x{f}) has no centre pixel, and 'same' padding would need "
            f"p = {same_pad}, which is not a whole number; odd kernels are the usual choice."
        )
    return ConvGeometry(n, f, pad, stride, True, out, leftover, same_pad, notes)


def window_positions(n: int, f: int, pad: int = 0, stride: int = 1) -> list[tuple[int, int]]:
    """Top-left corners (row, col) in the padded input of every window, in reading order."""
    out = output_size(n, f, pad, stride)
    return [(i * stride, j * stride) for i in range(out) for j in range(out)]






def conv_layer_params(f: int, n_c_prev: int, n_c: int, bias: bool = True) -> int:
    """Learnable parameters of a conv layer with n_c filters of shape (f, f, n_c_prev).

    (f * f * n_c_prev + 1) * n_c with biases; independent of the input's height and width.
    """
    f = check_int("f", f, 1)
    n_c_prev = check_int("n_c_prev", n_c_prev, 1)
    n_c = check_int("n_c", n_c, 1)
    return (f * f * n_c_prev + int(bool(bias))) * n_c


def dense_layer_params(n_in: int, n_out: int, bias: bool = True) -> int:
    """Learnable parameters of a fully connected layer: (n_in + 1) * n_out with biases."""
    return (check_int("n_in", n_in, 1) + int(bool(bias))) * check_int("n_out", n_out, 1)


def compare_conv_dense(n: int, n_c_prev: int, f: int, n_c: int, pad: int = 0, stride: int = 1) -> dict:
    """Numbers behind "why convolutions": a conv layer vs a dense layer with the same in/out sizes.

    Input (n, n, n_c_prev); conv with n_c filters f x f, padding, stride. Returns a dict with
    input_units, output_shape, output_units, conv_params, dense_params, ratio (dense / conv),
    conv_inputs_per_output (f*f*n_c_prev: sparse connections), dense_inputs_per_output,
    conv_multiplies and dense_multiplies (one forward pass, biases not counted).
    """
    out = output_size(n, f, pad, stride)
    n_in = n * n * n_c_prev
    n_out = out * out * n_c
    conv = conv_layer_params(f, n_c_prev, n_c)
    dense = dense_layer_params(n_in, n_out)
    return {
        "input_units": n_in,
        "output_shape": (out, out, n_c),
        "output_units": n_out,
        "conv_params": conv,
        "dense_params": dense,
        "ratio": dense / conv,
        "conv_inputs_per_output": f * f * n_c_prev,
        "dense_inputs_per_output": n_in,
        "conv_multiplies": n_out * f * f * n_c_prev,
        "dense_multiplies": n_out * n_in,
    }


def lenet_like_table(input_shape=(32, 32, 3)) -> list[dict]:
    """Layer-by-layer shapes and parameter counts of a LeNet-5-like ConvNet.

    CONV 5x5 (6 filters, valid) -> MAX POOL 2 -> CONV 5x5 (16) -> MAX POOL 2 -> FC 120 -> FC 84 ->
    softmax 10. Returns rows {layer, output shape, activations, parameters}; pooling has 0.
    """
    h, w, c = input_shape
    rows = [{"layer": "input", "output shape": (h, w, c), "activations": h * w * c, "parameters": 0}]

    def conv(name, f, n_c):
        nonlocal h, w, c
        p = conv_layer_params(f, c, n_c)
        h, w, c = output_size(h, f), output_size(w, f), n_c
        rows.append({"layer": name, "output shape": (h, w, c), "activations": h * w * c, "parameters": p})

    def pool(name, f):
        nonlocal h, w
        h, w = output_size(h, f, 0, f), output_size(w, f, 0, f)
        rows.append({"layer": name, "output shape": (h, w, c), "activations": h * w * c, "parameters": 0})

    conv("CONV1 5x5, 6 filters", 5, 6)
    pool("MAXPOOL1 2x2, s=2", 2)
    conv("CONV2 5x5, 16 filters", 5, 16)
    pool("MAXPOOL2 2x2, s=2", 2)
    units = h * w * c
    rows.append({"layer": "flatten", "output shape": (units,), "activations": units, "parameters": 0})
    for name, n_out in (("FC3", 120), ("FC4", 84), ("softmax", 10)):
        rows.append({"layer": name, "output shape": (n_out,), "activations": n_out,
                     "parameters": dense_layer_params(units, n_out)})
        units = n_out
    return rows






def demo_grid(n: int, seed: int = 0) -> np.ndarray:
    """A small (n, n) grid of integers 0..9 from ``seed`` (the explorer's input)."""
    return np.random.default_rng(seed).integers(0, 10, size=(check_int("n", n, 1),) * 2)


def demo_kernel(f: int, seed: int = 1) -> np.ndarray:
    """An (f, f) kernel of integers in {-1, 0, 1} from ``seed`` (the explorer's kernel)."""
    return np.random.default_rng(seed).integers(-1, 2, size=(check_int("f", f, 1),) * 2)


def window_step(x, kernel, pad: int, stride: int, step: int) -> dict:
    """Everything needed to show window number ``step`` (reading order) of a convolution.

    x: (n, n); kernel: (f, f). Returns padded (n+2p, n+2p), row/col (top-left in padded),
    out_row/out_col, window (f, f), products (f, f), value (sum of products), output (full
    output map) and expression (the multiply-and-sum written out).
    """
    x = np.asarray(x)
    kernel = np.asarray(kernel)
    n, f = x.shape[0], kernel.shape[0]
    positions = window_positions(n, f, pad, stride)
    if not 0 <= step < len(positions):
        raise ValueError(f"step must be in [0, {len(positions) - 1}], got {step}")
    padded = np.pad(x, pad)
    row, col = positions[step]
    window = padded[row:row + f, col:col + f]
    products = window * kernel
    out = output_size(n, f, pad, stride)
    terms = " + ".join(f"{a}&times;{'(' + str(b) + ')' if b < 0 else b}"
                       for a, b in zip(window.ravel(), kernel.ravel()))
    return {
        "padded": padded, "row": row, "col": col, "out_row": step // out, "out_col": step % out,
        "window": window, "products": products, "value": products.sum(),
        "output": correlate2d(x, kernel, pad, stride).round().astype(int),
        "expression": f"{terms} = <b>{products.sum()}</b>",
    }




class ConvExplorer(widgets.VBox):
    """Input size, kernel size, padding and stride controls; the output-size formula updates
    live, impossible or odd combinations are explained, and the ``step`` slider walks the
    window over a small grid of numbers, showing the multiply-and-sum at each position."""

    def __init__(self, n=5, f=3, pad=0, stride=1, seed=0):
        self.n = _slider("input n", n, 2, 9)
        self.f = _slider("kernel f", f, 1, 6)
        self.pad = _slider("padding p", pad, 0, 3)
        self.stride = _slider("stride s", stride, 1, 4)
        self.step = _slider("window #", 0, 0, 0)
        self.same = widgets.Button(description="'same' padding", tooltip="set p = (f-1)/2")
        self.formula = widgets.HTML()
        self.notes = widgets.HTML()
        self.grids = widgets.HTML()
        self.seed = seed
        for c in (self.n, self.f, self.pad, self.stride):
            c.observe(self._geometry_changed, names="value")
        self.step.observe(self._render_step, names="value")
        self.same.on_click(self._set_same)
        controls = _row([widgets.VBox([self.n, self.f]), widgets.VBox([self.pad, self.stride]),
                         widgets.VBox([self.step, self.same])])
        super().__init__([controls, self.formula, self.notes, self.grids])
        self._geometry_changed()

    def _set_same(self, _=None):
        self.stride.value = 1
        self.pad.value = min(self.pad.max, (self.f.value - 1) // 2)

    def _geometry_changed(self, _=None):
        g = describe_geometry(self.n.value, self.f.value, self.pad.value, self.stride.value)
        n, f, p, s = g.n, g.f, g.pad, g.stride
        if g.valid:
            self.formula.value = (
                f"<div style='font-size:120%'>n<sub>out</sub> = &lfloor;(n + 2p &minus; f) / s"
                f"&rfloor; + 1 = &lfloor;({n} + 2&middot;{p} &minus; {f}) / {s}&rfloor; + 1 = "
                f"&lfloor;{n + 2 * p - f}/{s}&rfloor; + 1 = <b>{g.out}</b> &nbsp;&rarr;&nbsp; "
                f"output {g.out}&times;{g.out} ({g.out * g.out} windows)</div>")
        else:
            self.formula.value = (
                f"<div style='font-size:120%;color:#b71c1c'>n + 2p = {n + 2 * p} &lt; f = {f}:"
                f" no window fits, no output.</div>")
        self.notes.value = "".join(f"<div>&bull; {html.escape(t)}</div>" for t in g.notes)
        self.x = demo_grid(n, self.seed)
        self.kernel = demo_kernel(f, self.seed + 1)
        total = g.out * g.out
        with self.step.hold_trait_notifications():
            self.step.max = max(0, total - 1)
            self.step.value = min(self.step.value, self.step.max)
            self.step.disabled = not g.valid
        self._render_step()

    def _render_step(self, _=None):
        g = describe_geometry(self.n.value, self.f.value, self.pad.value, self.stride.value)
        if not g.valid:
            self.grids.value = grid_html(np.pad(self.x, g.pad), pad=g.pad, caption="padded input")
            return
        st = window_step(self.x, self.kernel, g.pad, g.stride, self.step.value)
        f = g.f
        left = grid_html(st["padded"], (st["row"], st["col"], f, f), pad=g.pad,
                         caption=f"input {g.n}x{g.n}" + (f" + padding {g.pad}" if g.pad else ""))
        mid = grid_html(self.kernel, caption=f"kernel {f}x{f}")
        right = grid_html(st["output"], (st["out_row"], st["out_col"], 1, 1),
                          filled=self.step.value + 1, caption=f"output {g.out}x{g.out}")
        expr = (f"<div style='font-family:monospace;margin-top:6px'>output[{st['out_row']},"
                f"{st['out_col']}] = {st['expression']}</div>")
        self.grids.value = (
            "<div style='display:flex;gap:18px;align-items:flex-start'>"
            f"{left}<div style='align-self:center;font-size:150%'>&lowast;</div>{mid}"
            f"<div style='align-self:center;font-size:150%'>=</div>{right}</div>{expr}")

class EdgeExplorer(widgets.VBox):
    """Edge detection on real photos: preset kernels (vertical, horizontal, Sobel, Scharr, ...)
    or your own 3x3 kernel typed into the grid. Red = positive response (lighter on the left /
    top: light-to-dark), blue = negative (dark-to-light)."""

    def __init__(self, photo="camera", kernel="vertical", size=192):
        self.size = size
        self.photo = widgets.Dropdown(options=PHOTOS, value=photo, description="photo")
        self.kernel_name = widgets.Dropdown(options=list(EDGE_KERNELS) + ["custom"], value=kernel,
                                      description="kernel")
        self.cells = [widgets.FloatText(value=0.0, layout=widgets.Layout(width="60px")) for _ in range(9)]
        self.flip_sign = widgets.Checkbox(value=False, description="flip the sign (swap red/blue)")
        self.image = _figure_image()
        self.info = widgets.HTML()
        self._photo_cache: dict = {}
        self._setting = False
        self.photo.observe(self._update, names="value")
        self.kernel_name.observe(self._preset, names="value")
        self.flip_sign.observe(self._update, names="value")
        for c in self.cells:
            c.observe(self._typed, names="value")
        grid = widgets.GridBox(self.cells, layout=widgets.Layout(grid_template_columns="repeat(3, 64px)"))
        controls = _row([widgets.VBox([self.photo, self.kernel_name, self.flip_sign]),
                         widgets.VBox([widgets.HTML("<b>3x3 kernel</b> (edit me)"), grid])])
        super().__init__([controls, self.image, self.info])
        self._preset()

    @property
    def kernel(self) -> np.ndarray:
        return np.array([c.value for c in self.cells], dtype=float).reshape(3, 3)

    def gray(self) -> np.ndarray:
        name = self.photo.value
        if name not in self._photo_cache:
            self._photo_cache[name] = load_photo(name, self.size)
        return self._photo_cache[name]

    def _preset(self, _=None):
        if self.kernel_name.value == "custom":
            return
        k = EDGE_KERNELS[self.kernel_name.value]
        self._setting = True
        try:
            for c, v in zip(self.cells, k.ravel()):
                c.value = round(float(v), 4)
        finally:
            self._setting = False
        self._update()

    def _typed(self, _=None):
        if self._setting:
            return
        if self.kernel_name.value != "custom":
            self._setting = True
            self.kernel_name.value = "custom"
            self._setting = False
        self._update()

    def _update(self, _=None):
        k = self.kernel * (-1 if self.flip_sign.value else 1)
        img = self.gray()
        resp = edge_response(img, k)
        lim = _signed_limit(resp, 99.5)  # a few extreme pixels must not wash out the rest
        fig = new_figure(11, 3.9)
        axes = fig.subplots(1, 3)
        axes[0].imshow(img, cmap="gray", vmin=0, vmax=1)
        axes[0].set_title(f"{self.photo.value} {img.shape[0]}x{img.shape[1]}")
        im = axes[1].imshow(resp, cmap="RdBu_r", vmin=-lim, vmax=lim)
        axes[1].set_title("response: red > 0, blue < 0")
        fig.colorbar(im, ax=axes[1], fraction=0.046, pad=0.02)
        axes[2].imshow(np.abs(resp), cmap="magma", vmin=0, vmax=lim)
        axes[2].set_title("edge strength |response|")
        for ax in axes:
            ax.set_xticks([])
            ax.set_yticks([])
        self.image.value = figure_to_png(fig)
        self.info.value = (
            f"kernel sum = {k.sum():g} (0 means flat regions give 0); output "
            f"{resp.shape[0]}x{resp.shape[1]} ('valid': 2 pixels smaller per axis); "
            f"response range [{resp.min():.2f}, {resp.max():.2f}]")

class PoolingPlayground(widgets.VBox):
    """Padding, stride and window size applied to a photo by one of: a vertical-edge
    convolution, max pooling or average pooling. Shows the output size and the output itself."""

    OPERATIONS = ("max pool", "average pool", "conv: vertical edge", "conv: blur")

    def __init__(self, photo="chelsea", operation="max pool", f=4, stride=4, pad=0, size=192):
        self.size = size
        self.photo = widgets.Dropdown(options=PHOTOS, value=photo, description="photo")
        self.operation = widgets.Dropdown(options=self.OPERATIONS, value=operation,
                                          description="operation")
        self.f = _slider("window f", f, 1, 16, continuous=False)
        self.stride = _slider("stride s", stride, 1, 16, continuous=False)
        self.pad = _slider("padding p", pad, 0, 16, continuous=False)
        self.image = _figure_image()
        self.info = widgets.HTML()
        self._cache: dict = {}
        for c in (self.photo, self.operation, self.f, self.stride, self.pad):
            c.observe(self._update, names="value")
        super().__init__([_row([self.photo, self.operation]),
                          _row([self.f, self.stride, self.pad]), self.info, self.image])
        self._update()

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """(input image (H, W), output map) for the current settings."""
        name = self.photo.value
        if name not in self._cache:
            self._cache[name] = load_photo(name, self.size)
        img = self._cache[name]
        f, s, p, op = self.f.value, self.stride.value, self.pad.value, self.operation.value
        if op == "max pool":
            return img, pool2d(img, f, s, "max", pad=p)
        if op == "average pool":
            return img, pool2d(img, f, s, "average", pad=p)
        kernel = (np.tile(np.r_[np.ones(f // 2), np.zeros(f % 2), -np.ones(f // 2)], (f, 1))
                  if op == "conv: vertical edge" else np.full((f, f), 1.0 / (f * f)))
        return img, correlate2d(img, kernel, pad=p, stride=s)

    def _update(self, _=None):
        f, s, p = self.f.value, self.stride.value, self.pad.value
        name = self.photo.value
        if name not in self._cache:
            self._cache[name] = load_photo(name, self.size)
        h, wd = self._cache[name].shape
        g_h, g_w = describe_geometry(h, f, p, s), describe_geometry(wd, f, p, s)
        if not (g_h.valid and g_w.valid):
            self.info.value = "<b style='color:#b71c1c'>The window is larger than the padded photo.</b>"
            return
        img, out = self.result()
        op = self.operation.value
        learn = ("pooling has <b>no parameters</b>: only the hyper-parameters f, s and max/average"
                 if "pool" in op else f"a conv layer would learn these {f * f} weights + 1 bias")
        self.info.value = (
            f"{h}x{wd} &rarr; &lfloor;({h} + 2&middot;{p} &minus; {f})/{s}&rfloor; + 1 = "
            f"<b>{out.shape[0]}</b> by &lfloor;({wd} + 2&middot;{p} &minus; {f})/{s}&rfloor; + 1"
            f" = <b>{out.shape[1]}</b> &nbsp;({img.size:,} &rarr; {out.size:,} values); {learn}")
        fig = new_figure(9, 3.8)
        axes = fig.subplots(1, 2)
        axes[0].imshow(np.pad(img, p), cmap="gray", vmin=0, vmax=1)
        axes[0].set_title(f"input {h}x{wd}" + (f", padded by {p}" if p else ""))
        if "edge" in op:
            lim = _signed_limit(out)
            axes[1].imshow(out, cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
        else:
            axes[1].imshow(out, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        axes[1].set_title(f"{op}: output {out.shape[0]}x{out.shape[1]}")
        for ax in axes:
            ax.set_xticks([])
            ax.set_yticks([])
        self.image.value = figure_to_png(fig)

class FlipExplorer(widgets.VBox):
    """Cross-correlation vs mathematical convolution. An asymmetric kernel is applied to an
    image made of single bright dots: correlation stamps the kernel upside down and mirrored,
    convolution stamps it as it is (the kernel flip)."""

    KERNELS = {
        "L shape": np.array([[1, 0, 0], [1, 0, 0], [1, 1, 1]], dtype=float),
        "arrow": np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0.0]]) * np.array([[1], [1], [0.3]]),
        "gradient": np.arange(9, dtype=float).reshape(3, 3) / 8,
        "Sobel vertical": EDGE_KERNELS["Sobel vertical"],
    }

    def __init__(self, kernel="L shape", dots=2):
        self.kernel_name = widgets.Dropdown(options=list(self.KERNELS), value=kernel, description="kernel")
        self.dots = _slider("bright dots", dots, 1, 4)
        self.image = _figure_image()
        self.kernel_name.observe(self._update, names="value")
        self.dots.observe(self._update, names="value")
        super().__init__([_row([self.kernel_name, self.dots]), self.image])
        self._update()

    def dot_image(self) -> np.ndarray:
        img = np.zeros((15, 15))
        for r, c in [(3, 3), (10, 10), (3, 11), (11, 4)][: self.dots.value]:
            img[r, c] = 1.0
        return img

    def _update(self, _=None):
        k = self.KERNELS[self.kernel_name.value]
        img = self.dot_image()
        corr = correlate2d(img, k, pad=1)
        conv = convolve2d(img, k, pad=1)
        fig = new_figure(11, 3.2)
        axes = fig.subplots(1, 4)
        lim = _signed_limit(k)
        panels = [(k, "kernel K"), (img, "input: bright dots"),
                  (corr, "cross-correlation\n(what conv layers do)"),
                  (conv, "convolution (K flipped)")]
        for ax, (a, title) in zip(axes, panels):
            ax.imshow(a, cmap="RdBu_r", vmin=-lim, vmax=lim)
            ax.set_title(title, fontsize=10)
            ax.set_xticks([])
            ax.set_yticks([])
        self.image.value = figure_to_png(fig)

class ParameterCounter(widgets.VBox):
    """Parameters of one conv layer vs a dense layer producing the same output from the same
    input, with sparse-connection and multiplication counts."""

    def __init__(self, n=32, n_c_prev=3, f=5, n_c=6, pad=0, stride=1):
        self.n = _slider("input n (n x n)", n, 4, 256)
        self.n_c_prev = _slider("input channels", n_c_prev, 1, 64)
        self.f = _slider("filter f", f, 1, 11)
        self.n_c = _slider("filters", n_c, 1, 128)
        self.pad = _slider("padding p", pad, 0, 5)
        self.stride = _slider("stride s", stride, 1, 4)
        self.table = widgets.HTML()
        self.image = _figure_image()
        for c in (self.n, self.n_c_prev, self.f, self.n_c, self.pad, self.stride):
            c.observe(self._update, names="value")
        super().__init__([_row([widgets.VBox([self.n, self.n_c_prev, self.f]),
                                widgets.VBox([self.n_c, self.pad, self.stride])]),
                          _row([self.table, self.image])])
        self._update()

    def _update(self, _=None):
        try:
            r = compare_conv_dense(self.n.value, self.n_c_prev.value, self.f.value,
                                   self.n_c.value, self.pad.value, self.stride.value)
        except ValueError as err:
            self.table.value = f"<b style='color:#b71c1c'>{html.escape(str(err))}</b>"
            return
        f, c, k = self.f.value, self.n_c_prev.value, self.n_c.value
        rows = [
            {"": "parameters", "conv": r["conv_params"], "dense": r["dense_params"]},
            {"": "inputs seen by one output", "conv": r["conv_inputs_per_output"],
             "dense": r["dense_inputs_per_output"]},
            {"": "multiplications", "conv": r["conv_multiplies"], "dense": r["dense_multiplies"]},
        ]
        oh = r["output_shape"]
        self.table.value = (
            f"<div>input {self.n.value}x{self.n.value}x{c} = {r['input_units']:,} values "
            f"&rarr; output {oh[0]}x{oh[1]}x{oh[2]} = {r['output_units']:,} values</div>"
            f"<div>conv: ({f}&middot;{f}&middot;{c} + 1)&middot;{k} = {r['conv_params']:,} "
            f"parameters, whatever the image size</div>"
            + table_html(rows, ["", "conv", "dense"])
            + f"<div style='margin-top:6px'>the dense layer needs <b>{r['ratio']:,.0f}&times;"
            f"</b> more parameters</div>")
        fig = new_figure(4.2, 2.6)
        ax = fig.subplots()
        ax.bar(["conv", "dense"], [r["conv_params"], r["dense_params"]], color=["#1976d2", "#e53935"])
        ax.set_yscale("log")
        ax.set_ylim(1, max(10, r["dense_params"]) * 30)
        for x, v in enumerate([r["conv_params"], r["dense_params"]]):
            ax.text(x, v * 1.5, f"{v:,}", ha="center", va="bottom", fontsize=9)
        ax.set_ylabel("parameters (log scale)")
        self.image.value = figure_to_png(fig)

