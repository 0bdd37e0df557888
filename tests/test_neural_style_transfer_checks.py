"""The Neural_Style_Transfer checks tell right from wrong.

- the reference (helpers.reference.neural_style_transfer) passes every visible test and the
  hidden checks with fresh shapes, weights, seeds and learning rates;
- for every graded function, known mistakes and a hard-coded answer fail with a message naming the
  function and (for the mistakes) the likely cause; other correct implementations pass.

Variants are source code run in a namespace like the notebook's (``tf``, ``np``, ``keras``, the
global ``STYLE_LAYERS`` and the notebook's other graded functions), because ``train_step`` and
``compute_style_cost`` read names from there, as in the original notebook.
"""

import textwrap

import numpy as np
import pytest

from helpers.backend import keras, tf
from helpers.checks import neural_style_transfer as checks
from helpers.grading import GradingFailure
from helpers.reference import neural_style_transfer as ref


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


#: The notebook's train_step, as students write it (reads vgg_model_outputs, a_C, a_S, optimizer).
ORIGINAL_TRAIN_STEP = """
@tf.function()
def train_step(generated_image):
    with tf.GradientTape() as tape:
        a_G = vgg_model_outputs(generated_image)
        J_style = compute_style_cost(a_S, a_G)
        J_content = compute_content_cost(a_C, a_G)
        J = total_cost(J_content, J_style, alpha=10, beta=40)
    grad = tape.gradient(J, generated_image)
    optimizer.apply_gradients([(grad, generated_image)])
    generated_image.assign(clip_0_1(generated_image))
    return J
"""

#: The reference factory, driven by the notebook's globals (a new tf.function per call; one optimizer).
FACTORY_TRAIN_STEP = """
def train_step(generated_image):
    step = make_train_step(vgg_model_outputs, a_C, a_S, optimizer, alpha=10, beta=40, STYLE_LAYERS=STYLE_LAYERS)
    return step(generated_image)
"""

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
    if function == "train_step":
        namespace = notebook(FACTORY_TRAIN_STEP)
        namespace["make_train_step"] = ref.make_train_step
        return namespace["train_step"]
    return getattr(ref, function)


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


# ------------------------------------------------------------------------------------------
# variants: (function, description, source, expected words of the message or None for "correct")

