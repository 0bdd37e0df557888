"""Variants of the week-2 transfer-learning functions: common mistakes (must lose points) and other correct ways.

The "hard-coded" variant uses EfficientNet-Lite0's preprocessing instead of the backbone's own: it
passes the visible test (which uses the course's backbone) but not the hidden ones (whose stand-in
backbone preprocesses differently).
"""

# Names are those of the notebook: np, keras, load_backbone, data_augmenter, IMG_SHAPE...
# ruff: noqa: F821

from tests.variants import variant

IMG_SHAPE = (96, 96, 3)  # the notebook's global, used as a default argument; defined so this module imports

# ------------------------------------------------------------------------------ data_augmenter


@variant("data_augmenter", "buggy", "flips vertically too")
def data_augmenter_both_flips():
    return keras.Sequential([keras.layers.RandomFlip("horizontal_and_vertical"), keras.layers.RandomRotation(0.2)])


@variant("data_augmenter", "buggy", "forgets the rotation")
def data_augmenter_no_rotation():
    return keras.Sequential([keras.layers.RandomFlip("horizontal")])


@variant("data_augmenter", "buggy", "rotates up to half a turn")
def data_augmenter_half_turn():
    return keras.Sequential([keras.layers.RandomFlip("horizontal"), keras.layers.RandomRotation(0.5)])


@variant("data_augmenter", "buggy", "returns a list of layers")
def data_augmenter_list():
    return [keras.layers.RandomFlip("horizontal"), keras.layers.RandomRotation(0.2)]


@variant("data_augmenter", "correct", "rotation first, given as a list and a (low, high) factor")
def data_augmenter_other_order():
    layers = [keras.layers.RandomRotation(factor=(-0.2, 0.2)), keras.layers.RandomFlip(mode="horizontal")]
    return keras.Sequential(layers, name="my_augmentation")


# ------------------------------------------------------------------------------ transfer_model


@variant("transfer_model", "buggy", "does not freeze the backbone")
def transfer_model_not_frozen(image_shape=IMG_SHAPE, data_augmentation=None, backbone=None):
    inputs = keras.Input(shape=image_shape)
    x = data_augmentation(inputs)
    x = backbone.preprocess_input(x)
    x = backbone.model(x, training=False)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.2)(x)
    return keras.Model(inputs, keras.layers.Dense(1)(x))


@variant("transfer_model", "buggy", "calls the backbone with training=True")
def transfer_model_training_true(image_shape=IMG_SHAPE, data_augmentation=None, backbone=None):
    backbone.model.trainable = False
    inputs = keras.Input(shape=image_shape)
    x = data_augmentation(inputs)
    x = backbone.preprocess_input(x)
    x = backbone.model(x, training=True)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.2)(x)
    return keras.Model(inputs, keras.layers.Dense(1)(x))


@variant("transfer_model", "buggy", "calls the backbone without a training argument")
def transfer_model_no_training_argument(image_shape=IMG_SHAPE, data_augmentation=None, backbone=None):
    backbone.model.trainable = False
    inputs = keras.Input(shape=image_shape)
    x = data_augmentation(inputs)
    x = backbone.preprocess_input(x)
    x = backbone.model(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.2)(x)
    return keras.Model(inputs, keras.layers.Dense(1)(x))


@variant("transfer_model", "buggy", "forgets the preprocessing")
def transfer_model_no_preprocessing(image_shape=IMG_SHAPE, data_augmentation=None, backbone=None):
    backbone.model.trainable = False
    inputs = keras.Input(shape=image_shape)
    x = data_augmentation(inputs)
    x = backbone.model(x, training=False)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.2)(x)
    return keras.Model(inputs, keras.layers.Dense(1)(x))


@variant("transfer_model", "buggy", "hard-coded EfficientNet-Lite0 preprocessing")
def transfer_model_hard_coded_preprocessing(image_shape=IMG_SHAPE, data_augmentation=None, backbone=None):
    backbone.model.trainable = False
    inputs = keras.Input(shape=image_shape)
    x = data_augmentation(inputs)
    x = (x - 127.0) / 128.0
    x = backbone.model(x, training=False)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.2)(x)
    return keras.Model(inputs, keras.layers.Dense(1)(x))


@variant("transfer_model", "buggy", "flattens instead of pooling")
def transfer_model_flatten(image_shape=IMG_SHAPE, data_augmentation=None, backbone=None):
    backbone.model.trainable = False
    inputs = keras.Input(shape=image_shape)
    x = data_augmentation(inputs)
    x = backbone.preprocess_input(x)
    x = backbone.model(x, training=False)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dropout(0.2)(x)
    return keras.Model(inputs, keras.layers.Dense(1)(x))


@variant("transfer_model", "buggy", "two softmax outputs")
def transfer_model_two_outputs(image_shape=IMG_SHAPE, data_augmentation=None, backbone=None):
    backbone.model.trainable = False
    inputs = keras.Input(shape=image_shape)
    x = data_augmentation(inputs)
    x = backbone.preprocess_input(x)
    x = backbone.model(x, training=False)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.2)(x)
    return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))


@variant("transfer_model", "buggy", "sigmoid on the output")
def transfer_model_sigmoid(image_shape=IMG_SHAPE, data_augmentation=None, backbone=None):
    backbone.model.trainable = False
    inputs = keras.Input(shape=image_shape)
    x = data_augmentation(inputs)
    x = backbone.preprocess_input(x)
    x = backbone.model(x, training=False)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.2)(x)
    return keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(x))


