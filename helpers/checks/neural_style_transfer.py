"""Tests of week 4, "Neural Style Transfer" (one visible test per graded function, plus ``check_*``).

Expected values are computed here, in float64 numpy, straight from the formulas of the notebook --
not by calling an implementation of the graded functions -- so a mistaken reference would fail
these checks too. Inputs are TensorFlow float32 tensors, as the VGG model gives them; results may
be tensors or numbers. Notation: an activation a has shape (1, n_H, n_W, n_C); unrolled, it is
A of shape (n_C, n_H*n_W) with A[c, h*n_W + w] = a[0, h, w, c].

- J_content = sum((a_C - a_G)^2) / (4 n_H n_W n_C), on the LAST output (the content layer);
- gram_matrix(A) = A A^T, shape (n_C, n_C);
- J_style_layer = sum((G_S - G_G)^2) / (4 n_C^2 (n_H n_W)^2);
- J_style = sum_l lambda_l J_style_layer(l) over STYLE_LAYERS, on all outputs but the last;
- J = alpha J_content + beta J_style;
- train_step: Adam step on the image, clip to [0, 1], return J (computed before the step).

``train_step`` reads notebook globals (``vgg_model_outputs``, ``a_C``, ``a_S``, ``optimizer``). Its
check puts a small stand-in network there (linear features of average-pooled pixels, whose costs
and gradients are written out below by hand), plus this module's own versions of the other graded
functions, so a broken ``compute_style_cost`` costs only its own points; the notebook's names are
put back afterwards. The stand-in runs eagerly (``train_step.python_function``), so the globals in
place at check time are the ones used, whatever ``tf.function`` traced before.

Tolerance: ``|got - expected| <= ATOL + RTOL * |expected|``. float32 TensorFlow, float64 numpy,
loops or einsum all pass; every mistake listed in the diagnoses changes the value far more.
"""

from __future__ import annotations

import numpy as np

from helpers.backend import keras, tf
from helpers.grading import all_passed, call, check_close, check_shape, fail

RTOL = 1e-4
ATOL = 1e-7
#: Adam's defaults in Keras (the notebook's optimizer is keras.optimizers.Adam(learning_rate=0.01)).
ADAM_BETA_1, ADAM_BETA_2, ADAM_EPSILON = 0.9, 0.999, 1e-7


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _activation(rng, shape, mean=1.0, std=2.0):
    """A float32 activation of ``shape`` (non-zero mean, like ReLU features), as numpy."""
    return (rng.standard_normal(shape) * std + mean).astype(np.float32)


def _to_tensors(arrays):
    return [tf.constant(a) for a in arrays]


def _number(function: str, what: str, value) -> float:
    """A scalar result (tensor, numpy or Python number) as a float, or a failure saying why not."""
    __tracebackhide__ = True
    try:
        array = np.asarray(keras.ops.convert_to_numpy(value), dtype=np.float64)
    except Exception:  # noqa: BLE001 - anything not convertible is reported
        fail(function, f"{what} is not a number", expected="a scalar tensor or number", got=type(value).__name__,
             cause="return the cost (e.g. the result of tf.reduce_sum(...) divided by the constant)")
    if array.size != 1:
        fail(function, f"{what} must be a single number", expected="a scalar", got=f"shape {array.shape}",
             cause="sum over ALL entries (tf.reduce_sum without an axis), not over one axis")
    return float(array.reshape(()))


# --------------------------------------------------------------------------------------------
# the formulas, written out in numpy (float64)


def _unroll(a: np.ndarray) -> np.ndarray:
    """(1, n_H, n_W, n_C) -> A of shape (n_C, n_H*n_W), A[c, h*n_W + w] = a[0, h, w, c] (by loops)."""
    _, n_H, n_W, n_C = a.shape
    A = np.empty((n_C, n_H * n_W))
    for h in range(n_H):
        for w in range(n_W):
            A[:, h * n_W + w] = a[0, h, w, :]
    return A


def _gram(A: np.ndarray) -> np.ndarray:
    """G[i, j] = sum_k A[i, k] A[j, k]."""
    A = np.asarray(A, dtype=np.float64)
    return (A[:, None, :] * A[None, :, :]).sum(axis=2)


