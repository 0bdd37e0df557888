"""How good are the generated data sets? A linear model on raw pixels vs the week's ConvNets.

    PYTHONPATH=. python benchmarks/data_quality.py [--signs-epochs 100] [--happy-epochs 20]

Prints the test accuracy of a logistic regression on raw pixels (scikit-learn) and of the week-1
ConvNets (helpers.reference.convolution_model_application), trained as in the notebook, plus generation and training times.
The data sets are meant to make the linear model fail (< 50% on signs) while the ConvNet reaches
>= 90% on signs and >= 95% on happy.
"""

from __future__ import annotations

import argparse
import time


def logistic_accuracy(X_train, y_train, X_test, y_test, seed=0):
    """Test accuracy of an L2 logistic regression on raw pixels scaled to [0, 1]."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    clf = LogisticRegression(max_iter=200, random_state=seed)
    clf.fit(X_train.reshape(len(X_train), -1) / 255.0, y_train)
    return float(clf.score(X_test.reshape(len(X_test), -1) / 255.0, y_test))


def convnet_accuracy(name, data, epochs, seed=0):
    """Train the week's ConvNet as the notebook does; return (test accuracy, seconds)."""
    from helpers.backend import keras
    from helpers.data import convert_to_one_hot
    from helpers.reference import convolution_model_application as week1

    keras.utils.set_random_seed(seed)
    X_train, Y_train, X_test, Y_test, classes = data
    X_train, X_test = X_train / 255.0, X_test / 255.0
    t0 = time.perf_counter()
    if name == "happy":
        model = week1.happyModel()
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        model.fit(X_train, Y_train.T, epochs=epochs, batch_size=16, verbose=0)
        acc = model.evaluate(X_test, Y_test.T, verbose=0)[1]
    else:
        model = week1.convolutional_model((64, 64, 3))
        model.compile(optimizer=keras.optimizers.Adam(0.005), loss="categorical_crossentropy",
                      metrics=["accuracy"])
        Y_train_1h, Y_test_1h = convert_to_one_hot(Y_train, len(classes)).T, convert_to_one_hot(Y_test, len(classes)).T
        model.fit(X_train, Y_train_1h, epochs=epochs, batch_size=64, verbose=0, validation_data=(X_test, Y_test_1h))
        acc = model.evaluate(X_test, Y_test_1h, verbose=0)[1]
    return float(acc), time.perf_counter() - t0


def main(argv=None):
    from helpers import data

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--signs-epochs", type=int, default=100)
    parser.add_argument("--happy-epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=["signs", "happy"], default=None)
    args = parser.parse_args(argv)
    for name, epochs in (("signs", args.signs_epochs), ("happy", args.happy_epochs)):
        if args.only and name != args.only:
            continue
        make = data.make_signs if name == "signs" else data.make_happy
        t0 = time.perf_counter()
        make(1200 if name == "signs" else 750, 123)
        gen_s = time.perf_counter() - t0
        loaded = (data.load_signs_dataset if name == "signs" else data.load_happy_dataset)()
        X_train, Y_train, X_test, Y_test, _ = loaded
        logit = logistic_accuracy(X_train, Y_train.ravel(), X_test, Y_test.ravel(), args.seed)
        conv, train_s = convnet_accuracy(name, loaded, epochs, args.seed)
        print(f"{name}: generate {len(X_train) + len(X_test)} images {gen_s:.1f} s | "
              f"logistic regression test {logit:.3f} | ConvNet test {conv:.3f} "
              f"({epochs} epochs, {train_s:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
