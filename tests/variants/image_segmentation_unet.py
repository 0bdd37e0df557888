"""Variants of the week-3 Image_Segmentation_UNet functions: usual mistakes (must lose points) and other
correct ways (must keep them).

Each is written as a student would in the notebook, with its names: Input, Conv2D, MaxPooling2D, Dropout,
Conv2DTranspose, concatenate, keras, and (in unet_model) the notebook's conv_block and upsampling_block.
"""

# ruff: noqa: F821

from tests.variants import variant

# --- conv_block ---


@variant("conv_block", "correct", "keras.layers with separate ReLU layers, Dropout(0) always, explicit initializer object")
def conv_block_separate_relu(inputs=None, n_filters=32, dropout_prob=0, max_pooling=True):
    x = inputs
    for _ in range(2):
        x = keras.layers.Conv2D(n_filters, (3, 3), padding="same",
                                kernel_initializer=keras.initializers.HeNormal())(x)
        x = keras.layers.ReLU()(x)
    x = keras.layers.Dropout(dropout_prob)(x)
    skip_connection = x
    next_layer = keras.layers.MaxPooling2D(2)(x) if max_pooling else x
    return next_layer, skip_connection


@variant("conv_block", "buggy", "skip connection taken after pooling")
def conv_block_skip_after_pooling(inputs=None, n_filters=32, dropout_prob=0, max_pooling=True):
    conv = Conv2D(n_filters, 3, activation="relu", padding="same", kernel_initializer="he_normal")(inputs)
    conv = Conv2D(n_filters, 3, activation="relu", padding="same", kernel_initializer="he_normal")(conv)
    if dropout_prob > 0:
        conv = Dropout(dropout_prob)(conv)
    if max_pooling:
        conv = MaxPooling2D(pool_size=(2, 2))(conv)
    next_layer = conv
    skip_connection = conv
    return next_layer, skip_connection


@variant("conv_block", "buggy", "pooling always applied")
def conv_block_always_pools(inputs=None, n_filters=32, dropout_prob=0, max_pooling=True):
    conv = Conv2D(n_filters, 3, activation="relu", padding="same", kernel_initializer="he_normal")(inputs)
    conv = Conv2D(n_filters, 3, activation="relu", padding="same", kernel_initializer="he_normal")(conv)
    if dropout_prob > 0:
        conv = Dropout(dropout_prob)(conv)
    next_layer = MaxPooling2D(pool_size=(2, 2))(conv)
    skip_connection = conv
    return next_layer, skip_connection


@variant("conv_block", "buggy", "dropout not applied")
def conv_block_no_dropout(inputs=None, n_filters=32, dropout_prob=0, max_pooling=True):
    conv = Conv2D(n_filters, 3, activation="relu", padding="same", kernel_initializer="he_normal")(inputs)
    conv = Conv2D(n_filters, 3, activation="relu", padding="same", kernel_initializer="he_normal")(conv)
    if max_pooling:
        next_layer = MaxPooling2D(pool_size=(2, 2))(conv)
    else:
        next_layer = conv
    skip_connection = conv
    return next_layer, skip_connection


@variant("conv_block", "buggy", "dropout after pooling, not on the skip connection")
def conv_block_dropout_after_pooling(inputs=None, n_filters=32, dropout_prob=0, max_pooling=True):
    conv = Conv2D(n_filters, 3, activation="relu", padding="same", kernel_initializer="he_normal")(inputs)
    conv = Conv2D(n_filters, 3, activation="relu", padding="same", kernel_initializer="he_normal")(conv)
    next_layer = MaxPooling2D(pool_size=(2, 2))(conv) if max_pooling else conv
    if dropout_prob > 0:
        next_layer = Dropout(dropout_prob)(next_layer)
    skip_connection = conv
    return next_layer, skip_connection


@variant("conv_block", "buggy", "default glorot_uniform kernel initializer")
def conv_block_default_initializer(inputs=None, n_filters=32, dropout_prob=0, max_pooling=True):
    conv = Conv2D(n_filters, 3, activation="relu", padding="same")(inputs)
    conv = Conv2D(n_filters, 3, activation="relu", padding="same")(conv)
    if dropout_prob > 0:
        conv = Dropout(dropout_prob)(conv)
    next_layer = MaxPooling2D(pool_size=(2, 2))(conv) if max_pooling else conv
    skip_connection = conv
    return next_layer, skip_connection


