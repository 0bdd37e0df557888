"""Pictures and widgets of the lecture notebooks.

Two layers, kept apart on purpose:

1. Pure functions: parameters in, numpy arrays / HTML strings / PNG bytes out. They carry the
   maths (output sizes, sliding windows, edge filters, pooling, parameter counts, activations,
   Grad-CAM) and are what the unit tests check.
2. Thin widget classes (``ConvExplorer``, ``EdgeExplorer``, ``PoolingPlayground``,
   ``FlipExplorer``, ``ParameterCounter``, ``ActivationVisualiser``). Each one is an
   ``ipywidgets.VBox`` whose controls are attributes (``.f``, ``.stride``, ``.pad``, ...), so a test
   can set ``.value`` and read the displayed PNG or HTML without a browser. Slow work runs only when
   a slider is released (``continuous_update=False``); activations are computed once per image and
   cached, so moving a slider only slices arrays.

Pictures are PNG bytes shown in ``ipywidgets.Image`` widgets (drawn with matplotlib's Agg canvas,
never with pyplot, so nothing is displayed twice in a notebook).

TensorFlow is imported only by the activation tools (through :mod:`helpers.backend`).
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np

from helpers.conv import convolve2d, correlate2d, output_size, pool_forward

# --------------------------------------------------------------------------------------------
# Geometry of a convolution
# --------------------------------------------------------------------------------------------


def _check_int(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)


#: ``floor((n + 2*pad - f) / stride) + 1``; ValueError when the window does not fit.
conv_output_size = output_size


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
    n = _check_int("n", n, 1)
    f = _check_int("f", f, 1)
    pad = _check_int("pad", pad, 0)
    stride = _check_int("stride", stride, 1)
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
    out = conv_output_size(n, f, pad, stride)
    return [(i * stride, j * stride) for i in range(out) for j in range(out)]


# --------------------------------------------------------------------------------------------
# Single-channel convolution, correlation and pooling (numpy)
# --------------------------------------------------------------------------------------------


def _as_2d(name: str, x) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (H, W), got shape {x.shape}")
    return x


# correlate2d(image, kernel, pad=0, stride=1) and convolve2d(...) come from helpers.conv: one
# grey image (H, W) with one square kernel (f, f), cross-correlation (no flip) or convolution (flip).


def full_convolve2d(a, b) -> np.ndarray:
    """'Full' mathematical convolution of two 2-D arrays: shape (Ha+Hb-1, Wa+Wb-1).

    Used to show associativity: full_convolve2d(full_convolve2d(x, k1), k2) equals
    full_convolve2d(x, full_convolve2d(k1, k2)).
    """
    a = _as_2d("a", a)
    b = _as_2d("b", b)
    ph, pw = b.shape[0] - 1, b.shape[1] - 1
    padded = np.pad(a, ((ph, ph), (pw, pw)))
    return correlate2d(padded, b[::-1, ::-1])


def full_correlate2d(a, b) -> np.ndarray:
    """'Full' cross-correlation of two 2-D arrays: shape (Ha+Hb-1, Wa+Wb-1)."""
    a = _as_2d("a", a)
    b = _as_2d("b", b)
    ph, pw = b.shape[0] - 1, b.shape[1] - 1
    return correlate2d(np.pad(a, ((ph, ph), (pw, pw))), b)


def pool2d(image, f: int, stride: int | None = None, mode: str = "max", pad: int = 0) -> np.ndarray:
    """Max or average pooling of one channel.

    image: (H, W); window f x f; stride defaults to f; zero padding ``pad``.
    Returns (H_out, W_out) with H_out = floor((H + 2*pad - f)/stride) + 1.
    Pooling has hyper-parameters (f, stride, mode) but nothing to learn.
    """
    image = _as_2d("image", image)
    f = _check_int("f", f, 1)
    stride = f if stride is None else _check_int("stride", stride, 1)
    if mode not in ("max", "average"):
        raise ValueError(f"mode must be 'max' or 'average', got {mode!r}")
    padded = np.pad(image, _check_int("pad", pad, 0))
    if f > min(padded.shape):
        raise ValueError(f"pool window {f} is larger than the padded image {padded.shape}")
    pooled, _ = pool_forward(padded[None, :, :, None], {"f": f, "stride": stride}, mode)
    return pooled[0, :, :, 0]


# --------------------------------------------------------------------------------------------
# Edge kernels and photos
# --------------------------------------------------------------------------------------------

#: 3x3 edge kernels. "vertical" kernels respond to vertical edges (a change from left to right):
#: positive where the left side is lighter than the right (light-to-dark), negative for dark-to-light.
EDGE_KERNELS: dict[str, np.ndarray] = {
    "vertical": np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]], dtype=float),
    "horizontal": np.array([[1, 1, 1], [0, 0, 0], [-1, -1, -1]], dtype=float),
    "Sobel vertical": np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=float),
    "Sobel horizontal": np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], dtype=float),
    "Scharr vertical": np.array([[3, 0, -3], [10, 0, -10], [3, 0, -3]], dtype=float),
    "Scharr horizontal": np.array([[3, 10, 3], [0, 0, 0], [-3, -10, -3]], dtype=float),
    "blur (box)": np.full((3, 3), 1 / 9),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float),
}

#: Photos that scikit-image ships (no download) plus two drawn test pictures.
PHOTOS = ("camera", "astronaut", "chelsea", "coffee", "coins", "rocket", "brick",
          "light square on dark", "dark/light halves")


def synthetic_image(name: str, size: int = 128) -> np.ndarray:
    """Drawn grey pictures with known edges, values in [0, 1], shape (size, size).

    'light square on dark': a light square in the middle of a dark background (every edge
    direction, both light-to-dark and dark-to-light). 'dark/light halves': dark left half, light
    right half (a single dark-to-light vertical edge).
    """
    img = np.zeros((size, size))
    if name == "light square on dark":
        q = size // 4
        img[q:-q, q:-q] = 1.0
        return img
    if name == "dark/light halves":
        img[:, size // 2:] = 1.0
        return img
    raise ValueError(f"unknown synthetic image {name!r}")


def load_photo(name: str = "camera", size: int = 192, gray: bool = True) -> np.ndarray:
    """A photo from ``skimage.data`` (or a drawn picture, see :data:`PHOTOS`), floats in [0, 1].

    The longer side is resized to ``size`` pixels. Returns (H, W) if gray else (H, W, 3).
    """
    if name not in PHOTOS:
        raise ValueError(f"unknown photo {name!r}; choose one of {PHOTOS}")
    size = _check_int("size", size, 8)
    if name in ("light square on dark", "dark/light halves"):
        img = synthetic_image(name, size)
        return img if gray else np.repeat(img[..., None], 3, axis=-1)
    import skimage.data
    from skimage.color import gray2rgb, rgb2gray
    from skimage.transform import resize

    img = getattr(skimage.data, name)()
    img = img.astype(float) / 255.0
    if img.ndim == 3:
        img = img[..., :3]
    h, w = img.shape[:2]
    scale = size / max(h, w)
    shape = (max(1, round(h * scale)), max(1, round(w * scale)))
    img = resize(img, shape + img.shape[2:], anti_aliasing=True)
    if gray:
        return rgb2gray(img) if img.ndim == 3 else img
    return img if img.ndim == 3 else gray2rgb(img)


def edge_response(image, kernel) -> np.ndarray:
    """'Valid' cross-correlation of a grey image with a 3x3 (or any) kernel: (H-f+1, W-f+1)."""
    return correlate2d(image, kernel)


# --------------------------------------------------------------------------------------------
# Parameter counts
# --------------------------------------------------------------------------------------------


def conv_layer_params(f: int, n_c_prev: int, n_c: int, bias: bool = True) -> int:
    """Learnable parameters of a conv layer with n_c filters of shape (f, f, n_c_prev).

    (f * f * n_c_prev + 1) * n_c with biases; independent of the input's height and width.
    """
    f = _check_int("f", f, 1)
    n_c_prev = _check_int("n_c_prev", n_c_prev, 1)
    n_c = _check_int("n_c", n_c, 1)
    return (f * f * n_c_prev + int(bool(bias))) * n_c


def dense_layer_params(n_in: int, n_out: int, bias: bool = True) -> int:
    """Learnable parameters of a fully connected layer: (n_in + 1) * n_out with biases."""
    return (_check_int("n_in", n_in, 1) + int(bool(bias))) * _check_int("n_out", n_out, 1)


def compare_conv_dense(n: int, n_c_prev: int, f: int, n_c: int, pad: int = 0, stride: int = 1) -> dict:
    """Numbers behind "why convolutions": a conv layer vs a dense layer with the same in/out sizes.

    Input (n, n, n_c_prev); conv with n_c filters f x f, padding, stride. Returns a dict with
    input_units, output_shape, output_units, conv_params, dense_params, ratio (dense / conv),
    conv_inputs_per_output (f*f*n_c_prev: sparse connections), dense_inputs_per_output,
    conv_multiplies and dense_multiplies (one forward pass, biases not counted).
    """
    out = conv_output_size(n, f, pad, stride)
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
        h, w, c = conv_output_size(h, f), conv_output_size(w, f), n_c
        rows.append({"layer": name, "output shape": (h, w, c), "activations": h * w * c, "parameters": p})

    def pool(name, f):
        nonlocal h, w
        h, w = conv_output_size(h, f, 0, f), conv_output_size(w, f, 0, f)
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


def table_html(rows: list[dict], columns: list[str] | None = None) -> str:
    """A small HTML table of a list of dicts (numbers with thousands separators)."""
    if not rows:
        return "<table></table>"
    columns = columns or list(rows[0])

    def fmt(v):
        if isinstance(v, (int, np.integer)):
            return f"{int(v):,}"
        if isinstance(v, float):
            return f"{v:,.1f}"
        return html.escape(str(v))

    head = "".join(f"<th style='padding:2px 10px'>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td style='padding:2px 10px;text-align:right'>{fmt(r[c])}</td>"
                         for c in columns) + "</tr>"
        for r in rows
    )
    return f"<table style='border-collapse:collapse'><tr>{head}</tr>{body}</table>"


# --------------------------------------------------------------------------------------------
# Rendering helpers
# --------------------------------------------------------------------------------------------


def new_figure(width: float, height: float, dpi: int = 90):
    """A matplotlib Figure drawn by the Agg canvas (no pyplot: nothing shows up by itself)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def figure_to_png(fig) -> bytes:
    """PNG bytes of a matplotlib figure."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", pad_inches=0.05)
    return buf.getvalue()


def _signed_limit(a: np.ndarray, percentile: float = 100.0) -> float:
    """Colour-scale limit for signed maps: the given percentile of |a| (1.0 if all zero)."""
    lim = float(np.percentile(np.abs(a), percentile))
    if lim <= 0:
        lim = float(np.max(np.abs(a)))
    return lim if lim > 0 else 1.0


def _grid_cell(value, style: str) -> str:
    text = f"{value:g}" if isinstance(value, (float, np.floating)) else str(value)
    return (f"<td style='width:28px;height:24px;text-align:center;border:1px solid #bbb;"
            f"font-family:monospace;{style}'>{text}</td>")


def grid_html(values, highlight: tuple | None = None, pad: int = 0, filled: int | None = None,
              caption: str = "", color: str = "#ffd54f") -> str:
    """An HTML table of a small 2-D integer/float array.

    highlight: (row, col, h, w) block drawn in ``color``; pad: width of the border drawn grey
    (padding zeros); filled: show only the first ``filled`` cells in reading order (others blank).
    """
    v = np.asarray(values)
    rows = []
    for i in range(v.shape[0]):
        cells = []
        for j in range(v.shape[1]):
            k = i * v.shape[1] + j
            style = ""
            if pad and (i < pad or j < pad or i >= v.shape[0] - pad or j >= v.shape[1] - pad):
                style += "color:#999;background:#eee;"
            if highlight is not None:
                r, c, h, w = highlight
                if r <= i < r + h and c <= j < c + w:
                    style += f"background:{color};font-weight:bold;color:#000;"
            val = v[i, j] if (filled is None or k < filled) else ""
            cells.append(_grid_cell(val, style))
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption style='caption-side:top;font-weight:bold'>{html.escape(caption)}</caption>"
    return f"<table style='border-collapse:collapse;margin:4px'>{cap}{''.join(rows)}</table>"


# --------------------------------------------------------------------------------------------
# Step-by-step sliding window
# --------------------------------------------------------------------------------------------


def demo_grid(n: int, seed: int = 0) -> np.ndarray:
    """A small (n, n) grid of integers 0..9 from ``seed`` (the explorer's input)."""
    return np.random.default_rng(seed).integers(0, 10, size=(_check_int("n", n, 1),) * 2)


def demo_kernel(f: int, seed: int = 1) -> np.ndarray:
    """An (f, f) kernel of integers in {-1, 0, 1} from ``seed`` (the explorer's kernel)."""
    return np.random.default_rng(seed).integers(-1, 2, size=(_check_int("f", f, 1),) * 2)


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
    out = conv_output_size(n, f, pad, stride)
    terms = " + ".join(f"{a}&times;{'(' + str(b) + ')' if b < 0 else b}"
                       for a, b in zip(window.ravel(), kernel.ravel()))
    return {
        "padded": padded, "row": row, "col": col, "out_row": step // out, "out_col": step % out,
        "window": window, "products": products, "value": products.sum(),
        "output": correlate2d(x, kernel, pad, stride).round().astype(int),
        "expression": f"{terms} = <b>{products.sum()}</b>",
    }


# --------------------------------------------------------------------------------------------
# Widgets (thin wiring)
# --------------------------------------------------------------------------------------------


def _slider(label, value, lo, hi, step=1, continuous=True):
    return widgets.IntSlider(value=value, min=lo, max=hi, step=step, description=label,
                       continuous_update=continuous, style={"description_width": "100px"})


def _row(children):
    """Widgets side by side that wrap onto the next line when the notebook is too narrow for them
    (a plain HBox would push the last ones past the output area's edge, where they are cut off)."""
    return widgets.HBox(children, layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start"))


def _figure_image():
    # Shown at its natural size (flex containers would otherwise stretch it and blur the text).
    return widgets.Image(format="png", layout=widgets.Layout(
        max_width="100%", height="auto", align_self="flex-start", object_fit="contain"))


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
        for k, (r, c) in enumerate([(3, 3), (10, 10), (3, 11), (11, 4)][: self.dots.value]):
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

class ActivationVisualiser(widgets.VBox):
    """Look inside a trained Keras ConvNet: pick an image (or upload your own) and a layer;
    see every channel's activation map, one channel enlarged, the first layer's filters and a
    Grad-CAM overlay of the predicted (or chosen) class.

    Activations of every layer are computed once per image and cached: the sliders only slice
    arrays. model: a built Keras model with one image input (H, W, C); images: (m, H, W, C)
    array, uint8 or floats in [0, 1]; preprocess: function applied to a batch before the model
    (default: uint8 -> /255).
    """

    def __init__(self, model, images, labels=None, class_names=None, preprocess=None,
                 max_images=None):
        images = np.asarray(images)
        if images.ndim != 4:
            raise ValueError(f"images must be (m, H, W, C), got shape {images.shape}")
        self.model = model
        self.images = list(images[:max_images] if max_images else images)
        self.labels = None if labels is None else list(np.ravel(labels))
        self.class_names = class_names
        self.preprocess = preprocess or _default_preprocess
        self.layer_names = spatial_layer_names(model)
        if not self.layer_names:
            raise ValueError("the model has no layer with a (H, W, C) output to show")
        self._cache: dict[int, dict] = {}
        n_out = int(model.outputs[0].shape[-1])
        self.n_classes = n_out
        self.index = _slider("image", 0, 0, len(self.images) - 1, continuous=False)
        self.layer = widgets.Dropdown(options=self.layer_names, value=self.layer_names[0],
                                description="layer")
        self.channel = _slider("channel", 0, 0, 0)
        self.target = widgets.Dropdown(options=[("predicted", -1)] + [
            (self._class_name(i), i) for i in range(n_out)], value=-1, description="Grad-CAM of",
            style={"description_width": "initial"})
        self.upload = widgets.FileUpload(accept="image/*", multiple=False, description="your image")
        self.prediction = widgets.HTML()
        self.overview = _figure_image()
        self.mosaic = _figure_image()
        self.zoom = _figure_image()
        self.index.observe(self._image_changed, names="value")
        self.layer.observe(self._layer_changed, names="value")
        self.channel.observe(self._render_zoom, names="value")
        self.target.observe(self._render_overview, names="value")
        self.upload.observe(self._uploaded, names="value")
        super().__init__([
            _row([self.index, self.upload, self.target]), self.prediction, self.overview,
            _row([self.layer, self.channel]),
            _row([self.mosaic, self.zoom])])
        self._image_changed()

    def _class_name(self, i):
        if self.class_names is not None and i < len(self.class_names):
            return str(self.class_names[i])
        return str(i)

    def entry(self, index: int | None = None) -> dict:
        """Cached activations ({layer: (H, W, C)}) and probabilities of image ``index``."""
        index = self.index.value if index is None else index
        if index not in self._cache:
            batch = self.preprocess(self.images[index][None])
            acts, probs = compute_activations(self.model, batch, self.layer_names)
            self._cache[index] = {"acts": {k: v[0] for k, v in acts.items()},
                                  "probs": probs[0], "cams": {}}
        return self._cache[index]

    def cam(self, index: int, class_index: int) -> np.ndarray:
        e = self.entry(index)
        if class_index not in e["cams"]:
            batch = self.preprocess(self.images[index][None])
            e["cams"][class_index] = grad_cam(self.model, batch, class_index)[0]
        return e["cams"][class_index]

    def _uploaded(self, change):
        value = change["new"]
        if not value:
            return
        item = value[0] if isinstance(value, (list, tuple)) else next(iter(value.values()))
        content = bytes(item["content"])
        shape = self.images[0].shape
        self.images.append(image_from_bytes(content, shape[:2], shape[2],
                                            uint8=self.images[0].dtype == np.uint8))
        if self.labels is not None:
            self.labels.append(None)
        self.index.max = len(self.images) - 1
        self.index.value = len(self.images) - 1

    def _image_changed(self, _=None):
        self.entry()
        self._render_overview()
        self._layer_changed()

    def _layer_changed(self, _=None):
        act = self.entry()["acts"][self.layer.value]
        with self.channel.hold_trait_notifications():
            self.channel.max = act.shape[-1] - 1
            self.channel.value = min(self.channel.value, self.channel.max)
        self._render_mosaic()
        self._render_zoom()

    def _render_overview(self, _=None):
        e = self.entry()
        probs = e["probs"]
        pred = int(np.argmax(probs))
        target = pred if self.target.value == -1 else self.target.value
        cam = self.cam(self.index.value, target)
        img = _display_image(self.images[self.index.value])
        true = None if self.labels is None else self.labels[self.index.value]
        true_txt = "your upload" if true is None and self.labels is not None else (
            "" if true is None else f"label: <b>{html.escape(self._class_name(int(true)))}</b>")
        true_txt = true_txt + " &middot; " if true_txt else ""
        top = np.argsort(probs)[::-1][:3]
        self.prediction.value = (
            f"{true_txt}prediction: <b>{html.escape(self._class_name(pred))}</b> &nbsp;("
            + ", ".join(f"{html.escape(self._class_name(i))}: {probs[i]:.0%}" for i in top) + ")")
        fig = new_figure(8, 2.9)
        axes = fig.subplots(1, 3)
        axes[0].imshow(img)
        axes[0].set_title("input")
        axes[1].imshow(cam, cmap="jet", vmin=0, vmax=1)
        axes[1].set_title(f"Grad-CAM: {self._class_name(target)}")
        axes[2].imshow(overlay_heatmap(img, cam))
        axes[2].set_title("overlay")
        for ax in axes:
            ax.set_xticks([])
            ax.set_yticks([])
        self.overview.value = figure_to_png(fig)

    def _render_mosaic(self):
        act = self.entry()["acts"][self.layer.value]
        self.mosaic.value = figure_to_png(activation_mosaic_figure(act, self.layer.value))

    def _render_zoom(self, _=None):
        act = self.entry()["acts"][self.layer.value]
        c = self.channel.value
        fig = new_figure(3.2, 3.4)
        ax = fig.subplots()
        ax.imshow(act[..., c], cmap="viridis", interpolation="nearest")
        ax.set_title(f"channel {c}: {act.shape[0]}x{act.shape[1]}\nmax {act[..., c].max():.2f}",
                     fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
        self.zoom.value = figure_to_png(fig)



# --------------------------------------------------------------------------------------------
# Activations, filters, Grad-CAM (Keras, imported lazily)
# --------------------------------------------------------------------------------------------


def _default_preprocess(batch: np.ndarray) -> np.ndarray:
    batch = np.asarray(batch)
    return batch.astype("float32") / 255.0 if batch.dtype == np.uint8 else batch.astype("float32")


def _display_image(img: np.ndarray) -> np.ndarray:
    img = np.asarray(img)
    img = img.astype(float) / 255.0 if img.dtype == np.uint8 else img.astype(float)
    if img.shape[-1] == 1:
        img = np.repeat(img, 3, axis=-1)
    return np.clip(img, 0, 1)


def spatial_layer_names(model) -> list[str]:
    """Names of the model's layers whose output is an image-like (None, H, W, C) tensor."""
    names = []
    for layer in model.layers:
        try:
            shape = layer.output.shape
        except (AttributeError, ValueError):
            continue
        if len(shape) == 4 and layer.__class__.__name__ != "InputLayer":
            names.append(layer.name)
    return names


def compute_activations(model, batch, layer_names=None) -> tuple[dict, np.ndarray]:
    """Outputs of the named layers (default: every spatial layer) and of the model, in one pass.

    batch: (m, H, W, C) already preprocessed. Returns ({name: (m, H_l, W_l, C_l)}, (m, classes)).
    """
    from helpers.backend import keras

    names = layer_names or spatial_layer_names(model)
    key = tuple(names)
    cache = getattr(model, "_viz_activation_models", None)
    if cache is None:
        cache = {}
        try:
            model._viz_activation_models = cache
        except Exception:  # pragma: no cover - models that refuse new attributes
            pass
    if key not in cache:
        outputs = [model.get_layer(n).output for n in names] + [model.outputs[0]]
        cache[key] = keras.Model(inputs=model.inputs[0], outputs=outputs)
    results = cache[key](np.asarray(batch, dtype="float32"), training=False)
    acts = {n: np.asarray(r) for n, r in zip(names, results[:-1])}
    return acts, np.asarray(results[-1])


def first_conv_filters(model) -> np.ndarray:
    """The first Conv2D layer's kernels, (f, f, C_in, C_out)."""
    for layer in model.layers:
        if layer.__class__.__name__ == "Conv2D":
            return np.asarray(layer.get_weights()[0])
    raise ValueError("the model has no Conv2D layer")


def filters_figure(kernels: np.ndarray, max_filters: int = 32, shared_scale: bool = True):
    """Figure of first-layer filters (f, f, C_in, C_out): RGB when C_in == 3, else channel 0.

    shared_scale: one scale for all filters with mid-grey = weight 0 (weak filters look grey,
    strong ones colourful); otherwise each filter is stretched to [0, 1] on its own.
    """
    k = np.asarray(kernels, dtype=float)
    if k.ndim != 4:
        raise ValueError(f"kernels must be (f, f, C_in, C_out), got shape {k.shape}")
    n = min(k.shape[-1], max_filters)
    cols = min(n, 8)
    rows = int(np.ceil(n / cols))
    fig = new_figure(1.1 * cols, 1.25 * rows + 0.3)
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for i, ax in enumerate(axes):
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= n:
            ax.axis("off")
            continue
        f = k[..., i]
        if shared_scale:
            f = np.clip(0.5 + f / (2 * (np.abs(k).max() or 1.0)), 0, 1)
        else:
            f = (f - f.min()) / (np.ptp(f) or 1.0)
        if f.shape[-1] == 3:
            ax.imshow(f, interpolation="nearest")
        else:
            ax.imshow(f[..., 0], cmap="gray", interpolation="nearest")
        ax.set_title(str(i), fontsize=8)
    fig.suptitle(f"first-layer filters ({k.shape[0]}x{k.shape[1]}x{k.shape[2]})", fontsize=10)
    return fig


def activation_mosaic(act: np.ndarray, cols: int | None = None, gap: int = 1) -> np.ndarray:
    """Tile every channel of an activation (H, W, C) into one 2-D array, each channel scaled to
    [0, 1] on its own; gaps are NaN. Returns (rows*(H+gap)-gap, cols*(W+gap)-gap)."""
    act = np.asarray(act, dtype=float)
    if act.ndim != 3:
        raise ValueError(f"act must be (H, W, C), got shape {act.shape}")
    h, wd, c = act.shape
    cols = cols or int(np.ceil(np.sqrt(c)))
    rows = int(np.ceil(c / cols))
    out = np.full((rows * (h + gap) - gap, cols * (wd + gap) - gap), np.nan)
    for i in range(c):
        a = act[..., i]
        a = (a - a.min()) / (np.ptp(a) or 1.0)
        r, q = divmod(i, cols)
        out[r * (h + gap): r * (h + gap) + h, q * (wd + gap): q * (wd + gap) + wd] = a
    return out


def activation_mosaic_figure(act: np.ndarray, title: str = ""):
    """Figure of :func:`activation_mosaic` with the layer's shape in the title."""
    mosaic = activation_mosaic(act)
    silent = int(np.sum(np.max(np.abs(act), axis=(0, 1)) == 0))
    fig = new_figure(5, 5 * mosaic.shape[0] / mosaic.shape[1] + 0.4)
    ax = fig.subplots()
    ax.imshow(np.ma.masked_invalid(mosaic), cmap="viridis", interpolation="nearest")
    ax.set_title(f"{title}: all {act.shape[-1]} channels, {act.shape[0]}x{act.shape[1]} each"
                 + (f"\n{silent} silent (all zero) for this image" if silent else ""), fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    return fig


def last_spatial_layer(model) -> str:
    """Name of the last layer with a (None, H, W, C) output (Grad-CAM's default layer)."""
    names = spatial_layer_names(model)
    if not names:
        raise ValueError("the model has no layer with a (H, W, C) output")
    return names[-1]


def last_conv_layer(model) -> str:
    """Name of the last Conv2D layer (Grad-CAM's usual layer); else the last spatial layer."""
    convs = [layer.name for layer in model.layers if layer.__class__.__name__ == "Conv2D"]
    return convs[-1] if convs else last_spatial_layer(model)


def grad_cam(model, batch, class_index=None, layer_name=None) -> np.ndarray:
    """Grad-CAM heat maps (Selvaraju et al., 2017), resized to the input, in [0, 1].

    For each image: weights = mean over H, W of d(score of class)/d(activation of the layer);
    map = ReLU(sum_k weights_k * activation_k). batch: (m, H, W, C) preprocessed; class_index:
    int, sequence of m ints, or None (each image's predicted class); layer_name: default the last
    Conv2D layer. Returns (m, H, W).
    """
    from helpers.backend import keras, tf

    layer_name = layer_name or last_conv_layer(model)
    cache = getattr(model, "_viz_gradcam_models", None)
    if cache is None:
        cache = {}
        model._viz_gradcam_models = cache
    if layer_name not in cache:
        cache[layer_name] = keras.Model(model.inputs[0], [model.get_layer(layer_name).output, model.outputs[0]])
    x = tf.convert_to_tensor(np.asarray(batch, dtype="float32"))
    with tf.GradientTape() as tape:
        act, out = cache[layer_name](x, training=False)
        if class_index is None:
            idx = tf.argmax(out, axis=-1)
        else:
            idx = tf.constant(np.broadcast_to(np.asarray(class_index), (x.shape[0],)), dtype=tf.int64)
        score = tf.gather(out, idx, axis=1, batch_dims=1)
    grads = tape.gradient(score, act)
    weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
    cam = tf.nn.relu(tf.reduce_sum(weights * act, axis=-1))[..., None]
    cam = tf.image.resize(cam, x.shape[1:3], method="bilinear")[..., 0].numpy()
    peak = cam.max(axis=(1, 2), keepdims=True)
    return np.where(peak > 0, cam / np.where(peak > 0, peak, 1), 0.0)


def overlay_heatmap(image: np.ndarray, heat: np.ndarray, alpha: float = 0.45, cmap: str = "jet") -> np.ndarray:
    """Blend a heat map (H, W) in [0, 1] over an RGB image (H, W, 3) in [0, 1]."""
    from matplotlib import colormaps

    image = _display_image(image)
    colour = colormaps[cmap](np.clip(heat, 0, 1))[..., :3]
    return np.clip((1 - alpha) * image + alpha * colour, 0, 1)


def image_from_bytes(content: bytes, size=(64, 64), channels: int = 3, uint8: bool = True) -> np.ndarray:
    """Decode an uploaded image file, centre-crop it to a square, resize to ``size``.

    Returns (H, W, channels), uint8 (or floats in [0, 1] if uint8 is False).
    """
    from PIL import Image

    img = Image.open(io.BytesIO(content)).convert("RGB" if channels == 3 else "L")
    w, h = img.size
    side = min(w, h)
    img = img.crop(((w - side) // 2, (h - side) // 2, (w - side) // 2 + side, (h - side) // 2 + side))
    img = img.resize((int(size[1]), int(size[0])), Image.BILINEAR)
    arr = np.asarray(img)
    if arr.ndim == 2:
        arr = arr[..., None]
    return arr if uint8 else arr.astype("float32") / 255.0