def _content_cost(a_C, a_G, denominator=None):
    _, n_H, n_W, n_C = a_G.shape
    total = np.sum((np.asarray(a_C, np.float64) - np.asarray(a_G, np.float64)) ** 2)
    return total / (4.0 * n_H * n_W * n_C if denominator is None else denominator)


def _layer_style_cost(a_S, a_G, unroll=_unroll, denominator=None):
    _, n_H, n_W, n_C = a_G.shape
    G_S, G_G = _gram(unroll(np.asarray(a_S, np.float64))), _gram(unroll(np.asarray(a_G, np.float64)))
    total = np.sum((G_S - G_G) ** 2)
    return total / (4.0 * n_C ** 2 * (n_H * n_W) ** 2 if denominator is None else denominator)


def _style_cost(style_outputs, generated_outputs, weights):
    style_outputs, generated_outputs = style_outputs[:-1], generated_outputs[:-1]
    return sum(weight * _layer_style_cost(a_S, a_G)
               for a_S, a_G, weight in zip(style_outputs, generated_outputs, weights))


# --------------------------------------------------------------------------------------------
# compute_content_cost


def _check_activation_shapes(function, shapes):
    """ValueError unless every shape is (1, n_H, n_W, n_C) with positive sizes (one image, as in the notebook)."""
    shapes = [tuple(int(d) for d in shape) for shape in shapes]
    if not shapes or any(len(s) != 4 or s[0] != 1 or min(s) < 1 for s in shapes):
        raise ValueError(f"{function}: shapes must be a non-empty list of (1, n_H, n_W, n_C), got {shapes}")
    return shapes


def _content_inputs(shapes, seed):
    rng = _rng(seed)
    content = [_activation(rng, s) for s in shapes]
    generated = [_activation(rng, s) for s in shapes]
    return content, generated


def check_compute_content_cost(target, shapes=((1, 6, 6, 3), (1, 4, 5, 3)), seed=1):
    """compute_content_cost on two output lists of activations of ``shapes``; the last is the content layer."""
    __tracebackhide__ = True
    fn = "compute_content_cost"
    shapes = _check_activation_shapes("check_compute_content_cost", shapes)
    content, generated = _content_inputs(shapes, seed)
    got = _number(fn, "J_content", call(fn, target, _to_tensors(content), _to_tensors(generated)))
    a_C, a_G = content[-1], generated[-1]
    _, n_H, n_W, n_C = a_C.shape
    size = n_H * n_W * n_C
    diagnoses = {
        "the factor 4 is missing from the denominator (or tf.reduce_mean was used): divide the sum by 4 n_H n_W n_C":
            _content_cost(a_C, a_G, size),
        "the denominator is 2 n_H n_W n_C; it is 4 n_H n_W n_C": _content_cost(a_C, a_G, 2 * size),
        "the sum of squares is not normalised: divide it by 4 n_H n_W n_C": _content_cost(a_C, a_G, 1.0),
        "operator precedence: `/ 4 * n_H * n_W * n_C` multiplies by n_H n_W n_C; write `/ (4 * n_H * n_W * n_C)`":
            _content_cost(a_C, a_G, 4.0 / size),
        "the differences are not squared: use tf.square(a_C - a_G)":
            float(np.sum(a_C.astype(np.float64) - a_G)) / (4.0 * size),
    }
    if len(shapes) > 1:
        first_C, first_G = content[0], generated[0]
        diagnoses["the FIRST output was used; the content layer is the LAST one (content_output[-1])"] = \
            _content_cost(first_C, first_G)
    check_close(fn, f"J_content for content layer of shape {tuple(a_C.shape)}", got, _content_cost(a_C, a_G),
                RTOL, ATOL, diagnoses=diagnoses,
                cause="J_content = sum((a_C - a_G)^2) / (4 n_H n_W n_C) with a_C = content_output[-1], "
                      "a_G = generated_output[-1]")


