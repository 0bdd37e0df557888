"""Convert face-api's Tiny-YOLOv2 face detector (TensorFlow.js weights) to the course's Keras format.

Run once by a maintainer (the result is committed; nothing here runs at course time)::

    cd <repo> && PYTHONPATH=$PWD python scripts/convert_tiny_face_detector.py [--package-tarball FILE]

Input: the npm package ``@vladmandic/face-api`` 1.7.15 (MIT, (c) Vladimir Mandic), fetched with
``npm pack`` into a temporary folder unless ``--package-tarball`` names an already fetched
``vladmandic-face-api-1.7.15.tgz``. From it:
- ``model/tiny_face_detector_model-weights_manifest.json``: TensorFlow.js weights manifest, the list
  of tensors (name, shape, dtype, optional quantisation) stored one after another in ...
- ``model/tiny_face_detector_model.bin``: the raw little-endian bytes (193,321 of them: every tensor
  quantised to uint8 with its own ``scale`` and ``min``, real value = byte * scale + min);
- ``LICENSE``: the MIT licence, copied next to the weights.

The tensors already have Keras's layouts (TensorFlow.js and Keras are both NHWC): ``conv0/filters``
(3, 3, 3, 16) and ``conv8/filters`` (1, 1, 512, 25) are Conv2D kernels; ``convN/depthwise_filter``
(3, 3, C, 1) and ``convN/pointwise_filter`` (1, 1, C, 2C) are SeparableConv2D's two kernels. The
only change is to the head: face-api's 25 outputs (5 anchors x [x, y, w, h, confidence]) get a
6th number per anchor, a class logit with zero weights and bias, so the output has the original
course's ``5 + num_classes`` layout (softmax over one class is always 1).

Outputs (in ``helpers/models/weights/``): ``tiny_face_detector.npz`` (float32, keys
``"<keras layer name>/<weight index>"``), ``LICENSE-face-api-MIT.txt``; the SHA-256 to paste into
``helpers/models/tiny_yolo.py`` (WEIGHTS_SHA256) is printed, with a check that the Keras model
matches a plain-numpy forward pass written from face-api's source.

``--compare-with-face-api`` (needs Node.js >= 18, nothing else) also runs face-api itself -- its
bundled ``dist/face-api.esm.js`` with TensorFlow.js's CPU backend -- on scikit-image's astronaut
and matplotlib's grace_hopper.jpg, and prints its detections next to ``detect_faces``' ones.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PACKAGE = "@vladmandic/face-api@1.7.15"
TARBALL_NAME = "vladmandic-face-api-1.7.15.tgz"
MANIFEST_MEMBER = "package/model/tiny_face_detector_model-weights_manifest.json"
WEIGHTS_MEMBER = "package/model/tiny_face_detector_model.bin"
LICENSE_MEMBER = "package/LICENSE"
OUTPUT_DIR = REPO / "helpers" / "models" / "weights"
NPZ_PATH = OUTPUT_DIR / "tiny_face_detector.npz"
LICENSE_PATH = OUTPUT_DIR / "LICENSE-face-api-MIT.txt"

#: Bytes per element of each stored dtype in TensorFlow.js weight files.
STORED_DTYPES = {"float32": np.float32, "int32": np.int32, "uint8": np.uint8, "uint16": np.uint16,
                 "float16": np.float16}


def fetch_tarball(folder: Path) -> Path:
    """``npm pack`` the pinned package into ``folder``; return the tarball's path."""
    subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=folder, check=True, stdout=subprocess.DEVNULL)
    tarball = folder / TARBALL_NAME
    if not tarball.is_file():
        raise SystemExit(f"npm pack did not produce {tarball}")
    return tarball


