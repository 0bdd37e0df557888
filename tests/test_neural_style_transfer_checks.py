"""The Neural_Style_Transfer checks (helpers.checks.neural_style_transfer) on their own.

What is specific to the checks module: its numpy formulas agree with values done by hand and with
TensorFlow's gradient; the instructor notebook's solutions (the original ``train_step`` included)
pass the visible and hidden checks, while the reference module itself is caught as delegation;
the train_step check puts the notebook's globals back; check arguments are validated; the checks
never import the reference (absent from the student kit).

The buggy and correct variants of every graded function live in tests/variants/neural_style_transfer.py
and are proven, in-process and through the real autograder, by tests/assignments/test_grader_proofs.py.
"""

import textwrap

import numpy as np
import pytest

from helpers.backend import keras, tf
from helpers.checks import neural_style_transfer as checks
from helpers.reference import neural_style_transfer as ref
from tests.assignments.registry import SPECS


def notebook(source: str) -> dict:
    """Run ``source`` in a fresh namespace like the notebook's, with the reference as the other graded functions."""
    namespace = {
        "tf": tf, "np": np, "keras": keras, "STYLE_LAYERS": list(ref.STYLE_LAYERS),
        "compute_content_cost": ref.compute_content_cost, "gram_matrix": ref.gram_matrix,
        "compute_layer_style_cost": ref.compute_layer_style_cost, "compute_style_cost": ref.compute_style_cost,
        "total_cost": ref.total_cost, "clip_0_1": ref.clip_0_1,
    }
    exec(textwrap.dedent(source), namespace)  # noqa: S102 - test code written in this file
    return namespace


#: The notebook's own train_step (its solution cell): reads vgg_model_outputs, a_C, a_S, optimizer.
ORIGINAL_TRAIN_STEP = SPECS["neural_style_transfer"].notebook.reference["train_step_solution"]

VISIBLE = {
    "compute_content_cost": checks.compute_content_cost_test,
    "gram_matrix": checks.gram_matrix_test,
    "compute_layer_style_cost": checks.compute_layer_style_cost_test,
    "compute_style_cost": checks.compute_style_cost_test,
    "total_cost": checks.total_cost_test,
    "train_step": checks.train_step_test,
}

#: Hidden tests: fresh shapes, weights, seeds and hyper-parameters (as the notebook's hidden cells use them).
HIDDEN = {
    "compute_content_cost": [{"shapes": ((1, 5, 7, 2), (1, 3, 4, 6)), "seed": 11},
                             {"shapes": ((1, 2, 3, 8),), "seed": 12}],
    "gram_matrix": [{"shape": (5, 12), "seed": 11}, {"shape": (2, 2), "seed": 12}, {"shape": (6, 3), "seed": 13}],
    "compute_layer_style_cost": [{"shape": (1, 5, 3, 4), "seed": 11}, {"shape": (1, 3, 3, 7), "seed": 12}],
    "compute_style_cost": [{"shapes": ((1, 4, 6, 3), (1, 2, 3, 4), (1, 2, 2, 5)), "weights": (0.7, 0.25), "seed": 11},
                           {"shapes": ((1, 6, 6, 2), (1, 3, 3, 3), (1, 3, 2, 2), (1, 2, 2, 3), (1, 1, 2, 4),
                                       (1, 2, 2, 2)), "weights": (0.1, 0.15, 0.2, 0.25, 0.3), "seed": 12}],
    "total_cost": [{"J_content": 1.3, "J_style": 0.21, "alpha": 2.0, "beta": 9.0},
                   {"J_content": 0.05, "J_style": 3.0, "alpha": 100.0, "beta": 0.5}],
    "train_step": [{"image_size": (8, 16), "pools": (2, 4, 1), "channels": (3, 2, 4), "weights": (0.7, 0.3),
                    "learning_rate": 0.03, "steps": 3, "seed": 11},
                   {"image_size": (12, 12), "pools": (1, 3, 2, 6, 3), "channels": (2, 4, 3, 5, 2),
                    "weights": (0.4, 0.1, 0.3, 0.2), "learning_rate": 0.005, "steps": 2, "seed": 12}],
}
CHECK = {
    "compute_content_cost": checks.check_compute_content_cost,
    "gram_matrix": checks.check_gram_matrix,
    "compute_layer_style_cost": checks.check_compute_layer_style_cost,
    "compute_style_cost": checks.check_compute_style_cost,
    "total_cost": checks.check_total_cost,
    "train_step": checks.check_train_step,
}


def run_all(function: str, target) -> None:
    """The visible test, then every hidden check, of ``function`` on ``target``."""
    VISIBLE[function](target)
    for kwargs in HIDDEN[function]:
        CHECK[function](target, **kwargs)