def compute_content_cost_test(target):
    """Visible test of compute_content_cost."""
    __tracebackhide__ = True
    check_compute_content_cost(target, ((1, 6, 6, 3), (1, 4, 5, 3)), seed=1)
    check_compute_content_cost(target, ((1, 8, 8, 2), (1, 4, 4, 4), (1, 3, 2, 6)), seed=2)
    all_passed()


# --------------------------------------------------------------------------------------------
# gram_matrix


def check_gram_matrix(target, shape=(3, 8), seed=1):
    """gram_matrix(A) for A ~ N(1, 2^2) of ``shape`` = (n_C, n_H*n_W): must be A A^T, shape (n_C, n_C)."""
    __tracebackhide__ = True
    fn = "gram_matrix"
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f"check_gram_matrix: shape must be (n_C, n_H*n_W), got {shape}")
    A = _activation(_rng(seed), shape)
    got = call(fn, target, tf.constant(A))
    try:
        got = np.asarray(keras.ops.convert_to_numpy(got), dtype=np.float64)
    except Exception:  # noqa: BLE001
        fail(fn, "did not return a matrix", expected=f"a tensor of shape ({shape[0]}, {shape[0]})",
             got=type(got).__name__, cause="return tf.matmul(A, tf.transpose(A))")
    A64 = A.astype(np.float64)
    diagnoses = {
        "A^T A was computed; the Gram matrix of the channels is A A^T (tf.matmul(A, tf.transpose(A)))": A64.T @ A64,
        "the product is element-wise (A * A^T); use the matrix product tf.matmul": A64 * A64.T if shape[0] == shape[1]
        else np.zeros((1, 1)),
        "the Gram matrix was divided by the number of positions n_H*n_W; gram_matrix is the plain A A^T "
        "(the normalisation belongs in the cost)": _gram(A64) / shape[1],
    }
    if got.shape != (shape[0], shape[0]):
        cause = next((name for name, value in diagnoses.items() if value.shape == got.shape),
                     "the Gram matrix of A (n_C, n_H*n_W) is A A^T, of shape (n_C, n_C)")
        check_shape(fn, f"GA for A of shape {shape}", got, (shape[0], shape[0]), cause=cause)
    check_close(fn, f"GA for A of shape {shape}", got, _gram(A64), RTOL, 1e-5, diagnoses=diagnoses,
                cause="GA[i, j] = sum_k A[i, k] A[j, k], i.e. tf.matmul(A, tf.transpose(A))")


def gram_matrix_test(target):
    """Visible test of gram_matrix."""
    __tracebackhide__ = True
    check_gram_matrix(target, (3, 8), seed=1)
    check_gram_matrix(target, (4, 4), seed=2)
    all_passed()


# --------------------------------------------------------------------------------------------
# compute_layer_style_cost


