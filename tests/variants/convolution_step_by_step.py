"""Variants of the week-1 numpy functions: common mistakes (must lose points) and other correct ways.

"Hard-coded" variants return the right answer only for the visible tests' inputs (recognised by
shape), the way a student who tuned code to the visible tests would; the hidden tests, with other
shapes, must catch them.
"""

# The names below are those of the notebook: np is numpy, tf comes from helpers.backend, and the
# other graded functions are the notebook's own.
# ruff: noqa: F821

from tests.variants import variant

# ------------------------------------------------------------------------------------ zero_pad


@variant("zero_pad", "buggy", "pads all four axes")
def zero_pad_all_axes(X, pad):
    return np.pad(X, pad, mode="constant")


@variant("zero_pad", "buggy", "pads one side only")
def zero_pad_one_side(X, pad):
    return np.pad(X, ((0, 0), (pad, 0), (pad, 0), (0, 0)), mode="constant")


@variant("zero_pad", "buggy", "pads batch and height instead of height and width")
def zero_pad_wrong_axes(X, pad):
    return np.pad(X, ((pad, pad), (pad, pad), (0, 0), (0, 0)), mode="constant")


@variant("zero_pad", "buggy", "hard-coded for the visible tests")
def zero_pad_hard_coded(X, pad):
    if X.shape in [(4, 3, 3, 2), (2, 5, 4, 3), (1, 2, 2, 1)]:
        return np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    return np.zeros((X.shape[0], X.shape[1] + 2 * pad, X.shape[2] + 2 * pad, X.shape[3]))


@variant("zero_pad", "correct", "allocates zeros and copies the image into the middle")
def zero_pad_by_assignment(X, pad):
    m, n_H, n_W, n_C = X.shape
    X_pad = np.zeros((m, n_H + 2 * pad, n_W + 2 * pad, n_C), dtype=X.dtype)
    X_pad[:, pad:pad + n_H, pad:pad + n_W, :] = X
    return X_pad


# ---------------------------------------------------------------------------- conv_single_step


@variant("conv_single_step", "buggy", "forgets the bias")
def conv_single_step_no_bias(a_slice_prev, W, b):
    return np.sum(a_slice_prev * W)


@variant("conv_single_step", "buggy", "adds the bias to every product")
def conv_single_step_bias_everywhere(a_slice_prev, W, b):
    return np.sum(a_slice_prev * W + b.item())


@variant("conv_single_step", "buggy", "mean instead of sum")
def conv_single_step_mean(a_slice_prev, W, b):
    return np.mean(a_slice_prev * W) + b.item()


@variant("conv_single_step", "buggy", "hard-coded for the visible tests")
def conv_single_step_hard_coded(a_slice_prev, W, b):
    if a_slice_prev.shape in [(4, 4, 3), (3, 3, 1)]:
        return np.sum(a_slice_prev * W) + b.item()
    return 0.0


@variant("conv_single_step", "correct", "einsum, numpy scalar result")
def conv_single_step_einsum(a_slice_prev, W, b):
    return np.einsum("ijk,ijk->", a_slice_prev, W) + np.squeeze(b)


@variant("conv_single_step", "correct", "vdot, emits a warning but is right")
def conv_single_step_vdot(a_slice_prev, W, b):
    import warnings
    warnings.warn("a harmless warning from student code")
    return float(np.vdot(a_slice_prev.ravel(), W.ravel()) + b.sum())


# -------------------------------------------------------------------------------- conv_forward


@variant("conv_forward", "buggy", "ignores the stride when slicing")
def conv_forward_ignores_stride(A_prev, W, b, hparameters):
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    f, _, _, n_C = W.shape
    stride, pad = hparameters["stride"], hparameters["pad"]
    n_H = (n_H_prev + 2 * pad - f) // stride + 1
    n_W = (n_W_prev + 2 * pad - f) // stride + 1
    A_pad = zero_pad(A_prev, pad)
    Z = np.zeros((m, n_H, n_W, n_C))
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    Z[i, h, w, c] = conv_single_step(A_pad[i, h:h + f, w:w + f, :], W[..., c], b[..., c])
    return Z, (A_prev, W, b, hparameters)


