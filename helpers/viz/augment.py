"""Week 2, practical advice: data augmentation (Keras' random layers plus colour shifts and AlexNet's
PCA colour augmentation in numpy), multi-crop at test time, and the measured transfer-learning and
ensembling numbers of lectures 5 and 6 (``week2_practice.json``, written by
``scripts/measure_week2_practice.py``).

Images are (H, W, 3) floats in [0, 1] unless stated. Pure functions carry the maths and are
unit-tested; ``AugmentationPlayground``, ``FreezeVsDataExplorer`` and ``MultiCropExplorer`` are thin
``ipywidgets.VBox`` wiring whose controls are attributes.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import ipywidgets as widgets
import numpy as np

from helpers.conv import check_int
from helpers.viz.render import figure_image, figure_to_png, new_figure, row, slider, table_html

MEASUREMENTS_PATH = Path(__file__).resolve().parent / "week2_practice.json"
#: Photos that installed packages ship, with the ImageNet classes that count as right for them.
LABELLED_PHOTOS = {
    "chelsea (cat)": ("skimage", "chelsea", {281, 282, 285}),      # tabby, tiger cat, Egyptian cat
    "coffee": ("skimage", "coffee", {967, 968, 504}),               # espresso, cup, coffee mug
    "camera (tripod)": ("skimage", "camera", {872}),                # tripod
    "motorcycle": ("skimage", "stereo_motorcycle", {665, 670}),     # moped, motor scooter
    "Grace Hopper (uniform)": ("matplotlib", "grace_hopper", {652}),  # military uniform
    "flower (daisy)": ("sklearn", "flower", {985}),                 # daisy
}


def _check_image(image) -> np.ndarray:
    image = np.asarray(image, dtype=float)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"expected an RGB image of shape (H, W, 3), got {image.shape}")
    return image


def pca_colour_basis(image) -> tuple[np.ndarray, np.ndarray]:
    """Principal components of the photo's RGB values (AlexNet's PCA colour augmentation).

    image: (H, W, 3). Returns (eigenvalues (3,), descending; eigenvectors (3, 3), one per COLUMN)
    of the 3x3 covariance matrix of all pixels' (r, g, b).
    """
    pixels = _check_image(image).reshape(-1, 3)
    cov = np.cov(pixels, rowvar=False)
    values, vectors = np.linalg.eigh(cov)
    order = np.argsort(values)[::-1]
    return np.clip(values[order], 0, None), vectors[:, order]


def pca_colour_shift(image, alphas, basis=None) -> np.ndarray:
    """Add sum_i alphas[i] * sigma_i * p_i to every pixel (p_i: principal colour directions, sigma_i:
    their standard deviations sqrt(lambda_i)), then clip to [0, 1]. alphas: (3,), AlexNet draws them
    from N(0, 0.1^2) for each image. Returns (image shifted (H, W, 3), the shift (3,))."""
    image = _check_image(image)
    alphas = np.asarray(alphas, dtype=float)
    if alphas.shape != (3,):
        raise ValueError(f"pca_colour_shift: alphas must have shape (3,), got {alphas.shape}")
    values, vectors = basis if basis is not None else pca_colour_basis(image)
    shift = vectors @ (alphas * np.sqrt(values))
    return np.clip(image + shift, 0, 1), shift


def colour_shift(image, offsets) -> np.ndarray:
    """Add offsets (3,) to the R, G and B channels and clip to [0, 1] (plain colour shifting)."""
    image = _check_image(image)
    offsets = np.asarray(offsets, dtype=float)
    if offsets.shape != (3,):
        raise ValueError(f"colour_shift: offsets must have shape (3,), got {offsets.shape}")
    return np.clip(image + offsets, 0, 1)


def ten_crops(image, crop: int) -> np.ndarray:
    """The 10 test-time crops of AlexNet: 4 corners and the centre, each also mirrored left-right.

    image: (H, W, C), crop <= min(H, W). Returns (10, crop, crop, C): top-left, top-right,
    bottom-left, bottom-right, centre, then the same five mirrored. Index 4 is the centre crop.
    """
    image = np.asarray(image)
    crop = check_int("crop", crop, 1)
    h, w = image.shape[:2]
    if crop > min(h, w):
        raise ValueError(f"ten_crops: crop {crop} is larger than the image {h}x{w}")
    corners = [(0, 0), (0, w - crop), (h - crop, 0), (h - crop, w - crop), ((h - crop) // 2, (w - crop) // 2)]
    five = [image[r:r + crop, c:c + crop] for r, c in corners]
    return np.stack(five + [c[:, ::-1] for c in five])


def photo(name: str, size: int = 160) -> np.ndarray:
    """A labelled photo of :data:`LABELLED_PHOTOS` (or a plain skimage name), (size, size, 3) floats in
    [0, 1], centre-cropped to a square."""
    from PIL import Image

    source, key = LABELLED_PHOTOS[name][:2] if name in LABELLED_PHOTOS else ("skimage", name)
    img = _raw_photo(source, key)
    h, w = img.shape[:2]
    s = min(h, w)
    img = img[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
    out = Image.fromarray(img).resize((size, size), Image.BILINEAR)
    return np.asarray(out, dtype=float) / 255.0


@lru_cache(maxsize=16)
def _raw_photo(source: str, key: str) -> np.ndarray:
    if source == "matplotlib":
        import matplotlib.image as mpimg
        from matplotlib.cbook import get_sample_data

        img = mpimg.imread(get_sample_data(f"{key}.jpg", asfileobj=False))
    elif source == "sklearn":
        from sklearn.datasets import load_sample_image

        img = load_sample_image(f"{key}.jpg")
    else:
        import skimage.data

        img = getattr(skimage.data, key)()
        if key == "stereo_motorcycle":
            img = img[0]
    img = np.asarray(img)
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    if img.dtype != np.uint8:
        img = (255 * img / img.max()).astype(np.uint8)
    return np.ascontiguousarray(img[..., :3])


def augment_batch(image, n: int = 7, seed: int = 0, flip: bool = True, rotation: float = 0.0,
                  shear: float = 0.0, crop: float = 1.0, colour: float = 0.0, pca: float = 0.0) -> np.ndarray:
    """n random versions of one image, reproducible from ``seed``.

    Geometry with Keras' own preprocessing layers: RandomFlip("horizontal") if flip, RandomRotation
    (up to +-rotation degrees), RandomShear (x_factor = shear), RandomCrop keeping the fraction
    ``crop`` of each side (resized back to the input size). Colour in numpy: per-channel offsets
    uniform in +-colour, and the PCA colour shift with alphas ~ N(0, pca^2). image: (H, W, 3) in
    [0, 1]; returns (n, H, W, 3) in [0, 1].
    """
    from helpers.backend import keras

    image = _check_image(image)
    n, seed = check_int("n", n, 1), check_int("seed", seed, 0)
    if not 0 < crop <= 1:
        raise ValueError(f"augment_batch: crop must be in (0, 1], got {crop}")
    if rotation < 0 or shear < 0 or colour < 0 or pca < 0:
        raise ValueError("augment_batch: rotation, shear, colour and pca must be >= 0")
    h, w = image.shape[:2]
    layers = []
    if flip:
        layers.append(keras.layers.RandomFlip("horizontal", seed=seed))
    if rotation:
        layers.append(keras.layers.RandomRotation(rotation / 360.0, fill_mode="reflect", seed=seed + 1))
    if shear:
        layers.append(keras.layers.RandomShear(x_factor=shear, fill_mode="reflect", seed=seed + 2))
    if crop < 1:
        layers += [keras.layers.RandomCrop(max(1, round(h * crop)), max(1, round(w * crop)), seed=seed + 3),
                   keras.layers.Resizing(h, w)]
    batch = np.repeat(image[None].astype("float32"), n, axis=0)
    for layer in layers:
        batch = np.asarray(layer(batch, training=True))
    batch = np.clip(batch.astype(float), 0, 1)
    rng = np.random.default_rng(seed)
    basis = pca_colour_basis(image)
    for i in range(n):
        if colour:
            batch[i] = colour_shift(batch[i], rng.uniform(-colour, colour, 3))
        if pca:
            batch[i] = pca_colour_shift(batch[i], rng.normal(0, pca, 3), basis)[0]
    return batch


def load_measurements(path: str | Path = MEASUREMENTS_PATH) -> dict:
    """The numbers measured by scripts/measure_week2_practice.py (see its docstring)."""
    return json.loads(Path(path).read_text())


class AugmentationPlayground(widgets.VBox):
    """A real photo and seven random augmentations of it: mirroring, rotation, shearing, random crops
    (Keras' layers), colour shifting and PCA colour augmentation (numpy); the seed draws new ones."""

    def __init__(self, photo_name="chelsea (cat)", rotation=15, shear=0.2, crop=0.8, colour=0.1, pca=0.5,
                 seed=0, size=128):
        self.size = size
        self.rotation = slider("rotation ±°", rotation, 0, 45, continuous=False)
        self.shear = widgets.FloatSlider(value=shear, min=0, max=0.6, step=0.05, description="shear",
                                         continuous_update=False, style={"description_width": "100px"})
        self.crop = widgets.FloatSlider(value=crop, min=0.4, max=1.0, step=0.05, description="crop keeps",
                                        continuous_update=False, style={"description_width": "100px"})
        self.colour = widgets.FloatSlider(value=colour, min=0, max=0.4, step=0.02, description="colour shift",
                                          continuous_update=False, style={"description_width": "100px"})
        self.pca = widgets.FloatSlider(value=pca, min=0, max=3, step=0.1, description="PCA colour σ",
                                       continuous_update=False, style={"description_width": "100px"})
        self.seed = slider("seed", seed, 0, 99, continuous=False)
        self.flip = widgets.Checkbox(value=True, description="mirror")
        self.photo = widgets.Dropdown(options=list(LABELLED_PHOTOS), value=photo_name, description="photo")
        self.image = figure_image()
        self.info = widgets.HTML()
        for c in (self.rotation, self.shear, self.crop, self.colour, self.pca, self.seed, self.flip, self.photo):
            c.observe(self._update, names="value")
        super().__init__([row([widgets.VBox([self.rotation, self.shear, self.crop, self.seed]),
                               widgets.VBox([self.colour, self.pca, self.photo, self.flip])]),
                          self.image, self.info])
        self._update()

    def samples(self) -> tuple[np.ndarray, np.ndarray]:
        """(the photo (size, size, 3), its 7 augmentations (7, size, size, 3)) for the current settings."""
        img = photo(self.photo.value, self.size)
        return img, augment_batch(img, 7, self.seed.value, self.flip.value, self.rotation.value,
                                  self.shear.value, self.crop.value, self.colour.value, self.pca.value)

    def _update(self, _=None):
        img, batch = self.samples()
        values, vectors = pca_colour_basis(img)
        fig = new_figure(8.4, 4.4, dpi=80)
        axes = fig.subplots(2, 4)
        for ax, a, title in zip(axes.ravel(), [img, *batch], ["original"] + [f"#{i + 1}" for i in range(7)]):
            ax.imshow(a)
            ax.set_title(title, fontsize=9)
            ax.set_axis_off()
        self.image.value = figure_to_png(fig)
        self.info.value = (
            "principal colour directions of this photo (columns: R, G, B weights) and their standard deviations:"
            + table_html([{"direction": f"p{i + 1}", "R": f"{vectors[0, i]:+.2f}", "G": f"{vectors[1, i]:+.2f}",
                           "B": f"{vectors[2, i]:+.2f}", "σ": f"{np.sqrt(values[i]):.3f}"} for i in range(3)]))


class FreezeVsDataExplorer(widgets.VBox):
    """The measured validation accuracy of three transfer-learning choices (frozen backbone, last block
    retrained, from scratch) as the number of training images grows; the slider picks a data size."""

    LABELS = {"frozen": "frozen EfficientNet-Lite0 + logistic regression",
              "last_block": "last block + head retrained", "scratch": "small ConvNet from scratch"}
    COLOURS = {"frozen": "#1976d2", "last_block": "#26a69a", "scratch": "#e53935"}

    def __init__(self, measurements=None, n_train=50):
        self.data = measurements or load_measurements()
        sizes = self.data["sizes"]
        self.n_train = widgets.SelectionSlider(options=sizes, value=n_train if n_train in sizes else sizes[0],
                                               description="images",
                                               style={"description_width": "100px"})
        self.image = figure_image()
        self.info = widgets.HTML()
        self.n_train.observe(self._update, names="value")
        super().__init__([self.n_train, row([self.image, self.info])])
        self._update()

    def _update(self, _=None):
        d, n = self.data, self.n_train.value
        i = d["sizes"].index(n)
        fig = new_figure(5.0, 3.0, dpi=80)
        ax = fig.subplots()
        for key, label in self.LABELS.items():
            ax.plot(d["sizes"], d[key], "o-", color=self.COLOURS[key], label=label, ms=4)
            ax.plot([n], [d[key][i]], "o", color=self.COLOURS[key], ms=10, mfc="none")
        ax.axvline(n, color="#999", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlabel("training images (log scale)")
        ax.set_ylabel(f"validation accuracy ({d['validation_images']} images)")
        ax.set_ylim(0.4, 1.0)
        ax.axhline(0.5, color="#bbb", ls=":", lw=0.8)
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.22))
        self.image.value = figure_to_png(fig)
        rows = [{"choice": self.LABELS[k], "accuracy": f"{d[k][i]:.1%}"} for k in self.LABELS]
        self.info.value = f"<b>{n} training images</b>" + table_html(rows)