def check_compute_layer_style_cost(target, shape=(1, 3, 4, 5), seed=1):
    """compute_layer_style_cost on a_S, a_G ~ N(1, 2^2) of ``shape`` = (1, n_H, n_W, n_C)."""
    __tracebackhide__ = True
    fn = "compute_layer_style_cost"
    (shape,) = _check_activation_shapes("check_compute_layer_style_cost", [shape])
    rng = _rng(seed)
    a_S, a_G = _activation(rng, shape), _activation(rng, shape)
    got = _number(fn, "J_style_layer", call(fn, target, tf.constant(a_S), tf.constant(a_G)))
    _, n_H, n_W, n_C = shape
    N = n_H * n_W
    expected = _layer_style_cost(a_S, a_G)
    # the classic mistake: reshape straight to (n_C, n_H*n_W), which mixes positions and channels
    no_transpose = lambda a: a.reshape(n_C, N)
    # rows = positions (no transpose): gram_matrix then gives a (n_H*n_W, n_H*n_W) Gram matrix of positions
    positions = lambda a: a.reshape(N, n_C)
    diagnoses = {
        "the activations were reshaped straight to (n_C, n_H*n_W), which mixes channels; reshape to "
        "(n_H*n_W, n_C) first, then transpose to (n_C, n_H*n_W)": _layer_style_cost(a_S, a_G, no_transpose),
        "the transpose is missing: A of shape (n_H*n_W, n_C) gives a Gram matrix of positions, (n_H*n_W, n_H*n_W); "
        "transpose A to (n_C, n_H*n_W) before gram_matrix": _layer_style_cost(a_S, a_G, positions),
        "the factor 4 is missing from the denominator 4 n_C^2 (n_H n_W)^2":
            _layer_style_cost(a_S, a_G, denominator=n_C ** 2 * N ** 2),
        "(n_H n_W) is not squared in the denominator; it is 4 n_C^2 (n_H n_W)^2":
            _layer_style_cost(a_S, a_G, denominator=4.0 * n_C ** 2 * N),
        "n_C is not squared in the denominator; it is 4 n_C^2 (n_H n_W)^2":
            _layer_style_cost(a_S, a_G, denominator=4.0 * n_C * N ** 2),
        "the denominator is (4 n_C n_H n_W)^2 = 16 n_C^2 (n_H n_W)^2; it is 4 n_C^2 (n_H n_W)^2":
            _layer_style_cost(a_S, a_G, denominator=16.0 * n_C ** 2 * N ** 2),
        "the sum is not normalised: divide it by 4 n_C^2 (n_H n_W)^2": _layer_style_cost(a_S, a_G, denominator=1.0),
        "operator precedence: `/ 4 * n_C**2 * (n_H*n_W)**2` multiplies; write `/ (4 * n_C**2 * (n_H*n_W)**2)`":
            _layer_style_cost(a_S, a_G, denominator=4.0 / (n_C ** 2 * N ** 2)),
    }
    if n_H != n_W:
        diagnoses["operator precedence: n_H * n_W**2 squares only n_W; write (n_H * n_W)**2"] = \
            _layer_style_cost(a_S, a_G, denominator=4.0 * n_C ** 2 * n_H * n_W ** 2)
    check_close(fn, f"J_style_layer for activations of shape {shape}", got, expected, RTOL, ATOL,
                diagnoses=diagnoses,
                cause="unroll each activation to (n_C, n_H*n_W) (reshape to (n_H*n_W, n_C), transpose), take "
                      "both Gram matrices, and return sum((G_S - G_G)^2) / (4 n_C^2 (n_H n_W)^2)")


def compute_layer_style_cost_test(target):
    """Visible test of compute_layer_style_cost."""
    __tracebackhide__ = True
    check_compute_layer_style_cost(target, (1, 3, 4, 5), seed=1)
    check_compute_layer_style_cost(target, (1, 2, 6, 3), seed=2)
    all_passed()


# --------------------------------------------------------------------------------------------
# this module's TensorFlow versions of the graded functions, put in the notebook's namespace while
# compute_style_cost and train_step are checked (so each function is graded on its own)


def _tf_gram(A):
    return tf.einsum("ik,jk->ij", A, A)


def _tf_layer_style_cost(a_S, a_G):
    _, n_H, n_W, n_C = (int(d) for d in a_G.shape)
    unrolled_S = tf.transpose(tf.reshape(a_S, (n_H * n_W, n_C)))
    unrolled_G = tf.transpose(tf.reshape(a_G, (n_H * n_W, n_C)))
    difference = _tf_gram(unrolled_S) - _tf_gram(unrolled_G)
    return tf.reduce_sum(difference * difference) / float(4 * n_C ** 2 * (n_H * n_W) ** 2)


def _tf_content_cost(content_output, generated_output):
    a_C, a_G = content_output[-1], generated_output[-1]
    size = float(np.prod([int(d) for d in a_G.shape[1:]]))
    return tf.reduce_sum(tf.square(a_C - a_G)) / (4.0 * size)


def _tf_style_cost_with(default_layers):
    def compute_style_cost(style_image_output, generated_image_output, STYLE_LAYERS=default_layers):
        pairs = zip(style_image_output[:-1], generated_image_output[:-1], STYLE_LAYERS)
        return tf.add_n([weight * _tf_layer_style_cost(a_S, a_G) for a_S, a_G, (_, weight) in pairs])
    return compute_style_cost


def _tf_total_cost(J_content, J_style, alpha=10, beta=40):
    return alpha * J_content + beta * J_style


def _tf_clip_0_1(image):
    return tf.clip_by_value(image, 0.0, 1.0)


