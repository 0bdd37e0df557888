"""Transfer learning on "circle or square?": pretrained backbone vs the same network from scratch.

Runs what the Transfer_Learning notebook runs in full mode (96x96 images, 400 training and 400
validation images, 8 epochs with a frozen backbone + 8 epochs of fine-tuning; the scratch network
gets the same 16 epochs) and prints validation accuracies, run times and the margins. With --record it
also writes them to benchmarks/results/transfer_learning.json, the run the notebook's "What we
measured" table quotes (tests/test_transfer_helpers.py checks the table against it).

    PYTHONPATH=. python benchmarks/transfer_learning.py [--size 96] [--train 400] [--epochs 8] [--record]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from helpers.backend import device_summary, keras
from helpers.data.shapes_on_photos import load_shapes_on_photos
from helpers.models import backbones
from helpers.models.backbones import load_backbone
from helpers.reference.transfer_learning import data_augmenter, prepare_fine_tuning, transfer_model

RECORD = Path(__file__).resolve().parent / "results" / "transfer_learning.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--train", type=int, default=400)
    parser.add_argument("--val", type=int, default=400)
    parser.add_argument("--epochs", type=int, default=8, help="epochs of each phase")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--record", action="store_true", help=f"write the results to {RECORD.name}")
    args = parser.parse_args()
    shape = (args.size, args.size, 3)
    (x_train, y_train), (x_val, y_val) = load_shapes_on_photos(args.train, args.val, size=args.size, seed=0)
    fit = dict(validation_data=(x_val, y_val), batch_size=32, verbose=0)
    print(device_summary(), f"| {args.train} training / {args.val} validation images of {args.size}x{args.size}")

    keras.utils.set_random_seed(0)
    backbone = load_backbone(shape)
    model = transfer_model(shape, data_augmenter(), backbone)
    backbones.compile_binary(model, args.learning_rate)
    start = time.time()
    frozen = model.fit(x_train, y_train, epochs=args.epochs, **fit).history
    time_frozen = time.time() - start
    fine_tune_at = backbones.fine_tune_index(backbone)
    prepare_fine_tuning(model, backbone.model, fine_tune_at, args.learning_rate)
    start = time.time()
    fine = model.fit(x_train, y_train, epochs=2 * args.epochs, initial_epoch=args.epochs, **fit).history
    time_fine = time.time() - start

    keras.utils.set_random_seed(0)
    scratch_backbone = load_backbone(shape, pretrained=False)
    scratch = backbones.scratch_model(shape, data_augmenter(), scratch_backbone)
    backbones.compile_binary(scratch, args.learning_rate)
    start = time.time()
    from_scratch = scratch.fit(x_train, y_train, epochs=2 * args.epochs, **fit).history
    time_scratch = time.time() - start

    rows = [
        ("from scratch", from_scratch["val_accuracy"], 2 * args.epochs, time_scratch),
        ("frozen backbone", frozen["val_accuracy"], args.epochs, time_frozen),
        ("+ fine-tuning", fine["val_accuracy"], args.epochs, time_fine),
    ]
    print(f"backbone: {backbone.name}; fine-tuning from layer {fine_tune_at} ({backbone.model.layers[fine_tune_at].name})")
    for name, curve, epochs, seconds in rows:
        print(f"{name:16s} val accuracy {curve[-1]:.3f} (best {max(curve):.3f}) after {epochs} epochs, {seconds:.0f} s")
    print(f"margin pretrained (frozen) - scratch: {frozen['val_accuracy'][-1] - from_scratch['val_accuracy'][-1]:+.3f}")
    print(f"margin fine-tuned - frozen:           {fine['val_accuracy'][-1] - frozen['val_accuracy'][-1]:+.3f}")
    print("curves:", {name: np.round(curve, 3).tolist() for name, curve, _, _ in rows})
    if args.record:
        RECORD.parent.mkdir(exist_ok=True)
        RECORD.write_text(json.dumps({
            "device": device_summary(), "backbone": backbone.name, "image_size": args.size,
            "train_images": args.train, "val_images": args.val, "epochs_per_phase": args.epochs,
            "fine_tune_from": backbone.model.layers[fine_tune_at].name,
            "rows": [{"model": name, "epochs": epochs, "val_accuracy": round(float(curve[-1]), 3),
                      "train_accuracy": round(float(history["accuracy"][-1]), 3), "seconds": round(seconds)}
                     for (name, curve, epochs, seconds), history in zip(rows, (from_scratch, frozen, fine))],
        }, indent=1) + "\n")
        print(f"recorded in {RECORD}")


if __name__ == "__main__":
    main()
