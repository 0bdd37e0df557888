"""Train the reference ResNet-50 on the hand-signs data set once, record the run, save the weights.

    PYTHONPATH=. python scripts/train_resnet50_signs.py [--epochs N] [--batch-size 32] [--seed 0]
    PYTHONPATH=. python scripts/train_resnet50_signs.py --time-only     # seconds per epoch, nothing saved

Writes
- helpers/models/resnet50_signs_run.json (committed): settings, per-epoch curves, test accuracy,
  seconds per epoch and the device, which the notebook shows;
- <data_dir>/resnet50_signs.weights.h5 (not committed: 23.6 M parameters, about 95 MB in float32
  and 47 MB in float16, over the repository's size limit), which the notebook evaluates when present.

The learning rate is Adam's 1e-3 for the first 70% of the epochs and 1e-4 after (a step schedule); the model's
batch norms use batch statistics during fit and running averages at evaluation.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpers.backend import device_summary, keras  # noqa: E402
from helpers.config import data_dir  # noqa: E402
from helpers.models import resnet  # noqa: E402


def load_data():
    """Signs data scaled to [0, 1] with one-hot labels: (X_train, Y_train, X_test, Y_test)."""
    from helpers.data import load_signs_dataset

    X_train, Y_train, X_test, Y_test, classes = load_signs_dataset()
    eye = np.eye(len(classes), dtype="float32")
    return (X_train.astype("float32") / 255.0, eye[np.asarray(Y_train).reshape(-1)],
            X_test.astype("float32") / 255.0, eye[np.asarray(Y_test).reshape(-1)])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-only", action="store_true", help="time two epochs and stop")
    parser.add_argument("--out", default=str(ROOT / "helpers" / "models" / resnet.SIGNS_RUN_FILE))
    args = parser.parse_args(argv)

    X_train, Y_train, X_test, Y_test = load_data()
    keras.utils.set_random_seed(args.seed)
    model = resnet.resnet50(input_shape=X_train.shape[1:], classes=Y_train.shape[1])
    model.compile(optimizer=keras.optimizers.Adam(args.learning_rate), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    drop_at = int(0.7 * args.epochs) if not args.time_only else 10**9

    def schedule(epoch, lr):
        return args.learning_rate * (0.1 if epoch >= drop_at else 1.0)

    times = []
    history = {}
    weights = data_dir() / "resnet50_signs.weights.h5"

    def record():
        """The run so far; the test set is the validation data, so the last epoch's val_* are its scores."""
        return {
            "epochs": len(times), "epochs_planned": args.epochs, "batch_size": args.batch_size,
            "learning_rate": args.learning_rate, "schedule": f"x0.1 from epoch {drop_at + 1}", "seed": args.seed,
            "test_accuracy": history["val_accuracy"][-1], "test_loss": history["val_loss"][-1],
            "best_test_accuracy": max(history["val_accuracy"]),
            "seconds_per_epoch": float(np.median(times[1:] if len(times) > 1 else times)),
            "seconds_per_epoch_all": [round(t, 1) for t in times],
            "device": device_summary() + ", shared machine (other jobs running)",
            "parameters": int(model.count_params()),
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
                model.save_weights(weights)

    epochs = 2 if args.time_only else args.epochs
    model.fit(X_train, Y_train, validation_data=(X_test, Y_test), epochs=epochs, batch_size=args.batch_size,
              verbose=0, callbacks=[Recorder(), keras.callbacks.LearningRateScheduler(schedule)])
    if args.time_only:
        print(f"seconds per epoch (first includes tracing): {[round(t) for t in times]}")
        return
    print(f"test accuracy {history['val_accuracy'][-1]:.4f}; run saved to {args.out}, weights to {weights}")


if __name__ == "__main__":
    main()
