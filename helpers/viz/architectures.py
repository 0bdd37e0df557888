"""Week 2 (part A) lectures: classic architectures, residual blocks, 1x1 convolutions and Inception.

Pure functions carry the counting and the maths and are what the unit tests check:

- the networks themselves, as real Keras models: :func:`lenet5`, :func:`alexnet`, :func:`googlenet`
  (with its two side branches) built here, VGG-16 and ResNet-50 from ``keras.applications`` with
  ``weights=None``; :func:`build_network` builds any of them by name under
  :func:`counting_initialisers` (layers get zeros instead of random numbers: drawing VGG-16's 138
  million random weights would take seconds, and a layer table only needs the shapes);
- :func:`layer_rows` reads a model into a table (output shape, parameters, multiply-adds per layer);
  :func:`network_rows` caches that table per network name;
- residual blocks: :func:`block_stack_outputs` (a photo through plain and residual blocks whose
  weights are scaled towards zero), :func:`residual_block` (identity or projection shortcut);
- costs: :func:`conv_multiplications`, :func:`bottleneck_cost` (Inception's 1x1 bottleneck).

The widget classes (``ArchitectureExplorer``, ``ResidualExplorer``, ``BottleneckExplorer``) are thin
wiring; their controls are attributes, so a test sets ``.value`` and reads the picture.
"""

from __future__ import annotations

import contextlib
import html
from functools import cache

import ipywidgets as widgets
import numpy as np

from helpers.conv import check_int
from helpers.viz.render import figure_image, figure_to_png, new_figure, row, slider, table_html

#: The networks the explorer knows, in historical order.
NETWORKS = ("LeNet-5", "AlexNet", "VGG-16", "GoogLeNet", "ResNet-50")

#: GoogLeNet's nine Inception modules (Szegedy et al. 2014, table 1): name -> (#1x1, #3x3 reduce,
#: #3x3, #5x5 reduce, #5x5, pool proj).
GOOGLENET_MODULES = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}


def _keras():
    from helpers.backend import keras

    return keras


# ----------------------------------------------------------------------------------------------
# Building the networks
# ----------------------------------------------------------------------------------------------

@contextlib.contextmanager
def counting_initialisers():
    """Inside this block, Keras' random initialisers (Glorot, He, LeCun: all ``VarianceScaling``)
    return zeros. Shapes and parameter counts are unchanged; building VGG-16 takes about a second
    instead of several (most of the time goes into drawing 138 million random numbers). Use it only
    for models that are counted, never for models that are trained."""
    keras = _keras()
    cls = keras.initializers.VarianceScaling
    original = cls.__call__

    def zeros(self, shape, dtype=None):
        return keras.ops.zeros(shape, dtype=dtype)

    cls.__call__ = zeros
    try:
        yield
    finally:
        cls.__call__ = original


def lenet5(input_shape=(32, 32, 1), classes=10):
    """LeNet-5 (LeCun et al. 1998) as a Keras Sequential model, input (32, 32, 1) by default.

    CONV 5x5 6 (tanh) -> AVG POOL 2/2 -> CONV 5x5 16 (tanh) -> AVG POOL 2/2 -> FC 120 -> FC 84 ->
    softmax ``classes``. Simplified as in most modern retellings: every C3 filter sees all six maps
    (the original connected each to a subset) and the output is a softmax (the original used
    Gaussian/RBF units). 61,706 parameters for the default shapes.
    """
    keras = _keras()
    L = keras.layers
    return keras.Sequential([
        keras.Input(tuple(input_shape)),
        L.Conv2D(6, 5, activation="tanh", name="C1_conv5x5"),
        L.AveragePooling2D(2, name="S2_avgpool"),
        L.Conv2D(16, 5, activation="tanh", name="C3_conv5x5"),
        L.AveragePooling2D(2, name="S4_avgpool"),
        L.Flatten(name="flatten"),
        L.Dense(120, activation="tanh", name="C5_fc120"),
        L.Dense(84, activation="tanh", name="F6_fc84"),
        L.Dense(classes, activation="softmax", name="output_softmax"),
    ], name="LeNet-5")


