"""Train the reference ResNet-50 on the hand-signs data set once, record the run, save the weights.

    PYTHONPATH=. python scripts/train_resnet50_signs.py [--epochs N] [--batch-size 32] [--seed 0]
    PYTHONPATH=. python scripts/train_resnet50_signs.py --time-only     # seconds per epoch, nothing saved

Writes
- helpers/models/resnet50_signs_run.json (committed): settings, per-epoch curves, test accuracy,
  seconds per epoch and the device, which the notebook shows;
- <data_dir>/resnet50_signs.weights.h5 (not committed: 23.6 M parameters, about 95 MB in float32
  and 47 MB in float16, over the repository's size limit), which the notebook evaluates when present.

The learning rate is Adam's 1e-3 for the first half and 1e-4 after (a step schedule); the model's
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
    parser.add_argument("--epochs", type=int, default=12)
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
    drop_at = args.epochs // 2 if not args.time_only else 10**9

    def schedule(epoch, lr):
        return args.learning_rate * (0.1 if epoch >= drop_at else 1.0)

    times = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t0)
            print(f"epoch {epoch + 1}: {times[-1]:.0f} s, " + ", ".join(f"{k} {v:.4f}" for k, v in logs.items()),
                  flush=True)

    epochs = 2 if args.time_only else args.epochs
    hist = model.fit(X_train, Y_train, validation_data=(X_test, Y_test), epochs=epochs,
                     batch_size=args.batch_size, verbose=0,
                     callbacks=[Timer(), keras.callbacks.LearningRateScheduler(schedule)])
    if args.time_only:
        print(f"seconds per epoch (first includes tracing): {[round(t) for t in times]}")
        return
    test_loss, test_acc = model.evaluate(X_test, Y_test, verbose=0)
    weights = data_dir() / "resnet50_signs.weights.h5"
    model.save_weights(weights)
    record = {
        "epochs": epochs, "batch_size": args.batch_size, "learning_rate": args.learning_rate,
        "schedule": f"x0.1 from epoch {drop_at + 1}", "seed": args.seed,
        "test_accuracy": float(test_acc), "test_loss": float(test_loss),
        "seconds_per_epoch": float(np.median(times[1:] if len(times) > 1 else times)),
        "device": device_summary() + f", {os.cpu_count()} logical CPUs visible",
        "parameters": int(model.count_params()),
        "history": {k: [round(float(v), 5) for v in vals] for k, vals in hist.history.items() if k != "learning_rate"},
    }
    Path(args.out).write_text(json.dumps(record, indent=1) + "\n")
    print(f"test accuracy {test_acc:.4f}; run saved to {args.out}, weights to {weights}")


if __name__ == "__main__":
    main()
