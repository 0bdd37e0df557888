"""Stage 2 of the week-3 street detector: train its fine branch (strides 4 and 8) on cached features; ship the whole head.

    python scripts/street_detector_features.py CACHE --seed 12 --frames 320 --mirror        # held out
    python scripts/street_detector_features.py CACHE --seed 11 --frames 12800 --mirror      # training
    python scripts/train_street_detector.py CACHE --out RUN --steps 7000
    python scripts/train_street_detector.py CACHE --ship RUN/checkpoints/step_07000.npz \\
        --first-stage STAGE1.npz --first-stage-record STAGE1.json

Stage 1 (``train_street_detector_gpu.py``, on a GPU) trained the trunk with an output on a 16 x 24
grid. Here the trunk and the backbone stay frozen (their outputs are cached by
``street_detector_features.py``), and only the fine branch
(:func:`helpers.models.street_detector.build_fine_branch`: the stride-4 and stride-8 maps and the
upsampled trunk, two 3x3 convolutions, the output on a 32 x 48 grid) is trained, with the YOLOv2
loss (:func:`helpers.models.street_detector.yolo_loss`, with its 1 - GIoU term weighted
``--giou-scale``) and Adam with a cosine learning-rate schedule (to 2% of ``--lr``). Batches of
``--batch`` frame views (a frame as rendered or mirrored) are drawn at random without replacement
within a batch (``default_rng(--seed)``), their targets made as they are drawn. Anchors:
k-means (1 - IoU, seed 0) on the training boxes, in 8-pixel cells. Every ``--eval-every`` steps the 320
held-out frames (seed 12) are scored with pycocotools' COCOeval (AP at IoU 0.5 per class and their
mean, after ``yolo_head`` and per-class non-max suppression, score >= 0.01, at most 100 boxes per
frame) and the fine branch is written to RUN/checkpoints/step_<s>.npz; RUN/history.json holds the
anchors, every step's loss and the scores.

The GIoU term's weight, measured (60 blocks = 7,680 views, 1,000 steps of 32, same seed and batches,
2 CPU cores): held-out mAP@0.5 0.642 with ``--giou-scale 0``, 0.683 with 2, 0.700 with 4 (traffic
light 0.38 -> 0.45 -> 0.48, traffic sign 0.53 -> 0.59 -> 0.61, pedestrian 0.62 -> 0.67 -> 0.70); on
all 25,600 views for 7,000 steps, 0.788 with 2 and 0.808 with 4 (one pass each). The default is 4.

``--ship`` joins a checkpoint's fine branch with stage 1's trunk (``--first-stage``) into one head
(float16), scores it on the held-out frames, in one pass and with the raw outputs of each frame and
of its mirror image averaged (``mirror_average``, what ``load_street_detector`` does by default;
this needs the held-out cache with ``--mirror``), and writes
``helpers/models/weights/street_detector_head_fp16.npz`` and ``helpers/models/street_detector_run.json``
(with stage 1's record, ``--first-stage-record``, inside as ``first_stage``; its SHA-256 goes into
street_detector.py by hand). Without ``--first-stage-record`` the shipped record's ``first_stage`` is kept.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "scripts"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
TRAIN_SEED, HELD_OUT_SEED = 11, 12


def chunk_files(folder, seed, max_chunks=None):
    """The cached chunk files of one seed, in chunk order (not *.partial.npz), at most ``max_chunks``."""
    return sorted(Path(folder).glob(f"seed{seed}_[0-9][0-9][0-9].npz"))[:max_chunks]


def _chunk_boxes(z):
    splits = np.cumsum(z["counts"])[:-1]
    return np.split(z["boxes"], splits), np.split(z["labels"], splits)


def load_chunks(folder, seed, views=None, max_chunks=None):
    """The cached chunks of one seed (the first ``max_chunks``), every view of a chunk after the other
    (as rendered, then mirrored): (inputs of the fine branch [stride4 (M, 64, 96, 24), stride8
    (M, 32, 48, 40), trunk (M, 16, 24, 96)] float16, boxes: M arrays (k, 4), labels: M arrays (k,),
    chunk seeds); ``views=1`` reads the frames as rendered only. The arrays are filled in place
    (the 12,800 training frames and their mirrors take 12.6 GB)."""
    from street_detector_features import ARRAYS, CHUNK

    from helpers.models import street_detector as sd

    paths = chunk_files(folder, seed, max_chunks)
    if not paths:
        raise SystemExit(f"no cached features for seed {seed} in {folder}: run street_detector_features.py first")
    with np.load(paths[0]) as z:
        shapes = {name: z[name].shape for name in ARRAYS}
    per_chunk = shapes[ARRAYS[0]][0] if views is None else views
    inputs = [np.empty((len(paths) * per_chunk * CHUNK, *shapes[name][2:]), np.float16) for name in ARRAYS]
    boxes, labels, seeds, row = [], [], [], 0
    for path in paths:
        with np.load(path) as z:
            chunk_boxes, chunk_labels = _chunk_boxes(z)
            for name, array in zip(ARRAYS, inputs):
                data = z[name]
                if data.shape[0] < per_chunk or data.shape[1] != CHUNK:
                    raise SystemExit(f"{path}: {name} has shape {data.shape}, expected ({per_chunk}, {CHUNK}, ...)")
                array[row:row + per_chunk * CHUNK] = data[:per_chunk].reshape(-1, *data.shape[2:])
            for view in range(per_chunk):
                boxes += chunk_boxes if view == 0 else [sd.flip_boxes(b) for b in chunk_boxes]
                labels += chunk_labels
        row += per_chunk * CHUNK
        seeds.append(seed * 1000 + int(path.stem.split("_")[1]))
    return inputs, boxes, labels, seeds


def load_boxes(folder, seed):
    """The boxes and labels of the cached frames of one seed, as rendered: (boxes list, labels list)."""
    boxes, labels = [], []
    for path in chunk_files(folder, seed):
        with np.load(path) as z:
            chunk_boxes, chunk_labels = _chunk_boxes(z)
        boxes += chunk_boxes
        labels += chunk_labels
    return boxes, labels


def load_held_out(folder):
    """The held-out frames' cached inputs as rendered and mirrored (each in frame order), their boxes
    and labels (as rendered) and chunk seeds; the held-out cache must hold both views (``--mirror``)."""
    from street_detector_features import CHUNK

    inputs, boxes, labels, seeds = load_chunks(folder, HELD_OUT_SEED)
    if len(boxes) != 2 * CHUNK * len(seeds):
        raise SystemExit(f"the held-out features in {folder} have no mirrored view: run street_detector_features.py "
                         f"{folder} --seed {HELD_OUT_SEED} --frames {CHUNK * len(seeds)} --mirror (after removing them)")
    order = np.arange(len(boxes)).reshape(len(seeds), 2, CHUNK)
    plain, mirrored = order[:, 0].ravel(), order[:, 1].ravel()
    return ([a[plain] for a in inputs], [a[mirrored] for a in inputs], [boxes[i] for i in plain],
            [labels[i] for i in plain], seeds)


def rows(inputs, index):
    """The fine branch's inputs at ``index`` (a slice or indices) as float32."""
    return [array[index].astype(np.float32) for array in inputs]