# --------------------------------------------------------------------------------------------
# compute_style_cost


def _style_inputs(shapes, seed):
    rng = _rng(seed)
    return [_activation(rng, s) for s in shapes], [_activation(rng, s) for s in shapes]


def check_compute_style_cost(target, shapes=((1, 6, 4, 3), (1, 3, 2, 5), (1, 3, 3, 4)),
                             weights=(0.5, 0.3), seed=1):
    """compute_style_cost(style_output, generated_output, STYLE_LAYERS) on activations of ``shapes``.

    The last shape is the content layer (not part of the style cost); ``weights`` are the lambdas of
    the others (len(shapes) - 1 of them; give them distinct values so that mistakes show).
    """
    __tracebackhide__ = True
    fn = "compute_style_cost"
    shapes = _check_activation_shapes("check_compute_style_cost", shapes)
    if len(weights) != len(shapes) - 1:
        raise ValueError(f"check_compute_style_cost: need len(shapes) - 1 = {len(shapes) - 1} weights, got {len(weights)}")
    style, generated = _style_inputs(shapes, seed)
    style_layers = [(f"layer_{i + 1}", float(w)) for i, w in enumerate(weights)]
    got = _number(fn, "J_style", call(fn, target, _to_tensors(style), _to_tensors(generated),
                                      STYLE_LAYERS=style_layers,
                                      with_reference={"compute_layer_style_cost": _tf_layer_style_cost,
                                                      "gram_matrix": _tf_gram}))
    expected = _style_cost(style, generated, weights)
    layer_costs = [_layer_style_cost(s, g) for s, g in zip(style, generated)]
    n = len(weights)
    diagnoses = {
        "the layer weights are ignored: multiply each layer's cost by its weight STYLE_LAYERS[l][1]":
            sum(layer_costs[:n]),
        "the layer costs were averaged; the style cost is their weighted SUM": sum(layer_costs[:n]) / n,
        "the FIRST output was dropped; the LAST one is the content layer (use outputs[:-1])":
            sum(w * c for w, c in zip(weights, layer_costs[1:])),
        "the content layer (the last output) was included in the style cost":
            expected + weights[-1] * layer_costs[-1],
        "the weights were paired with the layers in reverse order":
            sum(w * c for w, c in zip(weights[::-1], layer_costs[:n])),
        "the STYLE_LAYERS argument is ignored (a global list with weights 0.2 was used instead)":
            sum(0.2 * c for c in layer_costs[:min(n, 5)]),
    }
    check_close(fn, f"J_style for {n} style layers with weights {list(weights)}", got, expected, RTOL, ATOL,
                diagnoses=diagnoses,
                cause="J_style = sum over l of STYLE_LAYERS[l][1] * compute_layer_style_cost(a_S[l], a_G[l]), "
                      "with a_S = style_image_output[:-1] and a_G = generated_image_output[:-1]")


def compute_style_cost_test(target):
    """Visible test of compute_style_cost."""
    __tracebackhide__ = True
    check_compute_style_cost(target, ((1, 6, 4, 3), (1, 3, 2, 5), (1, 3, 3, 4)), weights=(0.5, 0.3), seed=1)
    check_compute_style_cost(target, ((1, 4, 4, 2), (1, 2, 4, 3), (1, 2, 2, 4), (1, 2, 2, 2)),
                             weights=(0.1, 0.6, 0.3), seed=2)
    all_passed()


# --------------------------------------------------------------------------------------------
# total_cost