# A small Node.js program: face-api's own TinyFaceDetector on raw RGB files, detections as JSON lines.
# Argument pairs: <file.rgb> <height> <width>. The weights are decoded with TensorFlow.js's own
# io.decodeWeights, so this also checks the dequantisation above.
FACE_API_RUNNER = """
globalThis.window = globalThis;  // the browser bundle's platform check; Node's own one needs tfjs-node
globalThis.document = { createElement: () => ({}) };
const faceapi = await import(process.env.FACE_API_ESM);
const fs = await import('fs');
const tf = faceapi.tf;
await tf.setBackend('cpu');
await tf.ready();
const model = process.env.FACE_API_MODEL;
const manifest = JSON.parse(fs.readFileSync(model + '-weights_manifest.json'));
const bytes = fs.readFileSync(model + '.bin');
const weights = tf.io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
                                    manifest.flatMap((group) => group.weights));
const detector = new faceapi.TinyFaceDetector();
detector.loadFromWeightMap(weights);
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i += 3) {
  const [file, height, width] = [args[i], Number(args[i + 1]), Number(args[i + 2])];
  const image = tf.tensor3d(new Uint8Array(fs.readFileSync(file)), [height, width, 3], 'int32');
  const found = await detector.locateFaces(image, new faceapi.TinyFaceDetectorOptions({ inputSize: 416, scoreThreshold: 0.5 }));
  console.log(JSON.stringify(found.map((d) => [d.score, [d.box.x, d.box.y, d.box.x + d.box.width, d.box.y + d.box.height]])));
}
"""


def compare_with_face_api(tarball: Path, weights_path: Path) -> None:
    """Print face-api's own detections (Node.js) and ``detect_faces``' on the two sample photos."""
    import matplotlib.pyplot as plt
    from matplotlib import cbook
    from skimage import data

    from helpers.models.tiny_yolo import detect_faces, load_tiny_face_detector

    with cbook.get_sample_data("grace_hopper.jpg") as handle:
        photos = {"astronaut": data.astronaut(), "grace_hopper": np.asarray(plt.imread(handle))}
    model = load_tiny_face_detector(path=weights_path, sha256=None)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        with tarfile.open(tarball, "r:gz") as archive:
            archive.extractall(folder, filter="data")
        runner = folder / "run_face_api.mjs"
        runner.write_text(FACE_API_RUNNER, encoding="utf-8")
        arguments = []
        for name, image in photos.items():
            np.ascontiguousarray(image, dtype=np.uint8).tofile(folder / f"{name}.rgb")
            arguments += [str(folder / f"{name}.rgb"), str(image.shape[0]), str(image.shape[1])]
        environment = {"PATH": os.environ.get("PATH", ""),
                       "FACE_API_ESM": (folder / "package/dist/face-api.esm.js").as_uri(),
                       "FACE_API_MODEL": str(folder / "package/model/tiny_face_detector_model")}
        result = subprocess.run(["node", str(runner), *arguments], capture_output=True, text=True,
                                env=environment, check=True)
    lines = [line for line in result.stdout.splitlines() if line.startswith("[")]
    for (name, image), line in zip(photos.items(), lines):
        print(f"{name}: face-api (TensorFlow.js) {json.loads(line)}")
        print(f"{name}: detect_faces (Keras)       {[[s, list(b)] for s, b in detect_faces(image, model=model)]}")


def read_members(tarball: Path) -> tuple[list, bytes, str]:
    """Return (weights manifest groups, .bin bytes, LICENSE text) from the package tarball."""
    with tarfile.open(tarball, "r:gz") as archive:
        def read(name):
            return archive.extractfile(archive.getmember(name)).read()
        return json.loads(read(MANIFEST_MEMBER)), read(WEIGHTS_MEMBER), read(LICENSE_MEMBER).decode("utf-8")


