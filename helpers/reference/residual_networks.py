"""Instructor reference of Residual_Networks (week 2): ``identity_block``, ``convolutional_block``, ``ResNet50``.

Never part of the student kit. ResNet-50 (bottleneck residual blocks) in Keras with predictable
layer names. The visible and hidden tests use it to build expected outputs, and the training script
(``scripts/train_resnet50_signs.py``) trains it (:mod:`helpers.models.resnet` holds the training
helpers and the shipped weights). Layer names follow the original ResNet paper's code (stage number + block letter)::

    conv1, bn_conv1, pool1                      stem
    res2a_branch2a, bn2a_branch2a               first 1x1 conv of block "2a" and its batch norm
    res2a_branch2b / bn2a_branch2b              the f x f conv
    res2a_branch2c / bn2a_branch2c              the closing 1x1 conv
    res2a_branch1  / bn2a_branch1               the projection shortcut (convolutional blocks)
    res2a, res2a_relu                           the addition and the ReLU after it
    avg_pool, flatten, fc                       head

so a visualiser can ask ``model.get_layer("res3a_branch2b")``.

Layout of tensors: NHWC (batch, height, width, channels) everywhere.
"""

from __future__ import annotations

from helpers.backend import keras

layers = keras.layers
random_uniform = keras.initializers.random_uniform
glorot_uniform = keras.initializers.glorot_uniform

#: Stages of ResNet-50: (stage number, filters (F1, F2, F3), number of blocks, stride of block "a").
RESNET50_STAGES = (
    (2, (64, 64, 256), 3, 1),
    (3, (128, 128, 512), 4, 2),
    (4, (256, 256, 1024), 6, 2),
    (5, (512, 512, 2048), 3, 2),
)


def _check_filters(filters, fn):
    if len(filters) != 3 or any(int(F) <= 0 for F in filters):
        raise ValueError(f"{fn}: filters must be three positive integers (F1, F2, F3), got {filters!r}")
    return tuple(int(F) for F in filters)


def _names(name):
    """Layer names for a block called ``name`` (e.g. '2a'), or all None when unnamed."""
    if name is None:
        return dict.fromkeys(["2a", "2b", "2c", "1", "bn2a", "bn2b", "bn2c", "bn1", "add", "relu2a", "relu2b", "out"])
    return {
        "2a": f"res{name}_branch2a", "2b": f"res{name}_branch2b", "2c": f"res{name}_branch2c",
        "1": f"res{name}_branch1",
        "bn2a": f"bn{name}_branch2a", "bn2b": f"bn{name}_branch2b", "bn2c": f"bn{name}_branch2c",
        "bn1": f"bn{name}_branch1",
        "relu2a": f"res{name}_branch2a_relu", "relu2b": f"res{name}_branch2b_relu",
        "add": f"res{name}", "out": f"res{name}_relu",
    }


def _main_path(X, f, filters, s, training, initializer, n):
    """Main path shared by both blocks: 1x1 conv F1 stride s -> BN -> ReLU -> f x f conv F2 ('same')
    -> BN -> ReLU -> 1x1 conv F3 -> BN. X: (m, n_H, n_W, n_C) -> (m, ceil(n_H/s), ceil(n_W/s), F3)."""
    F1, F2, F3 = filters
    X = layers.Conv2D(F1, 1, strides=s, padding="valid", kernel_initializer=initializer(seed=0), name=n["2a"])(X)
    X = layers.BatchNormalization(axis=3, name=n["bn2a"])(X, training=training)
    X = layers.Activation("relu", name=n["relu2a"])(X)
    X = layers.Conv2D(F2, f, strides=1, padding="same", kernel_initializer=initializer(seed=0), name=n["2b"])(X)
    X = layers.BatchNormalization(axis=3, name=n["bn2b"])(X, training=training)
    X = layers.Activation("relu", name=n["relu2b"])(X)
    X = layers.Conv2D(F3, 1, strides=1, padding="valid", kernel_initializer=initializer(seed=0), name=n["2c"])(X)
    return layers.BatchNormalization(axis=3, name=n["bn2c"])(X, training=training)


