"""helpers.transfer: reading how a model calls its backbone, the tiny stand-in backbone, the plot."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from helpers import transfer  # noqa: E402
from helpers.backend import keras  # noqa: E402


def _model(backbone, **call_kwargs):
    inputs = keras.Input(backbone.model.input_shape[1:])
    x = backbone.model(inputs, **call_kwargs)
    return keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x))


def test_backbone_call_training_reads_the_graph():
    backbone = transfer.tiny_backbone((32, 32, 3))
    assert transfer.backbone_call_training(_model(backbone, training=False), backbone.model) is False
    assert transfer.backbone_call_training(_model(backbone, training=True), backbone.model) is True
    assert transfer.backbone_call_training(_model(backbone), backbone.model) is None
    other = transfer.tiny_backbone((32, 32, 3), seed=1)
    assert transfer.backbone_call_training(_model(backbone), other.model) == "not called"


def test_tiny_backbone_differs_in_training_and_inference_mode():
    backbone = transfer.tiny_backbone((32, 32, 3), channels=8)
    x = np.random.default_rng(0).uniform(0, 255, (4, 32, 32, 3)).astype("float32")
    inference = np.asarray(backbone.model(transfer.tiny_preprocess(x), training=False))
    training = np.asarray(backbone.model(transfer.tiny_preprocess(x), training=True))
    assert inference.shape == (4, 4, 4, 8)
    assert not np.allclose(inference, training, atol=1e-3)


def test_reference_fine_tuning_freezes_early_layers_and_batch_norm():
    backbone = transfer.tiny_backbone((32, 32, 3))
    model = transfer.reference_transfer_model((32, 32, 3), transfer.reference_augmenter(), backbone)
    assert [w.shape for w in model.trainable_weights] == [(24, 1), (1,)]
    transfer.reference_fine_tuning(model, backbone.model, 4, 1e-3)
    trainable = [layer.name for layer in backbone.model.layers if layer.trainable_weights]
    assert trainable == ["tiny_conv1", "tiny_conv2"]
    assert np.isclose(float(np.asarray(model.optimizer.learning_rate)), 1e-4)


def test_plot_history_marks_the_start_of_fine_tuning():
    history = {"accuracy": [0.6, 0.7, 0.8, 0.9], "val_accuracy": [0.55, 0.65, 0.75, 0.85]}
    ax = transfer.plot_history({"pretrained": history, "scratch": history}, fine_tune_epoch=2)
    assert len(ax.lines) >= 5  # 2 curves per model + the marker line
    assert any("fine-tuning" in text.get_text() for text in ax.texts)
