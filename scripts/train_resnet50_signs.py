"""Train the reference ResNet-50 on the hand-signs data set once, record the run, save the weights.

    PYTHONPATH=. python scripts/train_resnet50_signs.py [--epochs 10] [--batch-size 32] [--seed 0]
    PYTHONPATH=. python scripts/train_resnet50_signs.py --time-only     # seconds per epoch, nothing saved

Writes
- helpers/models/resnet50_signs_run.json (committed): settings, per-epoch curves, test accuracy,
  seconds per epoch and the device, which the notebook shows;
- helpers/models/weights/resnet50_signs_fp16.npz (committed, 43 MB): the final weights in float16
  (probabilities within about 1e-3 of float32), whose SHA-256 goes into the run record; the notebook
  loads them with ``helpers.models.resnet.trained_on_signs()``.

The architecture is the graded one (``helpers.models.resnet.resnet50``); only the way it is trained
differs from the notebook's one-epoch demo. Ten epochs of 34 steps are a very short training for
23.6 M parameters, so the script uses four standard tricks, each switchable for comparison:

- ``--bn-momentum 0.9`` (Keras default 0.99): with 340 steps in all, moving averages that forget
  1% per step still remember the first epochs' statistics, which no longer match the trained weights.
- ``--zero-init-residual`` (Goyal et al. 2017, "Accurate, Large Minibatch SGD"): the last batch norm
  of every main path starts with gamma = 0, so each residual block starts as the identity and the
  50-layer network trains like a shallow one at first.
- ``--schedule cosine``: Adam's learning rate rises linearly over the first epoch (warm-up) to
  ``--learning-rate`` and then follows a cosine down to 1% of it (``--schedule step``: x0.1 at 70%).
- ``--augment``: random shifts (10%), rotations (+-18 degrees) and zooms (10%) of the training images.

After training, the batch norms' moving statistics are recomputed over the whole training set with
the final weights (``--no-recalibrate`` turns this off): the run records the test accuracy both before
and after, and saves the recalibrated weights.

Measured (10 epochs, 2 CPU cores, about 75 s per epoch; test accuracy before -> after recalibration):
``--bn-momentum 0.99 --schedule step --no-zero-init-residual --no-augment`` 0.825 -> 0.992; defaults,
seed 0 (the committed run) 0.975 -> 0.975; defaults, seed 1, 0.983 -> 0.992. Recalibration is what
rescues the plain settings; the four changes make the test curve steady during training as well.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from helpers.backend import device_summary, keras, tf
from helpers.models import resnet
from helpers.models.npz_weights import save_npz_weights

ROOT = Path(__file__).resolve().parents[1]


def load_data():
    """Signs data scaled to [0, 1] with one-hot labels: (X_train, Y_train, X_test, Y_test)."""
    from helpers.data import convert_to_one_hot, load_signs_dataset

    X_train, Y_train, X_test, Y_test, classes = load_signs_dataset()
    return (X_train.astype("float32") / 255.0, convert_to_one_hot(Y_train, len(classes)).T,
            X_test.astype("float32") / 255.0, convert_to_one_hot(Y_test, len(classes)).T)


def augmenter(seed):
    return keras.Sequential([
        keras.layers.RandomTranslation(0.1, 0.1, fill_mode="reflect", seed=seed),
        keras.layers.RandomRotation(0.05, fill_mode="reflect", seed=seed + 1),
        keras.layers.RandomZoom(0.1, fill_mode="reflect", seed=seed + 2),
    ], name="augment")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bn-momentum", type=float, default=0.9)
    parser.add_argument("--schedule", choices=["cosine", "step"], default="cosine")
    parser.add_argument("--zero-init-residual", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--augment", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--recalibrate", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--time-only", action="store_true", help="time two epochs and stop")
    parser.add_argument("--out", default=str(ROOT / "helpers" / "models" / resnet.SIGNS_RUN_FILE))
    parser.add_argument("--weights", default=str(resnet.SIGNS_WEIGHTS_PATH))
    args = parser.parse_args(argv)

    X_train, Y_train, X_test, Y_test = load_data()
    keras.utils.set_random_seed(args.seed)
    model = resnet.resnet50(input_shape=X_train.shape[1:], classes=Y_train.shape[1])
    zeroed = resnet.prepare_for_short_training(model, args.bn_momentum, args.zero_init_residual)

    epochs = 2 if args.time_only else args.epochs
    steps_per_epoch = int(np.ceil(len(X_train) / args.batch_size))
    total = epochs * steps_per_epoch
    if args.schedule == "cosine":
        learning_rate = keras.optimizers.schedules.CosineDecay(
            args.learning_rate / 10, decay_steps=total - steps_per_epoch, alpha=0.01,
            warmup_target=args.learning_rate, warmup_steps=steps_per_epoch)
        schedule_text = f"linear warm-up over epoch 1 to {args.learning_rate:g}, cosine to 1% by epoch {epochs}"
    else:
        learning_rate = keras.optimizers.schedules.PiecewiseConstantDecay(
            [int(0.7 * total)], [args.learning_rate, args.learning_rate / 10])
        schedule_text = f"x0.1 after step {int(0.7 * total)} of {total}"
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="categorical_crossentropy",
                  metrics=["accuracy"])

    train = tf.data.Dataset.from_tensor_slices((X_train, Y_train)).shuffle(
        len(X_train), seed=args.seed, reshuffle_each_iteration=True).batch(args.batch_size)
    if args.augment:
        augment = augmenter(args.seed)
        train = train.map(lambda x, y: (augment(x, training=True), y), num_parallel_calls=tf.data.AUTOTUNE)
    train = train.prefetch(tf.data.AUTOTUNE)

    times = []
    history = {}
    result = {}

    def record():
        """The run so far; the test set is the validation data, so the last epoch's val_* are its scores."""
        return {
            "epochs": len(times), "epochs_planned": args.epochs, "batch_size": args.batch_size,
            "learning_rate": args.learning_rate, "schedule": schedule_text, "seed": args.seed,
            "bn_momentum": args.bn_momentum, "zero_init_residual_layers": zeroed, "augment": args.augment,
            "recalibrated_batch_norm": "train_accuracy" in result,
            "test_accuracy": result.get("test_accuracy", history["val_accuracy"][-1]),
            "test_loss": result.get("test_loss", history["val_loss"][-1]),
            "test_accuracy_before_recalibration": history["val_accuracy"][-1],
            "train_accuracy_inference_mode": result.get("train_accuracy"),
            "seconds_per_epoch": float(np.median(times[1:] if len(times) > 1 else times)),
            "seconds_per_epoch_all": [round(t, 1) for t in times],
            "device": device_summary(),
            "parameters": int(model.count_params()),
            "weights_sha256": result.get("weights_sha256"),
            "history": history,
        }

    class Recorder(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t0)
            for k, v in logs.items():
                if k != "learning_rate":
                    history.setdefault(k, []).append(round(float(v), 5))
            print(f"epoch {epoch + 1}: {times[-1]:.0f} s, " + ", ".join(f"{k} {v:.4f}" for k, v in logs.items()),
                  flush=True)
            if not args.time_only:  # written after every epoch, so an interrupted run still leaves its record
                Path(args.out).write_text(json.dumps(record(), indent=1) + "\n")

    model.fit(train, validation_data=(X_test, Y_test), epochs=epochs, verbose=0, callbacks=[Recorder()],
              shuffle=False)  # the data set shuffles itself each epoch
    if args.time_only:
        print(f"seconds per epoch (first includes tracing): {[round(t) for t in times]}")
        return
    if args.recalibrate:
        resnet.recalibrate_batch_norm(model, X_train)
        result["test_loss"], result["test_accuracy"] = map(float, model.evaluate(X_test, Y_test, verbose=0))
        result["train_accuracy"] = float(model.evaluate(X_train, Y_train, verbose=0)[1])
        print(f"after batch-norm recalibration: test accuracy {result['test_accuracy']:.4f}, "
              f"train accuracy {result['train_accuracy']:.4f}")
    result["weights_sha256"] = save_npz_weights(model, args.weights, dtype="float16")
    Path(args.out).write_text(json.dumps(record(), indent=1) + "\n")
    print(f"test accuracy {record()['test_accuracy']:.4f}; run saved to {args.out}, weights to {args.weights}")


if __name__ == "__main__":
    main()
