"""Variants of the week-1 Keras builders: common mistakes (must lose points) and other correct ways.

Variants use the notebook's imports (``keras``, ``layers``). "Hard-coded" variants ignore an
argument in a way only the hidden tests (other input shapes) can see.
"""

# ruff: noqa: F821 (keras and layers come from the notebook's import cell)

from tests.variants import variant

# --------------------------------------------------------------------------------------------
# happyModel


@variant("happyModel", "buggy", "conv padding 'same' instead of valid")
def happy_same_padding():
    return keras.Sequential([
        keras.Input(shape=(64, 64, 3)), layers.ZeroPadding2D(3), layers.Conv2D(32, 7, padding="same"),
        layers.BatchNormalization(axis=3), layers.ReLU(), layers.MaxPooling2D(), layers.Flatten(),
        layers.Dense(1, activation="sigmoid"),
    ])


@variant("happyModel", "buggy", "batch norm over the wrong axis (axis=1)")
def happy_bn_axis():
    return keras.Sequential([
        keras.Input(shape=(64, 64, 3)), layers.ZeroPadding2D(3), layers.Conv2D(32, 7),
        layers.BatchNormalization(axis=1), layers.ReLU(), layers.MaxPooling2D(), layers.Flatten(),
        layers.Dense(1, activation="sigmoid"),
    ])


@variant("happyModel", "buggy", "batch normalisation layer missing")
def happy_no_bn():
    return keras.Sequential([
        keras.Input(shape=(64, 64, 3)), layers.ZeroPadding2D(3), layers.Conv2D(32, 7),
        layers.ReLU(), layers.MaxPooling2D(), layers.Flatten(), layers.Dense(1, activation="sigmoid"),
    ])


@variant("happyModel", "buggy", "pool size 3 instead of 2")
def happy_pool3():
    return keras.Sequential([
        keras.Input(shape=(64, 64, 3)), layers.ZeroPadding2D(3), layers.Conv2D(32, 7),
        layers.BatchNormalization(axis=3), layers.ReLU(), layers.MaxPooling2D(3), layers.Flatten(),
        layers.Dense(1, activation="sigmoid"),
    ])


@variant("happyModel", "buggy", "softmax instead of sigmoid on the output")
def happy_softmax():
    return keras.Sequential([
        keras.Input(shape=(64, 64, 3)), layers.ZeroPadding2D(3), layers.Conv2D(32, 7),
        layers.BatchNormalization(axis=3), layers.ReLU(), layers.MaxPooling2D(), layers.Flatten(),
        layers.Dense(1, activation="softmax"),
    ])


@variant("happyModel", "buggy", "two output units")
def happy_two_units():
    return keras.Sequential([
        keras.Input(shape=(64, 64, 3)), layers.ZeroPadding2D(3), layers.Conv2D(32, 7),
        layers.BatchNormalization(axis=3), layers.ReLU(), layers.MaxPooling2D(), layers.Flatten(),
        layers.Dense(2, activation="sigmoid"),
    ])


@variant("happyModel", "buggy", "ReLU before batch normalisation")
def happy_relu_first():
    return keras.Sequential([
        keras.Input(shape=(64, 64, 3)), layers.ZeroPadding2D(3), layers.Conv2D(32, 7, activation="relu"),
        layers.BatchNormalization(axis=3), layers.MaxPooling2D(), layers.Flatten(),
        layers.Dense(1, activation="sigmoid"),
    ])


@variant("happyModel", "correct", "Functional API")
def happy_functional():
    inputs = keras.Input(shape=(64, 64, 3))
    x = layers.ZeroPadding2D(padding=(3, 3))(inputs)
    x = layers.Conv2D(filters=32, kernel_size=(7, 7), strides=(1, 1), padding="valid")(x)
    x = layers.BatchNormalization(axis=-1)(x)
    x = layers.Activation("relu")(x)
    x = layers.MaxPool2D(pool_size=(2, 2), strides=(2, 2))(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs)


@variant("happyModel", "correct", "Sequential built with add(), separate sigmoid layer")
def happy_added():
    model = keras.Sequential()
    model.add(keras.Input(shape=(64, 64, 3)))
    model.add(layers.ZeroPadding2D(3))
    model.add(layers.Conv2D(32, 7))
    model.add(layers.BatchNormalization())
    model.add(layers.Activation("relu"))
    model.add(layers.MaxPooling2D(2))
    model.add(layers.Flatten())
    model.add(layers.Dense(1))
    model.add(layers.Activation("sigmoid"))
    return model


# --------------------------------------------------------------------------------------------
# convolutional_model


@variant("convolutional_model", "buggy", "first convolution with valid padding")
def signs_valid_conv(input_shape):
    inputs = keras.Input(shape=input_shape)
    x = layers.ReLU()(layers.Conv2D(8, 4, padding="valid")(inputs))
    x = layers.MaxPool2D(8, strides=8, padding="same")(x)
    x = layers.ReLU()(layers.Conv2D(16, 2, padding="same")(x))
    x = layers.MaxPool2D(4, strides=4, padding="same")(x)
    return keras.Model(inputs, layers.Dense(6, activation="softmax")(layers.Flatten()(x)))


