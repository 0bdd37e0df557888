"""Instructor reference of week 4's "Neural_Style_Transfer": the graded functions, original signatures.

Notation (one image at a time, m = 1): a layer's activation a has shape (1, n_H, n_W, n_C).
Unrolled, it is the matrix A of shape (n_C, n_H*n_W) whose row c lists channel c's values over the
positions, A[c, h*n_W + w] = a[0, h, w, c] (reshape to (n_H*n_W, n_C), then transpose).

- content cost   J_content = sum((a_C - a_G)^2) / (4 n_H n_W n_C), on the content layer (the LAST
  element of the model's output list);
- Gram matrix    G = A A^T, shape (n_C, n_C), G[i, j] = sum_k A[i, k] A[j, k];
- layer style    J_style^[l] = sum((G_S - G_G)^2) / (4 n_C^2 (n_H n_W)^2);
- style cost     J_style = sum_l lambda^[l] J_style^[l] over STYLE_LAYERS = [(name, lambda^[l]), ...],
  the outputs except the last one (the content layer);
- total cost     J = alpha J_content + beta J_style (alpha = 10, beta = 40);
- one step       Adam on the generated image's pixels, then clip them to [0, 1].

Functions take and return TensorFlow tensors, so gradients flow through them inside
``tf.GradientTape`` and ``tf.function``. In the original notebook ``train_step`` reads the globals
``vgg_model_outputs``, ``a_C``, ``a_S`` and ``optimizer``; here :func:`make_train_step` binds them
and returns a ``train_step(generated_image)`` with the original signature.
"""

from __future__ import annotations

from helpers.backend import tf

#: The original notebook's style layers and weights lambda^[l] (the first conv of each VGG block).
STYLE_LAYERS = [("block1_conv1", 0.2), ("block2_conv1", 0.2), ("block3_conv1", 0.2),
                ("block4_conv1", 0.2), ("block5_conv1", 0.2)]


def compute_content_cost(content_output, generated_output):
    """Content cost between the content image and the generated image.

    content_output, generated_output: lists (or stacked tensors) of the model's outputs for the
    content and the generated image; the LAST element is the content layer's activation, shape
    (1, n_H, n_W, n_C).
    Returns a scalar tensor J_content = sum((a_C - a_G)^2) / (4 n_H n_W n_C).
    """
    a_C = content_output[-1]
    a_G = generated_output[-1]
    m, n_H, n_W, n_C = a_G.get_shape().as_list()
    a_C_unrolled = tf.reshape(a_C, shape=[m, -1, n_C])
    a_G_unrolled = tf.reshape(a_G, shape=[m, -1, n_C])
    J_content = tf.reduce_sum(tf.square(a_C_unrolled - a_G_unrolled)) / (4.0 * n_H * n_W * n_C)
    return J_content


def gram_matrix(A):
    """Gram matrix of an unrolled activation.

    A: matrix of shape (n_C, n_H*n_W). Returns GA = A A^T, shape (n_C, n_C): GA[i, j] is the
    (unnormalised) correlation of channels i and j over all positions.
    """
    GA = tf.matmul(A, tf.transpose(A))
    return GA


def compute_layer_style_cost(a_S, a_G):
    """Style cost of one layer.

    a_S, a_G: activations of the style and of the generated image at this layer, shape
    (1, n_H, n_W, n_C). Each is unrolled to (n_C, n_H*n_W) (reshape to (n_H*n_W, n_C), transpose).
    Returns a scalar tensor sum((G_S - G_G)^2) / (4 n_C^2 (n_H n_W)^2), G = A A^T.
    """
    _, n_H, n_W, n_C = a_G.get_shape().as_list()
    a_S = tf.transpose(tf.reshape(a_S, shape=[-1, n_C]))
    a_G = tf.transpose(tf.reshape(a_G, shape=[-1, n_C]))
    GS = gram_matrix(a_S)
    GG = gram_matrix(a_G)
    J_style_layer = tf.reduce_sum(tf.square(GS - GG)) / (4.0 * n_C ** 2 * (n_H * n_W) ** 2)
    return J_style_layer


def compute_style_cost(style_image_output, generated_image_output, STYLE_LAYERS=STYLE_LAYERS):
    """Weighted style cost over the style layers.

    style_image_output, generated_image_output: lists of the model's outputs for the style and the
    generated image; all but the last (the content layer) are style layers, in STYLE_LAYERS' order.
    STYLE_LAYERS: [(layer name, weight lambda^[l]), ...].
    Returns J_style = sum_l lambda^[l] * compute_layer_style_cost(a_S^[l], a_G^[l]).
    """
    J_style = 0
    a_S = style_image_output[:-1]
    a_G = generated_image_output[:-1]
    for i, weight in zip(range(len(a_S)), STYLE_LAYERS):
        J_style_layer = compute_layer_style_cost(a_S[i], a_G[i])
        J_style += weight[1] * J_style_layer
    return J_style


def total_cost(J_content, J_style, alpha=10, beta=40):
    """Total cost J = alpha * J_content + beta * J_style (numbers or scalar tensors)."""
    J = alpha * J_content + beta * J_style
    return J


def clip_0_1(image):
    """Clip pixel values to [0, 1] (the generated image stays a valid RGB image)."""
    return tf.clip_by_value(image, clip_value_min=0.0, clip_value_max=1.0)


def make_train_step(vgg_model_outputs, a_C, a_S, optimizer, alpha=10, beta=40, STYLE_LAYERS=STYLE_LAYERS):
    """Return ``train_step(generated_image)`` bound to what the original reads from notebook globals.

    vgg_model_outputs: callable image -> list of activations (style layers, then the content layer).
    a_C, a_S: ``vgg_model_outputs`` of the content and of the style image.
    optimizer: a Keras optimizer (the notebook uses Adam(learning_rate=0.01)).
    alpha, beta, STYLE_LAYERS: as in :func:`total_cost` and :func:`compute_style_cost`.

    The returned ``train_step`` is a ``tf.function`` taking the generated image as a tf.Variable of
    shape (1, n_H, n_W, 3) with values in [0, 1]. One call computes J on the current image, applies
    one optimizer step to the image, clips it to [0, 1] in place and returns J (the cost before the
    step).
    """

    @tf.function()
    def train_step(generated_image):
        with tf.GradientTape() as tape:
            a_G = vgg_model_outputs(generated_image)
            J_style = compute_style_cost(a_S, a_G, STYLE_LAYERS=STYLE_LAYERS)
            J_content = compute_content_cost(a_C, a_G)
            J = total_cost(J_content, J_style, alpha=alpha, beta=beta)
        grad = tape.gradient(J, generated_image)
        optimizer.apply_gradients([(grad, generated_image)])
        generated_image.assign(clip_0_1(generated_image))
        return J

    return train_step


__all__ = [
    "STYLE_LAYERS",
    "clip_0_1",
    "compute_content_cost",
    "compute_layer_style_cost",
    "compute_style_cost",
    "gram_matrix",
    "make_train_step",
    "total_cost",
]
