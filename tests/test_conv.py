"""helpers.conv: the fast (im2col) functions agree with the loops, with TensorFlow and with
numerical gradients; bad arguments raise ValueError with a clear message."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import conv
from helpers.grading import numerical_gradient, rel_error

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
    fast, cache = conv.conv_forward(A, W, b, hp)
    loops, _ = conv.conv_forward_loops(A, W, b, hp)
    expected_h = (A_shape[1] + 2 * pad - f) // stride + 1
    assert fast.shape == (A_shape[0], expected_h, (A_shape[2] + 2 * pad - f) // stride + 1, n_C)
    assert np.max(np.abs(fast - loops)) < 1e-12  # same float64 arithmetic, different summation order
    reference = tf.nn.conv2d(conv.zero_pad(A, pad), W, strides=stride, padding="VALID").numpy() + b
    assert np.max(np.abs(fast - reference)) < 1e-10  # TensorFlow in float64
    assert cache[0] is A and cache[3] == hp


@pytest.mark.parametrize("A_shape, f, n_C, stride, pad", CASES[:3])
def test_conv_backward_matches_numerical_gradient(A_shape, f, n_C, stride, pad):
    A, W, b = _inputs(A_shape, f, n_C, seed=1)
    hp = {"stride": stride, "pad": pad}
    Z, cache = conv.conv_forward(A, W, b, hp)
    dZ = np.random.default_rng(2).standard_normal(Z.shape)
    dA, dW, db = conv.conv_backward(dZ, cache)
    # centred differences in float64 with h = 1e-5: a correct gradient agrees to ~1e-8 or better
    assert rel_error(dA, numerical_gradient(lambda x: conv.conv_forward(x, W, b, hp)[0], A, dZ)) < 1e-7
    assert rel_error(dW, numerical_gradient(lambda x: conv.conv_forward(A, x, b, hp)[0], W, dZ)) < 1e-7
    assert rel_error(db, numerical_gradient(lambda x: conv.conv_forward(A, W, x, hp)[0], b, dZ)) < 1e-7


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("f, stride", [(2, 1), (3, 2), (2, 2)])
def test_pooling_forward_and_backward(mode, f, stride):
    from helpers.backend import tf

    A = np.random.default_rng(3).standard_normal((2, 7, 5, 3))
    hp = {"f": f, "stride": stride}
    P, cache = conv.pool_forward(A, hp, mode)
    pool = tf.nn.max_pool2d if mode == "max" else tf.nn.avg_pool2d
    assert np.allclose(P, pool(A, f, stride, "VALID").numpy(), atol=1e-12)
    dP = np.random.default_rng(4).standard_normal(P.shape)
    numeric = numerical_gradient(lambda x: conv.pool_forward(x, hp, mode)[0], A.copy(), dP)
    assert rel_error(conv.pool_backward(dP, cache, mode), numeric) < 1e-7


def test_small_helpers():
    assert conv.zero_pad(np.ones((1, 2, 3, 1)), 2).shape == (1, 6, 7, 1)
    assert conv.conv_single_step(np.ones((2, 2, 1)), np.full((2, 2, 1), 2.0), np.array([[[0.5]]])) == 8.5
    assert conv.create_mask_from_window(np.array([[1, 3], [3, 2]])).tolist() == [[False, True], [True, False]]
    assert np.allclose(conv.distribute_value(2.0, (2, 2)), 0.5)
    assert conv.output_size(7, 3, 1, 2) == 4


def test_convolution_is_flipped_cross_correlation():
    image = np.arange(25.0).reshape(5, 5)
    kernel = np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])
    assert np.allclose(conv.convolve2d(image, kernel), conv.correlate2d(image, kernel[::-1, ::-1]))
    assert np.allclose(conv.convolve2d(image, kernel), -conv.correlate2d(image, kernel))  # antisymmetric kernel


@pytest.mark.parametrize("call, message", [
    (lambda: conv.output_size(3, 5, 0, 1), "does not fit"),
    (lambda: conv.output_size(5, 3, 0, 0), "stride must be"),
    (lambda: conv.zero_pad(np.ones((2, 2)), 1), "4 dimensions"),
    (lambda: conv.zero_pad(np.ones((1, 2, 2, 1)), -1), "pad must be"),
    (lambda: conv.conv_forward(np.ones((1, 4, 4, 3)), np.ones((2, 2, 2, 1)), np.ones((1, 1, 1, 1)),
                               {"stride": 1, "pad": 0}), "input channels"),
    (lambda: conv.conv_forward(np.ones((1, 4, 4, 1)), np.ones((2, 2, 1, 1)), np.ones((1, 1, 1, 1)), {"s": 1}),
     "stride"),
    (lambda: conv.pool_forward(np.ones((1, 4, 4, 1)), {"f": 2, "stride": 2}, mode="min"), "mode must be"),
    (lambda: conv.conv_backward(np.ones((1, 1, 1, 1)), (np.ones((1, 4, 4, 1)), np.ones((2, 2, 1, 1)),
                                np.ones((1, 1, 1, 1)), {"stride": 1, "pad": 0})), "dZ must have shape"),
])
def test_bad_arguments_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