BUGGY = [
    # compute_content_cost
    ("compute_content_cost", "tf.reduce_mean (no factor 4)", """
        def compute_content_cost(content_output, generated_output):
            a_C, a_G = content_output[-1], generated_output[-1]
            return tf.reduce_mean(tf.square(a_C - a_G))
        """, "the factor 4 is missing"),
    ("compute_content_cost", "first layer as the content layer", """
        def compute_content_cost(content_output, generated_output):
            a_C, a_G = content_output[0], generated_output[0]
            _, n_H, n_W, n_C = a_G.get_shape().as_list()
            return tf.reduce_sum(tf.square(a_C - a_G)) / (4 * n_H * n_W * n_C)
        """, "the FIRST output was used"),
    ("compute_content_cost", "operator precedence", """
        def compute_content_cost(content_output, generated_output):
            a_C, a_G = content_output[-1], generated_output[-1]
            _, n_H, n_W, n_C = a_G.get_shape().as_list()
            return tf.reduce_sum(tf.square(a_C - a_G)) / 4 * n_H * n_W * n_C
        """, "operator precedence"),
    ("compute_content_cost", "hard-coded for the visible tests", """
        def compute_content_cost(content_output, generated_output):
            a_C, a_G = content_output[-1], generated_output[-1]
            if tuple(a_G.shape) in [(1, 4, 5, 3), (1, 3, 2, 6)]:
                _, n_H, n_W, n_C = a_G.get_shape().as_list()
                return tf.reduce_sum(tf.square(a_C - a_G)) / (4 * n_H * n_W * n_C)
            return tf.constant(0.5)
        """, None),
    # gram_matrix
    ("gram_matrix", "A^T A", """
        def gram_matrix(A):
            return tf.matmul(tf.transpose(A), A)
        """, "A^T A was computed"),
    ("gram_matrix", "element-wise product", """
        def gram_matrix(A):
            return A * tf.transpose(A) if A.shape[0] == A.shape[1] else tf.matmul(A, tf.transpose(A))
        """, "element-wise"),
    ("gram_matrix", "normalised by the number of positions", """
        def gram_matrix(A):
            return tf.matmul(A, tf.transpose(A)) / A.shape[1]
        """, "divided by the number of positions"),
    ("gram_matrix", "hard-coded for the visible tests", """
        def gram_matrix(A):
            if tuple(A.shape) in [(3, 8), (4, 4)]:
                return tf.matmul(A, tf.transpose(A))
            return tf.eye(A.shape[0])
        """, None),
    # compute_layer_style_cost
    ("compute_layer_style_cost", "reshape without transpose", """
        def compute_layer_style_cost(a_S, a_G):
            _, n_H, n_W, n_C = a_G.get_shape().as_list()
            a_S = tf.reshape(a_S, [n_C, n_H * n_W])
            a_G = tf.reshape(a_G, [n_C, n_H * n_W])
            GS, GG = gram_matrix(a_S), gram_matrix(a_G)
            return tf.reduce_sum(tf.square(GS - GG)) / (4.0 * n_C ** 2 * (n_H * n_W) ** 2)
        """, "reshaped straight to (n_C, n_H*n_W)"),
    ("compute_layer_style_cost", "(n_H n_W) not squared", """
        def compute_layer_style_cost(a_S, a_G):
            _, n_H, n_W, n_C = a_G.get_shape().as_list()
            a_S = tf.transpose(tf.reshape(a_S, [-1, n_C]))
            a_G = tf.transpose(tf.reshape(a_G, [-1, n_C]))
            GS, GG = gram_matrix(a_S), gram_matrix(a_G)
            return tf.reduce_sum(tf.square(GS - GG)) / (4.0 * n_C ** 2 * n_H * n_W)
        """, "(n_H n_W) is not squared"),
    ("compute_layer_style_cost", "n_H * n_W**2 precedence", """
        def compute_layer_style_cost(a_S, a_G):
            _, n_H, n_W, n_C = a_G.get_shape().as_list()
            a_S = tf.transpose(tf.reshape(a_S, [-1, n_C]))
            a_G = tf.transpose(tf.reshape(a_G, [-1, n_C]))
            GS, GG = gram_matrix(a_S), gram_matrix(a_G)
            return tf.reduce_sum(tf.square(GS - GG)) / (4.0 * n_C ** 2 * n_H * n_W ** 2)
        """, "squares only n_W"),
    ("compute_layer_style_cost", "hard-coded for the visible tests", """
        def compute_layer_style_cost(a_S, a_G):
            _, n_H, n_W, n_C = a_G.get_shape().as_list()
            if (n_H, n_W, n_C) in [(3, 4, 5), (2, 6, 3)]:
                a_S = tf.transpose(tf.reshape(a_S, [-1, n_C]))
                a_G = tf.transpose(tf.reshape(a_G, [-1, n_C]))
                GS, GG = gram_matrix(a_S), gram_matrix(a_G)
                return tf.reduce_sum(tf.square(GS - GG)) / (4.0 * n_C ** 2 * (n_H * n_W) ** 2)
            return tf.constant(1.0)
        """, None),
    # compute_style_cost
    ("compute_style_cost", "ignores the layer weights", """
        def compute_style_cost(style_image_output, generated_image_output, STYLE_LAYERS=STYLE_LAYERS):
            a_S, a_G = style_image_output[:-1], generated_image_output[:-1]
            return sum(compute_layer_style_cost(s, g) for s, g, _ in zip(a_S, a_G, STYLE_LAYERS))
        """, "the layer weights are ignored"),
    ("compute_style_cost", "drops the first output instead of the last", """
        def compute_style_cost(style_image_output, generated_image_output, STYLE_LAYERS=STYLE_LAYERS):
            a_S, a_G = style_image_output[1:], generated_image_output[1:]
            J_style = 0
            for i, (name, weight) in enumerate(STYLE_LAYERS):
                J_style += weight * compute_layer_style_cost(a_S[i], a_G[i])
            return J_style
        """, "the FIRST output was dropped"),
    ("compute_style_cost", "ignores the STYLE_LAYERS argument", """
        def compute_style_cost(style_image_output, generated_image_output, STYLE_LAYERS=STYLE_LAYERS):
            layers = globals()["STYLE_LAYERS"]
            a_S, a_G = style_image_output[:-1], generated_image_output[:-1]
            return sum(w * compute_layer_style_cost(s, g) for s, g, (_, w) in zip(a_S, a_G, layers))
        """, "the STYLE_LAYERS argument is ignored"),
    ("compute_style_cost", "hard-coded for the visible tests", """
        def compute_style_cost(style_image_output, generated_image_output, STYLE_LAYERS=STYLE_LAYERS):
            if len(style_image_output) in (3, 4) and tuple(style_image_output[0].shape) in [(1, 6, 4, 3), (1, 4, 4, 2)]:
                a_S, a_G = style_image_output[:-1], generated_image_output[:-1]
                return sum(w * compute_layer_style_cost(s, g) for s, g, (_, w) in zip(a_S, a_G, STYLE_LAYERS))
            return 0.0
        """, None),
    # total_cost
    ("total_cost", "alpha and beta swapped", """
        def total_cost(J_content, J_style, alpha=10, beta=40):
            return beta * J_content + alpha * J_style
        """, "alpha and beta are swapped"),
    ("total_cost", "ignores alpha and beta", """
        def total_cost(J_content, J_style, alpha=10, beta=40):
            return 10 * J_content + 40 * J_style
        """, "the arguments alpha and beta are ignored"),
    ("total_cost", "hard-coded for the visible tests", """
        def total_cost(J_content, J_style, alpha=10, beta=40):
            known = {(0.37, 1.9, 10, 40): 79.7, (0.37, 1.9, 3.0, 7.0): 14.41,
                     (2.5, 0.04, 10, 40): 26.6, (2.5, 0.04, 1.0, 1000.0): 42.5}
            return known.get((round(float(J_content), 4), round(float(J_style), 4), alpha, beta), 0.0)
        """, None),
    # train_step
    ("train_step", "forgets to clip", ORIGINAL_TRAIN_STEP.replace(
        "generated_image.assign(clip_0_1(generated_image))", "pass"), "the image is not clipped"),
    ("train_step", "alpha and beta swapped", ORIGINAL_TRAIN_STEP.replace(
        "alpha=10, beta=40", "alpha=40, beta=10"), "are swapped"),
    ("train_step", "J_content and J_style swapped", ORIGINAL_TRAIN_STEP.replace(
        "total_cost(J_content, J_style,", "total_cost(J_style, J_content,"), "are swapped"),
    ("train_step", "goes uphill", ORIGINAL_TRAIN_STEP.replace("[(grad, generated_image)]", "[(-grad, generated_image)]"),
     "the step goes uphill"),
    ("train_step", "a new optimizer at every step", """
        def train_step(generated_image):
            own_optimizer = keras.optimizers.Adam(learning_rate=0.01)
            with tf.GradientTape() as tape:
                a_G = vgg_model_outputs(generated_image)
                J = total_cost(compute_content_cost(a_C, a_G), compute_style_cost(a_S, a_G))
            own_optimizer.apply_gradients([(tape.gradient(J, generated_image), generated_image)])
            generated_image.assign(clip_0_1(generated_image))
            return J
        """, "generated_image after call 2"),
    ("train_step", "hard-coded J", ORIGINAL_TRAIN_STEP.replace("return J", "return tf.constant(1.0)"), None),
]

