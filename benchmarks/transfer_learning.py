"""Transfer learning on "circle or square?": pretrained backbone vs the same network from scratch.

Runs what the Transfer_Learning notebook runs in full mode (96x96 images, 400 training and 400
validation images, 8 epochs with a frozen backbone + 8 epochs of fine-tuning; the scratch network
gets the same 16 epochs) and prints validation accuracies, run times and the margins.

    PYTHONPATH=. python benchmarks/transfer_learning.py [--size 96] [--train 400] [--epochs 8]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from helpers import transfer
from helpers.backend import device_summary, keras
from helpers.data.shapes_on_photos import load_shapes_on_photos
from helpers.models.backbones import load_backbone


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--train", type=int, default=400)
    parser.add_argument("--val", type=int, default=400)
    parser.add_argument("--epochs", type=int, default=8, help="epochs of each phase")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    args = parser.parse_args()
    shape = (args.size, args.size, 3)
    (x_train, y_train), (x_val, y_val) = load_shapes_on_photos(args.train, args.val, size=args.size, seed=0)
    fit = dict(validation_data=(x_val, y_val), batch_size=32, verbose=0)
    print(device_summary(), f"| {args.train} training / {args.val} validation images of {args.size}x{args.size}")

    keras.utils.set_random_seed(0)
    backbone = load_backbone(shape)
    model = transfer.reference_transfer_model(shape, transfer.reference_augmenter(), backbone)
    transfer.compile_binary(model, args.learning_rate)
    start = time.time()
    frozen = model.fit(x_train, y_train, epochs=args.epochs, **fit).history
    time_frozen = time.time() - start
    transfer.reference_fine_tuning(model, backbone.model, transfer.fine_tune_index(backbone), args.learning_rate)
    start = time.time()
    fine = model.fit(x_train, y_train, epochs=2 * args.epochs, initial_epoch=args.epochs, **fit).history
    time_fine = time.time() - start

    keras.utils.set_random_seed(0)
    scratch_backbone = load_backbone(shape, pretrained=False)
    scratch = transfer.scratch_model(shape, transfer.reference_augmenter(), scratch_backbone)
    transfer.compile_binary(scratch, args.learning_rate)
    start = time.time()
    from_scratch = scratch.fit(x_train, y_train, epochs=2 * args.epochs, **fit).history
    time_scratch = time.time() - start

    rows = [
        ("from scratch", from_scratch["val_accuracy"], 2 * args.epochs, time_scratch),
        ("frozen backbone", frozen["val_accuracy"], args.epochs, time_frozen),
        ("+ fine-tuning", fine["val_accuracy"], args.epochs, time_fine),
    ]
    print(f"backbone: {backbone.name}; fine-tuning from layer {transfer.fine_tune_index(backbone)}")
    for name, curve, epochs, seconds in rows:
        print(f"{name:16s} val accuracy {curve[-1]:.3f} (best {max(curve):.3f}) after {epochs} epochs, {seconds:.0f} s")
    print(f"margin pretrained (frozen) - scratch: {frozen['val_accuracy'][-1] - from_scratch['val_accuracy'][-1]:+.3f}")
    print(f"margin fine-tuned - frozen:           {fine['val_accuracy'][-1] - frozen['val_accuracy'][-1]:+.3f}")
    print("curves:", {name: np.round(curve, 3).tolist() for name, curve, _, _ in rows})


if __name__ == "__main__":
    main()
