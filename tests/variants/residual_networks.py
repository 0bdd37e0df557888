"""Variants of the week-2 Residual_Networks functions: usual mistakes (must lose points) and other
correct ways (must keep them).

Each is written as a student would in the notebook, with its names: Conv2D, BatchNormalization,
Activation, Add, Input, ZeroPadding2D, MaxPooling2D, AveragePooling2D, Flatten, Dense,
random_uniform, glorot_uniform, keras, and (in ResNet50) the notebook's identity_block and
convolutional_block.
"""

# ruff: noqa: F821

from helpers.backend import keras
from tests.variants import variant

# default arguments are evaluated when this module is imported: the notebook's names for them
random_uniform = keras.initializers.random_uniform
glorot_uniform = keras.initializers.glorot_uniform



@variant("identity_block", "correct", "keras.layers.add, ReLU() layers, loop over the first two convs, axis=-1")
def identity_block_add_function_relu_layer(X, f, filters, training=True, initializer=random_uniform):
    F1, F2, F3 = filters
    skip = X
    h = X
    for n_filters, size in ((F1, 1), (F2, f)):
        h = keras.layers.Conv2D(n_filters, (size, size), padding="same", kernel_initializer=initializer(seed=0))(h)
        h = keras.layers.BatchNormalization(axis=-1)(h, training=training)
        h = keras.layers.ReLU()(h)
    h = keras.layers.Conv2D(F3, (1, 1), kernel_initializer=initializer(seed=0))(h)
    h = keras.layers.BatchNormalization(axis=3)(h, training=training)
    return keras.layers.ReLU()(keras.layers.add([skip, h]))


@variant("convolutional_block", "correct", "shortcut branch built first, Activation(keras.activations.relu)")
def convolutional_block_shortcut_first(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    F1, F2, F3 = filters
    shortcut = keras.layers.Conv2D(F3, 1, strides=s, kernel_initializer=initializer(seed=0))(X)
    shortcut = keras.layers.BatchNormalization(axis=3)(shortcut, training=training)
    X = keras.layers.Conv2D(F1, 1, strides=s, kernel_initializer=initializer(seed=0))(X)
    X = keras.layers.BatchNormalization(axis=3)(X, training=training)
    X = keras.layers.Activation(keras.activations.relu)(X)
    X = keras.layers.Conv2D(F2, f, padding="same", kernel_initializer=initializer(seed=0))(X)
    X = keras.layers.BatchNormalization(axis=3)(X, training=training)
    X = keras.layers.Activation(keras.activations.relu)(X)
    X = keras.layers.Conv2D(F3, 1, kernel_initializer=initializer(seed=0))(X)
    X = keras.layers.BatchNormalization(axis=3)(X, training=training)
    return keras.layers.ReLU()(keras.layers.Add()([shortcut, X]))


@variant("ResNet50", "correct", "stages unrolled by hand, integer pool sizes, keras.Input")
def ResNet50_unrolled(input_shape=(64, 64, 3), classes=6):
    inputs = keras.Input(input_shape)
    X = keras.layers.ZeroPadding2D(padding=3)(inputs)
    X = keras.layers.Conv2D(64, 7, strides=2)(X)
    X = keras.layers.BatchNormalization(axis=3)(X)
    X = keras.layers.ReLU()(X)
    X = keras.layers.MaxPooling2D(pool_size=3, strides=2)(X)
    X = convolutional_block(X, f=3, filters=[64, 64, 256], s=1, training=None)
    X = identity_block(X, f=3, filters=[64, 64, 256], training=None)
    X = identity_block(X, f=3, filters=[64, 64, 256], training=None)
    X = convolutional_block(X, f=3, filters=[128, 128, 512], s=2, training=None)
    for i in range(3):
        X = identity_block(X, f=3, filters=[128, 128, 512], training=None)
    X = convolutional_block(X, f=3, filters=[256, 256, 1024], s=2, training=None)
    for i in range(5):
        X = identity_block(X, f=3, filters=[256, 256, 1024], training=None)
    X = convolutional_block(X, f=3, filters=[512, 512, 2048], s=2, training=None)
    X = identity_block(X, f=3, filters=[512, 512, 2048], training=None)
    X = identity_block(X, f=3, filters=[512, 512, 2048], training=None)
    X = keras.layers.AveragePooling2D(pool_size=2)(X)
    X = keras.layers.Flatten()(X)
    outputs = keras.layers.Dense(classes, activation="softmax")(X)
    return keras.Model(inputs, outputs)


@variant("ResNet50", "correct", "blocks called with their default training=True")
def ResNet50_default_training_argument(input_shape=(64, 64, 3), classes=6):
    X_input = Input(shape=input_shape)
    X = ZeroPadding2D((3, 3))(X_input)
    X = Conv2D(64, (7, 7), strides=(2, 2))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X))
    X = MaxPooling2D((3, 3), strides=(2, 2))(X)
    for filters, blocks, s in (([64, 64, 256], 3, 1), ([128, 128, 512], 4, 2), ([256, 256, 1024], 6, 2), ([512, 512, 2048], 3, 2)):
        X = convolutional_block(X, 3, filters, s=s)
        for _ in range(blocks - 1):
            X = identity_block(X, 3, filters)
    X = Flatten()(AveragePooling2D((2, 2))(X))
    X = Dense(classes, activation="softmax")(X)
    return keras.Model(X_input, X)