@variant("conv_block", "buggy", "no ReLU on the second convolution")
def conv_block_no_second_relu(inputs=None, n_filters=32, dropout_prob=0, max_pooling=True):
    conv = Conv2D(n_filters, 3, activation="relu", padding="same", kernel_initializer="he_normal")(inputs)
    conv = Conv2D(n_filters, 3, padding="same", kernel_initializer="he_normal")(conv)
    if dropout_prob > 0:
        conv = Dropout(dropout_prob)(conv)
    next_layer = MaxPooling2D(pool_size=(2, 2))(conv) if max_pooling else conv
    skip_connection = conv
    return next_layer, skip_connection


@variant("conv_block", "buggy", "hard-coded 32 filters")
def conv_block_hard_coded_filters(inputs=None, n_filters=32, dropout_prob=0, max_pooling=True):
    conv = Conv2D(32, 3, activation="relu", padding="same", kernel_initializer="he_normal")(inputs)
    conv = Conv2D(32, 3, activation="relu", padding="same", kernel_initializer="he_normal")(conv)
    if dropout_prob > 0:
        conv = Dropout(dropout_prob)(conv)
    next_layer = MaxPooling2D(pool_size=(2, 2))(conv) if max_pooling else conv
    skip_connection = conv
    return next_layer, skip_connection


# --- upsampling_block ---


@variant("upsampling_block", "correct", "Concatenate layer with axis=-1, Conv2D then ReLU layers, keyword arguments")
def upsampling_block_concatenate_layer(expansive_input, contractive_input, n_filters=32):
    up = keras.layers.Conv2DTranspose(filters=n_filters, kernel_size=(3, 3), strides=2, padding="same")(expansive_input)
    x = keras.layers.Concatenate(axis=-1)([up, contractive_input])
    for _ in range(2):
        x = keras.layers.Conv2D(filters=n_filters, kernel_size=3, padding="same", kernel_initializer="he_normal")(x)
        x = keras.layers.Activation("relu")(x)
    return x


@variant("upsampling_block", "buggy", "concatenate order swapped")
def upsampling_block_swapped_concatenation(expansive_input, contractive_input, n_filters=32):
    up = Conv2DTranspose(n_filters, 3, strides=(2, 2), padding="same")(expansive_input)
    merge = concatenate([contractive_input, up], axis=3)
    conv = Conv2D(n_filters, 3, activation="relu", padding="same", kernel_initializer="he_normal")(merge)
    conv = Conv2D(n_filters, 3, activation="relu", padding="same", kernel_initializer="he_normal")(conv)
    return conv


@variant("upsampling_block", "buggy", "transposed convolution with stride 1")
def upsampling_block_stride_1(expansive_input, contractive_input, n_filters=32):
    up = Conv2DTranspose(n_filters, 3, strides=(1, 1), padding="same")(expansive_input)
    merge = concatenate([up, contractive_input], axis=3)
    conv = Conv2D(n_filters, 3, activation="relu", padding="same", kernel_initializer="he_normal")(merge)
    conv = Conv2D(n_filters, 3, activation="relu", padding="same", kernel_initializer="he_normal")(conv)
    return conv


@variant("upsampling_block", "buggy", "skip connection not concatenated")
def upsampling_block_no_skip(expansive_input, contractive_input, n_filters=32):
    up = Conv2DTranspose(n_filters, 3, strides=(2, 2), padding="same")(expansive_input)
    conv = Conv2D(n_filters, 3, activation="relu", padding="same", kernel_initializer="he_normal")(up)
    conv = Conv2D(n_filters, 3, activation="relu", padding="same", kernel_initializer="he_normal")(conv)
    return conv


@variant("upsampling_block", "buggy", "ReLU missing on the last convolution")
def upsampling_block_no_last_relu(expansive_input, contractive_input, n_filters=32):
    up = Conv2DTranspose(n_filters, 3, strides=(2, 2), padding="same")(expansive_input)
    merge = concatenate([up, contractive_input], axis=3)
    conv = Conv2D(n_filters, 3, activation="relu", padding="same", kernel_initializer="he_normal")(merge)
    conv = Conv2D(n_filters, 3, padding="same", kernel_initializer="he_normal")(conv)
    return conv


@variant("upsampling_block", "buggy", "hard-coded 32 filters")
def upsampling_block_hard_coded_filters(expansive_input, contractive_input, n_filters=32):
    up = Conv2DTranspose(32, 3, strides=(2, 2), padding="same")(expansive_input)
    merge = concatenate([up, contractive_input], axis=3)
    conv = Conv2D(32, 3, activation="relu", padding="same", kernel_initializer="he_normal")(merge)
    conv = Conv2D(32, 3, activation="relu", padding="same", kernel_initializer="he_normal")(conv)
    return conv


# --- unet_model ---