def scores(branch, inputs, boxes, labels, anchors):
    """COCOeval AP@0.5 of the fine branch on cached features (``inputs`` as load_chunks returns them):
    (all objects, objects >= 64 px²)."""
    from helpers.models import street_detector as sd

    def predict(start, stop):
        return branch(rows(inputs, slice(start, stop)), training=False)

    return sd.held_out_scores(predict, boxes, labels, anchors)


def raw_outputs(branch, inputs, batch=64):
    """The fine branch's raw output (M, 32, 48, 50) float32 for all M frames of ``inputs``."""
    return np.concatenate([np.asarray(branch(rows(inputs, slice(start, start + batch)), training=False))
                           for start in range(0, len(inputs[0]), batch)])


def fit_anchors(boxes):
    from helpers.models import street_detector as sd

    wh = np.concatenate([b[:, 2:] - b[:, :2] for b in boxes]) / sd.STRIDE
    anchors, _, mean_iou = sd.kmeans_anchors(np.maximum(wh, 1.0 / sd.STRIDE), sd.NUM_ANCHORS, seed=0)
    return anchors, mean_iou


def train(args):
    from helpers.backend import device_summary, keras, tf
    from helpers.models import street_detector as sd

    keras.utils.set_random_seed(args.seed)
    inputs, boxes, labels, train_seeds = load_chunks(args.cache, TRAIN_SEED, max_chunks=args.blocks)
    held_inputs, vboxes, vlabels, _ = load_chunks(args.cache, HELD_OUT_SEED, views=1)
    anchors, anchor_iou = fit_anchors(boxes)
    print(f"{len(boxes)} training views, {len(vboxes)} held-out frames; anchors (cells) "
          f"{np.round(anchors, 3).tolist()}, mean IoU {anchor_iou:.3f}", flush=True)
    branch = sd.build_fine_branch()
    optimizer = keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(args.lr, args.steps, alpha=0.02))

    @tf.function
    def step(x, target, truth):
        with tf.GradientTape() as tape:
            loss = sd.yolo_loss(branch(x, training=True), target, truth, anchors, giou_scale=args.giou_scale)
        grads = tape.gradient(loss, branch.trainable_variables)
        optimizer.apply_gradients(zip(grads, branch.trainable_variables))
        return loss

    out = Path(args.out)
    (out / "checkpoints").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    started, losses, history = time.time(), [], []
    for i in range(1, args.steps + 1):
        idx = np.sort(rng.choice(len(boxes), args.batch, replace=False))
        pairs = [sd.yolo_targets(boxes[j], labels[j], anchors) for j in idx]
        losses.append(float(step(rows(inputs, idx), np.stack([t for t, _ in pairs]), np.stack([u for _, u in pairs]))))
        if i % args.eval_every == 0 or i == args.steps:
            every, large = scores(branch, held_inputs, vboxes, vlabels, anchors)
            path = out / "checkpoints" / f"step_{i:05d}.npz"
            np.savez(path, **sd.head_arrays(branch, anchors))
            history.append({"step": i, "loss": round(float(np.mean(losses[-200:])), 4),
                            "seconds": round(time.time() - started, 1), "held_out_mAP50": round(every["mAP"], 4),
                            "held_out_mAP50_min_area": round(large["mAP"], 4),
                            "per_class": {k: round(v, 3) for k, v in every["per_class"].items()},
                            "checkpoint": str(path.relative_to(out))})
            print(json.dumps(history[-1]), flush=True)
            (out / "history.json").write_text(json.dumps({
                "args": vars(args) | {"cache": str(args.cache), "out": str(args.out)},
                "machine": f"{device_summary()}, {platform.machine()}", "anchors": anchors.tolist(),
                "anchor_iou": anchor_iou, "train_views": len(boxes), "chunk_seeds": [train_seeds[0], train_seeds[-1]],
                "trained_parameters": int(branch.count_params()), "losses": losses, "history": history}))


