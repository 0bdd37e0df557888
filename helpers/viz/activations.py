"""What a trained Keras ConvNet sees: activations per layer, first-layer filters, Grad-CAM, and the
:class:`ActivationVisualiser` widget that shows them (TensorFlow imported lazily, through
:mod:`helpers.backend`). Reused by the lectures of weeks 1 and 4.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np

from helpers.viz.photos import image_from_bytes
from helpers.viz.render import figure_image as _figure_image
from helpers.viz.render import figure_to_png, new_figure
from helpers.viz.render import row as _row
from helpers.viz.render import slider as _slider


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