class MultiCropExplorer(widgets.VBox):
    """Multi-crop at test time with the shipped ImageNet EfficientNet-Lite0: the photo is resized so
    the crops (224 px) cover the fraction ``zoom`` of it; the 10 crops' predictions are averaged and
    compared with the centre crop's."""

    def __init__(self, photo_name="chelsea (cat)", cover=0.6):
        self.cover = widgets.FloatSlider(value=cover, min=0.4, max=1.0, step=0.05, description="crop covers",
                                         continuous_update=False, style={"description_width": "100px"})
        self.photo = widgets.Dropdown(options=list(LABELLED_PHOTOS), value=photo_name, description="photo")
        self.image = figure_image()
        self.info = widgets.HTML()
        self.cover.observe(self._update, names="value")
        self.photo.observe(self._update, names="value")
        super().__init__([row([self.cover, self.photo]), self.image, self.info])
        self._update()

    def predict(self) -> tuple[np.ndarray, np.ndarray]:
        """(the 10 crops (10, 224, 224, 3) in [0, 1], their class probabilities (10, 1000))."""
        size = int(round(224 / self.cover.value))
        crops = ten_crops(photo(self.photo.value, size), 224)
        return crops, _lite0_probabilities(crops)

    def _update(self, _=None):
        from helpers.models.efficientnet_lite import imagenet_class_names

        names = imagenet_class_names()
        right = LABELLED_PHOTOS[self.photo.value][2]
        crops, probs = self.predict()
        fig = new_figure(9.0, 2.2, dpi=80)
        axes = fig.subplots(1, 5)
        for ax, c, p in zip(axes, crops[:5], probs[:5]):
            ax.imshow(c)
            k = int(np.argmax(p))
            ax.set_title(f"{names[k][:14]} {p[k]:.0%}", fontsize=10, color="#2e7d32" if k in right else "#b71c1c")
            ax.set_axis_off()
        self.image.value = figure_to_png(fig)
        mean = probs.mean(axis=0)
        rows = []
        for label, p in (("centre crop", probs[4]), ("average of 10 crops", mean)):
            top = np.argsort(p)[::-1][:3]
            rows.append({"prediction": label, "top-3": ", ".join(f"{names[k]} {p[k]:.0%}" for k in top),
                         "right classes": f"{sum(p[k] for k in right):.0%}"})
        self.info.value = ("5 of the 10 crops (the other 5 are their mirror images); green = a right class"
                           + table_html(rows))


def _lite0_probabilities(crops) -> np.ndarray:
    from helpers.models import efficientnet_lite as el

    return np.asarray(_lite0()(el.preprocess_input(255.0 * np.asarray(crops, dtype="float32")), training=False))


@lru_cache(maxsize=1)
def _lite0():
    from helpers.models.efficientnet_lite import EfficientNetLite0

    return EfficientNetLite0()