def check_total_cost(target, J_content=0.37, J_style=1.9, alpha=3.0, beta=7.0):
    """total_cost(J_content, J_style) with the defaults (10, 40) and with ``alpha``, ``beta`` given."""
    __tracebackhide__ = True
    fn = "total_cost"
    if alpha == beta:
        raise ValueError("check_total_cost: alpha and beta must differ (otherwise swapping them is not detected)")
    got = _number(fn, "J", call(fn, target, J_content, J_style))
    check_close(fn, f"J for J_content={J_content}, J_style={J_style} and the default alpha, beta", got,
                10 * J_content + 40 * J_style, RTOL, ATOL,
                diagnoses={"alpha and beta are swapped: J = alpha * J_content + beta * J_style":
                           40 * J_content + 10 * J_style,
                           "the costs are not weighted: J = alpha * J_content + beta * J_style": J_content + J_style},
                cause="the defaults are alpha=10, beta=40 and J = alpha * J_content + beta * J_style")
    got = _number(fn, "J", call(fn, target, tf.constant(J_content, tf.float32), tf.constant(J_style, tf.float32),
                                alpha=alpha, beta=beta))
    check_close(fn, f"J for J_content={J_content}, J_style={J_style}, alpha={alpha}, beta={beta}", got,
                alpha * J_content + beta * J_style, RTOL, 1e-5,
                diagnoses={"alpha and beta are swapped: J = alpha * J_content + beta * J_style":
                           beta * J_content + alpha * J_style,
                           "the arguments alpha and beta are ignored (10 and 40 are written in the formula)":
                           10 * J_content + 40 * J_style,
                           "the costs are not weighted: J = alpha * J_content + beta * J_style": J_content + J_style},
                cause="J = alpha * J_content + beta * J_style")


def total_cost_test(target):
    """Visible test of total_cost."""
    __tracebackhide__ = True
    check_total_cost(target, 0.37, 1.9, alpha=3.0, beta=7.0)
    check_total_cost(target, 2.5, 0.04, alpha=1.0, beta=1000.0)
    all_passed()


# --------------------------------------------------------------------------------------------
# train_step


