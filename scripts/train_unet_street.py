"""Train the reference U-Net on the generated street scenes; keep the best checkpoint and a run record.

The shipped weights come from two runs on one NVIDIA H200 with Keras on its JAX backend (the GPU
machine had no TensorFlow; ``scripts/gpu_week3_training.sh`` installs keras from wheels and runs
stage 1 next to the detector's training)::

    # stage 1 (in gpu_week3_training.sh, UNET_SECONDS=440): 26 epochs, best mean IoU 0.773 at epoch 6
    KERAS_BACKEND=jax python scripts/train_unet_street.py --n-filters 32 --train-frames 16000 \
        --heldout-frames 160 --workers 6 --batch-size 32 --learning-rate 1e-3 --epochs 60 --time-budget-s 440
    # stage 2 (STAGE=2 gpu_week3_training.sh), from stage 1's best weights: 15 epochs, best mean
    # IoU 0.850 at epoch 12 (shipped)
    KERAS_BACKEND=jax python scripts/train_unet_street.py --n-filters 32 --train-frames 24000 \
        --heldout-frames 160 --workers 16 --batch-size 32 --learning-rate 3e-4 --warmup-epochs 0.2 \
        --epochs 40 --time-budget-s 285 --init STAGE1/unet_street_fp16.npz \
        --first-stage-record STAGE1/unet_street_run.json

On the 160 held-out frames the shipped weights reach pixel accuracy 0.982 and mean IoU 0.850 (the
thin classes 0.63-0.79), the same with TensorFlow on a CPU. Training ran at about 1,400-1,800 frames
a second (17-22 ms per step of 32). helpers/models/unet_street_run.json holds both stages.

On a CPU (TensorFlow, the default backend) the same script runs as it is; the earlier shipped model,
n_filters=16 trained 50 minutes on 2 shared cores, reached mean IoU 0.612::

    nice -n 10 env PYTHONPATH=. python scripts/train_unet_street.py --n-filters 16 --train-frames 4000 \
        --heldout-frames 160 --time-budget-s 4000 --learning-rate 2e-3 --workers 2

    PYTHONPATH=. python scripts/train_unet_street.py --time-only   # seconds per step, nothing saved

What it does
- Renders ``--train-frames`` frames with ``make_street_scenes(n, --train-seed)`` and ``--heldout-frames``
  held-out frames with another seed (``--heldout-seed``): frame i depends only on (seed, i), so the two
  sets share no frame, and neither is the notebook's own set (seed 0).
- Builds the graded architecture with the instructor reference ``unet_model(n_filters=...)`` (no batch
  norm, as in the original assignment) and trains it with Adam: a linear warm-up over the first
  ``--warmup-epochs`` to ``--learning-rate``, then a cosine to 1% of it at the last planned step.
  With ``--time-budget-s`` the number of epochs is re-planned after the second epoch (the first also
  pays for compiling; at most ``--epochs``) so that the cosine ends when the budget does. ``--init``
  starts from an earlier run's weights. Steps are Keras's ``train_on_batch`` with the learning rate
  set before each, so the script runs on any Keras backend (``KERAS_BACKEND=jax`` on a GPU machine
  without TensorFlow); frames are rendered by ``--workers`` forked processes before Keras starts.
- Loss: cross-entropy on logits weighted per class by ``(median frequency / frequency) ** power``
  (``--class-weight-power``, 0 = plain cross-entropy; Eigen & Fergus 2015's median-frequency
  balancing at power 1), clipped to [0.1, ``--max-class-weight``], frequencies counted on the
  training masks: thin classes (poles, traffic lights, signs) cover well under 1% of the pixels and
  are otherwise ignored. Random horizontal flips (``--no-flip`` turns them off).
- After each epoch: pixel accuracy, per-class IoU and mean IoU over the classes present in the
  held-out masks; the best mean IoU so far is saved (float16 ``.npz``, keys "<layer>/<index>") and the
  run record is rewritten, so a run stopped at any point (SIGTERM/SIGINT: it finishes the step,
  evaluates and writes) leaves a usable result.
- At the end the saved float16 weights are loaded into a fresh model and evaluated again; those are
  the record's ``heldout`` numbers (what ``helpers.models.unet_street.load_street_unet()`` gives).

Writes ``helpers/models/weights/unet_street_fp16.npz``, the model's Keras JSON next to it
(``unet_street_fp16_architecture.json``, layer names as keyed in the weights) and
``helpers/models/unet_street_run.json`` (``--out-weights``/``--out-record`` to write elsewhere, e.g.
during experiments).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import signal
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpers.data.street import CLASS_NAMES, N_CLASSES, make_street_scenes  # noqa: E402
from helpers.models.npz_weights import save_npz_weights  # noqa: E402
from helpers.models.unet_street import (  # noqa: E402
    RUN_PATH,
    WEIGHTS_PATH,
    architecture_path_for,
    load_street_unet,
    predict_masks,
    segmentation_scores,
)

# Keras (and TensorFlow or JAX behind it) is imported in main(), after the frames are rendered:
# the rendering processes are forked, and forking after JAX or TensorFlow has started is unsafe.

_STOP = {"requested": False}


def _request_stop(signum, frame):
    _STOP["requested"] = True


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n-filters", type=int, default=16)
    p.add_argument("--train-frames", type=int, default=3000)
    p.add_argument("--train-seed", type=int, default=1)
    p.add_argument("--heldout-frames", type=int, default=160)
    p.add_argument("--heldout-seed", type=int, default=2)
    p.add_argument("--epochs", type=int, default=20, help="planned epochs (at most; fewer with --time-budget-s)")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--learning-rate", type=float, default=2e-3)
    p.add_argument("--warmup-epochs", type=float, default=0.5)
    p.add_argument("--class-weight-power", type=float, default=0.5)
    p.add_argument("--max-class-weight", type=float, default=10.0)
    p.add_argument("--no-flip", action="store_true")
    p.add_argument("--time-budget-s", type=float, default=0.0, help="0 = no budget: run --epochs")
    p.add_argument("--seed", type=int, default=0, help="weights initialisation and shuffling")
    p.add_argument("--out-weights", default=str(WEIGHTS_PATH))
    p.add_argument("--out-record", default=str(RUN_PATH))
    p.add_argument("--time-only", action="store_true", help="time 20 steps, save nothing")
    p.add_argument("--workers", type=int, default=1, help="processes rendering the frames")
    p.add_argument("--init", default=None, help="start from these weights (.npz of an earlier run, same n_filters)")
    p.add_argument("--first-stage-record", default=None,
                   help="with --init: the run record of the run that wrote those weights, kept in this record as first_stage")
    args = p.parse_args(argv)
    for name in ("n_filters", "train_frames", "heldout_frames", "epochs", "batch_size", "workers"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.first_stage_record and not args.init:
        raise ValueError("--first-stage-record goes with --init (the weights that run wrote)")
    if args.train_seed == args.heldout_seed:
        raise ValueError("--train-seed and --heldout-seed must differ (the held-out frames must be new)")
    if not args.learning_rate > 0:
        raise ValueError(f"--learning-rate must be > 0, got {args.learning_rate}")
    return args


def class_weights(masks, power, max_weight, n_classes=N_CLASSES):
    """(n_classes,) float32 weights (median frequency / frequency) ** power over the classes present.

    masks (n, H, W) integer class ids. Absent classes get weight 0 (they have no pixels anyway);
    weights are clipped to [0.1, max_weight]. power 0 gives 1 for every present class.
    """
    counts = np.bincount(masks.reshape(-1), minlength=n_classes).astype(np.float64)
    present = counts > 0
    freq = counts / counts.sum()
    weights = np.zeros(n_classes)
    weights[present] = (np.median(freq[present]) / freq[present]) ** power
    weights[present] = np.clip(weights[present], 0.1, max_weight)
    return weights.astype(np.float32), freq


def machine_load():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def evaluate(model, images, masks, batch_size=32):
    """Pixel accuracy, per-class IoU and mean IoU of model on (images uint8, masks) -> dict."""
    return segmentation_scores(masks, predict_masks(model, images, batch_size), N_CLASSES)


def _render_block(job):
    n, seed, first = job
    scenes = make_street_scenes(n, seed, first=first)
    return scenes.images, scenes.masks


def render(n, seed, workers, block=256):
    """Images (n, 96, 128, 3) uint8 and masks (n, 96, 128) of make_street_scenes(n, seed), rendered
    in blocks of ``block`` frames by ``workers`` forked processes (the same pictures as one process)."""
    jobs = [(min(block, n - first), seed, first) for first in range(0, n, block)]
    if workers <= 1 or len(jobs) == 1:
        parts = [_render_block(job) for job in jobs]
    else:
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(workers) as pool:
            parts = pool.map(_render_block, jobs)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def batches(images, masks, batch_size, rng, flip):
    """One epoch of shuffled (x float32 (B, H, W, 3) in [0, 1], y int32 (B, H, W)) batches, each
    frame flipped left-right with probability 1/2 when ``flip``; the last partial batch is dropped."""
    order = rng.permutation(len(images))
    for start in range(0, len(order) - batch_size + 1, batch_size):
        index = np.sort(order[start:start + batch_size])
        x = images[index].astype(np.float32) / 255.0
        y = masks[index].astype(np.int32)
        if flip:
            mirror = rng.random(batch_size) < 0.5
            x[mirror] = x[mirror, :, ::-1]
            y[mirror] = y[mirror, :, ::-1]
        yield x, y


def prefetched(iterator):
    """Yield from ``iterator`` while a background thread prepares the next item (numpy releases the GIL)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(next, iterator, None)
        while True:
            item = pending.result()
            if item is None:
                return
            pending = pool.submit(next, iterator, None)
            yield item