@variant("transfer_model", "buggy", "no dropout")
def transfer_model_no_dropout(image_shape=IMG_SHAPE, data_augmentation=None, backbone=None):
    backbone.model.trainable = False
    inputs = keras.Input(shape=image_shape)
    x = data_augmentation(inputs)
    x = backbone.preprocess_input(x)
    x = backbone.model(x, training=False)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(1)(x))


@variant("transfer_model", "buggy", "skips the data augmentation")
def transfer_model_no_augmentation(image_shape=IMG_SHAPE, data_augmentation=None, backbone=None):
    backbone.model.trainable = False
    inputs = keras.Input(shape=image_shape)
    x = backbone.preprocess_input(inputs)
    x = backbone.model(x, training=False)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.2)(x)
    return keras.Model(inputs, keras.layers.Dense(1)(x))


@variant("transfer_model", "buggy", "loads its own backbone instead of the given one")
def transfer_model_own_backbone(image_shape=IMG_SHAPE, data_augmentation=None, backbone=None):
    own = load_backbone(image_shape)
    own.model.trainable = False
    inputs = keras.Input(shape=image_shape)
    x = data_augmentation(inputs)
    x = own.preprocess_input(x)
    x = own.model(x, training=False)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.2)(x)
    return keras.Model(inputs, keras.layers.Dense(1)(x))


@variant("transfer_model", "correct", "freezes layer by layer, Lambda preprocessing, ops.mean pooling, dropout 0.3")
def transfer_model_other_style(image_shape=IMG_SHAPE, data_augmentation=None, backbone=None):
    for layer in backbone.model.layers:
        layer.trainable = False
    images = keras.Input(image_shape, name="pixels")
    augmented = data_augmentation(images)
    scaled = keras.layers.Lambda(backbone.preprocess_input, name="scale")(augmented)
    features = backbone.model(scaled, training=False)
    pooled = keras.ops.mean(features, axis=(1, 2))
    dropped = keras.layers.Dropout(rate=0.3)(pooled)
    logit = keras.layers.Dense(units=1, activation=None, name="circle_logit")(dropped)
    return keras.Model(inputs=images, outputs=logit, name="shapes")


# ------------------------------------------------------------------------------ prepare_fine_tuning


@variant("prepare_fine_tuning", "buggy", "unfreezes the whole backbone")
def prepare_fine_tuning_everything(model, base_model, fine_tune_at, base_learning_rate):
    base_model.trainable = True
    for layer in base_model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
    model.compile(optimizer=keras.optimizers.Adam(0.1 * base_learning_rate),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True), metrics=["accuracy"])
    return model


@variant("prepare_fine_tuning", "buggy", "keeps the same learning rate")
def prepare_fine_tuning_same_rate(model, base_model, fine_tune_at, base_learning_rate):
    base_model.trainable = True
    for index, layer in enumerate(base_model.layers):
        if index < fine_tune_at or isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
    model.compile(optimizer=keras.optimizers.Adam(base_learning_rate),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True), metrics=["accuracy"])
    return model


@variant("prepare_fine_tuning", "buggy", "does not recompile")
def prepare_fine_tuning_no_compile(model, base_model, fine_tune_at, base_learning_rate):
    base_model.trainable = True
    for index, layer in enumerate(base_model.layers):
        if index < fine_tune_at or isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
    return model


@variant("prepare_fine_tuning", "buggy", "never sets base_model.trainable = True")
def prepare_fine_tuning_still_frozen(model, base_model, fine_tune_at, base_learning_rate):
    for layer in base_model.layers[:fine_tune_at]:
        layer.trainable = False
    model.compile(optimizer=keras.optimizers.Adam(0.1 * base_learning_rate),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True), metrics=["accuracy"])
    return model


@variant("prepare_fine_tuning", "buggy", "unfreezes batch normalisation too")
def prepare_fine_tuning_batch_norm(model, base_model, fine_tune_at, base_learning_rate):
    base_model.trainable = True
    for layer in base_model.layers[:fine_tune_at]:
        layer.trainable = False
    model.compile(optimizer=keras.optimizers.Adam(0.1 * base_learning_rate),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True), metrics=["accuracy"])
    return model


@variant("prepare_fine_tuning", "buggy", "off by one: also freezes layer fine_tune_at")
def prepare_fine_tuning_off_by_one(model, base_model, fine_tune_at, base_learning_rate):
    base_model.trainable = True
    for index, layer in enumerate(base_model.layers):
        if index <= fine_tune_at or isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
    model.compile(optimizer=keras.optimizers.Adam(0.1 * base_learning_rate),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True), metrics=["accuracy"])
    return model


@variant("prepare_fine_tuning", "buggy", "loss on probabilities (from_logits=False)")
def prepare_fine_tuning_probabilities(model, base_model, fine_tune_at, base_learning_rate):
    base_model.trainable = True
    for index, layer in enumerate(base_model.layers):
        if index < fine_tune_at or isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
    model.compile(optimizer=keras.optimizers.Adam(0.1 * base_learning_rate), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


@variant("prepare_fine_tuning", "correct", "one pass with enumerate, RMSprop at lr / 10")
def prepare_fine_tuning_enumerate(model, base_model, fine_tune_at, base_learning_rate):
    base_model.trainable = True
    for i, layer in enumerate(base_model.layers):
        layer.trainable = i >= fine_tune_at and not isinstance(layer, keras.layers.BatchNormalization)
    model.compile(keras.optimizers.RMSprop(learning_rate=base_learning_rate / 10),
                  keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=[keras.metrics.BinaryAccuracy(threshold=0.0)])
    return model