@variant("conv_forward", "buggy", "uses the bias of channel 0 for every filter")
def conv_forward_wrong_bias(A_prev, W, b, hparameters):
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    f, _, _, n_C = W.shape
    stride, pad = hparameters["stride"], hparameters["pad"]
    n_H = (n_H_prev + 2 * pad - f) // stride + 1
    n_W = (n_W_prev + 2 * pad - f) // stride + 1
    A_pad = zero_pad(A_prev, pad)
    Z = np.zeros((m, n_H, n_W, n_C))
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                window = A_pad[i, h * stride:h * stride + f, w * stride:w * stride + f, :]
                for c in range(n_C):
                    Z[i, h, w, c] = conv_single_step(window, W[..., c], b[..., 0])
    return Z, (A_prev, W, b, hparameters)


@variant("conv_forward", "buggy", "flips the kernel (true convolution)")
def conv_forward_flipped(A_prev, W, b, hparameters):
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    f, _, _, n_C = W.shape
    stride, pad = hparameters["stride"], hparameters["pad"]
    n_H = (n_H_prev + 2 * pad - f) // stride + 1
    n_W = (n_W_prev + 2 * pad - f) // stride + 1
    A_pad = zero_pad(A_prev, pad)
    Z = np.zeros((m, n_H, n_W, n_C))
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                window = A_pad[i, h * stride:h * stride + f, w * stride:w * stride + f, :]
                for c in range(n_C):
                    Z[i, h, w, c] = conv_single_step(window, W[::-1, ::-1, :, c], b[..., c])
    return Z, (A_prev, W, b, hparameters)


@variant("conv_forward", "buggy", "ignores the padding")
def conv_forward_no_padding(A_prev, W, b, hparameters):
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    f, _, _, n_C = W.shape
    stride = hparameters["stride"]
    n_H = (n_H_prev - f) // stride + 1
    n_W = (n_W_prev - f) // stride + 1
    Z = np.zeros((m, n_H, n_W, n_C))
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                window = A_prev[i, h * stride:h * stride + f, w * stride:w * stride + f, :]
                for c in range(n_C):
                    Z[i, h, w, c] = conv_single_step(window, W[..., c], b[..., c])
    return Z, (A_prev, W, b, hparameters)


@variant("conv_forward", "buggy", "swaps height and width (square inputs only work)")
def conv_forward_swapped_axes(A_prev, W, b, hparameters):
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    f, _, _, n_C = W.shape
    stride, pad = hparameters["stride"], hparameters["pad"]
    n_H = (n_W_prev + 2 * pad - f) // stride + 1
    n_W = (n_H_prev + 2 * pad - f) // stride + 1
    A_pad = zero_pad(A_prev, pad)
    Z = np.zeros((m, n_H, n_W, n_C))
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                window = A_pad[i, w * stride:w * stride + f, h * stride:h * stride + f, :]
                for c in range(n_C):
                    Z[i, h, w, c] = conv_single_step(window, W[..., c], b[..., c])
    return Z, (A_prev, W, b, hparameters)


@variant("conv_forward", "buggy", "hard-coded for the visible tests")
def conv_forward_hard_coded(A_prev, W, b, hparameters):
    # right for the visible tests' shapes only (its own code: calling the reference would be caught)
    stride, pad = hparameters["stride"], hparameters["pad"]
    if A_prev.shape not in [(2, 5, 7, 4), (2, 4, 4, 3)]:
        stride, pad = 1, 0
    f = W.shape[0]
    A_pad = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(A_pad, (f, f), axis=(1, 2))[:, ::stride, ::stride]
    return np.einsum("mhwcuv,uvcn->mhwn", windows, W) + b, (A_prev, W, b, hparameters)


@variant("conv_forward", "correct", "sliding_window_view + einsum")
def conv_forward_einsum(A_prev, W, b, hparameters):
    stride, pad = hparameters["stride"], hparameters["pad"]
    f = W.shape[0]
    A_pad = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(A_pad, (f, f), axis=(1, 2))[:, ::stride, ::stride]
    Z = np.einsum("mhwcuv,uvcn->mhwn", windows, W) + b
    return Z, (A_prev, W, b, hparameters)


