"""An offline binary image data set for the transfer-learning notebook: "circle or square?".

Every image is a crop of a real photo that scikit-image or scikit-learn ships (a cat, a coffee cup,
an astronaut, a rocket, a Chinese temple, a flower, a motorbike, microscope slides, textures...),
with one shape pasted on it. The shape is cut out of ANOTHER photo, so neither its colour nor its
texture tells the class: only its outline does -- a disc (label 1) or a rotated square (label 0).
Backgrounds are busy, shapes vary in size, position, rotation and contrast, which makes the task
easy for a person but hard for a network that has to learn edges and corners from a few hundred
images. A network pretrained on ImageNet already has those features.

Deterministic by seed; nothing is downloaded. Typical use::

    from helpers.data.shapes_on_photos import load_shapes_on_photos
    (x_train, y_train), (x_val, y_val) = load_shapes_on_photos(n_train=400, n_val=400, size=128, seed=0)
    # x: (N, size, size, 3) uint8 in [0, 255]; y: (N,) int64 in {0, 1}
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

CLASS_NAMES = ("square", "circle")


@lru_cache(maxsize=1)
def source_photos() -> tuple[np.ndarray, ...]:
    """The real photos the images are cut from, as (H, W, 3) uint8 arrays (at least 256 pixels a side)."""
    import skimage.color
    import skimage.data
    from sklearn.datasets import load_sample_images

    photos = [
        skimage.data.chelsea(),
        skimage.data.coffee(),
        skimage.data.astronaut(),
        skimage.data.rocket(),
        skimage.data.immunohistochemistry(),
        skimage.data.stereo_motorcycle()[0],
        skimage.data.hubble_deep_field(),
        skimage.data.retina(),
        *load_sample_images().images,
    ]
    for gray in (skimage.data.grass(), skimage.data.gravel(), skimage.data.brick(), skimage.data.camera()):
        photos.append((skimage.color.gray2rgb(gray)).astype(np.uint8))
    out = []
    for photo in photos:
        photo = np.asarray(photo)[..., :3]
        if photo.dtype != np.uint8:
            photo = (255 * (photo / photo.max())).astype(np.uint8)
        if min(photo.shape[:2]) >= 256:
            out.append(np.ascontiguousarray(photo))
    return tuple(out)


def _random_crop(rng, photos, size):
    """A random square crop of a random photo, scaled to (size, size, 3) float32 in [0, 255]."""
    from PIL import Image

    photo = photos[rng.integers(len(photos))]
    h, w = photo.shape[:2]
    side = int(rng.integers(min(h, w) // 4, min(h, w) // 1.5))
    top, left = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
    crop = Image.fromarray(photo[top:top + side, left:left + side]).resize((size, size), Image.BILINEAR)
    crop = np.asarray(crop, dtype=np.float32)
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    return crop


def _shape_mask(rng, size, circle: bool):
    """(size, size) float mask in [0, 1] with soft edges: a disc or a rotated square of random size/place."""
    radius = rng.uniform(0.16, 0.3) * size  # disc radius; the square has the same area
    margin = radius * 1.45
    cy, cx = rng.uniform(margin, size - margin, size=2)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    dy, dx = yy - cy, xx - cx
    if circle:
        distance = np.sqrt(dx**2 + dy**2) - radius  # signed distance to the outline
    else:
        half = radius * np.sqrt(np.pi) / 2
        angle = rng.uniform(0, np.pi / 2)
        u = np.abs(np.cos(angle) * dx + np.sin(angle) * dy)
        v = np.abs(-np.sin(angle) * dx + np.cos(angle) * dy)
        distance = np.maximum(u, v) - half
    return np.clip(0.5 - distance, 0.0, 1.0)


def make_shapes_on_photos(n: int, size: int = 128, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Generate ``n`` images with balanced labels (1 = circle, 0 = square).

    Returns ``(x, y)``: x (n, size, size, 3) uint8, y (n,) int64. Same seed, same images.
    """
    if n < 1:
        raise ValueError(f"make_shapes_on_photos: n must be at least 1, got {n}")
    if size < 32:
        raise ValueError(f"make_shapes_on_photos: size must be at least 32, got {size}")
    rng = np.random.default_rng(seed)
    photos = source_photos()
    labels = rng.permutation(np.arange(n) % 2)
    images = np.empty((n, size, size, 3), dtype=np.uint8)
    for i, label in enumerate(labels):
        background = _random_crop(rng, photos, size)
        fill = _random_crop(rng, photos, size)
        # Shift the fill's brightness away from the background so the outline is visible (but colour is no cue).
        shift = rng.choice([-1.0, 1.0]) * rng.uniform(40, 90)
        fill = np.clip(fill + shift, 0, 255)
        mask = _shape_mask(rng, size, circle=bool(label))[..., None]
        images[i] = np.clip(mask * fill + (1 - mask) * background, 0, 255).astype(np.uint8)
    return images, labels.astype(np.int64)


def load_shapes_on_photos(n_train: int = 400, n_val: int = 400, size: int = 128, seed: int = 0):
    """Training and validation sets drawn with different seeds: ``((x_train, y_train), (x_val, y_val))``."""
    train = make_shapes_on_photos(n_train, size=size, seed=seed)
    val = make_shapes_on_photos(n_val, size=size, seed=seed + 10_000)
    return train, val
