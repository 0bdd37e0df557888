"""Photos and kernels of the lectures: scikit-image's photos (shipped with the package, no download),
two drawn pictures with known edges, the classic edge kernels, and decoding of uploaded images.
"""

from __future__ import annotations

import io

import numpy as np

from helpers.conv import check_int, correlate2d

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
    size = check_int("size", size, 8)
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