@variant("conv_forward", "correct", "tf.nn.conv2d in float64")
def conv_forward_tensorflow(A_prev, W, b, hparameters):
    from helpers.backend import tf
    stride, pad = hparameters["stride"], hparameters["pad"]
    A_pad = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    Z = tf.nn.conv2d(tf.constant(A_pad, tf.float64), tf.constant(W, tf.float64), strides=stride, padding="VALID")
    return Z.numpy() + b, (A_prev, W, b, hparameters)


# -------------------------------------------------------------------------------- pool_forward


@variant("pool_forward", "buggy", "mean for both modes")
def pool_forward_always_mean(A_prev, hparameters, mode="max"):
    m, n_H_prev, n_W_prev, n_C = A_prev.shape
    f, stride = hparameters["f"], hparameters["stride"]
    n_H, n_W = (n_H_prev - f) // stride + 1, (n_W_prev - f) // stride + 1
    A = np.zeros((m, n_H, n_W, n_C))
    for h in range(n_H):
        for w in range(n_W):
            A[:, h, w, :] = A_prev[:, h * stride:h * stride + f, w * stride:w * stride + f, :].mean(axis=(1, 2))
    return A, (A_prev, hparameters)


@variant("pool_forward", "buggy", "pools across channels")
def pool_forward_across_channels(A_prev, hparameters, mode="max"):
    m, n_H_prev, n_W_prev, n_C = A_prev.shape
    f, stride = hparameters["f"], hparameters["stride"]
    n_H, n_W = (n_H_prev - f) // stride + 1, (n_W_prev - f) // stride + 1
    A = np.zeros((m, n_H, n_W, n_C))
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                window = A_prev[i, h * stride:h * stride + f, w * stride:w * stride + f, :]
                for c in range(n_C):
                    A[i, h, w, c] = np.max(window) if mode == "max" else np.mean(window)
    return A, (A_prev, hparameters)


@variant("pool_forward", "buggy", "ignores the stride when slicing")
def pool_forward_ignores_stride(A_prev, hparameters, mode="max"):
    m, n_H_prev, n_W_prev, n_C = A_prev.shape
    f, stride = hparameters["f"], hparameters["stride"]
    n_H, n_W = (n_H_prev - f) // stride + 1, (n_W_prev - f) // stride + 1
    A = np.zeros((m, n_H, n_W, n_C))
    for h in range(n_H):
        for w in range(n_W):
            window = A_prev[:, h:h + f, w:w + f, :]
            A[:, h, w, :] = window.max(axis=(1, 2)) if mode == "max" else window.mean(axis=(1, 2))
    return A, (A_prev, hparameters)


@variant("pool_forward", "buggy", "hard-coded for the visible tests")
def pool_forward_hard_coded(A_prev, hparameters, mode="max"):
    if A_prev.shape != (2, 5, 5, 3):
        mode = "max"
    f, stride = hparameters["f"], hparameters["stride"]
    windows = np.lib.stride_tricks.sliding_window_view(A_prev, (f, f), axis=(1, 2))[:, ::stride, ::stride]
    A = windows.max(axis=(-2, -1)) if mode == "max" else windows.mean(axis=(-2, -1))
    return A, (A_prev, hparameters)


@variant("pool_forward", "correct", "sliding_window_view + reduction")
def pool_forward_windows(A_prev, hparameters, mode="max"):
    f, stride = hparameters["f"], hparameters["stride"]
    windows = np.lib.stride_tricks.sliding_window_view(A_prev, (f, f), axis=(1, 2))[:, ::stride, ::stride]
    A = windows.max(axis=(-2, -1)) if mode == "max" else windows.mean(axis=(-2, -1))
    return A, (A_prev, hparameters)


