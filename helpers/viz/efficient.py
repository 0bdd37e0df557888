"""Week 2, efficient architectures: the cost of depthwise-separable convolutions, of MobileNetV2's
bottleneck and of EfficientNet's compound scaling, plus the widgets of lecture 4.

Costs are counted as multiplications of one forward pass for one image (biases, batch norm and
activations not counted; a "multiply-add" is one multiplication here). Pure functions carry the
maths and are unit-tested; ``SeparableCostExplorer``, ``BottleneckExplorer`` and
``CompoundScalingExplorer`` are thin ``ipywidgets.VBox`` wiring whose controls are attributes.
"""

from __future__ import annotations

import math

import ipywidgets as widgets
import numpy as np

from helpers.conv import check_int, output_size
from helpers.viz.render import figure_image, figure_to_png, new_figure, row, slider, table_html

#: EfficientNet's compound-scaling constants (Tan & Le, 2019): depth alpha, width beta, resolution gamma,
#: found by a small grid search under alpha * beta^2 * gamma^2 ~ 2.
ALPHA, BETA, GAMMA = 1.2, 1.1, 1.15


def _same_out(n: int, stride: int) -> int:
    """Output size of a 'same'-padded convolution: ceil(n / stride)."""
    return -(-n // stride)


def separable_cost(n: int, f: int, n_c: int, n_c_out: int, stride: int = 1, padding: str = "valid") -> dict:
    """Multiplications and weights of a normal convolution vs depthwise + pointwise, for one image.

    Input (n, n, n_c); n_c_out filters of f x f; output (m, m, n_c_out) with m from the padding
    ("valid": floor((n - f)/s) + 1, "same": ceil(n/s)). Returns a dict with out (m), normal
    (m^2 f^2 n_c n_c_out), depthwise (m^2 f^2 n_c), pointwise (m^2 n_c n_c_out), separable
    (depthwise + pointwise), ratio (separable / normal = 1/n_c_out + 1/f^2), and the weights (no
    biases): normal_weights (f^2 n_c n_c_out), depthwise_weights (f^2 n_c), pointwise_weights
    (n_c n_c_out).
    """
    n, f = check_int("n", n, 1), check_int("f", f, 1)
    n_c, n_c_out, stride = check_int("n_c", n_c, 1), check_int("n_c_out", n_c_out, 1), check_int("stride", stride, 1)
    if padding not in ("valid", "same"):
        raise ValueError(f"separable_cost: padding must be 'valid' or 'same', got {padding!r}")
    if padding == "valid" and f > n:
        raise ValueError(f"separable_cost: a {f}x{f} filter does not fit a {n}x{n} input without padding")
    m = output_size(n, f, 0, stride) if padding == "valid" else _same_out(n, stride)
    normal = m * m * f * f * n_c * n_c_out
    depthwise = m * m * f * f * n_c
    pointwise = m * m * n_c * n_c_out
    return {"out": m, "normal": normal, "depthwise": depthwise, "pointwise": pointwise,
            "separable": depthwise + pointwise, "ratio": (depthwise + pointwise) / normal,
            "normal_weights": f * f * n_c * n_c_out, "depthwise_weights": f * f * n_c,
            "pointwise_weights": n_c * n_c_out}


def keras_separable_weights(f: int, n_c: int, n_c_out: int) -> dict:
    """Weights (no biases) of Keras' Conv2D, DepthwiseConv2D and SeparableConv2D for these sizes,
    counted by Keras itself: {"Conv2D": ..., "DepthwiseConv2D": ..., "SeparableConv2D": ...}."""
    from helpers.backend import keras

    f, n_c, n_c_out = check_int("f", f, 1), check_int("n_c", n_c, 1), check_int("n_c_out", n_c_out, 1)
    shape = (None, max(f, 8), max(f, 8), n_c)
    layers = {"Conv2D": keras.layers.Conv2D(n_c_out, f, use_bias=False),
              "DepthwiseConv2D": keras.layers.DepthwiseConv2D(f, use_bias=False),
              "SeparableConv2D": keras.layers.SeparableConv2D(n_c_out, f, use_bias=False)}
    for layer in layers.values():
        layer.build(shape)
    return {name: int(layer.count_params()) for name, layer in layers.items()}


def bottleneck_cost(n: int, n_c: int, n_c_out: int, expansion: int = 6, f: int = 3, stride: int = 1) -> list[dict]:
    """MobileNetV2's bottleneck (expansion 1x1 -> depthwise f x f -> projection 1x1), 'same' padding.

    Input (n, n, n_c); expanded to expansion * n_c channels; output (ceil(n/s), ceil(n/s), n_c_out).
    Returns one row per step {step, output shape, weights, multiplications} (no biases), the
    expansion row left out when expansion == 1, and a last row "total"; a residual connection adds
    the input when stride == 1 and n_c == n_c_out (no weights, no multiplications).
    """
    n, n_c, n_c_out = check_int("n", n, 1), check_int("n_c", n_c, 1), check_int("n_c_out", n_c_out, 1)
    expansion, f, stride = check_int("expansion", expansion, 1), check_int("f", f, 1), check_int("stride", stride, 1)
    wide = expansion * n_c
    m = _same_out(n, stride)
    rows = []
    if expansion > 1:
        rows.append({"step": f"expansion 1x1, {n_c} -> {wide}", "output shape": (n, n, wide),
                     "weights": n_c * wide, "multiplications": n * n * n_c * wide})
    rows.append({"step": f"depthwise {f}x{f}, stride {stride}", "output shape": (m, m, wide),
                 "weights": f * f * wide, "multiplications": m * m * f * f * wide})
    rows.append({"step": f"projection 1x1, {wide} -> {n_c_out}", "output shape": (m, m, n_c_out),
                 "weights": wide * n_c_out, "multiplications": m * m * wide * n_c_out})
    rows.append({"step": "total", "output shape": (m, m, n_c_out),
                 "weights": sum(r["weights"] for r in rows),
                 "multiplications": sum(r["multiplications"] for r in rows)})
    return rows


def compound_factors(phi: float, alpha: float = ALPHA, beta: float = BETA, gamma: float = GAMMA) -> dict:
    """EfficientNet's compound scaling for coefficient phi: depth d = alpha^phi, width w = beta^phi,
    resolution r = gamma^phi, and the cost factor (alpha * beta^2 * gamma^2)^phi (cost grows linearly
    with depth and with the square of width and of resolution). Also returns 2**phi for comparison."""
    for name, v in (("alpha", alpha), ("beta", beta), ("gamma", gamma)):
        if not v >= 1:
            raise ValueError(f"compound_factors: {name} must be >= 1, got {v}")
    phi = float(phi)
    if phi < 0:
        raise ValueError(f"compound_factors: phi must be >= 0, got {phi}")
    return {"depth": alpha ** phi, "width": beta ** phi, "resolution": gamma ** phi,
            "cost": (alpha * beta ** 2 * gamma ** 2) ** phi, "two_to_phi": 2.0 ** phi}


def round_channels(channels: float, divisor: int = 8) -> int:
    """Channels rounded to a multiple of ``divisor`` (never down by more than 10%), as EfficientNet does."""
    divisor = check_int("divisor", divisor, 1)
    rounded = max(divisor, int(channels + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * channels:
        rounded += divisor
    return rounded


def lite_network_cost(depth: float = 1.0, width: float = 1.0, resolution: int = 224, classes: int = 1000) -> dict:
    """Weights and multiplications of an EfficientNet-Lite0-shaped network scaled by depth and width.

    Stage repeats become ceil(depth * repeats) and stage channels round_channels(width * channels);
    as in EfficientNet-Lite, the stem (32 channels) and head (1280) stay fixed. Counts the weights
    of every convolution and of the classifier (biases of the classifier included; batch norm not),
    and the multiplications for one (resolution, resolution, 3) image. depth = width = 1 at 224 is
    the real Lite0 (see :func:`keras_conv_counts`). Returns {"weights", "multiplications",
    "stages": [(repeats, channels), ...], "resolution"}.
    """
    from helpers.models.efficientnet_lite import FEATURE_CHANNELS, STAGES

    resolution = check_int("resolution", resolution, 32)
    if not (depth > 0 and width > 0):
        raise ValueError(f"lite_network_cost: depth and width must be > 0, got {depth}, {width}")
    n = _same_out(resolution, 2)
    weights = 3 * 3 * 3 * 32
    mults = n * n * weights
    c_in, stages = 32, []
    for repeats, k, stride, expansion, c_out in STAGES:
        reps, c_out = math.ceil(depth * repeats), round_channels(width * c_out)
        stages.append((reps, c_out))
        for i in range(reps):
            for r in bottleneck_cost(n, c_in, c_out, expansion, k, stride if i == 0 else 1)[-1:]:
                weights += r["weights"]
                mults += r["multiplications"]
            n = _same_out(n, stride if i == 0 else 1)
            c_in = c_out
    weights += c_in * FEATURE_CHANNELS
    mults += n * n * c_in * FEATURE_CHANNELS
    weights += (FEATURE_CHANNELS + 1) * classes
    mults += FEATURE_CHANNELS * classes
    return {"weights": weights, "multiplications": mults, "stages": stages, "resolution": resolution}


def keras_conv_counts(model) -> dict:
    """Weights of every Conv2D / DepthwiseConv2D / Dense layer of a built Keras model and their
    multiplications for one image (read from the layers' kernels and output shapes):
    {"weights": ..., "multiplications": ..., "all_parameters": model.count_params()}."""
    weights = mults = 0
    for layer in model.layers:
        kind = type(layer).__name__
        if kind not in ("Conv2D", "DepthwiseConv2D", "Dense"):
            continue
        kernel = int(np.prod(layer.kernel.shape))
        weights += kernel + (int(np.prod(layer.bias.shape)) if getattr(layer, "bias", None) is not None else 0)
        out = layer.output.shape
        positions = int(np.prod(out[1:-1])) if len(out) == 4 else 1
        mults += positions * kernel
    return {"weights": weights, "multiplications": mults, "all_parameters": int(model.count_params())}


def _fmt(x: float) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if x >= size:
            return f"{x / size:.2f} {unit}"
    return f"{x:.0f}"


class SeparableCostExplorer(widgets.VBox):
    """A normal convolution vs depthwise + pointwise: sliders for the input size, channels in and
    out and the filter size; the multiplications of both, their ratio and 1/n_c' + 1/f^2 update live."""

    def __init__(self, n=6, n_c=3, n_c_out=5, f=3, padding="valid"):
        self.n = slider("input n", n, 3, 224)
        self.n_c = slider("channels n_c", n_c, 1, 512)
        self.n_c_out = slider("filters n_c'", n_c_out, 1, 512)
        self.f = slider("filter f", f, 1, 7)
        self.padding = padding
        self.info = widgets.HTML()
        self.image = figure_image()
        for c in (self.n, self.n_c, self.n_c_out, self.f):
            c.observe(self._update, names="value")
        super().__init__([row([widgets.VBox([self.n, self.n_c]), widgets.VBox([self.n_c_out, self.f])]),
                          row([self.image, self.info])])
        self._update()

    def _update(self, _=None):
        f, c, k = self.f.value, self.n_c.value, self.n_c_out.value
        try:
            r = separable_cost(self.n.value, f, c, k, padding=self.padding)
        except ValueError as err:
            self.info.value = f"<b style='color:#b71c1c'>{err}</b>"
            return
        m = r["out"]
        self.info.value = (
            f"<div>input {self.n.value}x{self.n.value}x{c} &rarr; output {m}x{m}x{k}</div>"
            + table_html([
                {"": "normal conv", "multiplications": r["normal"], "weights": r["normal_weights"]},
                {"": "depthwise", "multiplications": r["depthwise"], "weights": r["depthwise_weights"]},
                {"": "pointwise 1x1", "multiplications": r["pointwise"], "weights": r["pointwise_weights"]},
                {"": "depthwise + pointwise", "multiplications": r["separable"],
                 "weights": r["depthwise_weights"] + r["pointwise_weights"]},
            ])
            + f"<div style='margin-top:6px'>ratio = {r['separable']:,} / {r['normal']:,} = "
            f"<b>{r['ratio']:.3f}</b> = 1/{k} + 1/{f}&sup2; = {1 / k + 1 / f ** 2:.3f} "
            f"(<b>{1 / r['ratio']:.1f}&times;</b> fewer)</div>")
        fig = new_figure(4.4, 2.6, dpi=80)
        ax = fig.subplots()
        vals = [r["normal"], r["depthwise"], r["pointwise"]]
        ax.barh([0], [vals[0]], color="#e53935")
        ax.barh([1], [vals[1]], color="#1976d2", label="depthwise")
        ax.barh([1], [vals[2]], left=[vals[1]], color="#90caf9", label="pointwise")
        ax.set_yticks([0, 1], ["normal", "depthwise\n+ pointwise"])
        ax.set_xlabel("multiplications")
        ax.set_xlim(0, vals[0] * 1.25)
        ax.text(vals[0], 0, f" {_fmt(vals[0])}", va="center", fontsize=9)
        ax.text(vals[1] + vals[2], 1, f" {_fmt(vals[1] + vals[2])}", va="center", fontsize=9)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
        self.image.value = figure_to_png(fig)


class BottleneckExplorer(widgets.VBox):
    """MobileNetV2's bottleneck block: expansion factor, channels, size and stride sliders; the
    table gives each step's shape, weights and multiplications, compared with one normal f x f conv."""

    def __init__(self, n=56, n_c=24, n_c_out=24, expansion=6, f=3, stride=1):
        self.n = slider("input n", n, 4, 112)
        self.n_c = slider("channels in", n_c, 8, 320, step=8)
        self.n_c_out = slider("channels out", n_c_out, 8, 320, step=8)
        self.expansion = slider("expansion t", expansion, 1, 8)
        self.f = slider("depthwise f", f, 3, 7, step=2)
        self.stride = slider("stride", stride, 1, 2)
        self.info = widgets.HTML()
        self.image = figure_image()
        for c in (self.n, self.n_c, self.n_c_out, self.expansion, self.f, self.stride):
            c.observe(self._update, names="value")
        super().__init__([row([widgets.VBox([self.n, self.n_c, self.n_c_out]),
                               widgets.VBox([self.expansion, self.f, self.stride])]),
                          row([self.image, self.info])])
        self._update()

    def _update(self, _=None):
        n, c, k, t, f, s = (w.value for w in (self.n, self.n_c, self.n_c_out, self.expansion, self.f, self.stride))
        rows = bottleneck_cost(n, c, k, t, f, s)
        normal = separable_cost(n, f, c, k, s, padding="same")
        wide = separable_cost(n, f, t * c, t * c, s, padding="same")
        residual = s == 1 and c == k
        self.info.value = (
            table_html(rows)
            + f"<div style='margin-top:6px'>one normal {f}x{f} conv {c} &rarr; {k}: "
            f"{normal['normal_weights']:,} weights, {normal['normal']:,} multiplications</div>"
            f"<div>one normal {f}x{f} conv at the expanded width {t * c} &rarr; {t * c}: "
            f"{wide['normal_weights']:,} weights, {wide['normal']:,} multiplications</div>"
            + f"<div>residual connection: <b>{'yes' if residual else 'no'}</b> "
            f"({'stride 1 and same channels' if residual else 'needs stride 1 and channels in = out'})</div>")
        fig = new_figure(4.4, 2.6, dpi=80)
        ax = fig.subplots()
        steps = rows[:-1]
        left = 0
        colours = ["#7e57c2", "#1976d2", "#26a69a"][-len(steps):]
        for r, col in zip(steps, colours):
            ax.barh([1], [r["multiplications"]], left=[left], color=col, label=r["step"].split(",")[0])
            left += r["multiplications"]
        ax.barh([0], [normal["normal"]], color="#e53935")
        ax.set_yticks([0, 1], [f"normal {f}x{f}", "bottleneck"])
        ax.set_xlabel("multiplications")
        ax.set_xlim(0, max(left, normal["normal"]) * 1.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
        self.image.value = figure_to_png(fig)


class CompoundScalingExplorer(widgets.VBox):
    """EfficientNet's compound scaling: the phi slider scales depth (alpha^phi), width (beta^phi)
    and resolution (gamma^phi) of the Lite0 layout together; the picture shows the scaled stages and
    the cost growing like 2^phi, the table the scaled network's weights and multiplications."""

    MODES = ("compound", "depth only", "width only", "resolution only")

    def __init__(self, phi=1.0, mode="compound"):
        self.phi = widgets.FloatSlider(value=phi, min=0.0, max=4.0, step=0.5, description="phi",
                                       continuous_update=False, style={"description_width": "100px"})
        self.mode = widgets.Dropdown(options=self.MODES, value=mode, description="scale")
        self.info = widgets.HTML()
        self.image = figure_image()
        self.base = lite_network_cost()
        self.phi.observe(self._update, names="value")
        self.mode.observe(self._update, names="value")
        super().__init__([row([self.phi, self.mode]), self.image, self.info])
        self._update()

    def scaled(self) -> tuple[dict, dict]:
        """(factors, cost) for the current phi and mode; "X only" puts the whole 2^phi budget on X."""
        phi, mode = self.phi.value, self.mode.value
        fac = compound_factors(phi)
        d, w, r = fac["depth"], fac["width"], fac["resolution"]
        if mode == "depth only":
            d, w, r = 2.0 ** phi, 1.0, 1.0
        elif mode == "width only":
            d, w, r = 1.0, 2.0 ** (phi / 2), 1.0
        elif mode == "resolution only":
            d, w, r = 1.0, 1.0, 2.0 ** (phi / 2)
        res = int(round(224 * r / 8)) * 8
        return {"depth": d, "width": w, "resolution": r}, lite_network_cost(d, w, res)

    def _update(self, _=None):
        fac, cost = self.scaled()
        base = self.base
        formula = compound_factors(self.phi.value)
        self.info.value = (
            f"<div>d = {fac['depth']:.2f}, w = {fac['width']:.2f}, r = {fac['resolution']:.2f} "
            f"&rarr; input {cost['resolution']}x{cost['resolution']}, stage repeats "
            f"{[s[0] for s in cost['stages']]}, channels {[s[1] for s in cost['stages']]}</div>"
            + table_html([
                {"": "Lite0 (phi = 0)", "weights": base["weights"], "multiplications": base["multiplications"]},
                {"": "scaled", "weights": cost["weights"], "multiplications": cost["multiplications"]},
                {"": "scaled / Lite0", "weights": cost["weights"] / base["weights"],
                 "multiplications": cost["multiplications"] / base["multiplications"]},
            ]).replace(">1.0<", ">1.00<")
            + f"<div>formula: (&alpha;&beta;&sup2;&gamma;&sup2;)<sup>&phi;</sup> = "
            f"{ALPHA * BETA ** 2 * GAMMA ** 2:.3f}<sup>{self.phi.value:g}</sup> = {formula['cost']:.2f} "
            f"&asymp; 2<sup>&phi;</sup> = {formula['two_to_phi']:.2f}</div>")
        fig = new_figure(9.5, 3.0, dpi=80)
        ax0, ax1 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.6, 1]})
        x = 0.0
        for reps, ch in cost["stages"]:
            for _ in range(reps):
                ax0.add_patch(_rect(x, ch / 320, "#1976d2"))
                x += 1
        side = cost["resolution"] / 224
        ax0.add_patch(_rect(-1.6 * side - 0.5, side, "#ffb74d", width=1.6 * side))
        ax0.set_xlim(-1.6 * 2.1 - 0.8, max(x, 16) * 1.05 + 1)
        ax0.set_ylim(-1.4, 1.4)
        ax0.set_yticks([])
        ax0.set_xticks([])
        ax0.set_title(f"input {cost['resolution']} px (orange), {x:.0f} blocks, bar height = channels")
        phis = np.linspace(0, 4, 41)
        ax1.plot(phis, [compound_factors(p)["cost"] for p in phis], label="(αβ²γ²)^φ")
        ax1.plot(phis, 2 ** phis, "--", label="2^φ")
        ax1.plot([self.phi.value], [cost["multiplications"] / base["multiplications"]], "o", color="#e53935",
                 label="counted")
        ax1.set_xlabel("φ")
        ax1.set_ylabel("multiplications / Lite0")
        ax1.legend(fontsize=8)
        self.image.value = figure_to_png(fig)


def _rect(x, h, colour, width=0.8):
    from matplotlib.patches import Rectangle

    return Rectangle((x, -h), width, 2 * h, color=colour)