def identity_block(X, f, filters, training=True, initializer=random_uniform, name=None):
    """Bottleneck residual block whose shortcut is the identity.

    main path:  1x1 conv F1 -> BN -> ReLU -> f x f conv F2 ('same') -> BN -> ReLU -> 1x1 conv F3 -> BN
    output:     ReLU(main path + X)

    Inputs:
    - X: tensor of shape (m, n_H, n_W, n_C) (eager array or symbolic Keras tensor); n_C must equal F3
    - f: int, size of the middle convolution's window
    - filters: (F1, F2, F3), numbers of filters of the three convolutions
    - training: passed to every BatchNormalization call (True: batch statistics, False: moving ones)
    - initializer: initializer class (or factory) called as ``initializer(seed=0)`` for each conv
    - name: optional block name such as '2b'; layers are then called res2b_branch2a, bn2b_branch2a...

    Returns:
    - tensor of shape (m, n_H, n_W, F3)
    """
    F1, F2, F3 = _check_filters(filters, "identity_block")
    n = _names(name)
    X_shortcut = X
    X = _main_path(X, f, (F1, F2, F3), 1, training, initializer, n)
    X = layers.Add(name=n["add"])([X, X_shortcut])
    return layers.Activation("relu", name=n["out"])(X)


def convolutional_block(X, f, filters, s=2, training=True, initializer=glorot_uniform, name=None):
    """Bottleneck residual block with a projection shortcut (changes channels and/or size).

    main path:  1x1 conv F1 stride s -> BN -> ReLU -> f x f conv F2 ('same') -> BN -> ReLU
                -> 1x1 conv F3 -> BN
    shortcut:   1x1 conv F3 stride s -> BN
    output:     ReLU(main path + shortcut)

    Inputs:
    - X: tensor of shape (m, n_H, n_W, n_C)
    - f, filters, training, initializer, name: as in :func:`identity_block`
    - s: int, stride of the first 1x1 conv and of the shortcut conv

    Returns:
    - tensor of shape (m, ceil(n_H / s), ceil(n_W / s), F3)
    """
    F1, F2, F3 = _check_filters(filters, "convolutional_block")
    n = _names(name)
    X_shortcut = X
    X = _main_path(X, f, (F1, F2, F3), s, training, initializer, n)
    X_shortcut = layers.Conv2D(F3, 1, strides=s, padding="valid", kernel_initializer=initializer(seed=0),
                               name=n["1"])(X_shortcut)
    X_shortcut = layers.BatchNormalization(axis=3, name=n["bn1"])(X_shortcut, training=training)
    X = layers.Add(name=n["add"])([X, X_shortcut])
    return layers.Activation("relu", name=n["out"])(X)