@variant("pool_forward", "correct", "tf.nn.max_pool2d / avg_pool2d")
def pool_forward_tensorflow(A_prev, hparameters, mode="max"):
    from helpers.backend import tf
    pool = tf.nn.max_pool2d if mode == "max" else tf.nn.avg_pool2d
    A = pool(tf.constant(A_prev, tf.float64), hparameters["f"], hparameters["stride"], "VALID").numpy()
    return A, (A_prev, hparameters)


# ------------------------------------------------------------------------------- conv_backward


@variant("conv_backward", "buggy", "assigns (=) instead of accumulating (+=)")
def conv_backward_assigns(dZ, cache):
    A_prev, W, b, hparameters = cache
    stride, pad, f = hparameters["stride"], hparameters["pad"], W.shape[0]
    A_pad = zero_pad(A_prev, pad)
    dA_pad, dW, db = np.zeros(A_pad.shape), np.zeros(W.shape), np.zeros(b.shape)
    m, n_H, n_W, n_C = dZ.shape
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    vs, hs = h * stride, w * stride
                    dA_pad[i, vs:vs + f, hs:hs + f, :] = W[..., c] * dZ[i, h, w, c]
                    dW[..., c] = A_pad[i, vs:vs + f, hs:hs + f, :] * dZ[i, h, w, c]
                    db[..., c] += dZ[i, h, w, c]
    return dA_pad[:, pad:pad + A_prev.shape[1], pad:pad + A_prev.shape[2], :], dW, db


@variant("conv_backward", "buggy", "unpads with [pad:-pad], which is empty for pad = 0")
def conv_backward_bad_unpad(dZ, cache):
    A_prev, W, b, hparameters = cache
    stride, pad, f = hparameters["stride"], hparameters["pad"], W.shape[0]
    A_pad = zero_pad(A_prev, pad)
    dA_pad, dW, db = np.zeros(A_pad.shape), np.zeros(W.shape), np.zeros(b.shape)
    m, n_H, n_W, n_C = dZ.shape
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    vs, hs = h * stride, w * stride
                    dA_pad[i, vs:vs + f, hs:hs + f, :] += W[..., c] * dZ[i, h, w, c]
                    dW[..., c] += A_pad[i, vs:vs + f, hs:hs + f, :] * dZ[i, h, w, c]
                    db[..., c] += dZ[i, h, w, c]
    return dA_pad[:, pad:-pad, pad:-pad, :], dW, db


@variant("conv_backward", "buggy", "takes dW's windows from the unpadded input")
def conv_backward_unpadded_windows(dZ, cache):
    A_prev, W, b, hparameters = cache
    stride, pad, f = hparameters["stride"], hparameters["pad"], W.shape[0]
    A_pad = zero_pad(A_prev, pad)
    A_big = np.zeros((A_pad.shape[0], A_pad.shape[1] + f, A_pad.shape[2] + f, A_pad.shape[3]))
    A_big[:, :A_prev.shape[1], :A_prev.shape[2], :] = A_prev  # the image where the padded one should be
    dA_pad, dW, db = np.zeros(A_pad.shape), np.zeros(W.shape), np.zeros(b.shape)
    m, n_H, n_W, n_C = dZ.shape
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    vs, hs = h * stride, w * stride
                    dA_pad[i, vs:vs + f, hs:hs + f, :] += W[..., c] * dZ[i, h, w, c]
                    dW[..., c] += A_big[i, vs:vs + f, hs:hs + f, :] * dZ[i, h, w, c]
                    db[..., c] += dZ[i, h, w, c]
    return dA_pad[:, pad:pad + A_prev.shape[1], pad:pad + A_prev.shape[2], :], dW, db