def alexnet(input_shape=(227, 227, 3), classes=1000):
    """AlexNet (Krizhevsky, Sutskever and Hinton 2012) as one Keras model, input (227, 227, 3).

    CONV 11x11/4 96 -> MAX POOL 3/2 -> CONV 5x5 same 256 -> MAX POOL 3/2 -> CONV 3x3 same 384 ->
    384 -> 256 -> MAX POOL 3/2 -> FC 4096 -> FC 4096 -> softmax ``classes``, ReLU everywhere.
    One tower: the original split most layers over two GPUs (so its layers 2, 4 and 5 saw only half
    the channels) and had local response normalisation; neither is here.
    """
    keras = _keras()
    L = keras.layers
    return keras.Sequential([
        keras.Input(tuple(input_shape)),
        L.Conv2D(96, 11, strides=4, activation="relu", name="conv1_11x11_s4"),
        L.MaxPooling2D(3, strides=2, name="pool1_3x3_s2"),
        L.Conv2D(256, 5, padding="same", activation="relu", name="conv2_5x5"),
        L.MaxPooling2D(3, strides=2, name="pool2_3x3_s2"),
        L.Conv2D(384, 3, padding="same", activation="relu", name="conv3_3x3"),
        L.Conv2D(384, 3, padding="same", activation="relu", name="conv4_3x3"),
        L.Conv2D(256, 3, padding="same", activation="relu", name="conv5_3x3"),
        L.MaxPooling2D(3, strides=2, name="pool5_3x3_s2"),
        L.Flatten(name="flatten"),
        L.Dense(4096, activation="relu", name="fc6"),
        L.Dropout(0.5, name="dropout6"),
        L.Dense(4096, activation="relu", name="fc7"),
        L.Dropout(0.5, name="dropout7"),
        L.Dense(classes, activation="softmax", name="fc8_softmax"),
    ], name="AlexNet")


def inception_module(x, filters, name):
    """One Inception module (Keras functional): four branches concatenated along the channels.

    x: a Keras tensor (batch, H, W, C); filters: (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5,
    pool proj) as in :data:`GOOGLENET_MODULES`. Output (batch, H, W, #1x1 + #3x3 + #5x5 + pool proj).
    """
    if len(filters) != 6:
        raise ValueError(f"inception_module: filters needs 6 numbers, got {filters!r}")
    L = _keras().layers
    f1, f3r, f3, f5r, f5, fp = (check_int("filters", f, 1) for f in filters)
    b1 = L.Conv2D(f1, 1, activation="relu", name=f"{name}_1x1")(x)
    b3 = L.Conv2D(f3r, 1, activation="relu", name=f"{name}_3x3_reduce")(x)
    b3 = L.Conv2D(f3, 3, padding="same", activation="relu", name=f"{name}_3x3")(b3)
    b5 = L.Conv2D(f5r, 1, activation="relu", name=f"{name}_5x5_reduce")(x)
    b5 = L.Conv2D(f5, 5, padding="same", activation="relu", name=f"{name}_5x5")(b5)
    bp = L.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    bp = L.Conv2D(fp, 1, activation="relu", name=f"{name}_pool_proj")(bp)
    return L.Concatenate(name=f"{name}_concat")([b1, b3, b5, bp])


def auxiliary_classifier(x, classes, name):
    """GoogLeNet's side branch: AVG POOL 5x5/3 -> CONV 1x1 128 -> FC 1024 -> dropout 0.7 -> softmax.

    x: a Keras tensor (batch, 14, 14, C) in GoogLeNet (after modules 4a and 4d). Returns the
    (batch, classes) probabilities of the branch.
    """
    L = _keras().layers
    y = L.AveragePooling2D(5, strides=3, name=f"{name}_avgpool_5x5_s3")(x)
    y = L.Conv2D(128, 1, activation="relu", name=f"{name}_conv1x1")(y)
    y = L.Flatten(name=f"{name}_flatten")(y)
    y = L.Dense(1024, activation="relu", name=f"{name}_fc1024")(y)
    y = L.Dropout(0.7, name=f"{name}_dropout")(y)
    return L.Dense(classes, activation="softmax", name=f"{name}_softmax")(y)


def googlenet(input_shape=(224, 224, 3), classes=1000, side_branches=True):
    """GoogLeNet / Inception-v1 (Szegedy et al. 2014) as a Keras functional model.

    Stem (CONV 7x7/2 64, MAX POOL 3/2, CONV 1x1 64, CONV 3x3 192, MAX POOL 3/2), Inception modules
    3a-3b, MAX POOL, 4a-4e, MAX POOL, 5a-5b, global average pool, dropout 0.4, softmax. With
    ``side_branches`` the model has three outputs: the main softmax and the auxiliary classifiers
    after 4a and 4d (used for training only). Local response normalisation is left out.
    """
    keras = _keras()
    L = keras.layers
    inputs = keras.Input(tuple(input_shape))
    x = L.Conv2D(64, 7, strides=2, padding="same", activation="relu", name="stem_conv7x7_s2")(inputs)
    x = L.MaxPooling2D(3, strides=2, padding="same", name="stem_pool1")(x)
    x = L.Conv2D(64, 1, activation="relu", name="stem_conv1x1")(x)
    x = L.Conv2D(192, 3, padding="same", activation="relu", name="stem_conv3x3")(x)
    x = L.MaxPooling2D(3, strides=2, padding="same", name="stem_pool2")(x)
    aux = []
    for name, filters in GOOGLENET_MODULES.items():
        if name in ("4a", "5a"):
            x = L.MaxPooling2D(3, strides=2, padding="same", name=f"pool_before_{name}")(x)
        x = inception_module(x, filters, name)
        if side_branches and name in ("4a", "4d"):
            aux.append(auxiliary_classifier(x, classes, f"side{len(aux) + 1}"))
    x = L.GlobalAveragePooling2D(name="avgpool")(x)
    x = L.Dropout(0.4, name="dropout")(x)
    main = L.Dense(classes, activation="softmax", name="main_softmax")(x)
    return keras.Model(inputs, [main, *aux] if aux else main, name="GoogLeNet")


