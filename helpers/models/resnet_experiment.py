"""Plain deep network vs the same network with skip connections (week 2 experiment).

Both networks have the same layers and the same number of parameters; the only difference is that
the residual one adds each pair of convolutions' input to its output (``x + F(x)``). There is no
batch normalization in either, so the effect of the skip connections is seen alone.

Functions are pure: data, depth, width and seeds come in as arguments.
"""

from __future__ import annotations

import time

import numpy as np

from helpers.backend import keras, tf

layers = keras.layers


def deep_net(depth=30, width=16, input_shape=(32, 32, 3), classes=6, residual=False, seed=0):
    """Build a deep stack of 3x3 convolutions, plain or with identity skip connections.

    Layout: conv 3x3/2 (width) -> (depth - 2) / 2 pairs [conv 3x3 -> ReLU -> conv 3x3] each followed
    by ReLU(pair output) (plain) or ReLU(pair output + pair input) (residual) -> global average pool
    -> dense softmax. ``depth`` counts the weight layers (convolutions and the dense layer).

    Inputs:
    - depth: even int >= 4, number of weight layers
    - width: channels of every convolution
    - input_shape: (H, W, C) of one image
    - classes: number of output classes
    - residual: add the identity shortcut around each pair of convolutions
    - seed: seed of the weight initializers (both variants get the same weights for the same seed)

    Returns:
    - keras.Model mapping (m, H, W, C) images to (m, classes) probabilities; its conv layers are
      named conv01, conv02, ... in depth order and the dense layer ``fc``
    """
    if depth < 4 or depth % 2:
        raise ValueError(f"deep_net: depth must be an even integer >= 4, got {depth!r}")
    if width < 1 or classes < 1:
        raise ValueError(f"deep_net: width and classes must be positive, got width={width}, classes={classes}")
    counter = iter(range(1, depth + 1))

    def conv(X, strides=1):
        i = next(counter)
        init = keras.initializers.GlorotUniform(seed=seed * 1000 + i)
        return layers.Conv2D(width, 3, strides=strides, padding="same", kernel_initializer=init,
                             name=f"conv{i:02d}")(X)

    inputs = keras.Input(shape=tuple(input_shape))
    X = layers.Activation("relu")(conv(inputs, strides=2))
    for _ in range((depth - 2) // 2):
        shortcut = X
        X = layers.Activation("relu")(conv(X))
        X = conv(X)
        if residual:
            X = layers.Add()([X, shortcut])
        X = layers.Activation("relu")(X)
    X = layers.GlobalAveragePooling2D()(X)
    outputs = layers.Dense(classes, activation="softmax", name="fc",
                           kernel_initializer=keras.initializers.GlorotUniform(seed=seed * 1000 + depth))(X)
    return keras.Model(inputs, outputs, name=("residual" if residual else "plain") + f"_{depth}")


def gradient_norms(model, X, Y):
    """L2 norm of the loss gradient with respect to each weight layer's kernel.

    Inputs:
    - model: a Keras model with Conv2D/Dense layers, softmax output
    - X: array of shape (m, H, W, C)
    - Y: one-hot labels of shape (m, classes)

    Returns:
    - names: list of the layer names, input side first
    - norms: array of shape (n_layers,), ||dLoss/dKernel||_2 for each (mean cross-entropy over the m examples)
    """
    kernels = [(layer.name, layer.kernel) for layer in model.layers
               if isinstance(layer, (layers.Conv2D, layers.Dense))]
    loss_fn = keras.losses.CategoricalCrossentropy()
    with tf.GradientTape() as tape:
        loss = loss_fn(Y, model(X, training=True))
    grads = tape.gradient(loss, [k for _, k in kernels])
    return [n for n, _ in kernels], np.array([float(tf.norm(g)) for g in grads])


def compare_plain_residual(X_train, Y_train, X_val, Y_val, depth=30, width=16, epochs=10, batch_size=32,
                           learning_rate=1e-3, seed=0):
    """Train the plain and the residual network on the same data with the same settings.

    Inputs:
    - X_train: float array (m, H, W, C); Y_train: one-hot (m, classes); X_val, Y_val likewise
    - depth, width: see :func:`deep_net`
    - epochs, batch_size, learning_rate: Adam training settings
    - seed: weights and shuffling seed

    Returns dict keyed by 'plain' and 'residual', each a dict with
    - 'history': {'loss', 'accuracy', 'val_loss', 'val_accuracy'} lists of length epochs
    - 'names', 'grad_norms_start', 'grad_norms_end': per-layer gradient norms (see
      :func:`gradient_norms`) on the first 64 training examples before and after training
    - 'seconds': training time
    """
    results = {}
    for kind in ("plain", "residual"):
        keras.utils.set_random_seed(seed)
        model = deep_net(depth, width, X_train.shape[1:], Y_train.shape[1], residual=(kind == "residual"), seed=seed)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="categorical_crossentropy",
                      metrics=["accuracy"])
        names, start = gradient_norms(model, X_train[:64], Y_train[:64])
        t0 = time.perf_counter()
        hist = model.fit(X_train, Y_train, validation_data=(X_val, Y_val), epochs=epochs, batch_size=batch_size,
                         verbose=0, shuffle=True)
        seconds = time.perf_counter() - t0
        _, end = gradient_norms(model, X_train[:64], Y_train[:64])
        results[kind] = {"history": {k: [float(v) for v in vals] for k, vals in hist.history.items()},
                         "names": names, "grad_norms_start": start, "grad_norms_end": end, "seconds": seconds}
    return results


def downsample(X, factor=2):
    """Average-pool images by an integer factor.

    Inputs:
    - X: array (m, H, W, C) with H and W divisible by factor
    Returns:
    - float32 array (m, H // factor, W // factor, C)
    """
    m, H, W, C = X.shape
    if H % factor or W % factor:
        raise ValueError(f"downsample: H and W ({H}, {W}) must be divisible by factor {factor}")
    return X.reshape(m, H // factor, factor, W // factor, factor, C).mean(axis=(2, 4)).astype("float32")


__all__ = ["deep_net", "gradient_norms", "compare_plain_residual", "downsample"]