def resnet50(input_shape=(64, 64, 3), classes=6, identity=None, convolutional=None, named=True):
    """ResNet-50 adapted to small images (the week 2 ``ResNet50``).

    stem:   ZeroPadding2D(3) -> conv 7x7/2, 64 -> BN -> ReLU -> max pool 3x3/2
    stages: [3, 4, 6, 3] bottleneck blocks, filters [64,64,256], [128,128,512], [256,256,1024],
            [512,512,2048]; the first block of each stage is a convolutional block (stride 1 in
            stage 2, 2 after), the others identity blocks; f = 3 everywhere
    head:   average pool 2x2 -> flatten -> dense softmax over ``classes``

    The blocks are called with ``training=None``: batch norm then follows the mode of each call
    (batch statistics in ``fit``, moving averages in ``predict``, ``evaluate`` and a plain
    ``model(x)``). Keras overrides a graph-time ``training=True`` when a mode is passed explicitly,
    but not in a plain ``model(x)`` call.

    Inputs:
    - input_shape: (n_H, n_W, n_C) of one image; 64x64x3 gives a 2x2x2048 map before the pool
    - classes: number of output classes
    - identity, convolutional: block builders to use instead of the reference ones (same signatures
      as :func:`identity_block` / :func:`convolutional_block`, without ``name``); tests use this
    - named: give the layers the predictable names listed in the module docstring

    Returns:
    - keras.Model mapping (m, n_H, n_W, n_C) images to (m, classes) probabilities
    """
    if classes < 1:
        raise ValueError(f"resnet50: classes must be a positive integer, got {classes!r}")
    custom = identity is not None or convolutional is not None
    identity = identity or identity_block
    convolutional = convolutional or convolutional_block

    def block(builder, X, f, filters, label, **kw):
        if custom or not named:
            return builder(X, f, filters, **kw)
        return builder(X, f, filters, name=label, **kw)

    X_input = keras.Input(shape=tuple(input_shape))
    X = layers.ZeroPadding2D((3, 3), name="conv1_pad" if named else None)(X_input)
    X = layers.Conv2D(64, 7, strides=2, kernel_initializer=glorot_uniform(seed=0), name="conv1" if named else None)(X)
    X = layers.BatchNormalization(axis=3, name="bn_conv1" if named else None)(X)
    X = layers.Activation("relu", name="conv1_relu" if named else None)(X)
    X = layers.MaxPooling2D((3, 3), strides=2, name="pool1" if named else None)(X)
    for stage, filters, blocks, stride in RESNET50_STAGES:
        X = block(convolutional, X, 3, list(filters), f"{stage}a", s=stride, training=None)
        for b in range(1, blocks):
            X = block(identity, X, 3, list(filters), f"{stage}{'abcdef'[b]}", training=None)
    X = layers.AveragePooling2D((2, 2), name="avg_pool" if named else None)(X)
    X = layers.Flatten(name="flatten" if named else None)(X)
    X = layers.Dense(classes, activation="softmax", kernel_initializer=glorot_uniform(seed=0),
                     name="fc" if named else None)(X)
    return keras.Model(inputs=X_input, outputs=X, name="ResNet50")


def ResNet50(input_shape=(64, 64, 3), classes=6):
    """The graded builder: :func:`resnet50` with the reference blocks and named layers."""
    return resnet50(input_shape=input_shape, classes=classes)


__all__ = ["identity_block", "convolutional_block", "ResNet50", "resnet50", "RESNET50_STAGES",
           "random_uniform", "glorot_uniform"]


# Diagnoses of the checks (not a graded name): the block with one usual mistake, named by ``bug``.


def bug_block(X, f, filters, s, training, initializer, bug):
    F1, F2, F3 = filters
    shortcut = X
    stride = s or 1
    a = 1 if bug == "stride_middle" else stride
    b = stride if bug == "stride_middle" else 1
    if bug == "training_ignored":
        training = not training
    bn = (lambda t: t) if bug == "no_bn" else (lambda t: layers.BatchNormalization(axis=3)(t, training=training))
    X = layers.Conv2D(F1, 1, strides=a, kernel_initializer=initializer(seed=0))(X)
    X = layers.Activation("relu")(bn(X))
    X = layers.Conv2D(F2, f, strides=b, padding="same", kernel_initializer=initializer(seed=0))(X)
    X = layers.Activation("relu")(bn(X))
    X = layers.Conv2D(F3, 1, kernel_initializer=initializer(seed=0))(X)
    X = bn(X)
    if s is not None and bug != "no_projection":
        shortcut = layers.Conv2D(F3, 1, strides=s, kernel_initializer=initializer(seed=0))(shortcut)
        shortcut = bn(shortcut)
    if bug == "add_after_relu":
        return layers.Activation("relu")(X) + shortcut
    if bug == "no_final_relu":
        return X + shortcut
    return layers.Activation("relu")(X + shortcut)