@variant("identity_block", "buggy", "adds the shortcut after the final ReLU")
def identity_block_add_after_relu(X, f, filters, training=True, initializer=random_uniform):
    F1, F2, F3 = filters
    X_shortcut = X
    X = Conv2D(F1, 1, kernel_initializer=initializer(seed=0))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=training))
    X = Conv2D(F2, f, padding="same", kernel_initializer=initializer(seed=0))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=training))
    X = Conv2D(F3, 1, kernel_initializer=initializer(seed=0))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=training))
    return Add()([X, X_shortcut])


@variant("identity_block", "buggy", "no batch norm after the f x f conv")
def identity_block_missing_batch_norm(X, f, filters, training=True, initializer=random_uniform):
    F1, F2, F3 = filters
    X_shortcut = X
    X = Conv2D(F1, 1, kernel_initializer=initializer(seed=0))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=training))
    X = Conv2D(F2, f, padding="same", kernel_initializer=initializer(seed=0))(X)
    X = Activation("relu")(X)
    X = Conv2D(F3, 1, kernel_initializer=initializer(seed=0))(X)
    X = BatchNormalization(axis=3)(X, training=training)
    return Activation("relu")(Add()([X, X_shortcut]))


@variant("identity_block", "buggy", "batch norm always called with training=True")
def identity_block_ignores_training(X, f, filters, training=True, initializer=random_uniform):
    F1, F2, F3 = filters
    X_shortcut = X
    X = Conv2D(F1, 1, kernel_initializer=initializer(seed=0))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=True))
    X = Conv2D(F2, f, padding="same", kernel_initializer=initializer(seed=0))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=True))
    X = Conv2D(F3, 1, kernel_initializer=initializer(seed=0))(X)
    X = BatchNormalization(axis=3)(X, training=True)
    return Activation("relu")(Add()([X, X_shortcut]))


@variant("identity_block", "buggy", "middle conv uses F1 filters instead of F2")
def identity_block_wrong_filters(X, f, filters, training=True, initializer=random_uniform):
    F1, F2, F3 = filters
    X_shortcut = X
    X = Conv2D(F1, 1, kernel_initializer=initializer(seed=0))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=training))
    X = Conv2D(F1, f, padding="same", kernel_initializer=initializer(seed=0))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=training))
    X = Conv2D(F3, 1, kernel_initializer=initializer(seed=0))(X)
    X = BatchNormalization(axis=3)(X, training=training)
    return Activation("relu")(Add()([X, X_shortcut]))


@variant("convolutional_block", "buggy", "stride on the f x f conv instead of the first 1x1")
def convolutional_block_stride_on_middle_conv(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    F1, F2, F3 = filters
    X_shortcut = X
    X = Conv2D(F1, 1, kernel_initializer=initializer(seed=0))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=training))
    X = Conv2D(F2, f, strides=s, padding="same", kernel_initializer=initializer(seed=0))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=training))
    X = Conv2D(F3, 1, kernel_initializer=initializer(seed=0))(X)
    X = BatchNormalization(axis=3)(X, training=training)
    X_shortcut = Conv2D(F3, 1, strides=s, kernel_initializer=initializer(seed=0))(X_shortcut)
    X_shortcut = BatchNormalization(axis=3)(X_shortcut, training=training)
    return Activation("relu")(Add()([X, X_shortcut]))