CORRECT = [
    ("compute_content_cost", "numpy on the tensors", """
        def compute_content_cost(content_output, generated_output):
            a_C, a_G = np.asarray(content_output[-1]), np.asarray(generated_output[-1])
            return np.sum((a_C - a_G) ** 2) / (4 * a_G.size)
        """),
    ("compute_content_cost", "mean divided by 4", """
        def compute_content_cost(content_output, generated_output):
            return tf.reduce_mean(tf.math.squared_difference(content_output[-1], generated_output[-1])) / 4.0
        """),
    ("gram_matrix", "einsum", """
        def gram_matrix(A):
            return tf.einsum("ik,jk->ij", A, A)
        """),
    ("gram_matrix", "matmul with transpose_b", """
        def gram_matrix(A):
            return tf.linalg.matmul(A, A, transpose_b=True)
        """),
    ("compute_layer_style_cost", "A^T A on (n_H*n_W, n_C), (2 n_C n_H n_W)^2", """
        def compute_layer_style_cost(a_S, a_G):
            _, n_H, n_W, n_C = a_G.shape
            S = tf.reshape(a_S, (n_H * n_W, n_C))
            G = tf.reshape(a_G, (n_H * n_W, n_C))
            diff = tf.matmul(S, S, transpose_a=True) - tf.matmul(G, G, transpose_a=True)
            return tf.reduce_sum(diff ** 2) / (2 * n_C * n_H * n_W) ** 2
        """),
    ("compute_layer_style_cost", "loops over channel pairs in numpy", """
        def compute_layer_style_cost(a_S, a_G):
            S, G = np.asarray(a_S, dtype=np.float64)[0], np.asarray(a_G, dtype=np.float64)[0]
            n_H, n_W, n_C = G.shape
            total = 0.0
            for i in range(n_C):
                for j in range(n_C):
                    total += (np.sum(S[..., i] * S[..., j]) - np.sum(G[..., i] * G[..., j])) ** 2
            return total / (4 * n_C ** 2 * (n_H * n_W) ** 2)
        """),
    ("compute_style_cost", "tf.add_n over enumerate", """
        def compute_style_cost(style_image_output, generated_image_output, STYLE_LAYERS=STYLE_LAYERS):
            costs = [weight * compute_layer_style_cost(style_image_output[i], generated_image_output[i])
                     for i, (_, weight) in enumerate(STYLE_LAYERS)]
            return tf.add_n(costs)
        """),
    ("total_cost", "tf.add / tf.multiply", """
        def total_cost(J_content, J_style, alpha=10, beta=40):
            return tf.add(tf.multiply(float(alpha), J_content), tf.multiply(float(beta), J_style))
        """),
    ("train_step", "no tf.function, tf.clip_by_value, optimizer.apply", """
        def train_step(generated_image):
            with tf.GradientTape() as tape:
                outputs = vgg_model_outputs(generated_image)
                J = total_cost(compute_content_cost(a_C, outputs), compute_style_cost(a_S, outputs))
            optimizer.apply([tape.gradient(J, generated_image)], [generated_image])
            generated_image.assign(tf.clip_by_value(generated_image, 0.0, 1.0))
            return J
        """),
]


@pytest.mark.parametrize("function, description, source, cause", BUGGY, ids=[f"{b[0]}: {b[1]}" for b in BUGGY])
def test_buggy_variant_fails_with_a_named_cause(function, description, source, cause):
    target = notebook(source)[function]
    with pytest.raises(GradingFailure) as failure:
        run_all(function, target)
    message = str(failure.value)
    assert message.startswith(f"{function}:"), message
    if cause is not None:
        assert "likely cause: " in message and cause in " ".join(message.split()), message


@pytest.mark.parametrize("function, description, source", CORRECT, ids=[f"{c[0]}: {c[1]}" for c in CORRECT])
def test_correct_variant_passes(function, description, source, capsys):
    run_all(function, notebook(source)[function])
    assert capsys.readouterr().out.strip() == "All tests passed."


def test_every_graded_function_has_two_buggy_and_one_correct_variant():
    for function in VISIBLE:
        assert sum(b[0] == function for b in BUGGY) >= 2, function
        assert any(b[0] == function and b[3] is None for b in BUGGY), f"{function}: no hard-coded variant"
        assert any(c[0] == function for c in CORRECT), function


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