class LinearFeatures:
    """Stand-in for ``vgg_model_outputs``: a list of linear features of average-pooled pixels.

    Output l is ``avg_pool(image, pools[l]) @ W[l] + b[l]``, shape (1, n_H/p, n_W/p, channels[l]);
    the last output plays the content layer. ``__call__`` works on tensors (differentiable);
    :meth:`numpy_forward` and :meth:`numpy_backward` compute the same in float64 numpy.
    """

    def __init__(self, pools, channels, seed):
        rng = _rng(seed)
        self.pools = tuple(int(p) for p in pools)
        self.W = [(rng.standard_normal((3, c)) / np.sqrt(3)).astype(np.float32) for c in channels]
        self.b = [(rng.standard_normal(c) * 0.3 + 0.5).astype(np.float32) for c in channels]

    def __call__(self, image):
        image = tf.convert_to_tensor(image)
        outputs = []
        for p, W, b in zip(self.pools, self.W, self.b):
            pooled = tf.nn.avg_pool2d(image, p, p, "VALID") if p > 1 else image
            outputs.append(tf.einsum("mhwk,kc->mhwc", pooled, W) + b)
        return outputs

    @staticmethod
    def _pool(x, p):
        m, H, W, k = x.shape
        return x.reshape(m, H // p, p, W // p, p, k).mean(axis=(2, 4))

    def numpy_forward(self, image):
        image = np.asarray(image, np.float64)
        return [self._pool(image, p) @ W.astype(np.float64) + b for p, W, b in zip(self.pools, self.W, self.b)]

    def numpy_backward(self, image_shape, output_gradients):
        """d J / d image from d J / d output_l (chain rule through the 1x1 map and the pooling)."""
        grad = np.zeros(image_shape)
        for p, W, dA in zip(self.pools, self.W, output_gradients):
            d_pooled = dA @ W.astype(np.float64).T
            grad += np.repeat(np.repeat(d_pooled, p, axis=1), p, axis=2) / (p * p)
        return grad


def _costs_and_gradient(model, image, a_C, a_S, weights, alpha, beta):
    """J_content, J_style and d(alpha J_content + beta J_style)/d image, by hand (float64)."""
    outputs = model.numpy_forward(image)
    out_grads = []
    J_style = 0.0
    for a_s, a_g, weight in zip(a_S[:-1], outputs[:-1], weights):
        _, n_H, n_W, n_C = a_g.shape
        A = _unroll(a_g)
        G_S, G_G = _gram(_unroll(a_s)), _gram(A)
        J_style += weight * np.sum((G_S - G_G) ** 2) / (4.0 * n_C ** 2 * (n_H * n_W) ** 2)
        # dJ/dG_G = -2 (G_S - G_G) / D; dJ/dA = 2 dJ/dG_G A (G symmetric); A[c, h*n_W+w] = a[0, h, w, c]
        dA = -4.0 * (G_S - G_G) @ A / (4.0 * n_C ** 2 * (n_H * n_W) ** 2)
        out_grads.append(beta * weight * dA.T.reshape(1, n_H, n_W, n_C))
    out_grads += [np.zeros_like(o) for o in outputs[len(out_grads):-1]]
    a_c, a_g = a_C[-1], outputs[-1]
    size = a_g[0].size
    J_content = np.sum((a_c - a_g) ** 2) / (4.0 * size)
    out_grads.append(alpha * 2.0 * (a_g - a_c) / (4.0 * size))
    return J_content, J_style, model.numpy_backward(image.shape, out_grads)


def _simulate(model, image, a_C, a_S, weights, learning_rate, steps, bug=None):
    """Returns (list of J per step, image after each step) for the correct train_step or a ``bug``."""
    alpha, beta = (40, 10) if bug == "alpha_beta_swapped" else (10, 40)
    x = np.asarray(image, np.float64).copy()
    m = np.zeros_like(x)
    v = np.zeros_like(x)
    costs, images = [], []
    for t in range(1, steps + 1):
        J_content, J_style, g = _costs_and_gradient(model, x, a_C, a_S, weights, alpha, beta)
        costs.append(alpha * J_content + beta * J_style)
        if bug == "ascent":
            g = -g
        if bug != "no_step":
            m = m + (g - m) * (1 - ADAM_BETA_1)
            v = v + (g * g - v) * (1 - ADAM_BETA_2)
            step_size = learning_rate * np.sqrt(1 - ADAM_BETA_2 ** t) / (1 - ADAM_BETA_1 ** t)
            x = x - step_size * m / (np.sqrt(v) + ADAM_EPSILON)
        if bug != "no_clip":
            x = np.clip(x, 0.0, 1.0)
        images.append(x.copy())
    return costs, images


_TRAIN_STEP_CAUSES = {
    "no_clip": "the image is not clipped after the step: generated_image.assign(clip_0_1(generated_image))",
    "no_step": "the optimizer step is missing: optimizer.apply_gradients([(grad, generated_image)])",
    "ascent": "the step goes uphill: pass the gradient itself, not its negative, to apply_gradients",
    "alpha_beta_swapped": "alpha and beta, or J_content and J_style, are swapped: J = total_cost(J_content, "
                          "J_style, alpha=10, beta=40), in this order",
}


class _NotebookGlobals:
    """Temporarily set names in the namespace a function reads its globals from; restore them after."""

    def __init__(self, namespace: dict, values: dict):
        self.namespace, self.values, self.saved = namespace, values, {}

    def __enter__(self):
        for name, value in self.values.items():
            self.saved[name] = self.namespace.get(name, _NotebookGlobals)
            self.namespace[name] = value
        return self

    def __exit__(self, *exc):
        for name, old in self.saved.items():
            if old is _NotebookGlobals:
                self.namespace.pop(name, None)
            else:
                self.namespace[name] = old
        return False


def check_train_step(target, image_size=(16, 12), pools=(1, 2, 4, 2), channels=(4, 5, 6, 3),
                     weights=(0.3, 0.5, 0.2), learning_rate=0.01, steps=2, seed=1):
    """train_step(generated_image): ``steps`` calls on a stand-in network, compared with a hand computation.

    The notebook globals ``vgg_model_outputs``, ``a_C``, ``a_S``, ``optimizer`` (Adam with
    ``learning_rate``), ``STYLE_LAYERS`` and the other graded functions are replaced while it runs.
    image_size: (n_H, n_W), divisible by every pool; pools/channels: one per output, the last is the
    content layer; weights: the style layers' lambdas (len(pools) - 1 of them).
    Checks J returned by each call (the cost before the step) and the image after each step.
    """
    __tracebackhide__ = True
    fn = "train_step"
    if len(pools) != len(channels) or len(weights) != len(pools) - 1:
        raise ValueError("check_train_step: need len(pools) == len(channels) == len(weights) + 1")
    if any(side % p for side in image_size for p in pools):
        raise ValueError(f"check_train_step: image_size {image_size} must be divisible by every pool {pools}")
    model = LinearFeatures(pools, channels, seed)
    rng = _rng(seed + 100)
    shape = (1, *image_size, 3)
    content = rng.random(shape).astype(np.float32)
    style = rng.random(shape).astype(np.float32)
    start = np.clip(content + rng.uniform(-0.25, 0.25, shape), 0.0, 1.0).astype(np.float32)
    edge = rng.random(shape) < 0.25  # pixels next to 0 or 1, where a step of learning_rate crosses the range
    start[edge] = np.where(rng.random(int(edge.sum())) < 0.5, 0.3 * learning_rate, 1 - 0.3 * learning_rate)
    a_C, a_S = model(content), model(style)
    a_C_np = [np.asarray(a, np.float64) for a in a_C]
    a_S_np = [np.asarray(a, np.float64) for a in a_S]
    style_layers = [(f"layer_{i + 1}", float(w)) for i, w in enumerate(weights)]

    inner = getattr(target, "python_function", target)
    namespace = getattr(inner, "__globals__", None)
    if not callable(inner) or not isinstance(namespace, dict):
        fail(fn, "is not a function", expected="a function (decorated with @tf.function)", got=type(target).__name__)
    generated_image = tf.Variable(start)
    values = {
        "vgg_model_outputs": model, "a_C": a_C, "a_S": a_S,
        "optimizer": keras.optimizers.Adam(learning_rate=learning_rate),
        "STYLE_LAYERS": style_layers,
        "compute_content_cost": _tf_content_cost, "compute_style_cost": _tf_style_cost_with(style_layers),
        "compute_layer_style_cost": _tf_layer_style_cost, "gram_matrix": _tf_gram,
        "total_cost": _tf_total_cost, "clip_0_1": _tf_clip_0_1,
    }
    expected_J, expected_images = _simulate(model, start, a_C_np, a_S_np, weights, learning_rate, steps)
    bugs = {bug: _simulate(model, start, a_C_np, a_S_np, weights, learning_rate, steps, bug) for bug in _TRAIN_STEP_CAUSES}
    with _NotebookGlobals(namespace, values):
        for step in range(steps):
            J = _number(fn, "the returned J", call(fn, inner, generated_image, with_reference=values))
            what = f"J returned by call {step + 1} (the cost of the image before this step)"
            check_close(fn, what, J, expected_J[step], RTOL, ATOL,
                        diagnoses={_TRAIN_STEP_CAUSES[b]: bugs[b][0][step] for b in ("alpha_beta_swapped",)},
                        cause="inside tf.GradientTape: a_G = vgg_model_outputs(generated_image); J_style = "
                              "compute_style_cost(a_S, a_G); J_content = compute_content_cost(a_C, a_G); "
                              "J = total_cost(J_content, J_style, alpha=10, beta=40); return J")
            image = np.asarray(generated_image.numpy(), np.float64)
            check_close(fn, f"generated_image after call {step + 1}", image, expected_images[step], 1e-4, 2e-5,
                        diagnoses={_TRAIN_STEP_CAUSES[b]: bugs[b][1][step] for b in _TRAIN_STEP_CAUSES},
                        cause="grad = tape.gradient(J, generated_image); optimizer.apply_gradients([(grad, "
                              "generated_image)]); generated_image.assign(clip_0_1(generated_image)); use the "
                              "global optimizer (one Adam for all steps)")


def train_step_test(target):
    """Visible test of train_step (two steps on a small stand-in network)."""
    __tracebackhide__ = True
    check_train_step(target)
    all_passed()


__all__ = [
    "ATOL",
    "RTOL",
    "LinearFeatures",
    "check_compute_content_cost",
    "check_compute_layer_style_cost",
    "check_compute_style_cost",
    "check_gram_matrix",
    "check_total_cost",
    "check_train_step",
    "compute_content_cost_test",
    "compute_layer_style_cost_test",
    "compute_style_cost_test",
    "gram_matrix_test",
    "total_cost_test",
    "train_step_test",
]