@variant("convolutional_block", "buggy", "shortcut conv without batch norm")
def convolutional_block_shortcut_without_batch_norm(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    F1, F2, F3 = filters
    X_shortcut = X
    X = Conv2D(F1, 1, strides=s, kernel_initializer=initializer(seed=0))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=training))
    X = Conv2D(F2, f, padding="same", kernel_initializer=initializer(seed=0))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=training))
    X = Conv2D(F3, 1, kernel_initializer=initializer(seed=0))(X)
    X = BatchNormalization(axis=3)(X, training=training)
    X_shortcut = Conv2D(F3, 1, strides=s, kernel_initializer=initializer(seed=0))(X_shortcut)
    return Activation("relu")(Add()([X, X_shortcut]))


@variant("convolutional_block", "buggy", "shortcut not projected (strided identity, zero-padded channels)")
def convolutional_block_shortcut_without_projection(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    F1, F2, F3 = filters
    X_shortcut = MaxPooling2D(pool_size=1, strides=s)(X)
    X = Conv2D(F1, 1, strides=s, kernel_initializer=initializer(seed=0))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=training))
    X = Conv2D(F2, f, padding="same", kernel_initializer=initializer(seed=0))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=training))
    X = Conv2D(F3, 1, kernel_initializer=initializer(seed=0))(X)
    X = BatchNormalization(axis=3)(X, training=training)
    if X_shortcut.shape[-1] != F3:
        X_shortcut = keras.ops.pad(X_shortcut, [[0, 0], [0, 0], [0, 0], [0, F3 - X_shortcut.shape[-1]]])
    return Activation("relu")(Add()([X, X_shortcut]))


@variant("convolutional_block", "buggy", "adds the shortcut after the final ReLU")
def convolutional_block_add_after_relu(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    F1, F2, F3 = filters
    X_shortcut = X
    X = Conv2D(F1, 1, strides=s, kernel_initializer=initializer(seed=0))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=training))
    X = Conv2D(F2, f, padding="same", kernel_initializer=initializer(seed=0))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=training))
    X = Conv2D(F3, 1, kernel_initializer=initializer(seed=0))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=training))
    X_shortcut = Conv2D(F3, 1, strides=s, kernel_initializer=initializer(seed=0))(X_shortcut)
    X_shortcut = BatchNormalization(axis=3)(X_shortcut, training=training)
    return Add()([X, X_shortcut])


@variant("ResNet50", "buggy", "stage 2 convolutional block with s=2")
def ResNet50_stage2_stride_2(input_shape=(64, 64, 3), classes=6):
    X_input = Input(shape=input_shape)
    X = ZeroPadding2D((3, 3))(X_input)
    X = Conv2D(64, (7, 7), strides=(2, 2))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X))
    X = MaxPooling2D((3, 3), strides=(2, 2))(X)
    for filters, blocks in (([64, 64, 256], 3), ([128, 128, 512], 4), ([256, 256, 1024], 6), ([512, 512, 2048], 3)):
        X = convolutional_block(X, 3, filters, s=2, training=None)
        for _ in range(blocks - 1):
            X = identity_block(X, 3, filters, training=None)
    X = Flatten()(AveragePooling2D((1, 1))(X))
    X = Dense(classes, activation="softmax")(X)
    return keras.Model(X_input, X)


@variant("ResNet50", "buggy", "3 blocks in every stage")
def ResNet50_wrong_block_counts(input_shape=(64, 64, 3), classes=6):
    X_input = Input(shape=input_shape)
    X = ZeroPadding2D((3, 3))(X_input)
    X = Conv2D(64, (7, 7), strides=(2, 2))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X))
    X = MaxPooling2D((3, 3), strides=(2, 2))(X)
    for filters, blocks, s in (([64, 64, 256], 3, 1), ([128, 128, 512], 3, 2), ([256, 256, 1024], 3, 2), ([512, 512, 2048], 3, 2)):
        X = convolutional_block(X, 3, filters, s=s, training=None)
        for _ in range(blocks - 1):
            X = identity_block(X, 3, filters, training=None)
    X = Flatten()(AveragePooling2D((2, 2))(X))
    X = Dense(classes, activation="softmax")(X)
    return keras.Model(X_input, X)