def build_network(name: str):
    """The Keras model of one of :data:`NETWORKS`, built with :func:`counting_initialisers`
    (VGG-16 and ResNet-50 are ``keras.applications`` models with ``weights=None``)."""
    keras = _keras()
    builders = {
        "LeNet-5": lenet5,
        "AlexNet": alexnet,
        "VGG-16": lambda: keras.applications.VGG16(weights=None),
        "GoogLeNet": googlenet,
        "ResNet-50": lambda: keras.applications.ResNet50(weights=None),
    }
    if name not in builders:
        raise ValueError(f"build_network: unknown network {name!r}; choose one of {', '.join(NETWORKS)}")
    with counting_initialisers():
        return builders[name]()


# ----------------------------------------------------------------------------------------------
# Counting
# ----------------------------------------------------------------------------------------------

def conv_multiplications(h_out: int, w_out: int, c_out: int, f: int, c_in: int) -> int:
    """Multiplications of a convolution: every one of the h_out*w_out*c_out outputs is a sum of
    f*f*c_in products (biases and activations not counted)."""
    return (check_int("h_out", h_out, 1) * check_int("w_out", w_out, 1) * check_int("c_out", c_out, 1)
            * check_int("f", f, 1) ** 2 * check_int("c_in", c_in, 1))


def layer_multiply_adds(layer) -> int:
    """Multiply-adds of one forward pass of one example through ``layer`` (a built Keras layer).

    Conv2D: H_out*W_out*C_out * (kh*kw*C_in/groups); DepthwiseConv2D: H_out*W_out*C_out*kh*kw;
    Dense: inputs*units. Every other layer (pooling, activations, normalisation, additions,
    concatenations) counts 0: they do a few operations per value, not a weighted sum.
    """
    L = _keras().layers
    if isinstance(layer, L.DepthwiseConv2D):
        _, h, w, c = layer.output.shape
        kh, kw = layer.kernel_size
        return int(h * w * c * kh * kw)
    if isinstance(layer, L.Conv2D):
        _, h, w, c = layer.output.shape
        kh, kw = layer.kernel_size
        c_in = layer.input.shape[-1]
        return int(h * w * c * kh * kw * c_in // layer.groups)
    if isinstance(layer, L.Dense):
        return int(layer.input.shape[-1] * layer.units)
    return 0


def _describe(layer) -> str:
    L = _keras().layers
    if isinstance(layer, L.Conv2D):
        kh, kw = layer.kernel_size
        s = layer.strides[0]
        return f"conv {kh}x{kw}" + (f"/{s}" if s > 1 else "") + f", {layer.filters}"
    if isinstance(layer, (L.MaxPooling2D, L.AveragePooling2D)):
        kind = "max" if isinstance(layer, L.MaxPooling2D) else "avg"
        ph, _ = layer.pool_size
        return f"{kind} pool {ph}x{ph}/{layer.strides[0]}"
    if isinstance(layer, L.Dense):
        return f"FC {layer.units}"
    return type(layer).__name__


def layer_rows(model) -> list[dict]:
    """The layer table of a built Keras model, one dict per layer (input layer excluded) with
    keys ``layer`` (name), ``kind`` (e.g. "conv 3x3, 64"), ``output shape`` (without the batch axis;
    a tuple), ``parameters`` and ``multiply-adds`` (see :func:`layer_multiply_adds`)."""
    L = _keras().layers
    rows = []
    for layer in model.layers:
        if isinstance(layer, L.InputLayer):
            continue
        shape = layer.output.shape
        rows.append({"layer": layer.name, "kind": _describe(layer), "output shape": tuple(shape[1:]),
                     "parameters": int(layer.count_params()), "multiply-adds": layer_multiply_adds(layer)})
    return rows


def group_after(rows: list[dict], prefix: str, anchor: str) -> list[dict]:
    """Rows with the layers named ``prefix...`` moved (in their order) right after the layer
    ``anchor``; Keras lists a functional model's layers by depth, which scatters a side branch."""
    group = [r for r in rows if r["layer"].startswith(prefix)]
    rest = [r for r in rows if not r["layer"].startswith(prefix)]
    names = [r["layer"] for r in rest]
    if anchor not in names:
        raise ValueError(f"group_after: no layer named {anchor!r}")
    k = names.index(anchor) + 1
    return rest[:k] + group + rest[k:]


#: Where GoogLeNet's side branches are listed: after the module they hang from.
SIDE_BRANCHES = {"side1": "4a_concat", "side2": "4d_concat"}


@cache
def _cached_rows(name: str) -> tuple:
    model = build_network(name)
    rows = layer_rows(model)
    if name == "GoogLeNet":
        for prefix, anchor in SIDE_BRANCHES.items():
            rows = group_after(rows, prefix, anchor)
    inputs = tuple(model.inputs[0].shape[1:])
    del model
    return inputs, tuple(tuple(r.items()) for r in rows)


def network_rows(name: str) -> tuple[tuple, list[dict]]:
    """(input shape, layer rows) of one of :data:`NETWORKS`, built once per process and cached
    (the model itself is dropped: VGG-16 weighs half a gigabyte)."""
    inputs, rows = _cached_rows(name)
    return inputs, [dict(r) for r in rows]


def totals(rows: list[dict]) -> dict:
    """Sum of ``parameters`` and ``multiply-adds`` over rows, and the number of weight layers
    (convolutions and dense layers: those with multiply-adds; batch normalisation is not counted)."""
    return {"parameters": sum(r["parameters"] for r in rows),
            "multiply-adds": sum(r["multiply-adds"] for r in rows),
            "weight layers": sum(r["multiply-adds"] > 0 for r in rows)}


def _fmt(n: float) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.3g}{unit}"
    return f"{n:g}"


