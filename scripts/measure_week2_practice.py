"""Measure what week 2's lectures 5 and 6 quote, too slow to run inside a lecture, into a small JSON.

    PYTHONPATH=. python scripts/measure_week2_practice.py   # a few minutes on 2 CPU cores

Data: "circle or square?" (helpers.data.shapes_on_photos, 96x96 crops of real photos), 400
validation images, the first N of 400 training images for N in SIZES.

1. How much to freeze vs data size (lecture 5), validation accuracy of:
   - "frozen": the whole ImageNet EfficientNet-Lite0 frozen, its 1280 average-pooled features fed to a
     logistic regression (scikit-learn);
   - "last block retrained": everything up to block 6 frozen, block 7a + the 1x1 head conv retrained
     (from their ImageNet weights, batch norm kept in inference mode) with a new sigmoid output;
   - "from scratch": a small ConvNet (3 conv layers) trained from random weights with flips.
2. Multi-crop and ensembling at test time (lecture 6): three small ConvNets (seeds 0-2) trained on
   random 80x80 crops and flips of all 400 training images; validation accuracy with the centre crop
   vs the average over 10 crops (4 corners + centre, each also mirrored), alone and averaged over the
   three networks. Every trained network gets EPOCHS = 20 epochs (batch 16, Adam).

Writes helpers/viz/week2_practice.json (tests/test_viz_augment.py checks the lectures quote it).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "helpers" / "viz" / "week2_practice.json"
SIZES = (10, 20, 50, 100, 200, 400)
SIZE, CROP, EPOCHS, NETWORKS = 96, 80, 20, 3


def small_convnet(keras, input_shape, seed):
    keras.utils.set_random_seed(seed)
    L = keras.layers
    return keras.Sequential([
        keras.Input(input_shape), L.Rescaling(1 / 255),
        L.Conv2D(16, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
        L.Conv2D(32, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
        L.Conv2D(64, 3, padding="same", activation="relu"), L.GlobalMaxPooling2D(),
        L.Dense(1, activation="sigmoid")])


def fit(keras, model, x, y, epochs, lr=1e-3, augment=None, seed=0):
    keras.utils.set_random_seed(seed)
    if augment is not None:
        inputs = keras.Input(x.shape[1:])
        model = keras.Model(inputs, model(augment(inputs)))
    model.compile(optimizer=keras.optimizers.Adam(lr), loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=epochs, batch_size=16, verbose=0)
    return model


def accuracy(p, y) -> float:
    return float(((np.ravel(p) > 0.5) == np.ravel(y)).mean())


def ten_crops(x, crop):
    from helpers.viz.augment import ten_crops as one
    return np.stack([one(img, crop) for img in x], axis=1)  # (10, N, crop, crop, 3)


def main() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from helpers.backend import keras
    from helpers.data.shapes_on_photos import load_shapes_on_photos
    from helpers.models import efficientnet_lite as el

    start = time.time()
    (x_tr, y_tr), (x_va, y_va) = load_shapes_on_photos(max(SIZES), 400, size=SIZE, seed=0)
    x_tr, x_va = x_tr.astype("float32"), x_va.astype("float32")
    base = el.EfficientNetLite0(input_shape=(SIZE, SIZE, 3), include_top=False)
    pooled = keras.Model(base.input, keras.layers.GlobalAveragePooling2D()(base.output))
    cut = keras.Model(base.input, base.get_layer("block6d_add").output)
    f_tr, f_va = (pooled.predict(el.preprocess_input(x), verbose=0) for x in (x_tr, x_va))
    c_tr, c_va = (cut.predict(el.preprocess_input(x), verbose=0) for x in (x_tr, x_va))
    top = [layer for layer in base.layers if layer.name.startswith(("block7a", "top_"))]
    imagenet = [layer.get_weights() for layer in top]

    result = {"sizes": list(SIZES), "validation_images": len(y_va), "image_size": SIZE, "epochs": EPOCHS,
              "frozen": [], "last_block": [], "scratch": []}
    for n in SIZES:
        logreg = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=5000))
        logreg.fit(f_tr[:n], y_tr[:n])
        result["frozen"].append(float(logreg.score(f_va, y_va)))

        keras.utils.set_random_seed(0)
        inputs = keras.Input(c_tr.shape[1:])
        h = inputs
        for layer in top:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.trainable = False
            h = layer(h)
        h = keras.layers.Dense(1, activation="sigmoid")(keras.layers.GlobalAveragePooling2D()(h))
        tuned = fit(keras, keras.Model(inputs, h), c_tr[:n], y_tr[:n], EPOCHS, lr=1e-4)
        result["last_block"].append(accuracy(tuned.predict(c_va, verbose=0), y_va))
        for layer, weights in zip(top, imagenet):                                       # back to ImageNet's
            layer.set_weights(weights)

        flip = keras.layers.RandomFlip("horizontal", seed=0)
        scratch = fit(keras, small_convnet(keras, (SIZE, SIZE, 3), 0), x_tr[:n], y_tr[:n], EPOCHS, augment=flip)
        result["scratch"].append(accuracy(scratch.predict(x_va, verbose=0), y_va))
        print(n, {k: round(result[k][-1], 3) for k in ("frozen", "last_block", "scratch")}, f"{time.time() - start:.0f} s")

    crops = ten_crops(x_va, CROP)
    centre = crops[4]
    singles, single_tens, p_centre, p_ten = [], [], [], []
    for seed in range(NETWORKS):
        aug = keras.Sequential([keras.layers.RandomCrop(CROP, CROP, seed=seed),
                                keras.layers.RandomFlip("horizontal", seed=seed)])
        net = fit(keras, small_convnet(keras, (CROP, CROP, 3), seed), x_tr, y_tr, EPOCHS, augment=aug, seed=seed)
        net = net.layers[-1]
        pc = net.predict(centre, verbose=0).ravel()
        pt = np.mean([net.predict(c, verbose=0).ravel() for c in crops], axis=0)
        p_centre.append(pc)
        p_ten.append(pt)
        singles.append(accuracy(pc, y_va))
        single_tens.append(accuracy(pt, y_va))
        print("seed", seed, singles[-1], single_tens[-1], f"{time.time() - start:.0f} s")
    result["multicrop"] = {
        "train_images": len(y_tr), "crop": CROP, "networks": NETWORKS,
        "single_centre": singles, "single_ten_crop": single_tens,
        "ensemble_centre": accuracy(np.mean(p_centre, axis=0), y_va),
        "ensemble_ten_crop": accuracy(np.mean(p_ten, axis=0), y_va),
    }
    result["seconds"] = round(time.time() - start)
    OUT.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
