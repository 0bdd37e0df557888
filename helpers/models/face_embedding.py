"""dlib's ResNet face embedding (150x150 RGB face -> 128 numbers) in Keras, with weights shipped here.

The network is the face-recognition model of dlib (Davis King, 2017): a 29-layer residual network
trained with a metric loss on about 3 million faces, so that two photos of the same person land
less than 0.6 apart (Euclidean distance) and photos of different people further apart. dlib reports
99.38% accuracy on the LFW verification benchmark with that threshold. It plays the role FaceNet
plays in the original course: ``img_to_encoding``, ``verify`` and ``who_is_it`` compare these
embeddings.

Architecture (every convolution is followed by a per-channel affine "scale" layer: dlib trained with
batch normalisation, then replaced it by the fixed affine map it computes at test time)::

    (N, 150, 150, 3) RGB in [0, 255]
    -> subtract the mean colour (122.782, 117.001, 104.298), divide by 255      ``normalize``
    -> 7x7 conv, 32, stride 2, valid  + scale + ReLU        (N, 72, 72, 32)    ``conv32_down_*``
    -> 3x3 max pool, stride 2, valid                         (N, 35, 35, 32)    ``max_pool``
    -> 3 residual blocks, 32 channels                        (N, 35, 35, 32)    ``conv32_1..3_*``
    -> downsampling block + 3 residual blocks, 64            (N, 17, 17, 64)    ``conv64_down``, ``conv64_1..3``
    -> downsampling block + 2 residual blocks, 128           (N, 8, 8, 128)     ``conv128_down``, ``conv128_1..2``
    -> downsampling block + 2 residual blocks, 256           (N, 4, 4, 256)     ``conv256_down``, ``conv256_1..2``
    -> downsampling block, 256                               (N, 2, 2, 256)     ``conv256_down_out``
    -> global average pooling -> fully connected, no bias    (N, 128)           ``fc``

A residual block is ``relu(x + scale(conv3x3(relu(scale(conv3x3(x))))))``. A downsampling block has
a stride-2 "valid" first convolution; its shortcut is a 2x2 average pool, widened with zero channels
when the block doubles the channels, and where the convolution path comes out one row and column
smaller than the pool (8 -> 3 vs 4, 4 -> 1 vs 2) it is padded with zeros at the bottom and right
(dlib adds tensors of different sizes that way).

Output: the embedding exactly as dlib computes it, **not** re-normalised (norms are about 1.3 to 1.5
on the course's photos). The 0.6 threshold applies to Euclidean distances between these raw vectors,
as in dlib and the ``face_recognition`` package.

Weights: dlib's trained weights (released into the public domain by Davis King) as converted by
face-api.js (npm ``@vladmandic/face-api`` 1.7.15, MIT), which stores 109 of the 117 tensors as uint8
codes with a per-tensor ``scale`` and ``min`` (value = code * scale + min) and 8 as float32.
``scripts/convert_face_recognition_net.py`` copies these codes unchanged into
``weights/face_embedding_dlib.npz`` (4.2 MB), keyed like :mod:`helpers.models.npz_weights`
(``"<layer name>/<weight index>"``) plus ``"<key>.scale"`` and ``"<key>.min"`` for quantised arrays,
so the Keras model computes with exactly the float32 weights face-api.js uses (its outputs agree with
face-api's own to 3e-7). The file is checked by SHA-256 before loading. Licences: ``weights/NOTICE``.

Faces must be cropped first: :func:`face_chip` cuts a square around a face box with a margin and
resizes it to 150x150. dlib itself aligns faces on landmarks (eyes about 31% from the top of the
chip, mouth at 71%); from a box alone the chip is centred on the box and not rotated, which frames
the face a little wider than dlib does and works as well on the course's photos. Typical use::

    from helpers.models.face_embedding import face_chip, embed
    chips = np.stack([face_chip(image, box) for image, box in zip(images, boxes)])   # (N, 150, 150, 3) uint8
    vectors = embed(chips)                                                           # (N, 128) float32
    same_person = np.linalg.norm(vectors[0] - vectors[1]) < DISTANCE_THRESHOLD
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from helpers.models.npz_weights import set_weights_by_name, verified_file

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
#: dlib's face-recognition weights, uint8 codes + scale/min as face-api.js ships them (numpy ``.npz``).
WEIGHTS_PATH = WEIGHTS_DIR / "face_embedding_dlib.npz"
#: SHA-256 of :data:`WEIGHTS_PATH`, checked before loading.
WEIGHTS_SHA256 = "a53cd04aea5b7d3a7585db40cc2dacddb9a91a99893b99e062e510b4e1ff3339"

#: Side of the square face chips the network takes.
CHIP_SIZE = 150
#: Length of the embedding.
EMBEDDING_SIZE = 128
#: Mean RGB colour of dlib's training faces, subtracted before dividing by 255.
MEAN_RGB = (122.782, 117.001, 104.298)
#: Two faces whose embeddings are closer than this (Euclidean) are the same person, dlib's threshold.
DISTANCE_THRESHOLD = 0.6
#: Margin :func:`face_chip` adds around a face box, as a fraction of the box side on each side.
DEFAULT_PADDING = 0.25
#: Where a hand-marked face box (eyebrows to chin) lies inside a box of the Tiny-YOLOv2 face detector
#: (:mod:`helpers.models.tiny_yolo`), as fractions (left, top, right, bottom) of the detector box's width
#: and height: the detector's boxes reach up over the forehead and a little wider. The mean over the five
#: course photos the detector finds at score 0.5 (:func:`fit_box_transform`; tests/test_face_embedding.py
#: refits it and checks the distances with the detector's crops).
DETECTOR_BOX_TRANSFORM = (0.078, 0.141, 0.935, 0.922)

#: The residual stages after the stem: (block name, channels, downsamples?), in order.
BLOCKS = (
    ("conv32_1", 32, False), ("conv32_2", 32, False), ("conv32_3", 32, False),
    ("conv64_down", 64, True), ("conv64_1", 64, False), ("conv64_2", 64, False), ("conv64_3", 64, False),
    ("conv128_down", 128, True), ("conv128_1", 128, False), ("conv128_2", 128, False),
    ("conv256_down", 256, True), ("conv256_1", 256, False), ("conv256_2", 256, False),
    ("conv256_down_out", 256, True),
)


def _conv_scale(x, filters, kernel_size, stride, padding, name, layers, relu=True):
    """Convolution with bias, then dlib's per-channel affine map ``x * weight + bias``, then ReLU.

    The affine map is a 1x1 depthwise convolution with bias (kernel (1, 1, C, 1)): a standard Keras
    layer that multiplies each channel by its own number and adds its own offset.
    x: (N, H, W, C_in) -> (N, H', W', filters).
    """
    x = layers.Conv2D(filters, kernel_size, strides=stride, padding=padding, name=f"{name}_conv")(x)
    x = layers.DepthwiseConv2D(1, name=f"{name}_scale")(x)
    if relu:
        x = layers.ReLU(name=f"{name}_relu")(x)
    return x


def _residual_block(x, name, channels, downsample, layers):
    """One residual block (see the module docstring).

    x: (N, H, W, C) -> (N, H, W, C), or with ``downsample`` (N, H, W, C) -> (N, H/2, W/2, channels)
    (H/2 rounded down), where C is ``channels`` or ``channels / 2``.
    """
    if downsample:
        path = _conv_scale(x, channels, 3, 2, "valid", f"{name}_conv1", layers)
    else:
        path = _conv_scale(x, channels, 3, 1, "same", f"{name}_conv1", layers)
    path = _conv_scale(path, channels, 3, 1, "same", f"{name}_conv2", layers, relu=False)

    shortcut = x
    if downsample:
        shortcut = layers.AveragePooling2D(2, strides=2, padding="valid", name=f"{name}_pool")(x)
        if shortcut.shape[-1] != channels:
            # Widen the shortcut with zero channels: concatenate it with itself times zero.
            zeros = layers.Rescaling(0.0, name=f"{name}_zeros")(shortcut)
            shortcut = layers.Concatenate(name=f"{name}_widen")([shortcut, zeros])
        missing = shortcut.shape[1] - path.shape[1]
        if missing:
            # The stride-2 valid convolution lost a row and a column the pool kept: zeros go there.
            path = layers.ZeroPadding2D(((0, missing), (0, missing)), name=f"{name}_pad")(path)
    x = layers.Add(name=f"{name}_add")([path, shortcut])
    return layers.ReLU(name=f"{name}_out")(x)


def face_embedding_model(name: str = "face_embedding_dlib"):
    """Build dlib's face-recognition ResNet in Keras, with random weights.

    Returns a ``keras.Model`` mapping (N, 150, 150, 3) float RGB faces with values in [0, 255] (the
    mean-colour normalisation is inside the model) to (N, 128) float32 embeddings as dlib gives them
    (not re-normalised). 5.6 million parameters. Use :func:`load_face_embedding` for the trained one.
    """
    from helpers.backend import keras

    layers = keras.layers
    inputs = keras.Input(shape=(CHIP_SIZE, CHIP_SIZE, 3), name="face")
    x = layers.Rescaling(1.0 / 255.0, offset=[-mean / 255.0 for mean in MEAN_RGB], name="normalize")(inputs)
    x = _conv_scale(x, 32, 7, 2, "valid", "conv32_down", layers)                       # (N, 72, 72, 32)
    x = layers.MaxPooling2D(3, strides=2, padding="valid", name="max_pool")(x)         # (N, 35, 35, 32)
    for block_name, channels, downsample in BLOCKS:
        x = _residual_block(x, block_name, channels, downsample, layers)                # ... (N, 2, 2, 256)
    x = layers.GlobalAveragePooling2D(name="average_pool")(x)                          # (N, 256)
    outputs = layers.Dense(EMBEDDING_SIZE, use_bias=False, name="fc")(x)               # (N, 128)
    return keras.Model(inputs, outputs, name=name)


def dequantized_weights(path: str | Path) -> dict[str, np.ndarray]:
    """Read a weights file in this module's format; return ``{"<layer>/<index>": float32 array}``.

    A key whose array is uint8 has companions ``"<key>.scale"`` and ``"<key>.min"`` (float64 scalars);
    its values are ``code * scale + min``, computed in float64 and rounded to float32 as face-api.js
    (TensorFlow.js) does. Other arrays are returned as float32.
    """
    weights = {}
    with np.load(path) as archive:
        stored = {key: archive[key] for key in archive.files}
    for key, value in stored.items():
        if key.endswith((".scale", ".min")):
            continue
        if value.dtype == np.uint8:
            if f"{key}.scale" not in stored or f"{key}.min" not in stored:
                raise ValueError(f"face embedding weights: {key} is quantised but {key}.scale or {key}.min "
                                 f"is missing from {path}")
            value = value.astype(np.float64) * float(stored[f"{key}.scale"]) + float(stored[f"{key}.min"])
        weights[key] = value.astype(np.float32)
    return weights


def load_face_embedding(path: str | Path | None = None, sha256: str | None = None):
    """dlib's face embedding network with its trained weights.

    Inputs:
    - path: weights file; default :data:`WEIGHTS_PATH` (the shipped file, checked against
      :data:`WEIGHTS_SHA256`)
    - sha256: expected SHA-256 of ``path`` when a path is given (None: not checked)

    Returns a ``keras.Model`` (N, 150, 150, 3) RGB in [0, 255] -> (N, 128) embeddings; see
    :func:`face_embedding_model`. Raises ValueError when the file is missing, damaged (hash
    mismatch, e.g. a Git LFS pointer) or does not fit the model.
    """
    what = "face embedding weights (dlib ResNet)"
    if path is None:
        path, sha256 = WEIGHTS_PATH, WEIGHTS_SHA256
    weights = dequantized_weights(verified_file(path, sha256, what))
    model = face_embedding_model()
    set_weights_by_name(model, weights, path, what)
    return model


@lru_cache(maxsize=1)
def _shared_model():
    """The shipped model, built once per process (used by :func:`embed`)."""
    return load_face_embedding()


def face_chip(image, box, size: int = CHIP_SIZE, padding: float = DEFAULT_PADDING) -> np.ndarray:
    """Cut the square face chip the embedding network expects out of a photo.

    The chip is centred on the box; its side is the box's larger side times ``1 + 2 * padding``
    (with the default 0.25, half as large again as the face; dlib's own chips add 25% of the landmark
    span on each side). Parts of the square outside the photo are black. The square is resized to
    ``size`` x ``size`` with bilinear, anti-aliased interpolation.

    The box convention matters. On the course's photos (``helpers.data.faces``), boxes from the
    eyebrows to the chin give same-person distances of at most 0.51 and different-person distances
    of at least 0.73, and the 0.6 threshold still separates everyone when the box corners move at
    random by up to 8% of the box size; boxes whose top is raised by 30% to take in the forehead
    frame the face smaller and lower and mix people up (0.555 same vs 0.548 different).

    Inputs:
    - image: (H, W, 3) uint8 RGB photo
    - box: face box (x1, y1, x2, y2) in pixels, corners as in the course (x to the right, y down),
      x1 < x2 and y1 < y2, drawn from the eyebrows to the chin and from cheek to cheek (convert a
      detector's boxes to this convention if they differ, e.g. take the forehead off)
    - size: side of the chip in pixels (150 for the network)
    - padding: margin on each side as a fraction of the box's larger side, >= 0

    Returns a (size, size, 3) uint8 RGB array.
    """
    from PIL import Image

    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"face_chip: image must be an (H, W, 3) RGB array, got shape {image.shape}")
    if image.dtype != np.uint8:
        raise ValueError(f"face_chip: image must be uint8 (values 0..255), got {image.dtype}; "
                         "convert floats in [0, 1] with (image * 255).round().astype('uint8')")
    try:
        x1, y1, x2, y2 = (float(value) for value in box)
    except (TypeError, ValueError):
        raise ValueError(f"face_chip: box must be four numbers (x1, y1, x2, y2), got {box!r}") from None
    if not np.all(np.isfinite([x1, y1, x2, y2])) or x2 <= x1 or y2 <= y1:
        raise ValueError(f"face_chip: box must have x1 < x2 and y1 < y2, got {box!r}")
    height, width = image.shape[:2]
    if x2 <= 0 or y2 <= 0 or x1 >= width or y1 >= height:
        raise ValueError(f"face_chip: box {box!r} lies outside the {width}x{height} image")
    if not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"face_chip: size must be a positive integer, got {size!r}")
    if not isinstance(padding, (int, float, np.number)) or not np.isfinite(padding) or padding < 0:
        raise ValueError(f"face_chip: padding must be a number >= 0, got {padding!r}")

    half = max(x2 - x1, y2 - y1) * (1.0 + 2.0 * padding) / 2.0
    centre_x, centre_y = (x1 + x2) / 2.0, (y1 + y2) / 2.0
    left, top, right, bottom = centre_x - half, centre_y - half, centre_x + half, centre_y + half
    # Pad the photo with black so the square lies inside it, then let PIL resample that region.
    margin = int(np.ceil(max(0.0, -left, -top, right - width, bottom - height))) + 1
    padded = np.pad(image, ((margin, margin), (margin, margin), (0, 0)))
    region = (left + margin, top + margin, right + margin, bottom + margin)
    chip = Image.fromarray(padded).resize((int(size), int(size)), Image.Resampling.BILINEAR, box=region)
    return np.asarray(chip, dtype=np.uint8)


def embed(images_uint8, batch_size: int = 32) -> np.ndarray:
    """Embed face chips with the shipped network (built once, then reused).

    Inputs:
    - images_uint8: (N, 150, 150, 3) or a single (150, 150, 3) uint8 RGB face chip(s), e.g. from
      :func:`face_chip`
    - batch_size: chips per forward pass

    Returns (N, 128) float32 embeddings, or (128,) for a single chip, as dlib computes them (compare
    them with the Euclidean distance and :data:`DISTANCE_THRESHOLD`).
    """
    images = np.asarray(images_uint8)
    single = images.ndim == 3
    if single:
        images = images[None]
    if images.ndim != 4 or images.shape[1:] != (CHIP_SIZE, CHIP_SIZE, 3):
        raise ValueError(f"embed: expected face chips of shape (N, {CHIP_SIZE}, {CHIP_SIZE}, 3) or "
                         f"({CHIP_SIZE}, {CHIP_SIZE}, 3), got {np.asarray(images_uint8).shape}; "
                         "cut them with face_chip(image, box)")
    if images.dtype != np.uint8:
        raise ValueError(f"embed: face chips must be uint8 (values 0..255), got {images.dtype}")
    if len(images) == 0:
        raise ValueError("embed: no face chips given (N = 0)")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"embed: batch_size must be a positive integer, got {batch_size!r}")

    model = _shared_model()
    # predict_on_batch runs a compiled graph: about 7x faster than an eager call for one chip.
    parts = [np.asarray(model.predict_on_batch(images[start:start + int(batch_size)].astype(np.float32)))
             for start in range(0, len(images), int(batch_size))]
    vectors = np.concatenate(parts).astype(np.float32)
    return vectors[0] if single else vectors


def img_to_encoding(image_path, model) -> np.ndarray:
    """The encoding of the face image stored at ``image_path``, as the original course's helper gives it.

    Reads the file (any format PIL reads; a face chip cut with :func:`face_chip`, as the original
    course's 160x160 face images), converts it to RGB, resizes it (bilinear) to the model's input size
    when it differs (150x150 for :func:`load_face_embedding`'s model; any model whose ``input_shape`` is
    ``(None, H, W, 3)``), and runs ``model.predict_on_batch`` on the (1, H, W, 3) float32 batch of
    values in [0, 255].

    Inputs:
    - image_path: path of the image file (str or ``pathlib.Path``)
    - model: the face embedding (or any object with ``predict_on_batch`` and ``input_shape``)

    Returns a (1, D) float32 numpy array, D = 128 for the face embedding. Unlike the original
    (FaceNet) helper it does not divide by the norm: dlib's 0.6 threshold
    (:data:`DISTANCE_THRESHOLD`) applies to the raw vectors.
    """
    from PIL import Image

    path = Path(image_path)
    if not path.is_file():
        raise ValueError(f"img_to_encoding: no image file at {str(image_path)!r}")
    with Image.open(path) as opened:
        image = opened.convert("RGB")
    shape = tuple(getattr(model, "input_shape", None) or (None, CHIP_SIZE, CHIP_SIZE, 3))
    height, width = (int(shape[1]), int(shape[2])) if len(shape) == 4 and shape[1] and shape[2] else (CHIP_SIZE, CHIP_SIZE)
    if image.size != (width, height):
        image = image.resize((width, height), Image.Resampling.BILINEAR)
    batch = np.asarray(image, dtype=np.float32)[None]
    return np.asarray(model.predict_on_batch(batch), dtype=np.float32).reshape(1, -1)


def fit_box_transform(detected_boxes, marked_boxes) -> tuple:
    """The mean position of ``marked_boxes`` inside ``detected_boxes`` (pairs of (x1, y1, x2, y2)), as
    fractions (left, top, right, bottom) of the detected boxes' width and height."""
    detected = np.asarray(detected_boxes, dtype=np.float64).reshape(-1, 4)
    marked = np.asarray(marked_boxes, dtype=np.float64).reshape(-1, 4)
    if len(detected) != len(marked) or len(detected) == 0:
        raise ValueError(f"need as many detected as marked boxes (>= 1), got {len(detected)} and {len(marked)}")
    size = np.concatenate([detected[:, 2:] - detected[:, :2]] * 2, axis=1)
    if (size <= 0).any():
        raise ValueError("detected boxes must have x2 > x1 and y2 > y1")
    origin = np.concatenate([detected[:, :2]] * 2, axis=1)
    return tuple(float(v) for v in ((marked - origin) / size).mean(axis=0))


def box_from_detector(box, transform=DETECTOR_BOX_TRANSFORM) -> tuple:
    """A detector's face box (x1, y1, x2, y2) moved to where :func:`face_chip` expects the face (eyebrows
    to chin): x1 + left * w, y1 + top * h, x1 + right * w, y1 + bottom * h."""
    x1, y1, x2, y2 = (float(v) for v in box)
    w, h = x2 - x1, y2 - y1
    if w <= 0 or h <= 0:
        raise ValueError(f"box must have x2 > x1 and y2 > y1, got {box}")
    left, top, right, bottom = transform
    return (x1 + left * w, y1 + top * h, x1 + right * w, y1 + bottom * h)


__all__ = [
    "BLOCKS",
    "CHIP_SIZE",
    "DEFAULT_PADDING",
    "DETECTOR_BOX_TRANSFORM",
    "DISTANCE_THRESHOLD",
    "EMBEDDING_SIZE",
    "MEAN_RGB",
    "WEIGHTS_PATH",
    "WEIGHTS_SHA256",
    "box_from_detector",
    "dequantized_weights",
    "embed",
    "face_chip",
    "fit_box_transform",
    "face_embedding_model",
    "img_to_encoding",
    "load_face_embedding",
]