def layers_figure(rows: list[dict], highlight: int | None = None, title: str = ""):
    """Bars of parameters (top) and multiply-adds (bottom) per layer, layer ``highlight`` in red.

    rows: from :func:`layer_rows`; highlight: an index into rows or None. Returns a Figure.
    """
    if highlight is not None and not 0 <= highlight < len(rows):
        raise ValueError(f"layers_figure: highlight must be in [0, {len(rows) - 1}], got {highlight}")
    fig = new_figure(8.4, 3.9, dpi=80)
    axes = fig.subplots(2, 1, sharex=True)
    x = np.arange(len(rows))
    side = np.array([r["layer"].startswith("side") for r in rows])
    for ax, key, colour in zip(axes, ("parameters", "multiply-adds"), ("#1976d2", "#43a047")):
        values = np.array([r[key] for r in rows], dtype=float)
        c = np.where(side, "#fb8c00", colour).astype(object)
        if highlight is not None:
            c[highlight] = "#e53935"
            ax.axvspan(highlight - 0.5, highlight + 0.5, color="#ffcdd2", zorder=0)
        ax.bar(x, values, color=list(c), width=0.85 if len(rows) < 60 else 1.0)
        if side.any() and key == "parameters":
            from matplotlib.patches import Patch

            ax.legend(handles=[Patch(color=colour, label="main network"), Patch(color="#fb8c00", label="side branches")],
                      fontsize=7, loc="upper left")
        total = values.sum()
        ax.set_ylabel(key, fontsize=9)
        ax.set_title(f"{key} per layer (total {_fmt(total)})", fontsize=9, loc="left")
        ax.tick_params(labelsize=8)
        ax.yaxis.get_offset_text().set_fontsize(8)
        if highlight is not None:
            v = values[highlight]
            share = v / total if total else 0
            ax.annotate(f"{_fmt(v)} ({share:.0%})" if share >= 0.1 else f"{_fmt(v)} ({share:.1%})", (highlight, v), xytext=(0, 2),
                        textcoords="offset points", ha="center", fontsize=8, color="#b71c1c")
            ax.set_ylim(0, max(values.max(), 1) * 1.18)
    axes[1].set_xlabel("layer number (input side on the left)", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def rows_window_html(rows: list[dict], index: int, radius: int = 4) -> str:
    """HTML table of rows[index - radius : index + radius + 1], row ``index`` highlighted."""
    lo, hi = max(0, index - radius), min(len(rows), index + radius + 1)
    columns = ["#", "layer", "kind", "output shape", "parameters", "multiply-adds"]
    shown = [dict(r, **{"#": i, "output shape": "x".join(str(d) for d in r["output shape"])})
             for i, r in enumerate(rows[lo:hi], start=lo)]
    table = table_html(shown, columns)
    # highlight the selected row (table_html writes one <tr> per row after the header)
    parts = table.split("<tr>")
    k = 2 + (index - lo)  # parts[0] is the <table ...> prefix, parts[1] the header
    parts[k] = parts[k].replace("<td style='", "<td style='background:#ffcdd2;font-weight:bold;")
    return f"<div style='font-size:85%;overflow-x:auto;max-width:100%'>{'<tr>'.join(parts)}</div>"


def channels_and_size(rows: list[dict]) -> list[tuple[str, int, int]]:
    """(layer, height, channels) of every layer whose output is an image volume (H, W, C)."""
    return [(r["layer"], r["output shape"][0], r["output shape"][2]) for r in rows if len(r["output shape"]) == 3]


def size_and_channels_figure(rows: list[dict], title: str = ""):
    """Height (halving, left axis) and channels (doubling, right axis) of every volume of a
    network, both on log2 axes. Returns a Figure."""
    vols = channels_and_size(rows)
    fig = new_figure(7.6, 2.9, dpi=80)
    ax = fig.subplots()
    ax2 = ax.twinx()
    x = np.arange(len(vols))
    for axis, k, style, colour, label in ((ax, 1, "o-", "#1976d2", "height = width"),
                                          (ax2, 2, "s-", "#e53935", "channels")):
        values = [v[k] for v in vols]
        axis.plot(x, values, style, color=colour, label=label)
        axis.set_yscale("log", base=2)
        ticks = sorted(set(values))
        axis.set_yticks(ticks)
        axis.set_yticklabels([str(t) for t in ticks], fontsize=8, color=colour)
        axis.minorticks_off()
        axis.set_ylabel(label, color=colour, fontsize=9)
    ax.set_xticks(x)
    ax.set_xticklabels([v[0] for v in vols], rotation=60, ha="right", fontsize=7)
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


class ArchitectureExplorer(widgets.VBox):
    """Choose a network; bars of parameters and multiply-adds per layer, and the layer table
    around the layer picked by the ``layer`` slider (highlighted in both)."""

    def __init__(self, network="VGG-16", layer=0):
        if network not in NETWORKS:
            raise ValueError(f"ArchitectureExplorer: unknown network {network!r}; choose one of {NETWORKS}")
        self.network = widgets.Dropdown(options=NETWORKS, value=network, description="network")
        self.layer = slider("layer", 0, 0, 1, continuous=False)  # a figure per step: draw on release
        self.image = figure_image()
        self.info = widgets.HTML()
        self.table = widgets.HTML()
        self.network.observe(self._network_changed, names="value")
        self.layer.observe(self._update, names="value")
        super().__init__([row([self.network, self.layer]), self.info, self.image, self.table])
        self._network_changed(layer=layer)

    def _network_changed(self, _=None, layer=None):
        self.input_shape, self.rows = network_rows(self.network.value)
        self.layer.unobserve(self._update, names="value")
        try:
            self.layer.max = len(self.rows) - 1
            self.layer.value = min(self.layer.value if layer is None else layer, self.layer.max)
        finally:
            self.layer.observe(self._update, names="value")
        self._update()

    def _update(self, _=None):
        i = self.layer.value
        r = self.rows[i]
        t = totals(self.rows)
        shape = "x".join(str(d) for d in self.input_shape)
        self.info.value = (
            f"<b>{html.escape(self.network.value)}</b>: input {shape}, {len(self.rows)} layers "
            f"({t['weight layers']} with weights), {t['parameters']:,} parameters, "
            f"{t['multiply-adds']:,} multiply-adds per image.<br>"
            f"Layer {i} <b>{html.escape(r['layer'])}</b> ({html.escape(r['kind'])}): output "
            f"{'x'.join(str(d) for d in r['output shape'])}, {r['parameters']:,} parameters "
            f"({r['parameters'] / max(t['parameters'], 1):.1%}), {r['multiply-adds']:,} multiply-adds "
            f"({r['multiply-adds'] / max(t['multiply-adds'], 1):.1%}).")
        self.image.value = figure_to_png(layers_figure(self.rows, i, self.network.value))
        self.table.value = rows_window_html(self.rows, i)


# ----------------------------------------------------------------------------------------------
# Residual blocks
# ----------------------------------------------------------------------------------------------

def block_stack_outputs(image, blocks: int, scale: float, seed: int = 0, channels: int = 4) -> dict:
    """A grey image through ``blocks`` plain and ``blocks`` residual blocks with the same weights.

    image: (H, W) array >= 0, copied into ``channels`` identical channels. Each block has two 3x3
    'same' convolutions (channels -> channels, no biases) with weights drawn from
    N(0, 1) * scale * sqrt(2 / (9 * channels)) (He's scale, times ``scale``):
    plain ``a <- relu(W2 * relu(W1 * a))``, residual ``a <- relu(W2 * relu(W1 * a) + a)``.
    With scale 0 the plain stack outputs zeros and the residual stack gives back its input.
    Returns {"plain": (H, W), "residual": (H, W)} (the mean over the channels) and "kernels"
    (blocks, 2, 3, 3, channels, channels).
    """
    from helpers.conv import conv2d

    x = np.asarray(image, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"block_stack_outputs: image must be 2-D (H, W), got shape {x.shape}")
    blocks = check_int("blocks", blocks, 1)
    channels = check_int("channels", channels, 1)
    if not scale >= 0:
        raise ValueError(f"block_stack_outputs: scale must be >= 0, got {scale}")
    rng = np.random.default_rng(seed)
    kernels = rng.standard_normal((blocks, 2, 3, 3, channels, channels)) * scale * np.sqrt(2 / (9 * channels))
    a = np.repeat(x[None, :, :, None], channels, axis=-1)
    plain, residual = a, a
    for k1, k2 in kernels:
        plain = np.maximum(conv2d(np.maximum(conv2d(plain, k1, pad=1), 0), k2, pad=1), 0)
        branch = conv2d(np.maximum(conv2d(residual, k1, pad=1), 0), k2, pad=1)
        residual = np.maximum(branch + residual, 0)
    return {"plain": plain[0].mean(-1), "residual": residual[0].mean(-1), "kernels": kernels}


def relative_change(output, image) -> float:
    """mean |output - image| / mean |image|: 0 means the stack computed the identity."""
    image = np.asarray(image, dtype=float)
    return float(np.abs(np.asarray(output) - image).mean() / max(np.abs(image).mean(), 1e-12))


def residual_figure(image, outputs: dict, blocks: int, scale: float):
    """Input, plain output and residual output side by side (each on its own grey scale: the
    plain one may shrink towards 0 or blow up), plus output-vs-input pixel scatter plots."""
    fig = new_figure(8.2, 2.5, dpi=80)
    axes = fig.subplots(1, 4)
    panels = [("input", image), (f"plain, {blocks} blocks", outputs["plain"]),
              (f"residual, {blocks} blocks", outputs["residual"])]
    for ax, (title, img) in zip(axes, panels):
        hi = float(img.max())
        ax.imshow(img, cmap="gray", vmin=0, vmax=hi if hi > 0 else 1)
        ax.set_title(f"{title}\nmax {hi:.2g}", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    ax = axes[3]
    step = max(1, image.size // 600)
    flat = image.ravel()[::step]
    ax.scatter(flat, outputs["plain"].ravel()[::step], s=4, color="#e53935", label="plain")
    ax.scatter(flat, outputs["residual"].ravel()[::step], s=4, color="#1976d2", label="residual")
    ax.plot([0, 1], [0, 1], "k--", lw=0.8, label="identity")
    ax.set_xlabel("input pixel", fontsize=8)
    ax.set_ylabel("output pixel", fontsize=8)
    top = max(1.2, 1.05 * float(np.percentile(np.concatenate([outputs["plain"].ravel(), outputs["residual"].ravel()]), 99)))
    ax.set_ylim(-0.05 * top, top)
    ax.set_title("output vs input", fontsize=9)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, loc="upper left")
    fig.suptitle(f"weights scaled by {scale:g}", fontsize=9)
    fig.tight_layout()
    return fig


class ResidualExplorer(widgets.VBox):
    """A photo through a stack of plain blocks and the same stack with skip connections: the
    ``scale`` slider shrinks or grows every weight, the ``blocks`` slider sets the depth."""

    def __init__(self, photo="camera", size=64, blocks=10, scale=0.2, seed=0):
        from helpers.viz.photos import load_photo

        self.photo = load_photo(photo, size)
        self.seed = seed
        self.scale = widgets.FloatSlider(value=scale, min=0.0, max=1.5, step=0.05, description="weight scale",
                                         continuous_update=False, style={"description_width": "100px"})
        self.blocks = slider("blocks", blocks, 1, 30, continuous=False)
        self.image = figure_image()
        self.info = widgets.HTML()
        for c in (self.scale, self.blocks):
            c.observe(self._update, names="value")
        super().__init__([row([self.scale, self.blocks]), self.image, self.info])
        self._update()

    def _update(self, _=None):
        out = block_stack_outputs(self.photo, self.blocks.value, self.scale.value, self.seed)
        self.outputs = out
        self.image.value = figure_to_png(residual_figure(self.photo, out, self.blocks.value, self.scale.value))
        self.info.value = (
            f"change from the input (mean |out &minus; in| / mean |in|): plain "
            f"<b>{relative_change(out['plain'], self.photo):.1%}</b>, residual "
            f"<b>{relative_change(out['residual'], self.photo):.1%}</b>")


def residual_block(input_shape, filters: int, stride: int = 1, name: str = "block"):
    """A Keras residual block: CONV 3x3/stride -> ReLU -> CONV 3x3, plus the shortcut, then ReLU.

    The shortcut is the identity when the output has the input's shape (stride 1, same channels);
    otherwise a projection ``W_s``: a 1x1 convolution with the block's stride and ``filters``
    channels (no bias), so that ``a[l+2] = g(z[l+2] + W_s a[l])`` adds two tensors of one shape.
    input_shape: (H, W, C). Returns a keras.Model; the projection layer is named "<name>_Ws".
    """
    keras = _keras()
    L = keras.layers
    filters = check_int("filters", filters, 1)
    stride = check_int("stride", stride, 1)
    x = keras.Input(tuple(input_shape))
    z = L.Conv2D(filters, 3, strides=stride, padding="same", activation="relu", name=f"{name}_conv1")(x)
    z = L.Conv2D(filters, 3, padding="same", name=f"{name}_conv2")(z)
    shortcut = x
    if stride != 1 or input_shape[-1] != filters:
        shortcut = L.Conv2D(filters, 1, strides=stride, use_bias=False, name=f"{name}_Ws")(x)
    y = L.Activation("relu", name=f"{name}_relu")(L.Add(name=f"{name}_add")([z, shortcut]))
    return keras.Model(x, y, name=name)


# ----------------------------------------------------------------------------------------------
# 1x1 convolutions and the Inception bottleneck
# ----------------------------------------------------------------------------------------------

def conv1x1(volume, weights, bias=None):
    """A 1x1 convolution in numpy: every pixel's channel vector times a matrix.

    volume: (H, W, C_in); weights: (C_in, C_out); bias: (C_out,) or None. Returns (H, W, C_out).
    """
    v = np.asarray(volume, dtype=float)
    w = np.asarray(weights, dtype=float)
    if v.ndim != 3 or w.ndim != 2 or v.shape[-1] != w.shape[0]:
        raise ValueError(f"conv1x1: need volume (H, W, C_in) and weights (C_in, C_out), got "
                         f"{v.shape} and {w.shape}")
    out = v @ w
    return out if bias is None else out + np.asarray(bias, dtype=float)


def bottleneck_cost(h: int = 28, w: int = 28, c_in: int = 192, c_out: int = 32, f: int = 5,
                    bottleneck: int | None = 16) -> dict:
    """Multiplications and parameters of an f x f 'same' convolution from (h, w, c_in) to
    (h, w, c_out), directly and through a 1x1 bottleneck of ``bottleneck`` channels.

    Returns {"direct", "reduce" (1x1: h*w*bottleneck*c_in), "expand" (f x f: h*w*c_out*f*f*bottleneck),
    "with_bottleneck" (reduce + expand), "ratio" (direct / with_bottleneck),
    "direct_params", "bottleneck_params"} (biases included in the parameters, not in the products).
    With bottleneck None only the direct numbers are filled (the others are None).
    """
    direct = conv_multiplications(h, w, c_out, f, c_in)
    result = {"direct": direct, "direct_params": (f * f * c_in + 1) * c_out, "reduce": None, "expand": None,
              "with_bottleneck": None, "ratio": None, "bottleneck_params": None}
    if bottleneck is not None:
        b = check_int("bottleneck", bottleneck, 1)
        reduce = conv_multiplications(h, w, b, 1, c_in)
        expand = conv_multiplications(h, w, c_out, f, b)
        result.update(reduce=reduce, expand=expand, with_bottleneck=reduce + expand,
                      ratio=direct / (reduce + expand),
                      bottleneck_params=(c_in + 1) * b + (f * f * b + 1) * c_out)
    return result


def bottleneck_figure(cost: dict, bottleneck: int, f: int, c_in: int, h: int = 28, c_out: int = 32):
    """Left: bars of the multiplications (direct vs 1x1 + f x f stacked). Right: the bottleneck's
    total cost against its width, the direct cost as a line, the current width marked."""
    fig = new_figure(9.0, 3.0, dpi=80)
    ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.6]})
    m = 1e6
    ax.bar([0], [cost["direct"] / m], color="#e53935", width=0.6)
    ax.bar([1], [cost["reduce"] / m], color="#fbc02d", width=0.6, label="1x1 reduce")
    ax.bar([1], [cost["expand"] / m], bottom=[cost["reduce"] / m], color="#1976d2", width=0.6,
           label=f"{f}x{f} on {bottleneck} channels")
    ax.set_xticks([0, 1])
    ax.set_xticklabels([f"direct {f}x{f}", f"bottleneck {bottleneck}"], fontsize=8)
    for x, v in ((0, cost["direct"]), (1, cost["with_bottleneck"])):
        ax.text(x, v / m, f"{v / m:.1f}M", ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("million multiplications", fontsize=8)
    ax.set_ylim(0, max(cost["direct"], cost["with_bottleneck"]) / m * 1.2)
    ax.legend(fontsize=7, loc="upper right")
    ax.tick_params(labelsize=7)
    widths = np.arange(1, c_in + 1)
    totals_ = [bottleneck_cost(h, h, c_in, c_out, f, int(b))["with_bottleneck"] / m for b in widths]
    ax2.plot(widths, totals_, color="#1976d2", label="1x1 + fxf")
    ax2.axhline(cost["direct"] / m, color="#e53935", ls="--", label="direct")
    ax2.plot([bottleneck], [cost["with_bottleneck"] / m], "o", color="#1976d2")
    ax2.set_xlabel("bottleneck channels", fontsize=8)
    ax2.set_ylabel("million multiplications", fontsize=8)
    ax2.set_title(f"direct / bottleneck = {cost['ratio']:.1f}x", fontsize=9)
    ax2.legend(fontsize=7)
    ax2.tick_params(labelsize=7)
    fig.tight_layout()
    return fig


class BottleneckExplorer(widgets.VBox):
    """Inception's cost example: (h, w, c_in) -> f x f 'same' conv with c_out filters, directly or
    through a 1x1 convolution down to ``bottleneck`` channels. Sliders: bottleneck width, filter size."""

    def __init__(self, bottleneck=16, f=5, h=28, c_in=192, c_out=32):
        self.h, self.c_in, self.c_out = h, c_in, c_out
        self.bottleneck = slider("bottleneck", bottleneck, 1, c_in, continuous=False)
        self.f = widgets.SelectionSlider(options=[1, 3, 5, 7], value=f, description="filter f",
                                         continuous_update=False, style={"description_width": "100px"})
        self.image = figure_image()
        self.info = widgets.HTML()
        for c in (self.bottleneck, self.f):
            c.observe(self._update, names="value")
        super().__init__([row([self.bottleneck, self.f]), self.info, self.image])
        self._update()

    def _update(self, _=None):
        b, f, h, c, k = self.bottleneck.value, self.f.value, self.h, self.c_in, self.c_out
        cost = bottleneck_cost(h, h, c, k, f, b)
        self.cost = cost
        self.info.value = (
            f"<div>input {h}x{h}x{c} &rarr; output {h}x{h}x{k}</div>"
            f"<div>direct {f}x{f}: {h}&middot;{h}&middot;{k} outputs &times; {f}&middot;{f}&middot;{c} "
            f"= <b>{cost['direct']:,}</b> multiplications, {cost['direct_params']:,} parameters</div>"
            f"<div>1x1 to {b} channels: {h}&middot;{h}&middot;{b} &times; {c} = {cost['reduce']:,}; then "
            f"{f}x{f}: {h}&middot;{h}&middot;{k} &times; {f}&middot;{f}&middot;{b} = {cost['expand']:,}; "
            f"total <b>{cost['with_bottleneck']:,}</b>, {cost['bottleneck_params']:,} parameters</div>"
            f"<div>the bottleneck needs <b>{cost['ratio']:.1f}&times;</b> fewer multiplications</div>")
        self.image.value = figure_to_png(bottleneck_figure(cost, b, f, c, h, k))


def googlenet_diagram():
    """A schematic of GoogLeNet: the main path of stages left to right and the two side branches
    (auxiliary classifiers) hanging below modules 4a and 4d. Returns a Figure."""
    fig = new_figure(10.0, 2.9, dpi=80)
    ax = fig.subplots()
    stages = ["stem", "3a", "3b", "pool", "4a", "4b", "4c", "4d", "4e", "pool", "5a", "5b", "avg\npool",
              "FC\nsoftmax"]
    for i, s in enumerate(stages):
        colour = "#bbdefb" if len(s) == 2 else "#eeeeee"
        ax.add_patch(_box(i, 2, colour))
        ax.text(i + 0.4, 2.4, s, ha="center", va="center", fontsize=8)
        if i:
            ax.annotate("", (i, 2.4), (i - 0.2, 2.4), arrowprops={"arrowstyle": "->", "lw": 0.8})
    ax.text(len(stages) - 0.5, 2.95, "main loss", ha="center", fontsize=8)
    branch = ["avg pool\n5x5/3", "conv 1x1\n128", "FC\n1024", "FC\nsoftmax"]
    for k, (stage, label) in enumerate(((4, "side branch 1: loss x 0.3"), (7, "side branch 2: loss x 0.3"))):
        x0 = (2.3, 7.0)[k]
        ax.annotate("", (x0 + 0.45, 1.3), (stage + 0.4, 2.0),
                    arrowprops={"arrowstyle": "->", "lw": 0.8, "color": "#e65100"})
        for j, b in enumerate(branch):
            ax.add_patch(_box(x0 + j * 1.05, 0.5, "#ffe0b2", width=0.95))
            ax.text(x0 + j * 1.05 + 0.47, 0.9, b, ha="center", va="center", fontsize=7)
        ax.text(x0 + 2.05, 0.3, label, ha="center", va="center", fontsize=8, color="#e65100")
    ax.set_xlim(-0.2, len(stages) + 0.3)
    ax.set_ylim(0.1, 3.2)
    ax.axis("off")
    return fig


def _box(x, y, colour, width=0.8, height=0.8):
    from matplotlib.patches import FancyBboxPatch

    return FancyBboxPatch((x, y), width, height, boxstyle="round,pad=0.02", facecolor=colour,
                          edgecolor="#546e7a", lw=0.8)


__all__ = [
    "NETWORKS", "GOOGLENET_MODULES", "counting_initialisers", "lenet5", "alexnet", "inception_module",
    "auxiliary_classifier", "googlenet", "build_network", "conv_multiplications", "layer_multiply_adds",
    "layer_rows", "group_after", "SIDE_BRANCHES", "network_rows", "totals", "layers_figure", "rows_window_html", "channels_and_size",
    "size_and_channels_figure", "ArchitectureExplorer", "block_stack_outputs", "relative_change",
    "residual_figure", "ResidualExplorer", "residual_block", "conv1x1", "bottleneck_cost",
    "bottleneck_figure", "BottleneckExplorer", "googlenet_diagram",
]
