"""Stage 1 of the week-3 street detector: train its trunk on many frames with Keras on JAX (a GPU machine, no TensorFlow); score it here.

The trunk (:func:`helpers.models.street_detector.build_trunk`) is trained here with its own 1x1
output on the 16 x 24 grid (:func:`build_coarse_head`); stage 2 (``train_street_detector.py``, on a
CPU) freezes it and trains the fine branch on the 32 x 48 grid, and ships the whole head.

On the GPU machine (needs keras, jax and numpy only; nothing of TensorFlow or pycocotools)::

    KERAS_BACKEND=jax python scripts/train_street_detector_gpu.py --out OUT --workers 12 \\
        --train-frames 16000 --time-budget-s 330

The shipped trunk came from ``scripts/gpu_week3_training.sh`` on one NVIDIA H200 (jax 0.11.2), next
to the U-Net's training: ``--workers 10 --train-frames 40000 --time-budget-s 420 --batch 64
--checkpoint-s 45``. Rendering limited it: 38,208 frames had arrived when the budget ended, after
10,227 steps (median 11 ms) and 285 s of training; held-out mAP@0.5 of the coarse head 0.53 (0.70
for boxes of at least 64 px²), best at the last checkpoint (its record is the shipped record's
``first_stage``).

Here (TensorFlow + pycocotools), score the returned coarse head on the 320 held-out frames and write
its run record (OUT/street_detector_run.json: stage 2's ``--first-stage-record``)::

    python scripts/train_street_detector_gpu.py --evaluate OUT/street_detector_head_fp16.npz

Training. Frames are rendered by a pool of worker processes (``forkserver``, started before Keras
and JAX are imported) in blocks of 64 with the block seeds of ``street_detector_features.py``:
training block c is ``make_detection_scenes(64, 11 * 1000 + c)``, held-out block c is seed 12000 + c (the
frames ``--evaluate`` scores; here only their loss is followed). Each frame is used as rendered and
mirrored left-right (image and boxes). The frozen backbone's features of every frame and its mirror
are computed once on the device as blocks arrive and kept in host memory as float16 (147 KB per
frame and orientation); training starts with the first block and draws each batch uniformly from
what has arrived so far, while the workers keep rendering. The coarse head (:func:`build_coarse_head`:
the trunk, with the names the shipped head gives its layers, and a 1x1 output on the 16 x 24 grid)
is trained with the YOLOv2 loss in keras.ops
(:func:`packed_yolo_loss`) by ``train_on_batch``; Adam (optionally AdamW), learning rate set every
step: linear warm-up, then a cosine to ``lr * lr_floor`` over the run's progress, which is
max(steps / (epochs * steps per epoch), seconds / time budget), so a run cut by its time budget
still ends its schedule. An "epoch" is train_frames // batch steps (history's epochs are fractions
of that). Every --checkpoint-s seconds the head is written to OUT/checkpoints/step_<s>.npz and its
held-out loss recorded; at the end (time budget
or epochs reached) OUT/street_detector_head_fp16.npz (the last head), OUT/head_best_held_out_loss.npz
and OUT/gpu_run.json. The weight files have the shipped file's format (``head_arrays``: float16 layer
weights keyed ``<layer>/<i>`` plus the anchors), so ``load_head_weights(build_coarse_head(), path, sha256=None)``
reads them, and ``load_head_weights(build_trunk(), path, sha256=None)`` their trunk.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:           # helpers, also in the rendering workers (which import this file)
    sys.path.insert(0, str(ROOT))
TRAIN_SEED, HELD_OUT_SEED = 11, 12
BLOCK = 64
HELD_OUT_BLOCKS = 5        # 320 frames, the ones --evaluate scores


def _render_block(task):
    """Worker: one block of 64 frames -> (kind, block, images uint8, targets (2, 64, ...), truths (2, 64, K, 4),
    box count, boxes per class); index 0 of the targets is the frames as rendered, 1 mirrored."""
    kind, block, seed, anchors = task
    from helpers.data import street
    from helpers.models import street_detector as sd

    started = time.time()
    height, width, _ = sd.INPUT_SHAPE
    images, boxes, labels = street.make_detection_scenes(BLOCK, seed, height, width)
    targets, truths = [], []
    for flip in (False, True):
        pairs = [sd.yolo_targets(sd.flip_boxes(b, width) if flip else b, c, anchors, sd.COARSE_GRID, sd.COARSE_STRIDE)
                 for b, c in zip(boxes, labels)]
        targets.append(np.stack([t for t, _ in pairs]))
        truths.append(np.stack([u for _, u in pairs]))
    per_class = np.bincount(np.concatenate(labels), minlength=sd.NUM_CLASSES)
    return (kind, block, images, np.stack(targets), np.stack(truths), int(per_class.sum()), per_class.tolist(),
            time.time() - started)


def _first_stage_anchors():
    """The shipped trunk's anchors (cells of the 16 x 24 grid), from the shipped record's first_stage."""
    from helpers.models import street_detector as sd

    return np.asarray(sd.read_run_record()["first_stage"]["anchors_cells"], np.float32)


def train(args):
    import multiprocessing

    from helpers.models import street_detector as sd

    started = time.time()
    anchors = _first_stage_anchors()
    blocks = args.train_frames // BLOCK
    if not 1 <= blocks < 1000:          # block seed 11000 + 1000 would be the first held-out block
        raise SystemExit(f"--train-frames must be between {BLOCK} and {999 * BLOCK}")
    # the pool forks from a process that has not imported Keras or JAX (forkserver: later workers too)
    pool = multiprocessing.get_context("forkserver").Pool(args.workers)
    pending = [pool.apply_async(_render_block, (("held_out", c, HELD_OUT_SEED * 1000 + c, anchors),))
               for c in range(args.held_out_blocks)]
    pending += [pool.apply_async(_render_block, (("train", c, TRAIN_SEED * 1000 + c, anchors),)) for c in range(blocks)]
    pool.close()

    from helpers.backend import KERAS_BACKEND, device_summary, keras

    keras.utils.set_random_seed(args.seed)
    device = device_summary()
    print(device, flush=True)
    backbone = sd.feature_extractor(sd.COARSE_LAYERS)
    head = sd.build_coarse_head()
    if args.init:
        if not np.allclose(sd.load_head_weights(head, args.init, sha256=None), anchors, atol=1e-3):
            raise SystemExit(f"{args.init} was trained with other anchors")
    if args.weight_decay > 0:
        optimizer = keras.optimizers.AdamW(args.lr, weight_decay=args.weight_decay)
    else:
        optimizer = keras.optimizers.Adam(args.lr)
    head.compile(optimizer=optimizer, loss=sd.packed_yolo_loss(anchors, sd.COARSE_GRID))

    rows = 2 * blocks * BLOCK                 # every frame as rendered and mirrored
    fine = np.zeros((rows, *sd.COARSE_GRID, 112), np.float16)
    coarse = np.zeros((rows, sd.COARSE_GRID[0] // 2, sd.COARSE_GRID[1] // 2, 320), np.float16)
    packed = np.zeros((rows, np.prod(sd.COARSE_GRID) * len(anchors) * 6 + sd.MAX_TRUE_BOXES * 4), np.float32)
    held_out = {"fine": [], "coarse": [], "packed": []}
    state = {"rows": 0, "frames": 0, "boxes": 0, "per_class": np.zeros(sd.NUM_CLASSES, int), "render_s": 0.0,
             "feature_s": 0.0, "blocks_in": 0, "first_block_at": None}

    def features(images, mirrored=True):
        both = np.concatenate([images, images[:, :, ::-1]]) if mirrored else images
        f, c = backbone.predict_on_batch(both.astype(np.float32))
        return np.asarray(f, np.float16), np.asarray(c, np.float16)

    def absorb(result):
        kind, block, images, target, truth, n_boxes, per_class, render_s = result
        t0 = time.time()
        f, c = features(images, mirrored=kind == "train")
        state["feature_s"] += time.time() - t0
        state["render_s"] += render_s
        y = sd.pack_targets(target.reshape(-1, *target.shape[2:]), truth.reshape(-1, *truth.shape[2:]))
        if kind == "held_out":                 # the held-out frames as rendered only
            held_out["fine"].append(f[:BLOCK])
            held_out["coarse"].append(c[:BLOCK])
            held_out["packed"].append(y[:BLOCK])
            return
        r = state["rows"]
        fine[r:r + 2 * BLOCK], coarse[r:r + 2 * BLOCK], packed[r:r + 2 * BLOCK] = f, c, y
        state["rows"] += 2 * BLOCK
        state["frames"] += BLOCK
        state["boxes"] += n_boxes
        state["per_class"] += per_class
        state["blocks_in"] += 1
        if state["first_block_at"] is None:
            state["first_block_at"] = time.time() - started

    def absorb_ready(wait=False):
        while pending and (pending[0].ready() or wait):
            absorb(pending.pop(0).get())
            wait = False

    def held_out_loss():
        f, c, y = (np.concatenate(held_out[k]) for k in ("fine", "coarse", "packed"))
        losses = [float(np.asarray(head.test_on_batch([f[i:i + args.batch], c[i:i + args.batch]], y[i:i + args.batch])))
                  for i in range(0, len(f), args.batch)]
        return float(np.mean(losses))

    while len(held_out["fine"]) < args.held_out_blocks or state["rows"] == 0:
        absorb_ready(wait=True)
    print(f"first blocks in after {time.time() - started:.1f} s", flush=True)

    steps_per_epoch = max(1, args.train_frames // args.batch)
    total_steps = args.epochs * steps_per_epoch
    deadline = started + args.time_budget_s - args.reserve_s
    train_started = time.time()
    rng = np.random.default_rng(args.seed)
    out = Path(args.out)
    (out / "checkpoints").mkdir(parents=True, exist_ok=True)
    history, losses, step, best = [], [], 0, (np.inf, None)
    step_times, stop = [], None
    next_checkpoint = time.time() + args.checkpoint_s
    def checkpoint(lr):
        nonlocal best
        path = out / "checkpoints" / f"step_{step:06d}.npz"
        np.savez_compressed(path, **sd.head_arrays(head, anchors))
        entry = {"epoch": round(step / steps_per_epoch, 2), "step": step,
                 "loss": round(float(np.mean(losses)), 4) if losses else None,
                 "held_out_loss": round(held_out_loss(), 4), "learning_rate": float(f"{lr:.3g}"),
                 "frames_available": state["frames"], "seconds": round(time.time() - started, 1),
                 "checkpoint": str(path.relative_to(out))}
        if entry["held_out_loss"] < best[0]:
            best = (entry["held_out_loss"], entry["epoch"])
            np.savez_compressed(out / "head_best_held_out_loss.npz", **sd.head_arrays(head, anchors))
        history.append(entry)
        losses.clear()
        print(json.dumps(entry), flush=True)

    def terminated(signum, frame):             # only a flag: raising here could leave JAX holding a lock
        state["signal"] = signum

    signal.signal(signal.SIGTERM, terminated)      # a terminated run still writes its head and record
    signal.signal(signal.SIGINT, terminated)
    lr = args.lr
    try:
        while stop is None:
            absorb_ready()
            progress = max(step / total_steps, (time.time() - train_started) / max(deadline - train_started, 1e-9))
            if step < args.warmup_steps:
                lr = args.lr * (step + 1) / args.warmup_steps
            else:
                lr = args.lr * (args.lr_floor + (1 - args.lr_floor) * 0.5 * (1 + np.cos(np.pi * min(progress, 1.0))))
            optimizer.learning_rate = lr
            idx = np.sort(rng.choice(state["rows"], args.batch, replace=state["rows"] < args.batch))
            t0 = time.time()
            loss = head.train_on_batch([fine[idx], coarse[idx]], packed[idx])     # float16: cast on the device
            losses.append(float(np.asarray(loss)))
            step_times.append(time.time() - t0)
            step += 1
            if step >= total_steps:
                stop = "epochs"
            elif state.get("signal"):
                stop = f"signal {state['signal']}"
            elif time.time() >= deadline:
                stop = "time budget"
            if stop is not None or time.time() >= next_checkpoint:
                next_checkpoint = time.time() + args.checkpoint_s
                checkpoint(lr)
            if step in (5, 20, 200, 2000):
                print(f"step {step}: {np.median(step_times[-10:]) * 1000:.1f} ms per step (batch {args.batch}), "
                      f"{state['frames']} frames in", flush=True)
    except Exception as error:                  # keep what was trained
        stop = f"error: {error!r}"
        print(stop, flush=True)
        if step and (not history or history[-1]["step"] != step):
            checkpoint(lr)
    pool.terminate()

    weights = out / "street_detector_head_fp16.npz"
    np.savez_compressed(weights, **sd.head_arrays(head, anchors))
    from helpers.models.npz_weights import file_sha256

    record = {
        "script": "scripts/train_street_detector_gpu.py", "args": vars(args) | {"out": str(args.out), "init": str(args.init)},
        "device": device, "keras": keras.__version__, "backend": KERAS_BACKEND, "python": platform.python_version(),
        "anchors_cells": np.round(anchors, 4).tolist(), "anchors_from": "the shipped trunk's (k-means on the first 3,072 frames)",
        "frames_used": state["frames"], "train_rows": state["rows"], "boxes": state["boxes"],
        "boxes_per_class": dict(zip(sd.CLASS_NAMES, state["per_class"].tolist())),
        "chunk_seeds": [TRAIN_SEED * 1000, TRAIN_SEED * 1000 + state["blocks_in"] - 1],
        "held_out_chunk_seeds": [HELD_OUT_SEED * 1000 + c for c in range(args.held_out_blocks)],
        "steps": step, "steps_per_epoch": steps_per_epoch, "epochs_done": round(step / steps_per_epoch, 2), "stopped_by": stop,
        "best_held_out_loss": {"loss": best[0], "epoch": best[1]},
        "seconds": {"total": round(time.time() - started, 1), "training": round(time.time() - train_started, 1),
                    "first_block": round(state["first_block_at"], 1),
                    "render_cpu_per_frame": round(state["render_s"] / max(1, state["frames"] + args.held_out_blocks * BLOCK), 4),
                    "features_device": round(state["feature_s"], 1),
                    "median_step": round(float(np.median(step_times[3:] or step_times)), 5)},
        "history": history,
        "weights": {"path": weights.name, "sha256": file_sha256(weights), "bytes": weights.stat().st_size},
    }
    (out / "gpu_run.json").write_text(json.dumps(record, indent=1) + "\n")
    print(f"stopped by {stop} after {step} steps, {state['frames']} frames; written {weights} and gpu_run.json", flush=True)


def evaluate_mode(args):
    """Score a coarse head (and the checkpoints of its run) on the held-out frames with COCOeval; write its record."""
    from helpers.models import street_detector as sd
    from helpers.models.npz_weights import file_sha256

    weights = Path(args.evaluate)
    folder = weights.parent
    backbone = sd.feature_extractor(sd.COARSE_LAYERS)   # render the held-out frames and compute their features here
    held_seeds = [HELD_OUT_SEED * 1000 + c for c in range(HELD_OUT_BLOCKS)]
    blocks = [sd.block_features(backbone, BLOCK, seed) for seed in held_seeds]
    v_fine, v_coarse = (np.concatenate([b[0][i] for b in blocks]) for i in (0, 1))
    v_boxes, v_labels = [x for b in blocks for x in b[1]], [x for b in blocks for x in b[2]]

    def score(path):
        """(head, anchors, (all objects, objects >= 64 px²), first 16 frames' scores) of a coarse head file."""
        head = sd.build_coarse_head()
        anchors = sd.load_head_weights(head, path, sha256=None)

        def predict(start, stop):
            return head([v_fine[start:stop].astype(np.float32), v_coarse[start:stop].astype(np.float32)], training=False)

        every, large = sd.held_out_scores(predict, v_boxes, v_labels, anchors)
        first = sd.coco_average_precision(v_boxes[:16], v_labels[:16],
                                          sd.detect(predict(0, 16), anchors, sd.INPUT_SHAPE[:2]))
        return head, anchors, (every, large), first

    run_path = folder / "gpu_run.json"
    run = json.loads(run_path.read_text()) if run_path.exists() else None
    history = []
    for entry in (run or {}).get("history", []):
        entry = dict(entry)
        checkpoint = folder / entry.get("checkpoint", "")
        if checkpoint.is_file() and not args.skip_checkpoints:
            _, _, (every, large), _ = score(checkpoint)
            entry["held_out_mAP50"] = round(every["mAP"], 4)
            entry["held_out_mAP50_min_area"] = round(large["mAP"], 4)
            entry["per_class"] = {k: None if v is None else round(v, 3) for k, v in every["per_class"].items()}
            print(json.dumps(entry), flush=True)
        history.append(entry)
    head, anchors, (every, large), first = score(weights)
    print(json.dumps({"all": every["mAP"], "min_area": large["mAP"], "per_class": every["per_class"]}), flush=True)
    record_path = args.record or folder / "street_detector_run.json"
    if run is None:                       # a head without a GPU run record: scores only
        record_path.write_text(json.dumps({"all_objects": every, "objects_min_area": large, "first_16_frames": first},
                                          indent=1) + "\n")
        print("written", record_path)
        return
    a = run["args"]
    shipped = sd.read_run_record()["first_stage"]     # the anchors are the shipped trunk's: so is their k-means IoU
    same_anchors = np.allclose(shipped["anchors_cells"], anchors, atol=1e-4)
    record = {
        "what": "stage 1: the trunk and an output on the 16 x 24 grid, on a frozen EfficientNet-Lite0 (ImageNet), "
                "trained on generated street scenes",
        "script": "scripts/train_street_detector_gpu.py",
        "input_shape": list(sd.INPUT_SHAPE), "grid": list(sd.COARSE_GRID), "stride": sd.COARSE_STRIDE,
        "backbone_layers": list(sd.COARSE_LAYERS), "classes": list(sd.CLASS_NAMES),
        "anchors_cells": np.round(anchors, 4).tolist(),
        "anchor_mean_iou": shipped["anchor_mean_iou"] if same_anchors else None,
        "train": {"frames": run["frames_used"], "boxes": run["boxes"], "chunk_seeds": run["chunk_seeds"],
                  "boxes_per_class": run["boxes_per_class"], "mirrored": True,
                  "epochs": run["epochs_done"], "steps": run["steps"], "steps_per_epoch": run["steps_per_epoch"],
                  "batch": a["batch"], "learning_rate": a["lr"], "seed": a["seed"],
                  "head_parameters": int(head.count_params()), "seconds": run["seconds"]["training"],
                  "machine": run["device"], "stopped_by": run["stopped_by"], "gpu_run": run},
        "held_out": {"frames": len(v_boxes), "chunk_seeds": held_seeds, "evaluator": "pycocotools COCOeval, AP at IoU 0.5",
                     "decoding": "yolo_head, class score >= 0.01, per-class NMS IoU 0.5, <= 100 boxes per frame",
                     "all_objects": every, "min_area_px2": sd.MIN_AREA_PX2, "objects_min_area": large,
                     "first_16_frames": first},
        "history": history,
        "weights": {"path": str(weights), "sha256": file_sha256(weights), "bytes": weights.stat().st_size},
    }
    record_path.write_text(json.dumps(record, indent=1) + "\n")
    print("written", record_path, "; stage 2: street_detector_features.py --first-stage", weights,
          "then train_street_detector.py ... --ship ... --first-stage", weights, "--first-stage-record", record_path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="training: folder for the weights, checkpoints and gpu_run.json")
    parser.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 2))
    parser.add_argument("--train-frames", type=int, default=16000, help="frames to render (multiple of 64)")
    parser.add_argument("--time-budget-s", type=float, default=330.0, help="whole run, rendering and compiling included")
    parser.add_argument("--reserve-s", type=float, default=5.0, help="stop training this long before the budget ends")
    parser.add_argument("--epochs", type=int, default=1000,
                        help="at most (the time budget usually ends the run first); an epoch is train_frames // batch steps")
    parser.add_argument("--checkpoint-s", type=float, default=30.0,
                        help="every this many seconds (and at the end): checkpoint, held-out loss, a history entry")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--lr-floor", type=float, default=0.02, help="final learning rate as a fraction of --lr")
    parser.add_argument("--warmup-steps", type=int, default=200)
    parser.add_argument("--weight-decay", type=float, default=0.0, help="> 0: AdamW with this decay")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--held-out-blocks", type=int, default=HELD_OUT_BLOCKS, help="blocks of 64 held-out frames whose loss is followed")
    parser.add_argument("--init", type=Path, default=None, help="start from this coarse head npz (same anchors)")
    parser.add_argument("--evaluate", type=Path, default=None, help="score this coarse head npz here (TensorFlow, pycocotools)")
    parser.add_argument("--record", type=Path, default=None,
                        help="--evaluate: write the stage-1 record (or, for a head without gpu_run.json, its scores) "
                             "here (default: street_detector_run.json next to the head)")
    parser.add_argument("--skip-checkpoints", action="store_true", help="--evaluate: score only the final head")
    args = parser.parse_args()
    if args.evaluate is not None:
        evaluate_mode(args)
    elif args.out is None:
        parser.error("--out is required for training")
    else:
        train(args)


if __name__ == "__main__":
    main()
