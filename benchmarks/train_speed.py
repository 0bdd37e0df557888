"""Seconds per epoch of the course's Keras models on this machine's device (CPU or GPU).

Trains each model on its generated data set and prints the device, the first epoch's time
(includes tracing/compilation), the median time of the later epochs, and the test accuracy, all
from this one run. Run it on a CPU machine and on a GPU machine (install variant in the README)
to compare the two.

    python benchmarks/train_speed.py [--models happy signs] [--epochs 4] [--batch-size 32]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from helpers import data
from helpers.backend import device_summary, keras


def _happy():
    from helpers.reference.convolution_model_application import happyModel

    X_train, Y_train, X_test, Y_test, _ = data.load_happy_dataset()
    model = happyModel()
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model, X_train / 255.0, Y_train.T, X_test / 255.0, Y_test.T


def _signs():
    from helpers.reference.convolution_model_application import convolutional_model

    X_train, Y_train, X_test, Y_test, _ = data.load_signs_dataset()
    model = convolutional_model((64, 64, 3))
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return (model, X_train / 255.0, data.convert_to_one_hot(Y_train, 6).T,
            X_test / 255.0, data.convert_to_one_hot(Y_test, 6).T)


def _resnet50():
    from helpers.reference.residual_networks import ResNet50

    X_train, Y_train, X_test, Y_test, _ = data.load_signs_dataset()
    model = ResNet50(input_shape=(64, 64, 3), classes=6)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return (model, X_train / 255.0, data.convert_to_one_hot(Y_train, 6).T,
            X_test / 255.0, data.convert_to_one_hot(Y_test, 6).T)


MODELS = {"happy": _happy, "signs": _signs, "resnet50": _resnet50}


class _EpochTimer(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["happy", "signs"], choices=sorted(MODELS))
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    if args.epochs < 2:
        raise SystemExit("--epochs must be at least 2 (the first epoch includes compilation)")
    keras.utils.set_random_seed(0)
    print(f"device: {device_summary()}")
    print(f"{'model':10s} {'params':>10s} {'epoch 1 (s)':>12s} {'later epochs (s)':>17s} {'test acc':>9s}")
    for name in args.models:
        model, X_train, Y_train, X_test, Y_test = MODELS[name]()
        timer = _EpochTimer()
        model.fit(X_train.astype(np.float32), Y_train.astype(np.float32), epochs=args.epochs,
                  batch_size=args.batch_size, verbose=0, callbacks=[timer])
        _, accuracy = model.evaluate(X_test.astype(np.float32), Y_test.astype(np.float32), verbose=0)
        print(f"{name:10s} {model.count_params():>10,d} {timer.times[0]:>12.2f} "
              f"{statistics.median(timer.times[1:]):>17.2f} {accuracy:>9.3f}")


if __name__ == "__main__":
    main()