@variant("conv_backward", "buggy", "hard-coded for the visible tests")
def conv_backward_hard_coded(dZ, cache):
    A_prev, W, b, hparameters = cache
    s, p, f = hparameters["stride"], hparameters["pad"], W.shape[0]
    m, n_H, n_W, n_C = dZ.shape
    A_pad = np.pad(A_prev, ((0, 0), (p, p), (p, p), (0, 0)))
    dA_pad, dW = np.zeros_like(A_pad), np.zeros_like(W)
    for u in range(f):
        for v in range(f):
            window = A_pad[:, u:u + s * n_H:s, v:v + s * n_W:s, :]
            dW[u, v] = np.einsum("mhwc,mhwn->cn", window, dZ)
            dA_pad[:, u:u + s * n_H:s, v:v + s * n_W:s, :] += np.einsum("mhwn,cn->mhwc", dZ, W[u, v])
    db = dZ.sum(axis=(0, 1, 2)).reshape(1, 1, 1, -1)
    dA_prev = dA_pad[:, p:p + A_prev.shape[1], p:p + A_prev.shape[2], :]
    if cache[0].shape in [(2, 5, 7, 4), (2, 4, 4, 3)]:
        return dA_prev, dW, db
    return dA_prev, dW, np.zeros_like(db)


@variant("conv_backward", "correct", "vectorised: windows + tensordot, scatter over kernel offsets")
def conv_backward_vectorised(dZ, cache):
    A_prev, W, b, hparameters = cache
    stride, pad, f = hparameters["stride"], hparameters["pad"], W.shape[0]
    m, n_H, n_W, n_C = dZ.shape
    A_pad = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(A_pad, (f, f), axis=(1, 2))[:, ::stride, ::stride][:, :n_H, :n_W]
    dW = np.einsum("mhwcuv,mhwn->uvcn", windows, dZ)
    db = dZ.sum(axis=(0, 1, 2), keepdims=True)
    dA_pad = np.zeros_like(A_pad, dtype=float)
    for u in range(f):
        for v in range(f):
            dA_pad[:, u:u + stride * n_H:stride, v:v + stride * n_W:stride, :] += np.einsum("mhwn,cn->mhwc", dZ, W[u, v])
    return dA_pad[:, pad:pad + A_prev.shape[1], pad:pad + A_prev.shape[2], :], dW, db


@variant("conv_backward", "correct", "TensorFlow's automatic differentiation")
def conv_backward_autodiff(dZ, cache):
    from helpers.backend import tf
    A_prev, W, b, hparameters = cache
    stride, pad = hparameters["stride"], hparameters["pad"]
    A, Wt, bt = (tf.Variable(np.asarray(x, dtype=np.float64)) for x in (A_prev, W, b))
    with tf.GradientTape() as tape:
        padded = tf.pad(A, [[0, 0], [pad, pad], [pad, pad], [0, 0]])
        Z = tf.nn.conv2d(padded, Wt, strides=stride, padding="VALID") + bt
        J = tf.reduce_sum(Z * dZ)
    dA_prev, dW, db = tape.gradient(J, [A, Wt, bt])
    return dA_prev.numpy(), dW.numpy(), db.numpy()


# -------------------------------------------------------------------- create_mask_from_window


@variant("create_mask_from_window", "buggy", "marks the minimum")
def create_mask_min(x):
    return x == np.min(x)


@variant("create_mask_from_window", "buggy", "marks everything but the maximum")
def create_mask_inverted(x):
    return x != np.max(x)


@variant("create_mask_from_window", "buggy", "one-hot of argmax (misses ties)")
def create_mask_argmax(x):
    mask = np.zeros(x.shape, dtype=bool)
    mask[np.unravel_index(np.argmax(x), x.shape)] = True
    return mask


@variant("create_mask_from_window", "correct", "np.where with integers")
def create_mask_where(x):
    return np.where(x >= np.amax(x), 1, 0)


# --------------------------------------------------------------------------- distribute_value


@variant("distribute_value", "buggy", "copies dz without dividing")
def distribute_value_copies(dz, shape):
    return np.ones(shape) * dz


@variant("distribute_value", "buggy", "divides by n_H + n_W")
def distribute_value_sum_of_sides(dz, shape):
    n_H, n_W = shape
    return np.ones(shape) * dz / (n_H + n_W)


@variant("distribute_value", "buggy", "hard-coded for the visible tests")
def distribute_value_hard_coded(dz, shape):
    if tuple(shape) in [(2, 2), (3, 2)]:
        return np.ones(shape) * dz / (shape[0] * shape[1])
    return np.ones(shape) / (shape[0] * shape[1])