@variant("convolutional_model", "buggy", "first pool 4x4 instead of 8x8")
def signs_pool4(input_shape):
    inputs = keras.Input(shape=input_shape)
    x = layers.ReLU()(layers.Conv2D(8, 4, padding="same")(inputs))
    x = layers.MaxPool2D(4, strides=4, padding="same")(x)
    x = layers.ReLU()(layers.Conv2D(16, 2, padding="same")(x))
    x = layers.MaxPool2D(4, strides=4, padding="same")(x)
    return keras.Model(inputs, layers.Dense(6, activation="softmax")(layers.Flatten()(x)))


@variant("convolutional_model", "buggy", "sigmoid instead of softmax on the output")
def signs_sigmoid(input_shape):
    inputs = keras.Input(shape=input_shape)
    x = layers.ReLU()(layers.Conv2D(8, 4, padding="same")(inputs))
    x = layers.MaxPool2D(8, strides=8, padding="same")(x)
    x = layers.ReLU()(layers.Conv2D(16, 2, padding="same")(x))
    x = layers.MaxPool2D(4, strides=4, padding="same")(x)
    return keras.Model(inputs, layers.Dense(6, activation="sigmoid")(layers.Flatten()(x)))


@variant("convolutional_model", "buggy", "five output units")
def signs_five_units(input_shape):
    inputs = keras.Input(shape=input_shape)
    x = layers.ReLU()(layers.Conv2D(8, 4, padding="same")(inputs))
    x = layers.MaxPool2D(8, strides=8, padding="same")(x)
    x = layers.ReLU()(layers.Conv2D(16, 2, padding="same")(x))
    x = layers.MaxPool2D(4, strides=4, padding="same")(x)
    return keras.Model(inputs, layers.Dense(5, activation="softmax")(layers.Flatten()(x)))


@variant("convolutional_model", "buggy", "ReLU after the second convolution missing")
def signs_missing_relu(input_shape):
    inputs = keras.Input(shape=input_shape)
    x = layers.ReLU()(layers.Conv2D(8, 4, padding="same")(inputs))
    x = layers.MaxPool2D(8, strides=8, padding="same")(x)
    x = layers.Conv2D(16, 2, padding="same")(x)
    x = layers.MaxPool2D(4, strides=4, padding="same")(x)
    return keras.Model(inputs, layers.Dense(6, activation="softmax")(layers.Flatten()(x)))


@variant("convolutional_model", "buggy", "hard-coded input shape (64, 64, 3)")
def signs_hard_coded_shape(input_shape):
    inputs = keras.Input(shape=(64, 64, 3))
    x = layers.ReLU()(layers.Conv2D(8, 4, padding="same")(inputs))
    x = layers.MaxPool2D(8, strides=8, padding="same")(x)
    x = layers.ReLU()(layers.Conv2D(16, 2, padding="same")(x))
    x = layers.MaxPool2D(4, strides=4, padding="same")(x)
    return keras.Model(inputs, layers.Dense(6, activation="softmax")(layers.Flatten()(x)))


@variant("convolutional_model", "buggy", "pools with valid padding")
def signs_valid_pool(input_shape):
    inputs = keras.Input(shape=input_shape)
    x = layers.ReLU()(layers.Conv2D(8, 4, padding="same")(inputs))
    x = layers.MaxPool2D(8)(x)
    x = layers.ReLU()(layers.Conv2D(16, 2, padding="same")(x))
    x = layers.MaxPool2D(4)(x)
    return keras.Model(inputs, layers.Dense(6, activation="softmax")(layers.Flatten()(x)))


@variant("convolutional_model", "correct", "activations inside the layers, separate softmax layer")
def signs_builtin_activations(input_shape):
    inputs = keras.Input(shape=input_shape)
    x = layers.Conv2D(8, (4, 4), strides=(1, 1), padding="same", activation="relu")(inputs)
    x = layers.MaxPooling2D(pool_size=(8, 8), strides=(8, 8), padding="same")(x)
    x = layers.Conv2D(16, (2, 2), padding="same", activation="relu")(x)
    x = layers.MaxPooling2D(pool_size=(4, 4), strides=(4, 4), padding="same")(x)
    x = layers.Dense(6)(layers.Flatten()(x))
    return keras.Model(inputs=inputs, outputs=layers.Softmax()(x))


@variant("convolutional_model", "correct", "Sequential stack with Activation layers")
def signs_sequential(input_shape):
    return keras.Sequential([
        keras.Input(shape=input_shape),
        layers.Conv2D(8, 4, padding="same"), layers.Activation("relu"),
        layers.MaxPool2D(8, 8, "same"),
        layers.Conv2D(16, 2, padding="same"), layers.Activation("relu"),
        layers.MaxPool2D(4, 4, "same"),
        layers.Flatten(), layers.Dense(6, activation="softmax"),
    ])