def ship(args):
    from helpers.models import street_detector as sd
    from helpers.models.npz_weights import file_sha256

    run_folder = args.ship.parent.parent
    run = json.loads((run_folder / "history.json").read_text())
    if args.first_stage_record is not None:
        first_stage = json.loads(args.first_stage_record.read_text())
    else:
        first_stage = sd.read_run_record().get("first_stage")
        if first_stage is None:
            raise SystemExit("--first-stage-record is needed: the shipped record has no first_stage")
    held_inputs, held_mirrored, vboxes, vlabels, held_seeds = load_held_out(args.cache)   # before writing
    branch = sd.build_fine_branch()
    anchors = sd.load_head_weights(branch, args.ship, sha256=None)
    if not np.allclose(anchors, run["anchors"], atol=1e-4):
        raise SystemExit(f"{args.ship} has other anchors than its run's history.json")
    trunk = sd.build_trunk()
    sd.load_head_weights(trunk, args.first_stage, sha256=None)
    arrays = {**sd.head_arrays(trunk, anchors), **sd.head_arrays(branch, anchors)}
    out = sd.WEIGHTS_PATH if args.write_repo else run_folder / "street_detector_head_fp16.npz"
    np.savez_compressed(out, **arrays)

    # score the float16 head that is shipped, as the notebook and the tests load it
    head = sd.build_head()
    anchors = sd.load_head_weights(head, out, sha256=None)
    shipped_branch = sd.build_fine_branch()
    sd.load_head_weights(shipped_branch, out, sha256=None)
    boxes, labels = load_boxes(args.cache, TRAIN_SEED)
    # each view through the branch once; one pass and the mirror average (load_street_detector's default),
    # on all held-out frames and on the first 16 (the notebook recomputes those)
    once = raw_outputs(shipped_branch, held_inputs)
    averaged = np.asarray(sd.mirror_average(once, raw_outputs(shipped_branch, held_mirrored)))

    def score(raw, frames=None):
        return sd.held_out_scores(lambda start, stop: raw[start:stop], vboxes[:frames], vlabels[:frames], anchors)

    (every, large), (first, _) = score(once), score(once, 16)
    both, (both_first, _) = score(averaged), score(averaged, 16)
    a = run["args"]
    record = {
        "what": "YOLOv2-style head on a frozen EfficientNet-Lite0 (ImageNet), trained on generated street scenes in two stages",
        "script": "scripts/train_street_detector.py",
        "input_shape": list(sd.INPUT_SHAPE), "grid": list(sd.GRID_SHAPE), "stride": sd.STRIDE,
        "backbone_layers": list(sd.FEATURE_LAYERS), "classes": list(sd.CLASS_NAMES),
        "anchors_cells": np.round(anchors, 4).tolist(), "anchor_mean_iou": round(run["anchor_iou"], 4),
        "train": {"frames": len(boxes), "boxes": int(sum(len(b) for b in boxes)), "chunk_seeds": run["chunk_seeds"],
                  "boxes_per_class": {n: int(sum(np.sum(c == k) for c in labels)) for k, n in enumerate(sd.CLASS_NAMES)},
                  "mirrored": run["train_views"] == 2 * len(boxes), "views": run["train_views"],
                  "steps": a["steps"], "batch": a["batch"], "learning_rate": a["lr"], "seed": a["seed"],
                  "giou_scale": a.get("giou_scale", 0.0),
                  "head_parameters": int(head.count_params()), "trained_parameters": run["trained_parameters"],
                  "seconds": run["history"][-1]["seconds"], "machine": run["machine"]},
        "held_out": {"frames": len(vboxes), "chunk_seeds": held_seeds, "evaluator": "pycocotools COCOeval, AP at IoU 0.5",
                     "decoding": "yolo_head, class score >= 0.01, per-class NMS IoU 0.5, <= 100 boxes per frame",
                     "all_objects": every, "min_area_px2": sd.MIN_AREA_PX2, "objects_min_area": large,
                     "first_16_frames": first,
                     "mirror_averaged": {"what": "raw outputs of the frame and of its mirror image averaged (mirror_average), "
                                                 "as load_street_detector() does by default",
                                         "all_objects": both[0], "objects_min_area": both[1],
                                         "first_16_frames": both_first}},
        "history": run["history"],
        "first_stage": first_stage,
        "weights": {"path": str(out.relative_to(ROOT)) if args.write_repo else str(out), "sha256": file_sha256(out),
                    "bytes": out.stat().st_size},
    }
    record_path = sd.RUN_RECORD if args.write_repo else run_folder / "street_detector_run.json"
    record_path.write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps({"all": every, "min_area": large, "mirror_averaged": both[0]["mAP"]}, indent=1))
    print("written", out, record_path, "sha256", record["weights"]["sha256"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cache", type=Path, help="folder written by street_detector_features.py")
    parser.add_argument("--out", type=Path, help="training: folder for checkpoints/ and history.json")
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--blocks", type=int, default=None, help="train on the first BLOCKS cached chunks of 64 frames (default: all)")
    parser.add_argument("--giou-scale", type=float, default=4.0, help="weight of yolo_loss's 1 - GIoU term (0: none)")
    parser.add_argument("--eval-every", type=int, default=1000)
    parser.add_argument("--ship", type=Path, default=None, help="a checkpoint of a run: join it with --first-stage and score it")
    parser.add_argument("--first-stage", type=Path, default=None,
                        help="--ship: head npz with stage 1's trunk (default: the shipped head, whose trunk is stage 1's)")
    parser.add_argument("--first-stage-record", type=Path, default=None, help="--ship: stage 1's run record (JSON)")
    parser.add_argument("--write-repo", action="store_true",
                        help="--ship: write into helpers/models (default: next to the run's history.json)")
    args = parser.parse_args()
    if args.ship is not None:
        ship(args)
    elif args.out is None:
        parser.error("--out is required for training")
    else:
        train(args)


if __name__ == "__main__":
    main()