def weighted_cross_entropy(keras, weights):
    """Loss (y_true (B, H, W) ids, logits (B, H, W, C)) -> sum(w * CE) / sum(w), w = weights[class]."""
    ops = keras.ops
    table = ops.convert_to_tensor(np.asarray(weights, np.float32))

    def loss(y_true, logits):
        labels = ops.reshape(ops.cast(y_true, "int32"), ops.shape(logits)[:-1])
        ce = keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
        w = ops.take(table, labels)
        return ops.sum(ce * w) / ops.sum(w)

    return loss


def device_description():
    """Where the training ran: processor, cores, and helpers.backend's device line (backend, accelerator)."""
    from helpers.backend import device_summary

    threads = os.environ.get("TF_NUM_INTRAOP_THREADS")
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
            + (f", TensorFlow threads intra={threads}" if threads else "") + f"; {device_summary()}")


def main(argv=None):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _request_stop)
    signal.signal(signal.SIGINT, _request_stop)
    started = time.time()

    t0 = time.time()
    x_train, y_train = render(args.train_frames, args.train_seed, args.workers)
    x_held, y_held = render(args.heldout_frames, args.heldout_seed, args.workers)
    render_s = time.time() - t0
    print(f"rendered {len(x_train)} + {len(x_held)} frames in {render_s:.0f} s ({args.workers} processes)", flush=True)

    from helpers.backend import keras, tf
    from helpers.reference.image_segmentation_unet import unet_model

    keras.utils.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    weights, freq = class_weights(y_train, args.class_weight_power, args.max_class_weight)

    model = unet_model(input_size=x_train.shape[1:], n_filters=args.n_filters, n_classes=N_CLASSES)
    if args.init:
        # the earlier run's own architecture JSON: its layer names are the weights' keys (Keras numbers
        # unnamed layers per process, so a model built here may name them differently)
        earlier = load_street_unet(args.init)
        if earlier.count_params() != model.count_params() or earlier.input_shape != model.input_shape:
            raise ValueError(f"--init {args.init}: {earlier.count_params():,} parameters for input "
                             f"{earlier.input_shape}, not the n_filters={args.n_filters} U-Net's "
                             f"{model.count_params():,} for {model.input_shape}")
        model = earlier
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=args.learning_rate),
                  loss=weighted_cross_entropy(keras, weights))
    steps_per_epoch = len(x_train) // args.batch_size
    if steps_per_epoch < 1:
        raise ValueError(f"--train-frames ({args.train_frames}) must be at least --batch-size ({args.batch_size})")
    flip = not args.no_flip

    planned_epochs = args.epochs
    warmup_steps = max(1, int(args.warmup_epochs * steps_per_epoch))

    def lr_at(step):
        total = planned_epochs * steps_per_epoch
        if step < warmup_steps:
            return args.learning_rate * (step + 1) / warmup_steps
        t = min(1.0, (step - warmup_steps) / max(1, total - warmup_steps))
        return args.learning_rate * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * t)))

    def train_step(x, y, lr):
        model.optimizer.learning_rate = lr
        return model.train_on_batch(x, y)

    if args.time_only:
        def endless():
            while True:
                yield from batches(x_train, y_train, args.batch_size, rng, flip)

        epoch = prefetched(endless())
        train_step(*next(epoch), 1e-4)
        t = time.time()
        for _ in range(20):
            train_step(*next(epoch), 1e-4)
        per_step = (time.time() - t) / 20
        print(f"n_filters={args.n_filters} batch {args.batch_size}: {per_step:.3f} s/step, "
              f"{args.batch_size / per_step:.1f} frames/s, {model.count_params():,} parameters, load {machine_load()}, "
              f"{device_description()}")
        return

    record = {
        "what": "reference unet_model trained on generated street scenes (scripts/train_unet_street.py)",
        "args": {k: v for k, v in vars(args).items() if not k.startswith("out_")},
        "n_filters": args.n_filters, "parameters": int(model.count_params()),
        "frame_size": list(x_train.shape[1:3]),
        "train": {"frames": len(x_train), "seed": args.train_seed},
        "heldout": None,
        "heldout_frames": {"frames": len(x_held), "seed": args.heldout_seed},
        "class_weights": {CLASS_NAMES[i]: round(float(weights[i]), 4) for i in np.flatnonzero(weights)},
        "train_pixel_fraction": {CLASS_NAMES[i]: round(float(freq[i]), 5) for i in np.flatnonzero(freq)},
        "epochs": [],
        "best_epoch": None,
        "render_seconds": round(render_s, 1),
        "device": device_description(),
        "tensorflow": tf.__version__ if tf else None, "keras": keras.__version__,
        "keras_backend": keras.backend.backend(),
        "weights_file": Path(args.out_weights).name,
        "weights_sha256": None,
    }

    if args.first_stage_record:
        record["args"]["init"] = "first_stage: the best weights of the run recorded below"
        record["what"] += "; continued (--init) from the best epoch of first_stage"
        record["first_stage"] = json.loads(Path(args.first_stage_record).read_text())

    def write_record():
        Path(args.out_record).write_text(json.dumps(record, indent=1) + "\n")

    best, weights_sha256 = -1.0, None
    step = 0
    for epoch in range(1, 10_000):
        if epoch > planned_epochs or _STOP["requested"]:
            break
        t_epoch = time.time()
        losses = []
        for x, y in prefetched(batches(x_train, y_train, args.batch_size, rng, flip)):
            losses.append(float(train_step(x, y, lr_at(step))))
            step += 1
            if step % 100 == 0:
                print(f"  step {step} loss {np.mean(losses[-100:]):.4f} lr {lr_at(step):.2e} "
                      f"({time.time() - t_epoch:.0f} s into epoch {epoch})", flush=True)
            if _STOP["requested"]:
                break
        train_s = time.time() - t_epoch
        scores = evaluate(model, x_held, y_held)
        entry = {"epoch": epoch, "loss": round(float(np.mean(losses)), 5), "steps": len(losses),
                 "lr_end": lr_at(step - 1), "train_seconds": round(train_s, 1),
                 "eval_seconds": round(time.time() - t_epoch - train_s, 1),
                 "elapsed_seconds": round(time.time() - started, 1), "load": machine_load(),
                 "pixel_accuracy": round(scores["pixel_accuracy"], 5),
                 "mean_iou": round(scores["mean_iou"], 5),
                 "iou": {k: round(v, 4) for k, v in scores["iou"].items()}}
        record["epochs"].append(entry)
        if scores["mean_iou"] > best:
            best = scores["mean_iou"]
            record["best_epoch"] = epoch
            weights_sha256 = save_npz_weights(model, args.out_weights)
            architecture = json.loads(model.to_json())
            architecture.pop("compile_config", None)   # the loss is this script's; the shipped model is not compiled
            architecture_path_for(args.out_weights).write_text(json.dumps(architecture))
        # Re-plan once, after epoch 2 (epoch 1 also pays for compiling): as many epochs as the budget holds.
        if epoch == min(2, args.epochs) and args.time_budget_s > 0:
            per_epoch = time.time() - t_epoch
            fits = epoch + int((args.time_budget_s - (time.time() - started)) // per_epoch)
            planned_epochs = max(epoch, min(args.epochs, fits))
            record["planned_epochs"] = planned_epochs
        write_record()
        print(f"epoch {epoch}/{planned_epochs} loss {entry['loss']:.4f} px {entry['pixel_accuracy']:.4f} "
              f"mIoU {entry['mean_iou']:.4f} ({train_s:.0f}+{entry['eval_seconds']:.0f} s, load {entry['load']}) "
              + " ".join(f"{k[:6]}={v:.2f}" for k, v in entry["iou"].items()), flush=True)

    # the shipped numbers: the saved float16 weights in a fresh model
    fresh = load_street_unet(args.out_weights)
    scores = evaluate(fresh, x_held, y_held)
    record["heldout"] = {"pixel_accuracy": round(scores["pixel_accuracy"], 5),
                         "mean_iou": round(scores["mean_iou"], 5),
                         "iou": {k: round(v, 4) for k, v in scores["iou"].items()},
                         "weights": "float16 file, best epoch"}
    record["weights_sha256"] = weights_sha256
    record["weights_bytes"] = Path(args.out_weights).stat().st_size
    record["stopped_early"] = bool(_STOP["requested"])
    record["wall_seconds"] = round(time.time() - started, 1)
    write_record()
    print("held-out (float16 weights):", json.dumps(record["heldout"]), flush=True)


if __name__ == "__main__":
    main()