@variant("unet_model", "correct", "encoder and decoder as loops, keras.Input, filters listed")
def unet_model_loops(input_size=(96, 128, 3), n_filters=32, n_classes=23):
    inputs = keras.Input(shape=input_size)
    x, skips = inputs, []
    for level in range(5):
        x, skip = conv_block(x, n_filters * 2 ** level, dropout_prob=0.3 if level >= 3 else 0,
                             max_pooling=level < 4)
        skips.append(skip)
    for level in (3, 2, 1, 0):
        x = upsampling_block(x, skips[level], n_filters * 2 ** level)
    x = keras.layers.Conv2D(n_filters, 3, activation="relu", padding="same", kernel_initializer="he_normal")(x)
    outputs = keras.layers.Conv2D(n_classes, (1, 1))(x)
    return keras.Model(inputs, outputs)


@variant("unet_model", "buggy", "skip connections taken after pooling (cblockN[0])")
def unet_model_pooled_skips(input_size=(96, 128, 3), n_filters=32, n_classes=23):
    inputs = Input(input_size)
    cblock1 = conv_block(inputs, n_filters)
    cblock2 = conv_block(cblock1[0], n_filters * 2)
    cblock3 = conv_block(cblock2[0], n_filters * 4)
    cblock4 = conv_block(cblock3[0], n_filters * 8, dropout_prob=0.3)
    cblock5 = conv_block(cblock4[0], n_filters * 16, dropout_prob=0.3, max_pooling=False)
    ublock6 = upsampling_block(cblock5[0], cblock4[0], n_filters * 8)
    ublock7 = upsampling_block(ublock6, cblock3[0], n_filters * 4)
    ublock8 = upsampling_block(ublock7, cblock2[0], n_filters * 2)
    ublock9 = upsampling_block(ublock8, cblock1[0], n_filters)
    conv9 = Conv2D(n_filters, 3, activation="relu", padding="same", kernel_initializer="he_normal")(ublock9)
    conv10 = Conv2D(n_classes, 1, padding="same")(conv9)
    return keras.Model(inputs=inputs, outputs=conv10)


@variant("unet_model", "buggy", "first decoder block joined with the wrong encoder block (cblock3's pooled output)")
def unet_model_wrong_skip_block(input_size=(96, 128, 3), n_filters=32, n_classes=23):
    inputs = Input(input_size)
    cblock1 = conv_block(inputs, n_filters)
    cblock2 = conv_block(cblock1[0], n_filters * 2)
    cblock3 = conv_block(cblock2[0], n_filters * 4)
    cblock4 = conv_block(cblock3[0], n_filters * 8, dropout_prob=0.3)
    cblock5 = conv_block(cblock4[0], n_filters * 16, dropout_prob=0.3, max_pooling=False)
    ublock6 = upsampling_block(cblock5[0], cblock3[0], n_filters * 8)
    ublock7 = upsampling_block(ublock6, cblock3[1], n_filters * 4)
    ublock8 = upsampling_block(ublock7, cblock2[1], n_filters * 2)
    ublock9 = upsampling_block(ublock8, cblock1[1], n_filters)
    conv9 = Conv2D(n_filters, 3, activation="relu", padding="same", kernel_initializer="he_normal")(ublock9)
    conv10 = Conv2D(n_classes, 1, padding="same")(conv9)
    return keras.Model(inputs=inputs, outputs=conv10)


@variant("unet_model", "buggy", "softmax on the output")
def unet_model_softmax(input_size=(96, 128, 3), n_filters=32, n_classes=23):
    inputs = Input(input_size)
    cblock1 = conv_block(inputs, n_filters)
    cblock2 = conv_block(cblock1[0], n_filters * 2)
    cblock3 = conv_block(cblock2[0], n_filters * 4)
    cblock4 = conv_block(cblock3[0], n_filters * 8, dropout_prob=0.3)
    cblock5 = conv_block(cblock4[0], n_filters * 16, dropout_prob=0.3, max_pooling=False)
    ublock6 = upsampling_block(cblock5[0], cblock4[1], n_filters * 8)
    ublock7 = upsampling_block(ublock6, cblock3[1], n_filters * 4)
    ublock8 = upsampling_block(ublock7, cblock2[1], n_filters * 2)
    ublock9 = upsampling_block(ublock8, cblock1[1], n_filters)
    conv9 = Conv2D(n_filters, 3, activation="relu", padding="same", kernel_initializer="he_normal")(ublock9)
    conv10 = Conv2D(n_classes, 1, padding="same", activation="softmax")(conv9)
    return keras.Model(inputs=inputs, outputs=conv10)


