"""Instructor reference of Convolution_Model_Application (week 1): ``happyModel``, ``convolutional_model``.

Never part of the student kit. The checks (:mod:`helpers.checks.convolution_model_application`)
compare a student's model with these layer by layer; the benchmarks train them on the generated
data sets.
"""

from __future__ import annotations

from keras import layers

from helpers.backend import keras


def happyModel():
    """Binary classifier for 64x64x3 faces (Sequential API).

    ZeroPadding2D(3) -> Conv2D(32, 7x7, stride 1) -> BatchNormalization(axis=3) -> ReLU
    -> MaxPooling2D (2x2) -> Flatten -> Dense(1, sigmoid). Output (None, 1).
    """
    return keras.Sequential([
        keras.Input(shape=(64, 64, 3)),
        layers.ZeroPadding2D(padding=3),
        layers.Conv2D(32, 7, strides=1),
        layers.BatchNormalization(axis=3),
        layers.ReLU(),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(1, activation="sigmoid"),
    ])


def convolutional_model(input_shape=(64, 64, 3)):
    """Six-class classifier (Functional API).

    Conv2D(8, 4x4, same) -> ReLU -> MaxPool(8x8, stride 8, same) -> Conv2D(16, 2x2, same) -> ReLU
    -> MaxPool(4x4, stride 4, same) -> Flatten -> Dense(6, softmax). Output (None, 6).
    """
    inputs = keras.Input(shape=input_shape)
    z = layers.Conv2D(8, 4, strides=1, padding="same")(inputs)
    a = layers.ReLU()(z)
    p = layers.MaxPooling2D(pool_size=8, strides=8, padding="same")(a)
    z = layers.Conv2D(16, 2, strides=1, padding="same")(p)
    a = layers.ReLU()(z)
    p = layers.MaxPooling2D(pool_size=4, strides=4, padding="same")(a)
    f = layers.Flatten()(p)
    outputs = layers.Dense(6, activation="softmax")(f)
    return keras.Model(inputs=inputs, outputs=outputs)


__all__ = ["happyModel", "convolutional_model"]
