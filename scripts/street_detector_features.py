"""Render street scenes for the week-3 detector and cache the frozen backbone's features (not in git).

    python scripts/street_detector_features.py OUT_DIR --seed 11 --frames 3072

Writes OUT_DIR/seed<S>_<chunk>.npz, one file per chunk of 64 frames: stride16 (64, 16, 24, 112)
float16, stride32 (64, 8, 12, 320) float16, boxes and labels (flattened with per-frame counts).
A chunk already written is skipped, so the script can be stopped and started again.
Used by scripts/train_street_detector.py.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

CHUNK = 64


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--frames", type=int, required=True)
    args = parser.parse_args()

    from helpers.models import street_detector as sd

    args.out.mkdir(parents=True, exist_ok=True)
    backbone = sd.feature_extractor()
    # each chunk renders its own CHUNK frames with the seed seed * 1000 + c (frames are deterministic
    # by (seed, frame)), so a chunk never re-renders another's frames and an interrupted run resumes
    for chunk in range(args.frames // CHUNK):
        path = args.out / f"seed{args.seed}_{chunk:03d}.npz"
        if path.exists():
            continue
        start = time.time()
        fine, coarse, boxes, labels = sd.block_features(backbone, CHUNK, args.seed * 1000 + chunk)
        partial = path.with_name(path.name + ".partial.npz")
        np.savez(partial, stride16=fine, stride32=coarse,
                 counts=np.array([len(b) for b in boxes]), boxes=np.concatenate(boxes).astype(np.float32),
                 labels=np.concatenate(labels).astype(np.int64))
        partial.replace(path)
        print(f"{path.name}: rendered and through the backbone in {time.time() - start:.1f} s", flush=True)


if __name__ == "__main__":
    main()