@variant("unet_model", "buggy", "final 1x1 convolution missing")
def unet_model_no_head(input_size=(96, 128, 3), n_filters=32, n_classes=23):
    inputs = Input(input_size)
    cblock1 = conv_block(inputs, n_filters)
    cblock2 = conv_block(cblock1[0], n_filters * 2)
    cblock3 = conv_block(cblock2[0], n_filters * 4)
    cblock4 = conv_block(cblock3[0], n_filters * 8, dropout_prob=0.3)
    cblock5 = conv_block(cblock4[0], n_filters * 16, dropout_prob=0.3, max_pooling=False)
    ublock6 = upsampling_block(cblock5[0], cblock4[1], n_filters * 8)
    ublock7 = upsampling_block(ublock6, cblock3[1], n_filters * 4)
    ublock8 = upsampling_block(ublock7, cblock2[1], n_filters * 2)
    ublock9 = upsampling_block(ublock8, cblock1[1], n_filters)
    conv9 = Conv2D(n_classes, 3, activation="relu", padding="same", kernel_initializer="he_normal")(ublock9)
    return keras.Model(inputs=inputs, outputs=conv9)


@variant("unet_model", "buggy", "no dropout in the deepest blocks")
def unet_model_no_dropout(input_size=(96, 128, 3), n_filters=32, n_classes=23):
    inputs = Input(input_size)
    cblock1 = conv_block(inputs, n_filters)
    cblock2 = conv_block(cblock1[0], n_filters * 2)
    cblock3 = conv_block(cblock2[0], n_filters * 4)
    cblock4 = conv_block(cblock3[0], n_filters * 8)
    cblock5 = conv_block(cblock4[0], n_filters * 16, max_pooling=False)
    ublock6 = upsampling_block(cblock5[0], cblock4[1], n_filters * 8)
    ublock7 = upsampling_block(ublock6, cblock3[1], n_filters * 4)
    ublock8 = upsampling_block(ublock7, cblock2[1], n_filters * 2)
    ublock9 = upsampling_block(ublock8, cblock1[1], n_filters)
    conv9 = Conv2D(n_filters, 3, activation="relu", padding="same", kernel_initializer="he_normal")(ublock9)
    conv10 = Conv2D(n_classes, 1, padding="same")(conv9)
    return keras.Model(inputs=inputs, outputs=conv10)


@variant("unet_model", "buggy", "hard-coded input size (96, 128, 3)")
def unet_model_hard_coded_input(input_size=(96, 128, 3), n_filters=32, n_classes=23):
    inputs = Input((96, 128, 3))
    cblock1 = conv_block(inputs, n_filters)
    cblock2 = conv_block(cblock1[0], n_filters * 2)
    cblock3 = conv_block(cblock2[0], n_filters * 4)
    cblock4 = conv_block(cblock3[0], n_filters * 8, dropout_prob=0.3)
    cblock5 = conv_block(cblock4[0], n_filters * 16, dropout_prob=0.3, max_pooling=False)
    ublock6 = upsampling_block(cblock5[0], cblock4[1], n_filters * 8)
    ublock7 = upsampling_block(ublock6, cblock3[1], n_filters * 4)
    ublock8 = upsampling_block(ublock7, cblock2[1], n_filters * 2)
    ublock9 = upsampling_block(ublock8, cblock1[1], n_filters)
    conv9 = Conv2D(n_filters, 3, activation="relu", padding="same", kernel_initializer="he_normal")(ublock9)
    conv10 = Conv2D(n_classes, 1, padding="same")(conv9)
    return keras.Model(inputs=inputs, outputs=conv10)


@variant("unet_model", "buggy", "hard-coded 23 classes")
def unet_model_hard_coded_classes(input_size=(96, 128, 3), n_filters=32, n_classes=23):
    inputs = Input(input_size)
    cblock1 = conv_block(inputs, n_filters)
    cblock2 = conv_block(cblock1[0], n_filters * 2)
    cblock3 = conv_block(cblock2[0], n_filters * 4)
    cblock4 = conv_block(cblock3[0], n_filters * 8, dropout_prob=0.3)
    cblock5 = conv_block(cblock4[0], n_filters * 16, dropout_prob=0.3, max_pooling=False)
    ublock6 = upsampling_block(cblock5[0], cblock4[1], n_filters * 8)
    ublock7 = upsampling_block(ublock6, cblock3[1], n_filters * 4)
    ublock8 = upsampling_block(ublock7, cblock2[1], n_filters * 2)
    ublock9 = upsampling_block(ublock8, cblock1[1], n_filters)
    conv9 = Conv2D(n_filters, 3, activation="relu", padding="same", kernel_initializer="he_normal")(ublock9)
    conv10 = Conv2D(23, 1, padding="same")(conv9)
    return keras.Model(inputs=inputs, outputs=conv10)
