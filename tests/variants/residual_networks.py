"""Variant implementations of the graded functions of source/week2/Residual_Networks.ipynb.

Each entry is the full source of one solution cell (signature included). ``CORRECT`` variants are
written differently from the reference and must keep full marks; ``BUGGY`` variants hold one usual
mistake each and must lose that function's points (and only those).
"""

CORRECT = {
    # keras.layers.add / ReLU layer / shortcut branch built first / tuple kernel sizes
    "identity_block": {"add_function_relu_layer": '''
def identity_block(X, f, filters, training=True, initializer=random_uniform):
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
'''},
    # shortcut computed before the main path; Activation via keras.activations
    "convolutional_block": {"shortcut_first": '''
def convolutional_block(X, f, filters, s=2, training=True, initializer=glorot_uniform):
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
'''},
    # blocks unrolled by hand with keyword arguments, integer pool sizes
    "ResNet50": {"unrolled": '''
def ResNet50(input_shape=(64, 64, 3), classes=6):
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
''',
    # blocks called with their default training=True: Keras still passes its own mode at fit/predict time
        "default_training_argument": '''
def ResNet50(input_shape=(64, 64, 3), classes=6):
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
''',
},
}

BUGGY = {
    "identity_block": {
        "add_after_relu": '''
def identity_block(X, f, filters, training=True, initializer=random_uniform):
    F1, F2, F3 = filters
    X_shortcut = X
    X = Conv2D(F1, 1, kernel_initializer=initializer(seed=0))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=training))
    X = Conv2D(F2, f, padding="same", kernel_initializer=initializer(seed=0))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=training))
    X = Conv2D(F3, 1, kernel_initializer=initializer(seed=0))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=training))
    return Add()([X, X_shortcut])
''',
        "missing_batch_norm": '''
def identity_block(X, f, filters, training=True, initializer=random_uniform):
    F1, F2, F3 = filters
    X_shortcut = X
    X = Conv2D(F1, 1, kernel_initializer=initializer(seed=0))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=training))
    X = Conv2D(F2, f, padding="same", kernel_initializer=initializer(seed=0))(X)
    X = Activation("relu")(X)
    X = Conv2D(F3, 1, kernel_initializer=initializer(seed=0))(X)
    X = BatchNormalization(axis=3)(X, training=training)
    return Activation("relu")(Add()([X, X_shortcut]))
''',
        "ignores_training": '''
def identity_block(X, f, filters, training=True, initializer=random_uniform):
    F1, F2, F3 = filters
    X_shortcut = X
    X = Conv2D(F1, 1, kernel_initializer=initializer(seed=0))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=True))
    X = Conv2D(F2, f, padding="same", kernel_initializer=initializer(seed=0))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=True))
    X = Conv2D(F3, 1, kernel_initializer=initializer(seed=0))(X)
    X = BatchNormalization(axis=3)(X, training=True)
    return Activation("relu")(Add()([X, X_shortcut]))
''',
        "wrong_filters": '''
def identity_block(X, f, filters, training=True, initializer=random_uniform):
    F1, F2, F3 = filters
    X_shortcut = X
    X = Conv2D(F1, 1, kernel_initializer=initializer(seed=0))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=training))
    X = Conv2D(F1, f, padding="same", kernel_initializer=initializer(seed=0))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=training))
    X = Conv2D(F3, 1, kernel_initializer=initializer(seed=0))(X)
    X = BatchNormalization(axis=3)(X, training=training)
    return Activation("relu")(Add()([X, X_shortcut]))
''',
    },
    "convolutional_block": {
        "stride_on_middle_conv": '''
def convolutional_block(X, f, filters, s=2, training=True, initializer=glorot_uniform):
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
''',
        "shortcut_without_batch_norm": '''
def convolutional_block(X, f, filters, s=2, training=True, initializer=glorot_uniform):
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
''',
        # pools the shortcut instead of projecting it: right shape only when channels already match
        "shortcut_without_projection": '''
def convolutional_block(X, f, filters, s=2, training=True, initializer=glorot_uniform):
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
''',
        "add_after_relu": '''
def convolutional_block(X, f, filters, s=2, training=True, initializer=glorot_uniform):
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
''',
    },
    "ResNet50": {
        "stage2_stride_2": '''
def ResNet50(input_shape=(64, 64, 3), classes=6):
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
''',
        "wrong_block_counts": '''
def ResNet50(input_shape=(64, 64, 3), classes=6):
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
''',
        "max_pool_head": '''
def ResNet50(input_shape=(64, 64, 3), classes=6):
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
''',
        "ignores_classes": '''
def ResNet50(input_shape=(64, 64, 3), classes=6):
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
''',
    },
}
