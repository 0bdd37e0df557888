"""helpers.conv and the week-1 reference: the fast (im2col) functions agree with the loops, with TensorFlow and with
numerical gradients; bad arguments raise ValueError with a clear message."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import conv
from helpers.grading import numerical_gradient, rel_error
from helpers.reference import convolution_step_by_step as ref

CASES = [((2, 5, 7, 4), 3, 8, 2, 1), ((3, 9, 6, 3), 2, 5, 3, 2), ((1, 4, 4, 1), 4, 1, 1, 0), ((2, 6, 6, 2), 1, 3, 2, 0)]


def _inputs(A_shape, f, n_C, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(A_shape), rng.standard_normal((f, f, A_shape[3], n_C)),
            rng.standard_normal((1, 1, 1, n_C)))


@pytest.mark.parametrize("A_shape, f, n_C, stride, pad", CASES)
def test_conv_forward_matches_loops_and_tensorflow(A_shape, f, n_C, stride, pad):
    from helpers.backend import tf

    A, W, b = _inputs(A_shape, f, n_C)
    hp = {"stride": stride, "pad": pad}
    fast, cache = ref.conv_forward(A, W, b, hp)
    loops = conv.conv2d_loops(A, W, b, stride=stride, pad=pad)
    expected_h = (A_shape[1] + 2 * pad - f) // stride + 1
    assert fast.shape == (A_shape[0], expected_h, (A_shape[2] + 2 * pad - f) // stride + 1, n_C)
    assert np.max(np.abs(fast - loops)) < 1e-12  # same float64 arithmetic, different summation order
    reference = tf.nn.conv2d(ref.zero_pad(A, pad), W, strides=stride, padding="VALID").numpy() + b
    assert np.max(np.abs(fast - reference)) < 1e-10  # TensorFlow in float64
    assert cache[0] is A and cache[3] == hp


@pytest.mark.parametrize("A_shape, f, n_C, stride, pad", CASES[:3])
def test_conv_backward_matches_numerical_gradient(A_shape, f, n_C, stride, pad):
    A, W, b = _inputs(A_shape, f, n_C, seed=1)
    hp = {"stride": stride, "pad": pad}
    Z, cache = ref.conv_forward(A, W, b, hp)
    dZ = np.random.default_rng(2).standard_normal(Z.shape)
    dA, dW, db = ref.conv_backward(dZ, cache)
    # centred differences in float64 with h = 1e-5: a correct gradient agrees to ~1e-8 or better
    assert rel_error(dA, numerical_gradient(lambda x: ref.conv_forward(x, W, b, hp)[0], A, dZ)) < 1e-7
    assert rel_error(dW, numerical_gradient(lambda x: ref.conv_forward(A, x, b, hp)[0], W, dZ)) < 1e-7
    assert rel_error(db, numerical_gradient(lambda x: ref.conv_forward(A, W, x, hp)[0], b, dZ)) < 1e-7


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("f, stride", [(2, 1), (3, 2), (2, 2)])
def test_pooling_forward_and_backward(mode, f, stride):
    from helpers.backend import tf

    A = np.random.default_rng(3).standard_normal((2, 7, 5, 3))
    hp = {"f": f, "stride": stride}
    P, cache = ref.pool_forward(A, hp, mode)
    pool = tf.nn.max_pool2d if mode == "max" else tf.nn.avg_pool2d
    assert np.allclose(P, pool(A, f, stride, "VALID").numpy(), atol=1e-12)
    dP = np.random.default_rng(4).standard_normal(P.shape)
    numeric = numerical_gradient(lambda x: ref.pool_forward(x, hp, mode)[0], A.copy(), dP)
    assert rel_error(ref.pool_backward(dP, cache, mode), numeric) < 1e-7


def test_small_helpers():
    assert ref.zero_pad(np.ones((1, 2, 3, 1)), 2).shape == (1, 6, 7, 1)
    assert ref.conv_single_step(np.ones((2, 2, 1)), np.full((2, 2, 1), 2.0), np.array([[[0.5]]])) == 8.5
    assert ref.create_mask_from_window(np.array([[1, 3], [3, 2]])).tolist() == [[False, True], [True, False]]
    assert np.allclose(ref.distribute_value(2.0, (2, 2)), 0.5)
    assert conv.output_size(7, 3, 1, 2) == 4


def test_convolution_is_flipped_cross_correlation():
    image = np.arange(25.0).reshape(5, 5)
    kernel = np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])
    assert np.allclose(conv.convolve2d(image, kernel), conv.correlate2d(image, kernel[::-1, ::-1]))
    assert np.allclose(conv.convolve2d(image, kernel), -conv.correlate2d(image, kernel))  # antisymmetric kernel


@pytest.mark.parametrize("call, message", [
    (lambda: conv.output_size(3, 5, 0, 1), "does not fit"),
    (lambda: conv.output_size(5, 3, 0, 0), "stride must be"),
    (lambda: ref.zero_pad(np.ones((2, 2)), 1), "4 dimensions"),
    (lambda: ref.zero_pad(np.ones((1, 2, 2, 1)), -1), "pad must be"),
    (lambda: ref.conv_forward(np.ones((1, 4, 4, 3)), np.ones((2, 2, 2, 1)), np.ones((1, 1, 1, 1)),
                               {"stride": 1, "pad": 0}), "input channels"),
    (lambda: ref.conv_forward(np.ones((1, 4, 4, 1)), np.ones((2, 2, 1, 1)), np.ones((1, 1, 1, 1)), {"s": 1}),
     "stride"),
    (lambda: ref.pool_forward(np.ones((1, 4, 4, 1)), {"f": 2, "stride": 2}, mode="min"), "mode must be"),
    (lambda: ref.conv_backward(np.ones((1, 1, 1, 1)), (np.ones((1, 4, 4, 1)), np.ones((2, 2, 1, 1)),
                                np.ones((1, 1, 1, 1)), {"stride": 1, "pad": 0})), "dZ must have shape"),
])
def test_bad_arguments_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_primitives_agree_with_the_reference_and_reject_bad_arguments():
    """helpers.conv's non-graded primitives: conv2d equals the reference's Z, pool_nhwc its A,
    sliding_windows is a view of the right windows; bad arguments raise ValueError."""
    rng = np.random.default_rng(3)
    A, W, b = rng.standard_normal((2, 7, 6, 3)), rng.standard_normal((3, 3, 3, 4)), rng.standard_normal((1, 1, 1, 4))
    np.testing.assert_allclose(conv.conv2d(A, W, b, stride=2, pad=1), ref.conv_forward(A, W, b, {"stride": 2, "pad": 1})[0])
    np.testing.assert_allclose(conv.pool_nhwc(A, 2, 2, "average"), ref.pool_forward(A, {"f": 2, "stride": 2}, "average")[0])
    windows = conv.sliding_windows(A, 3, 2)
    assert windows.shape == (2, 3, 2, 3, 3, 3)
    np.testing.assert_array_equal(windows[1, 2, 1], A[1, 4:7, 2:5, :])
    for bad in (lambda: conv.conv2d(A, W[:, :, :2]), lambda: conv.pool_nhwc(A, 2, 1, "min"),
                lambda: conv.sliding_windows(A[0], 3), lambda: conv.output_size(3, 2, 0, 1.5)):
        with pytest.raises(ValueError):
            bad()



def test_two_cross_correlations_are_one_with_the_convolved_kernel():
    """Lecture 1's claim: cross-correlation is not associative, yet (x corr K1) corr K2 = x corr (K1 conv K2);
    convolution is associative. Float64, tolerance 1e-10."""
    rng = np.random.default_rng(4)
    x, k1, k2 = rng.normal(size=(9, 8)), rng.normal(size=(3, 3)), rng.normal(size=(2, 2))
    two_steps = conv.full_correlate2d(conv.full_correlate2d(x, k1), k2)
    assert not np.allclose(two_steps, conv.full_correlate2d(x, conv.full_correlate2d(k1, k2)))
    np.testing.assert_allclose(two_steps, conv.full_correlate2d(x, conv.full_convolve2d(k1, k2)), atol=1e-10)
    np.testing.assert_allclose(conv.full_convolve2d(conv.full_convolve2d(x, k1), k2),
                               conv.full_convolve2d(x, conv.full_convolve2d(k1, k2)), atol=1e-10)
