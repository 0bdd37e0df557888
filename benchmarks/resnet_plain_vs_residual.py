"""Plain vs residual deep network on the hand signs (the week 2 experiment), full-run settings.

    PYTHONPATH=. python benchmarks/resnet_plain_vs_residual.py [--depth 30] [--epochs 10]

Prints, for each network: training time, final training loss, final test accuracy, and the ratio of
the gradient norm at the first weight layer to the one at the last, at initialisation. The notebook
quotes these numbers.
"""

from __future__ import annotations

import argparse
import time

from helpers.data import convert_to_one_hot, load_signs_dataset
from helpers.models.resnet_experiment import compare_plain_residual, downsample


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--depth", type=int, default=30)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    X_train, Y_train, X_test, Y_test, classes = load_signs_dataset()
    t0 = time.perf_counter()
    results = compare_plain_residual(downsample(X_train.astype("float32") / 255.0),
                                     convert_to_one_hot(Y_train, len(classes)).T,
                                     downsample(X_test.astype("float32") / 255.0),
                                     convert_to_one_hot(Y_test, len(classes)).T,
                                     depth=args.depth, width=args.width, epochs=args.epochs, seed=args.seed)
    print(f"depth {args.depth}, width {args.width}, {args.epochs} epochs, 1080 images at 32x32: "
          f"{time.perf_counter() - t0:.0f} s in all")
    for kind, res in results.items():
        h, g = res["history"], res["grad_norms_start"]
        print(f"{kind:9s} {res['seconds']:5.0f} s  train loss {h['loss'][0]:.3f} -> {h['loss'][-1]:.3f}  "
              f"test accuracy {h['val_accuracy'][-1]:.3f} (best {max(h['val_accuracy']):.3f})  "
              f"|grad| first/last layer at init {g[0] / g[-1]:.2e}")
        print(f"          test accuracy per epoch: {[round(a, 3) for a in h['val_accuracy']]}")


if __name__ == "__main__":
    main()
