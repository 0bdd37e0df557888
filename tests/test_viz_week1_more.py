"""helpers.viz.week1_more (week-1 lectures 5 and 6): the maths against hand-computed values, and the
widgets driven without a browser (set a control's value, the picture or the HTML changes)."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.conv import conv2d, conv2d_loops, correlate2d, full_correlate2d
from helpers.viz import week1_more as m

# ------------------------------------------------------------------ receptive fields and stacked 3x3 filters


def test_receptive_field_of_stacked_3x3_filters():
    assert m.receptive_field([3]) == [3]
    assert m.receptive_field([3, 3]) == [3, 5]          # two 3x3 see 5x5
    assert m.receptive_field([3, 3, 3]) == [3, 5, 7]    # three 3x3 see 7x7
    assert m.receptive_field([5, 5]) == [5, 9]


def test_receptive_field_with_strides():
    # conv 3 (stride 1) -> pool 2 (stride 2) -> conv 3: 3, 3 + 1*1 = 4, 4 + 2*2 = 8
    assert m.receptive_field([3, 2, 3], [1, 2, 1]) == [3, 4, 8]


@pytest.mark.parametrize("args", [([],), ([3, 3], [1]), ([0],), ([3], [0])])
def test_receptive_field_rejects_bad_arguments(args):
    with pytest.raises(ValueError):
        m.receptive_field(*args)


def test_three_3x3_layers_have_27_c_squared_weights_one_7x7_has_49():
    for C in (1, 3, 64):
        assert m.stack_params(3, 3, C) == 27 * C * C
        assert m.stack_params(7, 1, C) == 49 * C * C
        assert m.stack_params(3, 2, C) == 18 * C * C and m.stack_params(5, 1, C) == 25 * C * C
    assert m.stack_params(3, 1, 2, bias=True) == (9 * 2 + 1) * 2
    with pytest.raises(ValueError):
        m.stack_params(3, 0, 4)


def test_stack_params_match_keras():
    from helpers.backend import keras

    C = 8
    stack = keras.Sequential([keras.Input((16, 16, C))] +
                             [keras.layers.Conv2D(C, 3, use_bias=False) for _ in range(3)])
    single = keras.Sequential([keras.Input((16, 16, C)), keras.layers.Conv2D(C, 7, use_bias=False)])
    assert stack.count_params() == m.stack_params(3, 3, C) and single.count_params() == m.stack_params(7, 1, C)
    shape = (None, 16, 16, C)
    assert stack.compute_output_shape(shape)[1:3] == single.compute_output_shape(shape)[1:3] == (10, 10)


def test_path_counts_by_hand():
    np.testing.assert_array_equal(m.path_counts(3, 1), np.ones((3, 3), int))
    line = np.array([1, 2, 3, 2, 1])
    np.testing.assert_array_equal(m.path_counts(3, 2), np.outer(line, line))
    assert m.path_counts(3, 3).shape == (7, 7) and m.path_counts(3, 3)[3, 3] == 7 * 7  # 1 3 6 7 6 3 1
    assert m.path_counts(3, 3).sum() == 9 ** 3


def test_two_linear_3x3_layers_are_one_5x5_layer():
    rng = np.random.default_rng(0)
    x, k1, k2 = rng.normal(size=(12, 10)), rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
    k = m.compose_kernels(k1, k2)
    assert k.shape == (5, 5)
    np.testing.assert_allclose(correlate2d(correlate2d(x, k1), k2), correlate2d(x, k))
    # with a ReLU between them the stack is not a single convolution any more
    assert not np.allclose(correlate2d(np.maximum(correlate2d(x, k1), 0), k2), correlate2d(x, k))


def test_receptive_field_explorer_reacts():
    w = m.ReceptiveFieldExplorer()
    assert "receptive field <b>5x5</b>" in w.info.value
    before = w.image.value
    w.layers.value = 3
    assert w.image.value != before and "<b>7x7</b>" in w.info.value and "27C&sup2;" in w.info.value
    w.f.value = 7
    w.layers.value = 1
    assert "49C&sup2;" in w.info.value
    w.pool.value = True
    assert "max pooling" in w.info.value


# ------------------------------------------------------------------ multi-channel step-through


def test_multichannel_step_by_hand():
    x = np.zeros((3, 3, 2))
    x[..., 0] = np.arange(9).reshape(3, 3)
    x[..., 1] = 1
    W = np.zeros((2, 2, 2, 2))
    W[..., 0, 1] = [[1, 0], [0, -1]]      # filter 1, channel 0: top-left minus bottom-right
    W[..., 1, 1] = 2                      # filter 1, channel 1: 2 * (sum of four ones) = 8
    b = np.array([0.0, 10.0])
    st = m.multichannel_step(x, W, b, position=3, k=1)   # output (1, 1): window rows 1-2, cols 1-2
    assert (st["out_row"], st["out_col"], st["row"], st["col"]) == (1, 1, 1, 1)
    np.testing.assert_array_equal(st["channel_sums"], [4 - 8, 8])
    assert st["bias"] == 10 and st["value"] == -4 + 8 + 10
    assert st["output"].shape == (2, 2, 2) and st["output"][1, 1, 1] == st["value"]


def test_multichannel_step_matches_conv2d_everywhere():
    x = m.demo_volume(5, 3, 0)
    W, b = m.demo_filters(3, 3, 2, 1)
    Z = conv2d(x[None], W, b)[0]
    for k in range(2):
        for p in range(9):
            st = m.multichannel_step(x, W, b, p, k)
            assert st["value"] == Z[st["out_row"], st["out_col"], k]


@pytest.mark.parametrize("kwargs", [{"position": 9, "k": 0}, {"position": 0, "k": 2}])
def test_multichannel_step_rejects_bad_arguments(kwargs):
    x = m.demo_volume(5, 3, 0)
    W, b = m.demo_filters(3, 3, 2, 1)
    with pytest.raises(ValueError):
        m.multichannel_step(x, W, b, **kwargs)
    with pytest.raises(ValueError):
        m.multichannel_step(x[..., :2], W, b, 0, 0)


def test_multichannel_stepper_reacts():
    w = m.MultiChannelStepper()
    before = w.grids.value
    w.position.value = 4
    assert w.grids.value != before and "z[1, 1, 0]" in w.grids.value
    w.filter.value = 1
    assert "z[1, 1, 1]" in w.grids.value


# ------------------------------------------------------------------ im2col


def test_patch_matrix_by_hand():
    x = np.arange(9).reshape(3, 3, 1)
    P = m.patch_matrix(x, 2)
    np.testing.assert_array_equal(P, [[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]])
    assert m.patch_matrix(np.zeros((5, 5, 3)), 3, stride=2, pad=1).shape == (9, 27)
    with pytest.raises(ValueError):
        m.patch_matrix(np.zeros((5, 5)), 3)


@pytest.mark.parametrize("stride,pad", [(1, 0), (2, 1), (1, 2)])
def test_conv_as_matrix_product_equals_conv2d_and_loops(stride, pad):
    rng = np.random.default_rng(stride + pad)
    x, W, b = rng.normal(size=(7, 8, 3)), rng.normal(size=(3, 3, 3, 4)), rng.normal(size=4)
    Z = m.conv_as_matrix_product(x, W, b, stride, pad)
    np.testing.assert_allclose(Z, conv2d(x[None], W, b, stride, pad)[0])
    np.testing.assert_allclose(Z, conv2d_loops(x[None], W, b, stride, pad)[0])


def test_im2col_explorer_reacts():
    w = m.Im2colExplorer()
    before = w.image.value
    w.position.value = 5
    assert w.image.value != before and "output[1, 1]" in w.info.value


def test_best_time():
    assert 0 <= m.best_time(lambda: None, 2) < 0.1
    with pytest.raises(ValueError):
        m.best_time(lambda: None, 0)


# ------------------------------------------------------------------ backward pass

#: the tolerance lecture 6 states for the finite-difference check of the input gradient
GRADIENT_TOLERANCE = 1e-7


def test_input_gradient_by_hand():
    # one output, dZ = [[1]]: the gradient is the kernel itself
    k = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(m.input_gradient(np.ones((1, 1)), k), k)
    # X 3x3, kernel [[a, b], [c, d]], dZ all ones (2x2): every pixel collects the weights that touch it
    # [[a, a+b, b], [a+c, a+b+c+d, b+d], [c, c+d, d]]
    np.testing.assert_allclose(m.input_gradient(np.ones((2, 2)), k), [[1, 3, 2], [4, 10, 6], [3, 7, 4]])


def test_input_and_kernel_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    X, K = rng.normal(size=(8, 8)), rng.normal(size=(3, 3))
    dZ = rng.normal(size=(6, 6))
    num_x = m.numerical_gradient(lambda a: np.sum(dZ * correlate2d(a, K)), X)
    num_k = m.numerical_gradient(lambda k: np.sum(dZ * correlate2d(X, k)), K)
    assert m.relative_error(m.input_gradient(dZ, K), num_x) < GRADIENT_TOLERANCE
    assert m.relative_error(m.kernel_gradient(X, dZ), num_k) < GRADIENT_TOLERANCE
    # the unflipped kernel is wrong (a Sobel kernel is not symmetric)
    # forgetting the flip gives a wrong gradient
    assert m.relative_error(full_correlate2d(dZ, K), num_x) > 0.1


def test_numerical_gradient_by_hand():
    g = m.numerical_gradient(lambda a: float(np.sum(a ** 2)), np.array([1.0, -2.0, 3.0]))
    np.testing.assert_allclose(g, [2, -4, 6], atol=1e-6)
    with pytest.raises(ValueError):
        m.numerical_gradient(np.sum, np.ones(2), eps=0)
    assert m.relative_error([1.0, 2.0], [1.0, 2.5]) == pytest.approx(0.2)


def test_gradient_stamps_add_up_to_the_full_convolution():
    k = np.arange(9.0).reshape(3, 3)
    stamp = m.gradient_stamp((5, 5), k, 4)        # output (1, 1) of a 3x3 output map
    np.testing.assert_array_equal(stamp[1:4, 1:4], k)
    assert stamp.sum() == k.sum()
    w = m.GradientStampExplorer()
    np.testing.assert_allclose(w.partial_gradient(w.dZ.size), m.input_gradient(w.dZ, w.kernel))
    before = w.image.value
    w.position.value = w.position.max
    assert w.image.value != before and "<b>equals</b>" in w.info.value
    with pytest.raises(ValueError):
        m.gradient_stamp((5, 5), k, 9)


def test_pool_gradient_by_hand():
    x = np.array([[1.0, 3.0, 0.0, 0.0],
                  [2.0, 0.0, 5.0, 4.0]])
    dA = np.array([[10.0, 20.0]])
    np.testing.assert_array_equal(m.pool_gradient(x, dA, 2, "max"), [[0, 10, 0, 0], [0, 0, 20, 0]])
    np.testing.assert_array_equal(m.pool_gradient(x, dA, 2, "average"), [[2.5, 2.5, 5, 5], [2.5, 2.5, 5, 5]])
    with pytest.raises(ValueError):
        m.pool_gradient(x, dA, 2, "min")
    with pytest.raises(ValueError):
        m.pool_gradient(x, np.ones((2, 2)), 2)


def test_pool_gradient_matches_finite_differences():
    from helpers.conv import pool2d

    rng = np.random.default_rng(1)
    x, dA = rng.normal(size=(6, 6)), rng.normal(size=(3, 3))
    for mode in ("max", "average"):
        num = m.numerical_gradient(lambda a, mode=mode: np.sum(dA * pool2d(a, 2, 2, mode)), x)
        assert m.relative_error(m.pool_gradient(x, dA, 2, mode), num) < GRADIENT_TOLERANCE


def test_pool_gradient_explorer_reacts():
    w = m.PoolGradientExplorer()
    before = w.grids.value
    w.window.value = 4
    assert w.grids.value != before and "window (1, 1)" in w.grids.value and "alone receives" in w.grids.value
    w.mode.value = "average"
    assert "dA / 4" in w.grids.value


# ------------------------------------------------------------------ the numbers the lectures' text states


def _lecture_text(name: str) -> str:
    import json

    from tests import REPO

    cells = json.loads((REPO / "course" / "week1" / name).read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def test_lecture_5_numbers():
    text = _lecture_text("05_Receptive_Fields_Volumes_and_im2col.ipynb")
    assert "two $3\\times3$ layers see $5\\times5$ and three see $7\\times7$" in text
    assert m.receptive_field([3, 3, 3])[1:] == [5, 7]
    assert f"{m.stack_params(3, 3, 1)}C^2" in text and f"{m.stack_params(7, 1, 1)}C^2" in text
    assert f"about {1 - 27 / 49:.0%} fewer" in text
    assert f"$2 \\cdot 9 = {m.stack_params(3, 2, 1)}$ weights" in text
    assert f"every one of the {m.compose_kernels(np.ones((3, 3)), np.ones((3, 3))).size} entries" in text


def test_lecture_6_numbers():
    text = _lecture_text("06_Backprop_Through_Convolution_and_Pooling.ipynb")
    assert "below\n$10^{-7}$" in text and GRADIENT_TOLERANCE == 1e-7
    assert "$\\varepsilon = 10^{-6}$" in text
    # "rounding leaves about 1e-10", "a relative error of 2" (Sobel: the flip only changes the sign)
    rng = np.random.default_rng(0)
    X, K = rng.normal(size=(8, 8)), np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])
    dZ = rng.normal(size=(6, 6))
    num = m.numerical_gradient(lambda a: np.sum(dZ * correlate2d(a, K)), X, eps=1e-6)
    assert 1e-11 < m.relative_error(m.input_gradient(dZ, K), num) < 1e-9
    assert "a relative error of 2" in text and m.relative_error(full_correlate2d(dZ, K), num) == pytest.approx(2, abs=1e-6)
    # "only one pixel in four receives any gradient" (2x2 max pooling)
    assert "only one pixel in four" in text
    assert np.count_nonzero(m.pool_gradient(X[:6, :6], np.ones((3, 3)), 2, "max")) == 36 // 4
