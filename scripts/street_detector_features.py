"""Stage 2 of the week-3 street detector: render street scenes and cache what the fine branch reads (not in git).

    python scripts/street_detector_features.py OUT_DIR --seed 12 --frames 320 --mirror       # held out
    python scripts/street_detector_features.py OUT_DIR --seed 11 --frames 12800 --mirror     # training

For each frame (and, with ``--mirror``, its left-right mirror) the frozen EfficientNet-Lite0's
stride-4 map ``block2b_add`` (64, 96, 24) and stride-8 map ``block3b_add`` (32, 48, 40) and the
frozen trunk's output (16, 24, 96) are stored as float16 (492 KB per view). The trunk is stage 1's
(:func:`helpers.models.street_detector.build_trunk`), read from ``--first-stage`` (a head npz
holding the trunk's layers; default: the shipped head, whose trunk is stage 1's unchanged). Writes
OUT_DIR/seed<S>_<chunk>.npz, one file per chunk of 64 frames rendered by
``make_detection_scenes(64, S * 1000 + chunk)``: stride4 (V, 64, 64, 96, 24), stride8 (V, 64, 32,
48, 40), trunk (V, 64, 16, 24, 96) with V = 2 views (as rendered, mirrored) or 1, and the boxes and
labels of the frames as rendered (flattened, with per-frame counts). A chunk already written is
skipped, so the script can be stopped and started again. Frames are rendered by ``--workers``
processes forked before Keras starts, while the backbone runs. Used by scripts/train_street_detector.py.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
CHUNK = 64


def _render(seed):
    from helpers.data import street
    from helpers.models import street_detector as sd

    return seed, street.make_detection_scenes(CHUNK, seed, *sd.INPUT_SHAPE[:2])


def stage2_model(first_stage=None):
    """Frames (N, 256, 384, 3) in [0, 255] -> [stride-4 map (N, 64, 96, 24), stride-8 map (N, 32, 48, 40),
    trunk output (N, 16, 24, 96)]: the inputs of :func:`helpers.models.street_detector.build_fine_branch`."""
    from helpers.backend import keras
    from helpers.models import street_detector as sd

    backbone = sd.feature_extractor()
    trunk = sd.build_trunk()
    sd.load_head_weights(trunk, first_stage, sha256=None if first_stage is not None else sd.WEIGHTS_SHA256)
    frames = keras.Input(shape=sd.INPUT_SHAPE, name="frames")
    stride4, stride8, stride16, stride32 = backbone(frames)
    return keras.Model(frames, [stride4, stride8, trunk([stride16, stride32])], name="stage2_features")


#: The cached arrays, in the order of stage2_model's outputs and build_fine_branch's inputs.
ARRAYS = ("stride4", "stride8", "trunk")


def features(model, images, mirror):
    """{"stride4": (V, n, 64, 96, 24), "stride8": (V, n, 32, 48, 40), "trunk": (V, n, 16, 24, 96)}
    float16 of images (n, 256, 384, 3), V = 2 (as rendered, mirrored) if mirror else 1."""
    images = np.asarray(images, np.float32)
    views = [images, images[:, :, ::-1]] if mirror else [images]
    outputs = [model.predict(view, batch_size=16, verbose=0) for view in views]
    return {name: np.stack([np.asarray(out[k], np.float16) for out in outputs]) for k, name in enumerate(ARRAYS)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--frames", type=int, required=True, help="a multiple of 64")
    parser.add_argument("--mirror", action="store_true", help="also cache every frame mirrored (training; held out: for --ship)")
    parser.add_argument("--first-stage", type=Path, default=None, help="head npz with stage 1's trunk (default: the shipped head)")
    parser.add_argument("--workers", type=int, default=1, help="rendering processes")
    args = parser.parse_args()

    args.out.mkdir(parents=True, exist_ok=True)
    # chunk c renders its own 64 frames with the seed seed * 1000 + c (frames are deterministic by
    # (seed, frame)), so a chunk never re-renders another's frames and an interrupted run resumes
    todo = [c for c in range(args.frames // CHUNK) if not (args.out / f"seed{args.seed}_{c:03d}.npz").exists()]
    pool = multiprocessing.get_context("fork").Pool(args.workers)    # forked before Keras is imported
    rendered = pool.imap(_render, [args.seed * 1000 + c for c in todo])
    model = stage2_model(args.first_stage)
    for chunk, (_, (images, boxes, labels)) in zip(todo, rendered):
        start = time.time()
        arrays = features(model, images, args.mirror)
        path = args.out / f"seed{args.seed}_{chunk:03d}.npz"
        partial = path.with_name(path.name + ".partial.npz")
        np.savez(partial, **arrays, counts=np.array([len(b) for b in boxes]),
                 boxes=np.concatenate(boxes).astype(np.float32), labels=np.concatenate(labels).astype(np.int64))
        partial.replace(path)
        print(f"{path.name}: through the backbone and trunk in {time.time() - start:.1f} s", flush=True)
    pool.close()


if __name__ == "__main__":
    main()
