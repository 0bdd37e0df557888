"""Does the street detector's fine branch gain from the backbone's stride-4 map? With and without, same frames and steps.

    python scripts/street_detector_features.py CACHE --seed 12 --frames 320
    python scripts/street_detector_features.py CACHE --seed 11 --frames 3840 --mirror
    python benchmarks/street_detector_stride4.py CACHE --blocks 60 --steps 1000

Trains two fine branches (stage 2 of ``helpers.models.street_detector``) from the same seed on the
first ``--blocks`` cached training blocks (every frame and its mirror), with the same batches and
schedule as ``scripts/train_street_detector.py``: the shipped layout
(:func:`helpers.models.street_detector.build_fine_branch`, which reads EfficientNet-Lite0's
``block2b_add``, stride 4, (64, 96, 24), through a 2x2 convolution of stride 2 to 32 channels
joined at ``merge8``), and the same without that map (``stride4_channels=0``, the layout shipped before). Prints both
held-out mAP@0.5 (pycocotools COCOeval, the 320 held-out frames) and their difference.

Measured on 2 CPU cores (60 blocks = 7,680 views, 1,000 steps of 32), by an earlier version that
moved the stride-4 map to the grid by space-to-depth (2 x 2 -> 96 channels) and a 1x1 convolution
(the same functions as the 2x2 convolution of stride 2, the same 157,234 parameters against
135,602): mAP@0.5 0.595 without, 0.644 with the stride-4 map (traffic light 0.22 -> 0.37, traffic
sign 0.46 -> 0.53); 470 s and 520 s of training. This led to adopting it (issue 13).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]


def run(with_stride4, data, held, anchors, steps, seed):
    from train_street_detector import rows

    from helpers.backend import keras, tf
    from helpers.models import street_detector as sd

    keras.utils.set_random_seed(seed)
    model = sd.build_fine_branch(stride4_channels=sd.STRIDE4_CHANNELS if with_stride4 else 0)
    optimizer = keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(2e-3, steps, alpha=0.02))

    @tf.function
    def step(inputs, target, truth):
        with tf.GradientTape() as tape:
            loss = sd.yolo_loss(model(inputs, training=True), target, truth, anchors)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    inputs, boxes, labels = data
    rng, started = np.random.default_rng(seed), time.time()
    for _ in range(steps):
        idx = np.sort(rng.choice(len(boxes), 32, replace=False))
        pairs = [sd.yolo_targets(boxes[j], labels[j], anchors) for j in idx]
        step(rows(inputs, idx), np.stack([t for t, _ in pairs]), np.stack([u for _, u in pairs]))
    held_inputs, vboxes, vlabels = held
    every, large = sd.held_out_scores(lambda a, b: model(rows(held_inputs, slice(a, b)), training=False),
                                      vboxes, vlabels, anchors)
    return {"stride4": with_stride4, "parameters": int(model.count_params()), "seconds": round(time.time() - started),
            "mAP50": round(every["mAP"], 4), "mAP50_min_area": round(large["mAP"], 4),
            "per_class": {k: round(v, 3) for k, v in every["per_class"].items()}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cache", type=Path, help="folder written by scripts/street_detector_features.py")
    parser.add_argument("--blocks", type=int, default=60, help="training blocks of 64 frames (from the first)")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from train_street_detector import HELD_OUT_SEED, TRAIN_SEED, fit_anchors, load_chunks

    inputs, boxes, labels, _ = load_chunks(args.cache, TRAIN_SEED, max_chunks=args.blocks)
    held_inputs, vboxes, vlabels, _ = load_chunks(args.cache, HELD_OUT_SEED, views=1)
    anchors, _ = fit_anchors(boxes)
    data, held = (inputs, boxes, labels), (held_inputs, vboxes, vlabels)
    results = [run(flag, data, held, anchors, args.steps, args.seed) for flag in (False, True)]
    for r in results:
        print(json.dumps(r), flush=True)
    print(f"{len(boxes)} training views, {args.steps} steps: held-out mAP@0.5 {results[0]['mAP50']:.3f} without the stride-4 map, "
          f"{results[1]['mAP50']:.3f} with it ({results[1]['mAP50'] - results[0]['mAP50']:+.3f})")


if __name__ == "__main__":
    main()
