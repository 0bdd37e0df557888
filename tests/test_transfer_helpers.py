"""Transfer-learning pieces: reading how a model calls its backbone (helpers.grading), the tiny
stand-in backbone (helpers.models.backbones), the reference model (helpers.reference) and the plot."""

import numpy as np

from helpers import grading, transfer  # transfer: the old path, still working
from helpers.backend import keras
from helpers.models import backbones
from helpers.reference import transfer_learning as ref
from helpers.viz.training import plot_history


def _model(backbone, **call_kwargs):
    inputs = keras.Input(backbone.model.input_shape[1:])
    x = backbone.model(inputs, **call_kwargs)
    return keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x))


def test_backbone_call_training_reads_the_graph():
    backbone = backbones.tiny_backbone((32, 32, 3))
    assert grading.backbone_call_training(_model(backbone, training=False), backbone.model) is False
    assert grading.backbone_call_training(_model(backbone, training=True), backbone.model) is True
    assert grading.backbone_call_training(_model(backbone), backbone.model) is None
    other = backbones.tiny_backbone((32, 32, 3), seed=1)
    assert grading.backbone_call_training(_model(backbone), other.model) == "not called"


def test_tiny_backbone_differs_in_training_and_inference_mode():
    backbone = backbones.tiny_backbone((32, 32, 3), channels=8)
    x = np.random.default_rng(0).uniform(0, 255, (4, 32, 32, 3)).astype("float32")
    inference = np.asarray(backbone.model(backbones.tiny_preprocess(x), training=False))
    training = np.asarray(backbone.model(backbones.tiny_preprocess(x), training=True))
    assert inference.shape == (4, 4, 4, 8)
    assert not np.allclose(inference, training, atol=1e-3)


def test_reference_fine_tuning_freezes_early_layers_and_batch_norm():
    backbone = backbones.tiny_backbone((32, 32, 3))
    model = ref.transfer_model((32, 32, 3), ref.data_augmenter(), backbone)
    assert [w.shape for w in model.trainable_weights] == [(24, 1), (1,)]
    ref.prepare_fine_tuning(model, backbone.model, 4, 1e-3)
    trainable = [layer.name for layer in backbone.model.layers if layer.trainable_weights]
    assert trainable == ["tiny_conv1", "tiny_conv2"]
    assert np.isclose(float(np.asarray(model.optimizer.learning_rate)), 1e-4)


def test_one_plot_history_for_one_run_and_for_compared_runs():
    """helpers.viz.training.plot_history draws one run (loss + accuracy panels, History or dict) and
    compared runs with a fine-tuning marker; the old paths (helpers.transfer, helpers.viz_training) are it."""
    from helpers import viz_training

    assert transfer.plot_history is plot_history and viz_training.plot_history is plot_history
    compared = {"accuracy": [0.6, 0.7, 0.8, 0.9], "val_accuracy": [0.55, 0.65, 0.75, 0.85]}
    fig = plot_history({"pretrained": compared, "scratch": compared}, fine_tune_epoch=2)
    (axis,) = fig.axes  # no losses: one panel
    assert len(axis.lines) == 2 * 2 + 1  # training + validation per run, and the marker line
    assert any("fine-tuning" in line.get_label() for line in axis.lines)

    class History:  # what keras' fit() returns
        history = {"loss": [1.0, 0.5], "accuracy": [0.5, 0.8], "val_loss": [1.1, 0.7], "val_accuracy": [0.4, 0.7]}

    fig = plot_history(History(), title="one run")
    assert [a.get_ylabel() for a in fig.axes] == ["loss", "accuracy"] and all(len(a.lines) == 2 for a in fig.axes)
    import pytest

    with pytest.raises(ValueError, match="History"):
        plot_history([0.1, 0.2])


def test_what_we_measured_table_is_the_recorded_full_run():
    """Transfer_Learning's "What we measured" table quotes benchmarks/results/transfer_learning.json,
    whose run used the notebook's full-mode data, size and epochs (the from-scratch row included:
    same images, same 8 + 8 epochs as the pretrained run)."""
    import json
    import re

    import nbformat

    from tests import REPO

    record = json.loads((REPO / "benchmarks" / "results" / "transfer_learning.json").read_text())
    nb = nbformat.read(REPO / "source" / "week2" / "Transfer_Learning.ipynb", as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "IMG_SIZE = 64 if fast_mode() else {}".format(record["image_size"]) in code
    assert f"(64, 64) if fast_mode() else ({record['train_images']}, {record['val_images']})" in code
    epochs = record["epochs_per_phase"]
    assert f"EPOCHS_FROZEN, EPOCHS_FINE = (1, 1) if fast_mode() else ({epochs}, {epochs})" in code
    assert "epochs=EPOCHS_FROZEN + EPOCHS_FINE" in code  # the scratch network trains as long as both phases
    scratch, frozen, fine = record["rows"]
    assert scratch["epochs"] == 2 * epochs and frozen["epochs"] == fine["epochs"] == epochs
    rows = {
        "same network from scratch": f"| {2 * epochs} | {scratch['val_accuracy']:.2f} (chance) | "
                                     f"{scratch['train_accuracy']:.2f} | {scratch['seconds']} s |",
        "frozen pretrained backbone + new head": f"| {epochs} | {frozen['val_accuracy']:.2f} | "
                                                f"{frozen['train_accuracy']:.2f} | {frozen['seconds']} s |",
        "fine-tuning from `block5a`": f"| {epochs} + {epochs} | {fine['val_accuracy']:.3f} | "
                                      f"{fine['train_accuracy']:.3f} | + {fine['seconds']} s |",
    }
    for label, cells in rows.items():
        assert re.search(re.escape(label) + r"[^|]*\s" + re.escape(cells), text), (label, cells)
    assert record["fine_tune_from"].startswith("block5a")
    assert scratch["val_accuracy"] == 0.5 and f"{frozen['val_accuracy']:.2f} to {fine['val_accuracy']:.3f}" in text