def decode_weights(manifest: list, raw: bytes) -> dict[str, np.ndarray]:
    """Decode a TensorFlow.js weights manifest and its concatenated bytes into float32 arrays.

    Each entry's bytes follow the previous one's. Quantised entries store ``quantization.dtype``
    elements; uint8/uint16 ones decode as ``value * scale + min`` (the affine quantisation
    TensorFlow.js writes), float16 ones by casting.
    """
    entries = [entry for group in manifest for entry in group["weights"]]
    tensors, offset = {}, 0
    for entry in entries:
        quantization = entry.get("quantization")
        stored = STORED_DTYPES[quantization["dtype"] if quantization else entry["dtype"]]
        count = int(np.prod(entry["shape"], dtype=np.int64))
        size = count * np.dtype(stored).itemsize
        values = np.frombuffer(raw, dtype=np.dtype(stored).newbyteorder("<"), count=count, offset=offset)
        offset += size
        if quantization and quantization["dtype"] in ("uint8", "uint16"):
            values = values.astype(np.float64) * quantization["scale"] + quantization["min"]
        tensors[entry["name"]] = values.astype(np.float32).reshape(entry["shape"])
    if offset != len(raw):
        raise SystemExit(f"manifest describes {offset} bytes, the .bin has {len(raw)}")
    return tensors


def add_class_logits(kernel: np.ndarray, bias: np.ndarray, num_anchors: int = 5):
    """Insert a zero class-logit output after each anchor's 5 numbers: 5 x 5 -> 5 x 6 channels."""
    kernel = kernel.reshape(kernel.shape[:3] + (num_anchors, 5))
    kernel = np.concatenate([kernel, np.zeros(kernel.shape[:4] + (1,), np.float32)], axis=-1)
    bias = np.concatenate([bias.reshape(num_anchors, 5), np.zeros((num_anchors, 1), np.float32)], axis=-1)
    return kernel.reshape(kernel.shape[:3] + (-1,)), bias.reshape(-1)


def keras_weights(tensors: dict[str, np.ndarray]) -> dict[str, list[np.ndarray]]:
    """Map face-api's tensor names onto the Keras layers of ``helpers.models.tiny_yolo``."""
    mapping = {"conv0": [tensors["conv0/filters"], tensors["conv0/bias"]]}
    for index in range(1, 6):
        mapping[f"sep_conv{index}"] = [tensors[f"conv{index}/depthwise_filter"],
                                       tensors[f"conv{index}/pointwise_filter"], tensors[f"conv{index}/bias"]]
    mapping["head_conv"] = list(add_class_logits(tensors["conv8/filters"], tensors["conv8/bias"]))
    used = 2 + 5 * 3 + 2
    if used != len(tensors):
        raise SystemExit(f"expected {used} tensors in the manifest, found {len(tensors)}: {sorted(tensors)}")
    return mapping


def numpy_reference(tensors: dict[str, np.ndarray], batch: np.ndarray) -> np.ndarray:
    """face-api's forward pass (``TinyYolov2Base.runMobilenet``) in plain numpy, 25 output channels.

    ``batch``: (N, S, S, 3) RGB in [0, 255]. Used only to check the Keras model built separately.
    """
    from helpers.models.tiny_yolo import MEAN_RGB

    def conv(x, kernel, pad):
        if pad:
            x = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
        kh, kw = kernel.shape[:2]
        rows, cols = x.shape[1] - kh + 1, x.shape[2] - kw + 1
        out = 0
        for i in range(kh):
            for j in range(kw):
                out = out + x[:, i:i + rows, j:j + cols, :] @ kernel[i, j]
        return out

    def depthwise(x, kernel):
        x = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
        rows, cols = x.shape[1] - 2, x.shape[2] - 2
        return sum(x[:, i:i + rows, j:j + cols, :] * kernel[i, j, :, 0] for i in range(3) for j in range(3))

    def leaky(x):
        return np.where(x > 0, x, 0.1 * x)

    def max_pool(x, stride):
        # TensorFlow 'same' for a 2x2 window: pad (with -inf) only at the bottom/right, as needed.
        rows, cols = -(-x.shape[1] // stride), -(-x.shape[2] // stride)
        need_r, need_c = max((rows - 1) * stride + 2 - x.shape[1], 0), max((cols - 1) * stride + 2 - x.shape[2], 0)
        x = np.pad(x, ((0, 0), (0, need_r), (0, need_c), (0, 0)), constant_values=-np.inf)
        return np.max([x[:, i:i + (rows - 1) * stride + 1:stride, j:j + (cols - 1) * stride + 1:stride, :]
                       for i in range(2) for j in range(2)], axis=0)

    x = (batch.astype(np.float64) - np.array(MEAN_RGB)) / 255.0
    x = max_pool(leaky(conv(x, tensors["conv0/filters"], pad=False) + tensors["conv0/bias"]), 2)
    for index in range(1, 6):
        x = depthwise(x, tensors[f"conv{index}/depthwise_filter"])
        x = leaky(conv(x, tensors[f"conv{index}/pointwise_filter"], pad=False) + tensors[f"conv{index}/bias"])
        x = max_pool(x, 2 if index < 5 else 1)
    return conv(x, tensors["conv8/filters"], pad=False) + tensors["conv8/bias"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package-tarball", type=Path, help=f"an already fetched {TARBALL_NAME}")
    parser.add_argument("--compare-with-face-api", action="store_true",
                        help="also run face-api itself in Node.js on two sample photos and print both detections")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO))
    with tempfile.TemporaryDirectory() as folder:
        tarball = args.package_tarball or fetch_tarball(Path(folder))
        manifest, raw, license_text = read_members(tarball)
        tensors = decode_weights(manifest, raw)
        print(f"read {len(tensors)} tensors, {sum(t.size for t in tensors.values()):,} numbers, from {PACKAGE}")
        sha256 = convert(tensors, license_text)
        if args.compare_with_face_api:
            compare_with_face_api(tarball, NPZ_PATH)
    print(f"SHA-256 {sha256}  (WEIGHTS_SHA256 in helpers/models/tiny_yolo.py)")
    return 0


