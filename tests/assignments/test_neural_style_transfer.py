"""Neural_Style_Transfer: what only this notebook needs (shared proofs: test_grader_proofs.py).

- The notebook's globals work with the train_step check: the test cell swaps ``vgg_model_outputs``,
  ``a_C``, ``a_S``, ``optimizer`` and ``STYLE_LAYERS`` for a stand-in network and puts the
  notebook's back; ``train_step`` then runs on VGG and lowers the cost.
- Broken cost functions cost only their own points (train_step and compute_style_cost are checked
  with the checks' own versions of the other functions).
- The pictures: content photo and generated stained-glass style are RGB images in [0, 1]; the Gram
  figure's claim (shuffling tiles changes the activations much more than their Gram matrix) holds.
- Section 9 (one style layer at a time) puts the notebook's globals back.

The notebook's code cells run in-process in fast mode (64 x 64 images), once for the module.
"""

from __future__ import annotations

import contextlib
import io
import os
import re

import numpy as np
import pytest

from tests.assignments.registry import SPECS
from tests.notebook_cells import run_cell

NB = SPECS["neural_style_transfer"].notebook


def _code_cells() -> list[str]:
    return [cell.source for cell in NB.source.cells if cell.cell_type == "code"]


@pytest.fixture(scope="module")
def executed(monkeypatch_module):
    """The notebook's namespace after all its code cells (reference solutions), with what each printed."""
    monkeypatch_module.setenv("CNN_COURSE_FAST", "1")
    monkeypatch_module.delenv("NBGRADER_EXECUTION", raising=False)
    namespace: dict = {}
    printed = []
    for source in _code_cells():
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            run_cell(source, namespace)
        printed.append(out.getvalue())
    return namespace, printed


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_runs_in_fast_mode_when_not_autograded(executed):
    namespace, _ = executed
    assert namespace["IMG_SIZE"] == 64 and not namespace["AUTOGRADING"]
    assert os.environ["CNN_COURSE_FAST"] == "1"


def test_pictures_are_rgb_in_0_1(executed):
    namespace, _ = executed
    for name in ("content_image", "style_image"):
        image = namespace[name]
        assert image.shape == (1, 64, 64, 3) and image.dtype == np.float32, name
        assert 0.0 <= image.min() and image.max() <= 1.0, name
    style = namespace["style_image"][0]
    dark = (style < 0.1).all(axis=-1).mean()
    assert 0.05 < dark < 0.5, dark                                        # lead lines, not a black picture
    assert len(np.unique(style.reshape(-1, 3), axis=0)) >= 30             # many differently coloured tiles


def test_shuffled_tiles_change_activations_far_more_than_gram_matrices(executed):
    """The figure of section 4 prints both relative changes; the text says the Gram matrix hardly moves."""
    namespace, printed = executed
    line = next(text for text in printed if "relative change of the activations" in text)
    activations, gram = (float(x) for x in re.findall(r": ([0-9.]+)", line))
    assert activations > 0.5 and gram < activations / 3, line


def test_train_step_check_puts_the_notebook_globals_back_and_train_step_then_runs_on_vgg(executed, capsys):
    namespace, _ = executed
    names = ("vgg_model_outputs", "a_C", "a_S", "optimizer", "STYLE_LAYERS", "compute_style_cost", "clip_0_1")
    before = {name: namespace[name] for name in names}
    run_cell(NB.test_cell("train_step"), namespace)
    assert "All tests passed." in capsys.readouterr().out
    assert all(namespace[name] is before[name] for name in names)

    from helpers.backend import tf

    generated = namespace["generated_image"]          # the variable the notebook's optimizer was built for
    train_step = tf.function(namespace["train_step"].python_function)
    costs = [float(train_step(generated)) for _ in range(4)]
    assert costs[-1] < costs[0], costs
    assert 0.0 <= generated.numpy().min() and generated.numpy().max() <= 1.0


def test_optimisation_cells_ran_and_recorded_costs(executed):
    namespace, printed = executed
    costs, snapshots = namespace["costs"], namespace["snapshots"]
    assert costs["step"][0] == 0 and costs["step"][-1] == namespace["STEPS"]
    assert costs["J_style"][-1] < costs["J_style"][0]
    assert set(snapshots) >= {0, namespace["STEPS"]}
    assert any("s per step" in text for text in printed)


def test_per_layer_experiment_restores_the_globals(executed):
    namespace, _ = executed
    assert [name for name, _ in namespace["STYLE_LAYERS"]] == list(namespace["per_layer"])
    assert all(weight == 0.2 for _, weight in namespace["STYLE_LAYERS"])
    assert namespace["a_S"][0].shape[1] == namespace["IMG_SIZE"]
    assert namespace["generated_image"].shape == (1, 64, 64, 3)


@pytest.mark.parametrize("broken", ["compute_style_cost", "compute_content_cost", "total_cost", "gram_matrix",
                                    "compute_layer_style_cost"])
def test_a_broken_cost_function_costs_only_its_own_points(broken, capsys):
    """train_step (and compute_style_cost) are checked with the checks' own versions of the others."""
    namespace = NB.namespace()
    run_cell(f"def {broken}(*args, **kwargs):\n    raise NotImplementedError()\n", namespace)
    for function in ("train_step", "compute_style_cost"):
        if function != broken:
            NB.run_tests(function, namespace)
    with pytest.raises(NotImplementedError):
        namespace[broken](None, None)


def test_receptive_fields_stated_in_the_text():
    """Section 6: block1_conv1 sees 3 x 3 pixels, block5_conv1 regions 132 pixels wide;
    section 9: block2_conv1 and block3_conv1 10 x 10 and 24 x 24 pixels."""
    from helpers.models.vgg import build_vgg

    model = build_vgg("vgg16", (64, 64, 3))
    field, jump, fields = 1, 1, {}
    for layer in model.layers:
        size = getattr(layer, "kernel_size", None) or getattr(layer, "pool_size", None)
        if size is None:
            continue
        field += (size[0] - 1) * jump
        jump *= layer.strides[0]
        fields[layer.name] = field
    assert fields["block1_conv1"] == 3 and fields["block2_conv1"] == 10 and fields["block3_conv1"] == 24
    assert fields["block5_conv1"] == 132