@variant("ResNet50", "buggy", "max pooling instead of average pooling in the head")
def ResNet50_max_pool_head(input_shape=(64, 64, 3), classes=6):
    X_input = Input(shape=input_shape)
    X = ZeroPadding2D((3, 3))(X_input)
    X = Conv2D(64, (7, 7), strides=(2, 2))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X))
    X = MaxPooling2D((3, 3), strides=(2, 2))(X)
    for filters, blocks, s in (([64, 64, 256], 3, 1), ([128, 128, 512], 4, 2), ([256, 256, 1024], 6, 2), ([512, 512, 2048], 3, 2)):
        X = convolutional_block(X, 3, filters, s=s, training=None)
        for _ in range(blocks - 1):
            X = identity_block(X, 3, filters, training=None)
    X = Flatten()(MaxPooling2D((2, 2))(X))
    X = Dense(classes, activation="softmax")(X)
    return keras.Model(X_input, X)


@variant("ResNet50", "buggy", "hard-coded 6 classes")
def ResNet50_ignores_classes(input_shape=(64, 64, 3), classes=6):
    X_input = Input(shape=input_shape)
    X = ZeroPadding2D((3, 3))(X_input)
    X = Conv2D(64, (7, 7), strides=(2, 2))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X))
    X = MaxPooling2D((3, 3), strides=(2, 2))(X)
    for filters, blocks, s in (([64, 64, 256], 3, 1), ([128, 128, 512], 4, 2), ([256, 256, 1024], 6, 2), ([512, 512, 2048], 3, 2)):
        X = convolutional_block(X, 3, filters, s=s, training=None)
        for _ in range(blocks - 1):
            X = identity_block(X, 3, filters, training=None)
    X = Flatten()(AveragePooling2D((2, 2))(X))
    X = Dense(6, activation="softmax")(X)
    return keras.Model(X_input, X)


@variant("identity_block", "buggy", "ignores the initializer argument")
def identity_block_default_initializer(X, f, filters, training=True, initializer=random_uniform):
    F1, F2, F3 = filters
    X_shortcut = X
    X = Conv2D(F1, 1)(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=training))
    X = Conv2D(F2, f, padding="same")(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=training))
    X = Conv2D(F3, 1)(X)
    X = BatchNormalization(axis=3)(X, training=training)
    return Activation("relu")(Add()([X, X_shortcut]))


@variant("identity_block", "buggy", "hard-coded window size f=3")
def identity_block_hard_coded_f(X, f, filters, training=True, initializer=random_uniform):
    F1, F2, F3 = filters
    X_shortcut = X
    X = Conv2D(F1, 1, kernel_initializer=initializer(seed=0))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=training))
    X = Conv2D(F2, 3, padding="same", kernel_initializer=initializer(seed=0))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=training))
    X = Conv2D(F3, 1, kernel_initializer=initializer(seed=0))(X)
    X = BatchNormalization(axis=3)(X, training=training)
    return Activation("relu")(Add()([X, X_shortcut]))


@variant("convolutional_block", "buggy", "hard-coded stride 2")
def convolutional_block_hard_coded_stride(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    F1, F2, F3 = filters
    X_shortcut = X
    X = Conv2D(F1, 1, strides=2, kernel_initializer=initializer(seed=0))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=training))
    X = Conv2D(F2, f, padding="same", kernel_initializer=initializer(seed=0))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=training))
    X = Conv2D(F3, 1, kernel_initializer=initializer(seed=0))(X)
    X = BatchNormalization(axis=3)(X, training=training)
    X_shortcut = Conv2D(F3, 1, strides=2, kernel_initializer=initializer(seed=0))(X_shortcut)
    X_shortcut = BatchNormalization(axis=3)(X_shortcut, training=training)
    return Activation("relu")(Add()([X, X_shortcut]))