@variant("distribute_value", "correct", "np.full with np.prod")
def distribute_value_full(dz, shape):
    return np.full(shape, dz / np.prod(shape))


# ------------------------------------------------------------------------------ pool_backward


@variant("pool_backward", "buggy", "ignores the mode (always the average gradient)")
def pool_backward_always_average(dA, cache, mode="max"):
    A_prev, hparameters = cache
    f, stride = hparameters["f"], hparameters["stride"]
    dA_prev = np.zeros(A_prev.shape)
    m, n_H, n_W, n_C = dA.shape
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    vs, hs = h * stride, w * stride
                    dA_prev[i, vs:vs + f, hs:hs + f, c] += distribute_value(dA[i, h, w, c], (f, f))
    return dA_prev


@variant("pool_backward", "buggy", "assigns (=) instead of accumulating (+=)")
def pool_backward_assigns(dA, cache, mode="max"):
    A_prev, hparameters = cache
    f, stride = hparameters["f"], hparameters["stride"]
    dA_prev = np.zeros(A_prev.shape)
    m, n_H, n_W, n_C = dA.shape
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    vs, hs = h * stride, w * stride
                    if mode == "max":
                        mask = create_mask_from_window(A_prev[i, vs:vs + f, hs:hs + f, c])
                        dA_prev[i, vs:vs + f, hs:hs + f, c] = mask * dA[i, h, w, c]
                    else:
                        dA_prev[i, vs:vs + f, hs:hs + f, c] = distribute_value(dA[i, h, w, c], (f, f))
    return dA_prev


@variant("pool_backward", "buggy", "max mask taken across all channels")
def pool_backward_mask_across_channels(dA, cache, mode="max"):
    A_prev, hparameters = cache
    f, stride = hparameters["f"], hparameters["stride"]
    dA_prev = np.zeros(A_prev.shape)
    m, n_H, n_W, n_C = dA.shape
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    vs, hs = h * stride, w * stride
                    if mode == "max":
                        window = A_prev[i, vs:vs + f, hs:hs + f, :]
                        mask = (window == np.max(window))[:, :, c]
                        dA_prev[i, vs:vs + f, hs:hs + f, c] += mask * dA[i, h, w, c]
                    else:
                        dA_prev[i, vs:vs + f, hs:hs + f, c] += distribute_value(dA[i, h, w, c], (f, f))
    return dA_prev


@variant("pool_backward", "buggy", "average: copies dA to the whole window")
def pool_backward_average_not_divided(dA, cache, mode="max"):
    A_prev, hparameters = cache
    f, stride = hparameters["f"], hparameters["stride"]
    dA_prev = np.zeros(A_prev.shape)
    m, n_H, n_W, n_C = dA.shape
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    vs, hs = h * stride, w * stride
                    if mode == "max":
                        mask = create_mask_from_window(A_prev[i, vs:vs + f, hs:hs + f, c])
                        dA_prev[i, vs:vs + f, hs:hs + f, c] += mask * dA[i, h, w, c]
                    else:
                        dA_prev[i, vs:vs + f, hs:hs + f, c] += np.ones((f, f)) * dA[i, h, w, c]
    return dA_prev


@variant("pool_backward", "correct", "vectorised over examples, positions and channels")
def pool_backward_vectorised(dA, cache, mode="max"):
    A_prev, hparameters = cache
    f, stride = hparameters["f"], hparameters["stride"]
    m, n_H, n_W, n_C = dA.shape
    dA_prev = np.zeros(A_prev.shape)
    windows = np.lib.stride_tricks.sliding_window_view(A_prev, (f, f), axis=(1, 2))[:, ::stride, ::stride][:, :n_H, :n_W]
    maxima = windows.max(axis=(-2, -1))
    for u in range(f):
        for v in range(f):
            rows, cols = slice(u, u + stride * n_H, stride), slice(v, v + stride * n_W, stride)
            if mode == "max":
                dA_prev[:, rows, cols, :] += (windows[..., u, v] == maxima) * dA
            else:
                dA_prev[:, rows, cols, :] += dA / (f * f)
    return dA_prev
