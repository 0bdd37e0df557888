"""Image_Segmentation_UNet: what only this notebook needs (shared proofs: test_grader_proofs.py).

A broken block does not cost unet_model's points; the shape-seeded weights that make any correct block
reproduce the reference; the reference U-Net's parameter count; the training cells are skipped under the
autograder.
"""

from __future__ import annotations

import numpy as np

from tests.assignments.registry import SPECS

NB = SPECS["image_segmentation_unet"].notebook


def test_broken_blocks_cost_only_their_own_points():
    """unet_model's tests run with reference blocks, and the student's blocks are put back."""
    namespace = NB.assert_broken_helpers_cost_nothing(
        "def conv_block(inputs=None, n_filters=32, dropout_prob=0, max_pooling=True):\n"
        "    raise NotImplementedError()\n"
        "def upsampling_block(expansive_input, contractive_input, n_filters=32):\n"
        "    return expansive_input\n", "unet_model")
    assert namespace["upsampling_block"](1, 2) == 1


def test_shape_seeded_weights_ignore_layer_order_and_names():
    """Two models with the same layers created in another order and under other names get the same
    weights; another salt gives other weights."""
    from helpers.backend import keras
    from helpers.checks.image_segmentation_unet import shape_seeded_weights

    def model(order):
        inputs = keras.Input((6, 8, 3))
        made = {name: keras.layers.Conv2D(n, 3, padding="same") for name, n in order}
        return keras.Model(inputs, made["b"](made["a"](inputs)))

    first, second = model([("a", 4), ("b", 5)]), model([("b", 5), ("a", 4)])
    shape_seeded_weights(first, 1)
    shape_seeded_weights(second, 1)
    x = np.random.default_rng(0).random((2, 6, 8, 3), dtype=np.float32)
    np.testing.assert_array_equal(first.predict(x, verbose=0), second.predict(x, verbose=0))
    before = first.predict(x, verbose=0)
    shape_seeded_weights(first, 2)
    assert not np.allclose(first.predict(x, verbose=0), before)


def test_reference_unet_parameter_count_and_shapes():
    from helpers.checks.image_segmentation_unet import UNET_PARAMS
    from helpers.reference.image_segmentation_unet import unet_model

    model = unet_model()
    assert model.count_params() == UNET_PARAMS == 8_640_471
    assert model.output_shape == (None, 96, 128, 23)


def test_training_cells_skip_under_the_autograder():
    """Every cell that trains or scores checks GRADING (set from config.autograding()) first."""
    sources = [cell.source for cell in NB.source.cells if cell.cell_type == "code"]
    assert any("GRADING = autograding()" in source for source in sources)
    training = [source for source in sources if "model.fit(" in source]
    assert len(training) == 1 and "if not GRADING:" in training[0]
