"""Instructor reference of the graded functions of week 3's "Image_Segmentation_UNet" notebook.

The U-Net of the original assignment (Ronneberger et al. 2015, scaled to 96x128 frames): an
encoder of five ``conv_block``s (two 3x3 ReLU convolutions, he_normal, 'same' padding; dropout
in the two deepest; 2x2 max pooling except in the last), doubling the filters at each level
(32, 64, 128, 256, 512), and a decoder of four ``upsampling_block``s (3x3 transposed
convolution with stride 2 doubling height and width, concatenated with the encoder's skip
connection of the same size, then two 3x3 ReLU convolutions), followed by a 3x3 ReLU convolution
and a 1x1 convolution to one logit per class. With the defaults it has 8,640,471 parameters;
train it with ``SparseCategoricalCrossentropy(from_logits=True)``.

Shapes (batch B): input (B, 96, 128, 3); skip connections (B, 96, 128, 32) ... (B, 12, 16, 256);
bottleneck (B, 6, 8, 512); output logits (B, 96, 128, 23). Height and width must be divisible
by 16.
"""

from __future__ import annotations

from helpers.backend import keras  # first: TensorFlow's start-up logs stay off stderr

Conv2D, Conv2DTranspose, Dropout = keras.layers.Conv2D, keras.layers.Conv2DTranspose, keras.layers.Dropout
Input, MaxPooling2D, concatenate = keras.layers.Input, keras.layers.MaxPooling2D, keras.layers.concatenate


def conv_block(inputs=None, n_filters=32, dropout_prob=0, max_pooling=True):
    """Encoder block: two 3x3 convolutions, optional dropout, optional 2x2 max pooling.

    inputs (B, H, W, C) -> (next_layer, skip_connection): skip_connection (B, H, W, n_filters) is
    the output of the convolutions (after dropout); next_layer is it pooled to (B, H/2, W/2,
    n_filters), or the same tensor when max_pooling is False.
    """
    conv = Conv2D(n_filters, 3, activation="relu", padding="same", kernel_initializer="he_normal")(inputs)
    conv = Conv2D(n_filters, 3, activation="relu", padding="same", kernel_initializer="he_normal")(conv)
    if dropout_prob > 0:
        conv = Dropout(dropout_prob)(conv)
    next_layer = MaxPooling2D(pool_size=(2, 2))(conv) if max_pooling else conv
    skip_connection = conv
    return next_layer, skip_connection


def upsampling_block(expansive_input, contractive_input, n_filters=32):
    """Decoder block: upsample, join the skip connection, two 3x3 convolutions.

    expansive_input (B, H, W, C) -> transposed 3x3 convolution, stride 2, 'same' -> (B, 2H, 2W,
    n_filters); concatenated on the channel axis with contractive_input (B, 2H, 2W, C') and
    convolved twice -> (B, 2H, 2W, n_filters).
    """
    up = Conv2DTranspose(n_filters, 3, strides=(2, 2), padding="same")(expansive_input)
    merge = concatenate([up, contractive_input], axis=3)
    conv = Conv2D(n_filters, 3, activation="relu", padding="same", kernel_initializer="he_normal")(merge)
    conv = Conv2D(n_filters, 3, activation="relu", padding="same", kernel_initializer="he_normal")(conv)
    return conv


def unet_model(input_size=(96, 128, 3), n_filters=32, n_classes=23):
    """The U-Net: (B, H, W, 3) images -> (B, H, W, n_classes) logits (no softmax)."""
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
    conv10 = Conv2D(n_classes, 1, padding="same")(conv9)
    return keras.Model(inputs=inputs, outputs=conv10)


__all__ = ["conv_block", "unet_model", "upsampling_block"]


layers = keras.layers


# Diagnoses of the checks (not graded names): the blocks with one usual mistake, named by ``bug``.


def conv_block_bug(inputs, n_filters, dropout_prob, max_pooling, bug):
    conv = layers.Conv2D(n_filters, 3, activation=None if bug == "no_relu_first" else "relu", padding="same")(inputs)
    conv = layers.Conv2D(n_filters, 3, activation=None if bug == "no_relu_second" else "relu", padding="same")(conv)
    if dropout_prob > 0:
        conv = layers.Dropout(dropout_prob)(conv)
    next_layer = layers.MaxPooling2D(2)(conv) if max_pooling else conv
    return next_layer, conv


def upsampling_bug(expansive, contractive, n_filters, bug):
    up = layers.Conv2DTranspose(n_filters, 3, strides=2, padding="same")(expansive)
    merge = layers.concatenate([contractive, up] if bug == "swapped" else [up, contractive], axis=3)
    conv = layers.Conv2D(n_filters, 3, activation=None if bug == "no_relu_first" else "relu", padding="same")(merge)
    return layers.Conv2D(n_filters, 3, activation=None if bug == "no_relu_second" else "relu", padding="same")(conv)