def reference_target(function: str):
    """The instructor notebook's solution of ``function``, run as a student's notebook runs it: in one
    namespace with the other solutions. (The reference module itself cannot be the target: the checks
    give 0 to a function that calls helpers.reference, see helpers.integrity.)"""
    if function == "train_step":
        return notebook(ORIGINAL_TRAIN_STEP)["train_step"]
    solutions = SPECS["neural_style_transfer"].notebook.reference
    return notebook("\n\n".join(solutions[f"{name}_solution"] for name in VISIBLE if name != "train_step"))[function]


def test_the_reference_module_is_what_delegation_detection_catches():
    """Passing the reference module's own function is delegation: its check fails and says so."""
    with pytest.raises(AssertionError, match="does not compute its result with its own code"):
        checks.gram_matrix_test(ref.gram_matrix)


@pytest.mark.parametrize("function", list(VISIBLE))
def test_reference_passes_visible_and_hidden_checks(function, capsys):
    run_all(function, reference_target(function))
    assert capsys.readouterr().out.strip() == "All tests passed."


def test_original_train_step_passes(capsys):
    run_all("train_step", notebook(ORIGINAL_TRAIN_STEP)["train_step"])
    assert capsys.readouterr().out.strip() == "All tests passed."


def test_train_step_check_restores_the_notebook_globals():
    namespace = notebook(ORIGINAL_TRAIN_STEP)
    namespace["optimizer"] = "the notebook's optimizer"
    checks.train_step_test(namespace["train_step"])
    assert namespace["optimizer"] == "the notebook's optimizer"
    assert namespace["compute_style_cost"] is ref.compute_style_cost
    assert "vgg_model_outputs" not in namespace and "a_C" not in namespace


def test_hand_computed_values_match_simple_cases():
    """The checks' numpy formulas on inputs small enough to do on paper."""
    a = np.arange(6, dtype=float).reshape(1, 1, 2, 3)  # positions (0,0)=[0,1,2], (0,1)=[3,4,5]
    np.testing.assert_array_equal(checks._unroll(a), [[0, 3], [1, 4], [2, 5]])
    np.testing.assert_array_equal(checks._gram(np.array([[1.0, 2.0], [3.0, 4.0]])), [[5, 11], [11, 25]])
    # J_content: 6 differences of 1 over 4 * 1 * 2 * 3 = 24
    assert checks._content_cost(a, a + 1) == pytest.approx(6 / 24)
    # one channel, two positions: G_S = 1 + 4 = 5, G_G = 0, (5 - 0)^2 / (4 * 1 * 2^2) = 25 / 16
    assert checks._layer_style_cost(np.array([1.0, 2.0]).reshape(1, 1, 2, 1), np.zeros((1, 1, 2, 1))) == \
        pytest.approx(25 / 16)


def test_hand_gradient_of_the_stand_in_network_matches_tensorflow():
    model = checks.LinearFeatures(pools=(1, 2, 4, 2), channels=(4, 5, 6, 3), seed=3)
    rng = np.random.default_rng(0)
    image, content, style = (rng.random((1, 8, 12, 3)).astype(np.float32) for _ in range(3))
    a_C, a_S = model(content), model(style)
    weights = (0.3, 0.5, 0.2)
    J_content, J_style, grad = checks._costs_and_gradient(
        model, image.astype(np.float64), [np.asarray(a) for a in a_C], [np.asarray(a) for a in a_S], weights, 10, 40)
    variable = tf.Variable(image)
    with tf.GradientTape() as tape:
        a_G = model(variable)
        J = ref.total_cost(ref.compute_content_cost(a_C, a_G),
                           ref.compute_style_cost(a_S, a_G, STYLE_LAYERS=[(str(i), w) for i, w in enumerate(weights)]))
    assert float(J) == pytest.approx(10 * J_content + 40 * J_style, rel=1e-5)
    np.testing.assert_allclose(tape.gradient(J, variable).numpy(), grad, rtol=1e-3, atol=1e-6 * np.abs(grad).max())


def test_check_arguments_are_validated():
    with pytest.raises(ValueError, match="weights"):
        checks.check_compute_style_cost(ref.compute_style_cost, weights=(0.5,))
    with pytest.raises(ValueError, match="divisible"):
        checks.check_train_step(lambda image: None, image_size=(10, 12), pools=(1, 4), channels=(2, 2), weights=(1.0,))
    with pytest.raises(ValueError, match=r"\(1, n_H, n_W, n_C\)"):
        checks.check_compute_content_cost(ref.compute_content_cost, shapes=((2, 3, 3, 1),))
    with pytest.raises(ValueError, match="n_C, n_H"):
        checks.check_gram_matrix(ref.gram_matrix, shape=(3, 4, 1))
    with pytest.raises(ValueError, match="differ"):
        checks.check_total_cost(ref.total_cost, alpha=2.0, beta=2.0)


def test_checks_do_not_need_the_reference():
    """The student kit has helpers without reference/: the checks must not import it."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(checks))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not any("reference" in (name or "") for name in imported), imported