def convert(tensors: dict[str, np.ndarray], license_text: str) -> str:
    """Build the Keras model, load ``tensors``, check it, write the ``.npz`` and licence; return the SHA-256."""
    from helpers.models.npz_weights import file_sha256, save_npz_weights
    from helpers.models.tiny_yolo import tiny_face_detector

    model = tiny_face_detector(416)
    for name, weights in keras_weights(tensors).items():
        model.get_layer(name).set_weights(weights)

    # Check: the Keras model and the numpy re-implementation agree on random images.
    images = np.random.default_rng(0).uniform(0, 255, size=(2, 416, 416, 3)).astype(np.float32)
    expected = numpy_reference(tensors, images)
    got = np.asarray(model(images, training=False)).reshape(2, 13, 13, 5, 6)
    difference = np.abs(got[..., :5].reshape(expected.shape) - expected).max()
    print(f"largest |Keras - numpy reference| on random images: {difference:.2e} (outputs up to {np.abs(expected).max():.1f})")
    if difference > 1e-3 or np.any(got[..., 5] != 0):
        raise SystemExit("the Keras model does not match the reference forward pass")

    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    LICENSE_PATH.write_text(license_text, encoding="utf-8")
    # A zip archive records write times, so the same arrays give another SHA-256 on every run:
    # keep the committed file when its arrays are identical.
    fresh = NPZ_PATH.with_name("tiny_face_detector.fresh.npz")
    sha256 = save_npz_weights(model, fresh, dtype="float32")
    if NPZ_PATH.is_file() and same_arrays(NPZ_PATH, fresh):
        fresh.unlink()
        print(f"{NPZ_PATH.relative_to(REPO)} already holds these arrays: kept unchanged")
        return file_sha256(NPZ_PATH)
    fresh.replace(NPZ_PATH)
    print(f"wrote {NPZ_PATH.relative_to(REPO)} ({NPZ_PATH.stat().st_size:,} bytes) and {LICENSE_PATH.relative_to(REPO)}")
    return sha256


def same_arrays(path_a: Path, path_b: Path) -> bool:
    """True when two ``.npz`` archives hold the same keys with bit-identical arrays."""
    with np.load(path_a) as a, np.load(path_b) as b:
        return sorted(a.files) == sorted(b.files) and all(
            a[key].dtype == b[key].dtype and np.array_equal(a[key], b[key]) for key in a.files)


if __name__ == "__main__":
    sys.exit(main())
