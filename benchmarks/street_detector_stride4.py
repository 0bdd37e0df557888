"""Would the street detector's fine branch gain from the backbone's stride-4 map? Both variants, same frames and steps.

    python scripts/street_detector_features.py CACHE --seed 12 --frames 320
    python scripts/street_detector_features.py CACHE --seed 11 --frames 3840 --mirror
    python benchmarks/street_detector_stride4.py CACHE --blocks 60 --steps 1000

Trains two fine branches (stage 2 of ``helpers.models.street_detector``) from the same seed on the
first ``--blocks`` cached training blocks (every frame and its mirror), with the same batches and
schedule as ``scripts/train_street_detector.py``: the shipped layout, and the same with the
EfficientNet-Lite0 map ``block2b_add`` (stride 4, (64, 96, 24)) moved to the 32 x 48 grid by
space-to-depth (2 x 2 -> 96 channels) and a 1x1 convolution (32 channels) joined at ``merge8``.
The stride-4 maps are computed here (frames rendered again) and kept in memory. Prints both
held-out mAP@0.5 (pycocotools COCOeval, the 320 held-out frames) and their difference.

Measured on 2 CPU cores (60 blocks = 7,680 views, 1,000 steps of 32) by an earlier copy of this
script (same layers, parameters 135,602 / 157,234, seed and batches; this file was only run on a few
frames): mAP@0.5 0.595 without, 0.644 with the stride-4 map (traffic light 0.22 -> 0.37, traffic
sign 0.46 -> 0.53); 470 s and 520 s of training.
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


def space_to_depth(x):
    """(N, 2H, 2W, C) -> (N, H, W, 4C): each 2 x 2 block of positions as channels."""
    n, h, w, c = x.shape
    return x.reshape(n, h // 2, 2, w // 2, 2, c).transpose(0, 1, 3, 2, 4, 5).reshape(n, h // 2, w // 2, 4 * c)


def stride4_maps(backbone, seeds, mirror):
    """block2b_add of the 64 frames of each block seed (and their mirrors): (views * 64 * len(seeds), 64, 96, 24) float16."""
    from helpers.data import street
    from helpers.models import street_detector as sd

    out = []
    for seed in seeds:
        images, _, _ = street.make_detection_scenes(64, seed, *sd.INPUT_SHAPE[:2])
        images = images.astype(np.float32)
        for view in ([images, images[:, :, ::-1]] if mirror else [images]):
            out.append(np.asarray(backbone.predict(view, batch_size=16, verbose=0), np.float16))
    return np.concatenate(out)


def fine_branch(with_stride4):
    from helpers.backend import keras
    from helpers.models.street_detector import _conv_bn as conv_bn  # the head's conv + batch norm + leaky ReLU

    layers = keras.layers

    stride8, trunk, stride4 = keras.Input((32, 48, 40)), keras.Input((16, 24, 96)), keras.Input((32, 48, 96))
    parts = [layers.UpSampling2D(2)(trunk), conv_bn(stride8, 64, 1, "reduce8")]
    parts += [conv_bn(stride4, 32, 1, "reduce4")] if with_stride4 else []
    x = conv_bn(conv_bn(layers.Concatenate(name="merge8")(parts), 64, 3, "fine1"), 64, 3, "fine2")
    return keras.Model([stride8, trunk] + ([stride4] if with_stride4 else []), layers.Conv2D(50, 1, name="yolo_output")(x))


def run(with_stride4, data, held, anchors, steps, seed):
    from helpers.backend import keras, tf
    from helpers.models import street_detector as sd

    keras.utils.set_random_seed(seed)
    model = fine_branch(with_stride4)
    optimizer = keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(2e-3, steps, alpha=0.02))

    @tf.function
    def step(inputs, target, truth):
        with tf.GradientTape() as tape:
            loss = sd.yolo_loss(model(inputs, training=True), target, truth, anchors)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    def inputs(arrays, idx):
        x = [arrays[0][idx].astype(np.float32), arrays[1][idx].astype(np.float32)]
        return x + ([space_to_depth(arrays[2][idx].astype(np.float32))] if with_stride4 else [])

    s8, trunk, s4, boxes, labels = data
    rng, started = np.random.default_rng(seed), time.time()
    for _ in range(steps):
        idx = np.sort(rng.choice(len(s8), 32, replace=False))
        pairs = [sd.yolo_targets(boxes[j], labels[j], anchors) for j in idx]
        step(inputs((s8, trunk, s4), idx), np.stack([t for t, _ in pairs]), np.stack([u for _, u in pairs]))
    v8, vtrunk, vs4, vboxes, vlabels = held
    every, large = sd.held_out_scores(lambda a, b: model(inputs((v8, vtrunk, vs4), np.arange(a, b)), training=False),
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

    from helpers.models import street_detector as sd

    s8, trunk, boxes, labels, seeds = load_chunks(args.cache, TRAIN_SEED, max_chunks=args.blocks)
    v8, vtrunk, vboxes, vlabels, held_seeds = load_chunks(args.cache, HELD_OUT_SEED, views=1)
    backbone = sd.feature_extractor(("block2b_add",))
    s4, vs4 = stride4_maps(backbone, seeds, mirror=True), stride4_maps(backbone, held_seeds, mirror=False)
    if len(s4) != len(s8):
        raise SystemExit("the cache's training chunks are not mirrored (street_detector_features.py --mirror)")
    anchors, _ = fit_anchors(boxes)
    data, held = (s8, trunk, s4, boxes, labels), (v8, vtrunk, vs4, vboxes, vlabels)
    results = [run(flag, data, held, anchors, args.steps, args.seed) for flag in (False, True)]
    for r in results:
        print(json.dumps(r), flush=True)
    print(f"{len(s8)} training views, {args.steps} steps: held-out mAP@0.5 {results[0]['mAP50']:.3f} without the stride-4 map, "
          f"{results[1]['mAP50']:.3f} with it ({results[1]['mAP50'] - results[0]['mAP50']:+.3f})")


if __name__ == "__main__":
    main()
