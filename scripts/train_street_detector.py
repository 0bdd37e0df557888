"""Train the week-3 street detector's head on cached backbone features; ship it and its run record.

    python scripts/street_detector_features.py /tmp/yolo_street --seed 12 --frames 320    # held out
    python scripts/street_detector_features.py /tmp/yolo_street --seed 11 --frames 3072   # training
    python scripts/train_street_detector.py /tmp/yolo_street --epochs 40 [--ship]

The backbone (EfficientNet-Lite0, ImageNet) is frozen, so its features are computed once
(``street_detector_features.py``) and only the head (:func:`helpers.models.street_detector.build_head`)
is trained here, with the YOLOv2 loss (:func:`helpers.models.street_detector.yolo_loss`) and Adam
with a cosine learning-rate schedule. Anchors: k-means (1 - IoU) on the training boxes, in grid
cells. Held-out frames (seed 12) are scored with pycocotools' COCOeval (AP at IoU 0.5 per class,
their mean) after decoding with ``yolo_head`` and per-class non-max suppression (score >= 0.01, at
most 100 boxes per frame). With ``--ship`` the head (float16) is written to
``helpers/models/weights/street_detector_head_fp16.npz`` and the record to
``helpers/models/street_detector_run.json`` (its SHA-256 goes into street_detector.py by hand).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TRAIN_SEED, HELD_OUT_SEED = 11, 12
#: True boxes smaller than this (pixels, at 256 x 384) are also reported apart: "objects >= 64 px²".
MIN_AREA = 64.0


def load_chunks(folder, seed):
    """Concatenate the cached chunks of one seed: (fine, coarse, boxes list, labels list, chunk seeds)."""
    fine, coarse, boxes, labels, seeds = [], [], [], [], []
    for path in sorted(Path(folder).glob(f"seed{seed}_[0-9][0-9][0-9].npz")):   # not *.partial.npz
        with np.load(path) as z:
            fine.append(z["stride16"])
            coarse.append(z["stride32"])
            splits = np.cumsum(z["counts"])[:-1]
            boxes += np.split(z["boxes"], splits)
            labels += np.split(z["labels"], splits)
        seeds.append(seed * 1000 + int(path.stem.split("_")[1]))
    if not fine:
        raise SystemExit(f"no cached features for seed {seed} in {folder}")
    return np.concatenate(fine), np.concatenate(coarse), boxes, labels, seeds


def evaluate(head, fine, coarse, boxes, labels, anchors, batch=64):
    """COCOeval AP@0.5 per class on cached features: (all objects, objects >= MIN_AREA px²)."""
    from helpers.models import street_detector as sd

    detections = []
    for start in range(0, len(fine), batch):
        raw = head([fine[start:start + batch].astype(np.float32), coarse[start:start + batch].astype(np.float32)],
                   training=False)
        detections += sd.detect(raw, anchors, sd.INPUT_SHAPE[:2])
    return (sd.coco_average_precision(boxes, labels, detections),
            sd.coco_average_precision(boxes, labels, detections, min_area=MIN_AREA))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cache", type=Path)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-every", type=int, default=5)
    parser.add_argument("--init", type=Path, default=None,
                        help="continue from a head npz of an earlier run (its run record JSON next to it is kept in the new record)")
    parser.add_argument("--ship", action="store_true")
    args = parser.parse_args()

    from helpers.backend import keras, tf
    from helpers.models import street_detector as sd
    from helpers.models.npz_weights import file_sha256

    keras.utils.set_random_seed(args.seed)
    fine, coarse, boxes, labels, train_seeds = load_chunks(args.cache, TRAIN_SEED)
    v_fine, v_coarse, v_boxes, v_labels, held_seeds = load_chunks(args.cache, HELD_OUT_SEED)
    wh = np.concatenate([b[:, 2:] - b[:, :2] for b in boxes]) / sd.STRIDE
    anchors, anchor_iou = sd.kmeans_anchors(np.maximum(wh, 1.0 / sd.STRIDE), sd.NUM_ANCHORS, seed=0)
    print(f"{len(fine)} training frames, {len(wh)} boxes; {len(v_fine)} held-out frames")
    print("anchors (cells):", np.round(anchors, 2).tolist(), f"mean IoU {anchor_iou:.3f}", flush=True)
    targets = [sd.yolo_targets(b, c, anchors) for b, c in zip(boxes, labels)]
    target = np.stack([t for t, _ in targets])
    truth = np.stack([u for _, u in targets])

    head = sd.build_head()
    earlier = None
    if args.init is not None:
        if not np.allclose(sd.load_head_weights(head, args.init, sha256=None), anchors, atol=1e-3):
            raise SystemExit(f"{args.init} was trained with other anchors")
        earlier_record = args.init.with_name("street_detector_run.json")
        earlier = json.loads(earlier_record.read_text()) if earlier_record.exists() else {"weights": str(args.init)}
    steps_per_epoch = len(fine) // args.batch
    schedule = keras.optimizers.schedules.CosineDecay(args.lr, args.epochs * steps_per_epoch, alpha=0.02)
    optimizer = keras.optimizers.Adam(schedule)

    @tf.function
    def step(f, c, t, u):
        with tf.GradientTape() as tape:
            loss = sd.yolo_loss(head([f, c], training=True), t, u, anchors)
        grads = tape.gradient(loss, head.trainable_variables)
        optimizer.apply_gradients(zip(grads, head.trainable_variables))
        return loss

    rng = np.random.default_rng(args.seed)
    history, started = [], time.time()
    for epoch in range(1, args.epochs + 1):
        order = rng.permutation(len(fine))
        losses = []
        for s in range(steps_per_epoch):
            idx = np.sort(order[s * args.batch:(s + 1) * args.batch])
            losses.append(float(step(fine[idx].astype(np.float32), coarse[idx].astype(np.float32),
                                     target[idx], truth[idx])))
        entry = {"epoch": epoch, "loss": round(float(np.mean(losses)), 4), "seconds": round(time.time() - started, 1)}
        if epoch % args.eval_every == 0 or epoch == args.epochs:
            every, large = evaluate(head, v_fine, v_coarse, v_boxes, v_labels, anchors)
            entry["held_out_mAP50"] = round(every["mAP"], 4)
            entry["held_out_mAP50_min_area"] = round(large["mAP"], 4)
            entry["per_class"] = {k: None if v is None else round(v, 3) for k, v in every["per_class"].items()}
        history.append(entry)
        print(json.dumps(entry), flush=True)
        np.savez(args.cache / "head_checkpoint.npz", **sd.head_arrays(head, anchors))

    arrays = sd.head_arrays(head, anchors)
    out = sd.WEIGHTS_PATH if args.ship else args.cache / "street_detector_head_fp16.npz"
    np.savez_compressed(out, **arrays)
    # score the float16 weights that are shipped, as the notebook and the tests load them
    shipped = sd.build_head()
    shipped_anchors = sd.load_head_weights(shipped, out, sha256=None)
    every, large = evaluate(shipped, v_fine, v_coarse, v_boxes, v_labels, shipped_anchors)
    first, _ = evaluate(shipped, v_fine[:16], v_coarse[:16], v_boxes[:16], v_labels[:16], shipped_anchors)
    record = {
        "what": "YOLOv2-style head on a frozen EfficientNet-Lite0 (ImageNet), trained on generated street scenes",
        "script": "scripts/train_street_detector.py",
        "input_shape": list(sd.INPUT_SHAPE), "grid": list(sd.GRID_SHAPE), "stride": sd.STRIDE,
        "backbone_layers": list(sd.FEATURE_LAYERS), "classes": list(sd.CLASS_NAMES),
        "anchors_cells": np.round(shipped_anchors, 4).tolist(), "anchor_mean_iou": round(anchor_iou, 4),
        "train": {"frames": len(fine), "boxes": int(len(wh)), "chunk_seeds": [train_seeds[0], train_seeds[-1]],
                  "boxes_per_class": {n: int(sum(np.sum(c == k) for c in labels)) for k, n in enumerate(sd.CLASS_NAMES)},
                  "epochs": args.epochs, "batch": args.batch, "learning_rate": args.lr, "seed": args.seed,
                  "head_parameters": int(head.count_params()),
                  "seconds": round(time.time() - started, 1), "machine": f"{platform.machine()}, CPU, 1 thread, nice 10"},
        "held_out": {"frames": len(v_fine), "chunk_seeds": held_seeds, "evaluator": "pycocotools COCOeval, AP at IoU 0.5",
                     "decoding": "yolo_head, class score >= 0.01, per-class NMS IoU 0.5, <= 100 boxes per frame",
                     "all_objects": every, "min_area_px2": MIN_AREA, "objects_min_area": large,
                     "first_16_frames": first},
        "history": history,
        "continued_from": None if earlier is None else {"train": earlier.get("train"), "history": earlier.get("history")},
        "weights": {"path": str(out.relative_to(ROOT)) if args.ship else str(out), "sha256": file_sha256(out),
                    "bytes": out.stat().st_size},
    }
    record_path = sd.RUN_RECORD if args.ship else args.cache / "street_detector_run.json"
    record_path.write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps({"all": every, "min_area": large}, indent=1))
    print("written", out, record_path, "sha256", record["weights"]["sha256"])


if __name__ == "__main__":
    main()
