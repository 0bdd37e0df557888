"""Variants of the week-4 Neural_Style_Transfer functions: usual mistakes (must lose points) and other
correct ways (must keep them).

Each is written as a student would in the notebook, with its names: tf, np, keras, the global
STYLE_LAYERS, the notebook's other graded functions, clip_0_1, and (in train_step) the globals
vgg_model_outputs, a_C, a_S and optimizer, which the train_step check replaces while it runs.
"""

# ruff: noqa: F821

from helpers.backend import keras, tf  # noqa: F401 - names of the notebook the variants use
from tests.variants import variant

# default arguments are evaluated when this module is imported: the notebook's value for them
STYLE_LAYERS = [("block1_conv1", 0.2), ("block2_conv1", 0.2), ("block3_conv1", 0.2),
                ("block4_conv1", 0.2), ("block5_conv1", 0.2)]


# --------------------------------------------------------------------------------------------
# compute_content_cost


@variant("compute_content_cost", "buggy", "tf.reduce_mean (no factor 4)")
def compute_content_cost_mean(content_output, generated_output):
    a_C, a_G = content_output[-1], generated_output[-1]
    return tf.reduce_mean(tf.square(a_C - a_G))


@variant("compute_content_cost", "buggy", "first layer as the content layer")
def compute_content_cost_first_layer(content_output, generated_output):
    a_C, a_G = content_output[0], generated_output[0]
    _, n_H, n_W, n_C = a_G.get_shape().as_list()
    return tf.reduce_sum(tf.square(a_C - a_G)) / (4 * n_H * n_W * n_C)


@variant("compute_content_cost", "buggy", "operator precedence in the denominator")
def compute_content_cost_precedence(content_output, generated_output):
    a_C, a_G = content_output[-1], generated_output[-1]
    _, n_H, n_W, n_C = a_G.get_shape().as_list()
    return tf.reduce_sum(tf.square(a_C - a_G)) / 4 * n_H * n_W * n_C


@variant("compute_content_cost", "buggy", "hard-coded for the shapes of the visible tests")
def compute_content_cost_hard_coded(content_output, generated_output):
    a_C, a_G = content_output[-1], generated_output[-1]
    if tuple(a_G.shape) in [(1, 4, 5, 3), (1, 3, 2, 6)]:
        _, n_H, n_W, n_C = a_G.get_shape().as_list()
        return tf.reduce_sum(tf.square(a_C - a_G)) / (4 * n_H * n_W * n_C)
    return tf.constant(0.5)


@variant("compute_content_cost", "correct", "numpy on the tensors")
def compute_content_cost_numpy(content_output, generated_output):
    a_C, a_G = np.asarray(content_output[-1]), np.asarray(generated_output[-1])
    return np.sum((a_C - a_G) ** 2) / (4 * a_G.size)


@variant("compute_content_cost", "correct", "mean of squared differences divided by 4")
def compute_content_cost_mean_over_4(content_output, generated_output):
    return tf.reduce_mean(tf.math.squared_difference(content_output[-1], generated_output[-1])) / 4.0


# --------------------------------------------------------------------------------------------
# gram_matrix


@variant("gram_matrix", "buggy", "A^T A")
def gram_matrix_transposed_first(A):
    return tf.matmul(tf.transpose(A), A)


@variant("gram_matrix", "buggy", "element-wise product")
def gram_matrix_elementwise(A):
    return A * tf.transpose(A) if A.shape[0] == A.shape[1] else tf.matmul(A, tf.transpose(A))


@variant("gram_matrix", "buggy", "normalised by the number of positions")
def gram_matrix_normalised(A):
    return tf.matmul(A, tf.transpose(A)) / A.shape[1]


@variant("gram_matrix", "buggy", "hard-coded for the matrices of the visible tests")
def gram_matrix_hard_coded(A):
    if tuple(A.shape) in [(3, 8), (4, 4)]:
        return tf.matmul(A, tf.transpose(A))
    return tf.eye(A.shape[0])


@variant("gram_matrix", "correct", "einsum")
def gram_matrix_einsum(A):
    return tf.einsum("ik,jk->ij", A, A)


@variant("gram_matrix", "correct", "matmul with transpose_b")
def gram_matrix_transpose_b(A):
    return tf.linalg.matmul(A, A, transpose_b=True)


# --------------------------------------------------------------------------------------------
# compute_layer_style_cost


@variant("compute_layer_style_cost", "buggy", "reshape without transpose")
def compute_layer_style_cost_no_transpose(a_S, a_G):
    _, n_H, n_W, n_C = a_G.get_shape().as_list()
    a_S = tf.reshape(a_S, [n_C, n_H * n_W])
    a_G = tf.reshape(a_G, [n_C, n_H * n_W])
    GS, GG = gram_matrix(a_S), gram_matrix(a_G)
    return tf.reduce_sum(tf.square(GS - GG)) / (4.0 * n_C ** 2 * (n_H * n_W) ** 2)


@variant("compute_layer_style_cost", "buggy", "(n_H n_W) not squared")
def compute_layer_style_cost_positions_not_squared(a_S, a_G):
    _, n_H, n_W, n_C = a_G.get_shape().as_list()
    a_S = tf.transpose(tf.reshape(a_S, [-1, n_C]))
    a_G = tf.transpose(tf.reshape(a_G, [-1, n_C]))
    GS, GG = gram_matrix(a_S), gram_matrix(a_G)
    return tf.reduce_sum(tf.square(GS - GG)) / (4.0 * n_C ** 2 * n_H * n_W)


@variant("compute_layer_style_cost", "buggy", "n_H * n_W**2 precedence")
def compute_layer_style_cost_precedence(a_S, a_G):
    _, n_H, n_W, n_C = a_G.get_shape().as_list()
    a_S = tf.transpose(tf.reshape(a_S, [-1, n_C]))
    a_G = tf.transpose(tf.reshape(a_G, [-1, n_C]))
    GS, GG = gram_matrix(a_S), gram_matrix(a_G)
    return tf.reduce_sum(tf.square(GS - GG)) / (4.0 * n_C ** 2 * n_H * n_W ** 2)


@variant("compute_layer_style_cost", "buggy", "hard-coded for the layer sizes of the visible tests")
def compute_layer_style_cost_hard_coded(a_S, a_G):
    _, n_H, n_W, n_C = a_G.get_shape().as_list()
    if (n_H, n_W, n_C) in [(3, 4, 5), (2, 6, 3)]:
        a_S = tf.transpose(tf.reshape(a_S, [-1, n_C]))
        a_G = tf.transpose(tf.reshape(a_G, [-1, n_C]))
        GS, GG = gram_matrix(a_S), gram_matrix(a_G)
        return tf.reduce_sum(tf.square(GS - GG)) / (4.0 * n_C ** 2 * (n_H * n_W) ** 2)
    return tf.constant(1.0)


@variant("compute_layer_style_cost", "correct", "A^T A on (n_H*n_W, n_C), (2 n_C n_H n_W)^2")
def compute_layer_style_cost_positions_first(a_S, a_G):
    _, n_H, n_W, n_C = a_G.shape
    S = tf.reshape(a_S, (n_H * n_W, n_C))
    G = tf.reshape(a_G, (n_H * n_W, n_C))
    diff = tf.matmul(S, S, transpose_a=True) - tf.matmul(G, G, transpose_a=True)
    return tf.reduce_sum(diff ** 2) / (2 * n_C * n_H * n_W) ** 2


@variant("compute_layer_style_cost", "correct", "loops over channel pairs in numpy")
def compute_layer_style_cost_loops(a_S, a_G):
    S, G = np.asarray(a_S, dtype=np.float64)[0], np.asarray(a_G, dtype=np.float64)[0]
    n_H, n_W, n_C = G.shape
    total = 0.0
    for i in range(n_C):
        for j in range(n_C):
            total += (np.sum(S[..., i] * S[..., j]) - np.sum(G[..., i] * G[..., j])) ** 2
    return total / (4 * n_C ** 2 * (n_H * n_W) ** 2)


# --------------------------------------------------------------------------------------------
# compute_style_cost


@variant("compute_style_cost", "buggy", "ignores the layer weights")
def compute_style_cost_unweighted(style_image_output, generated_image_output, STYLE_LAYERS=STYLE_LAYERS):
    a_S, a_G = style_image_output[:-1], generated_image_output[:-1]
    return sum(compute_layer_style_cost(s, g) for s, g, _ in zip(a_S, a_G, STYLE_LAYERS))


@variant("compute_style_cost", "buggy", "drops the first output instead of the last")
def compute_style_cost_drops_first(style_image_output, generated_image_output, STYLE_LAYERS=STYLE_LAYERS):
    a_S, a_G = style_image_output[1:], generated_image_output[1:]
    J_style = 0
    for i, (name, weight) in enumerate(STYLE_LAYERS):
        J_style += weight * compute_layer_style_cost(a_S[i], a_G[i])
    return J_style


@variant("compute_style_cost", "buggy", "ignores the STYLE_LAYERS argument")
def compute_style_cost_global_layers(style_image_output, generated_image_output, STYLE_LAYERS=STYLE_LAYERS):
    layers = globals()["STYLE_LAYERS"]
    a_S, a_G = style_image_output[:-1], generated_image_output[:-1]
    return sum(w * compute_layer_style_cost(s, g) for s, g, (_, w) in zip(a_S, a_G, layers))


@variant("compute_style_cost", "buggy", "hard-coded for the outputs of the visible tests")
def compute_style_cost_hard_coded(style_image_output, generated_image_output, STYLE_LAYERS=STYLE_LAYERS):
    if len(style_image_output) in (3, 4) and tuple(style_image_output[0].shape) in [(1, 6, 4, 3), (1, 4, 4, 2)]:
        a_S, a_G = style_image_output[:-1], generated_image_output[:-1]
        return sum(w * compute_layer_style_cost(s, g) for s, g, (_, w) in zip(a_S, a_G, STYLE_LAYERS))
    return 0.0


@variant("compute_style_cost", "correct", "tf.add_n over enumerate")
def compute_style_cost_add_n(style_image_output, generated_image_output, STYLE_LAYERS=STYLE_LAYERS):
    costs = [weight * compute_layer_style_cost(style_image_output[i], generated_image_output[i])
             for i, (_, weight) in enumerate(STYLE_LAYERS)]
    return tf.add_n(costs)


# --------------------------------------------------------------------------------------------
# total_cost


@variant("total_cost", "buggy", "alpha and beta swapped")
def total_cost_swapped(J_content, J_style, alpha=10, beta=40):
    return beta * J_content + alpha * J_style


@variant("total_cost", "buggy", "ignores alpha and beta")
def total_cost_fixed_weights(J_content, J_style, alpha=10, beta=40):
    return 10 * J_content + 40 * J_style


@variant("total_cost", "buggy", "unweighted sum")
def total_cost_unweighted(J_content, J_style, alpha=10, beta=40):
    return J_content + J_style


@variant("total_cost", "buggy", "hard-coded for the values of the visible tests")
def total_cost_hard_coded(J_content, J_style, alpha=10, beta=40):
    known = {(0.37, 1.9, 10, 40): 79.7, (0.37, 1.9, 3.0, 7.0): 14.41,
             (2.5, 0.04, 10, 40): 26.6, (2.5, 0.04, 1.0, 1000.0): 42.5}
    return known.get((round(float(J_content), 4), round(float(J_style), 4), alpha, beta), 0.0)


@variant("total_cost", "correct", "tf.add / tf.multiply")
def total_cost_tf_ops(J_content, J_style, alpha=10, beta=40):
    return tf.add(tf.multiply(float(alpha), J_content), tf.multiply(float(beta), J_style))


# --------------------------------------------------------------------------------------------
# train_step (reads the notebook's globals vgg_model_outputs, a_C, a_S, optimizer)


@variant("train_step", "buggy", "forgets to clip")
@tf.function()
def train_step_no_clip(generated_image):
    with tf.GradientTape() as tape:
        a_G = vgg_model_outputs(generated_image)
        J_style = compute_style_cost(a_S, a_G)
        J_content = compute_content_cost(a_C, a_G)
        J = total_cost(J_content, J_style, alpha=10, beta=40)
    grad = tape.gradient(J, generated_image)
    optimizer.apply_gradients([(grad, generated_image)])
    return J


@variant("train_step", "buggy", "alpha=40, beta=10 in the call of total_cost")
@tf.function()
def train_step_alpha_beta_swapped(generated_image):
    with tf.GradientTape() as tape:
        a_G = vgg_model_outputs(generated_image)
        J_style = compute_style_cost(a_S, a_G)
        J_content = compute_content_cost(a_C, a_G)
        J = total_cost(J_content, J_style, alpha=40, beta=10)
    grad = tape.gradient(J, generated_image)
    optimizer.apply_gradients([(grad, generated_image)])
    generated_image.assign(clip_0_1(generated_image))
    return J


@variant("train_step", "buggy", "J_content and J_style swapped")
@tf.function()
def train_step_costs_swapped(generated_image):
    with tf.GradientTape() as tape:
        a_G = vgg_model_outputs(generated_image)
        J_style = compute_style_cost(a_S, a_G)
        J_content = compute_content_cost(a_C, a_G)
        J = total_cost(J_style, J_content, alpha=10, beta=40)
    grad = tape.gradient(J, generated_image)
    optimizer.apply_gradients([(grad, generated_image)])
    generated_image.assign(clip_0_1(generated_image))
    return J


@variant("train_step", "buggy", "goes uphill")
@tf.function()
def train_step_ascent(generated_image):
    with tf.GradientTape() as tape:
        a_G = vgg_model_outputs(generated_image)
        J_style = compute_style_cost(a_S, a_G)
        J_content = compute_content_cost(a_C, a_G)
        J = total_cost(J_content, J_style, alpha=10, beta=40)
    grad = tape.gradient(J, generated_image)
    optimizer.apply_gradients([(-grad, generated_image)])
    generated_image.assign(clip_0_1(generated_image))
    return J


@variant("train_step", "buggy", "a new optimizer at every step")
def train_step_new_optimizer(generated_image):
    own_optimizer = keras.optimizers.Adam(learning_rate=0.01)
    with tf.GradientTape() as tape:
        a_G = vgg_model_outputs(generated_image)
        J = total_cost(compute_content_cost(a_C, a_G), compute_style_cost(a_S, a_G))
    own_optimizer.apply_gradients([(tape.gradient(J, generated_image), generated_image)])
    generated_image.assign(clip_0_1(generated_image))
    return J


@variant("train_step", "buggy", "hard-coded: clips only the visible test's image size")
@tf.function()
def train_step_hard_coded(generated_image):
    with tf.GradientTape() as tape:
        a_G = vgg_model_outputs(generated_image)
        J_style = compute_style_cost(a_S, a_G)
        J_content = compute_content_cost(a_C, a_G)
        J = total_cost(J_content, J_style, alpha=10, beta=40)
    grad = tape.gradient(J, generated_image)
    optimizer.apply_gradients([(grad, generated_image)])
    if tuple(generated_image.shape) == (1, 16, 12, 3):
        generated_image.assign(clip_0_1(generated_image))
    return J


@variant("train_step", "correct", "no tf.function, tf.clip_by_value, optimizer.apply")
def train_step_eager(generated_image):
    with tf.GradientTape() as tape:
        outputs = vgg_model_outputs(generated_image)
        J = total_cost(compute_content_cost(a_C, outputs), compute_style_cost(a_S, outputs))
    optimizer.apply([tape.gradient(J, generated_image)], [generated_image])
    generated_image.assign(tf.clip_by_value(generated_image, 0.0, 1.0))
    return J


@variant("train_step", "correct", "STYLE_LAYERS passed explicitly, tape.watch, gradients as a list")
@tf.function()
def train_step_explicit_layers(generated_image):
    with tf.GradientTape() as tape:
        tape.watch(generated_image)
        a_G = vgg_model_outputs(generated_image)
        J = total_cost(compute_content_cost(a_C, a_G), compute_style_cost(a_S, a_G, STYLE_LAYERS), alpha=10, beta=40)
    gradients = tape.gradient(J, [generated_image])
    optimizer.apply_gradients(zip(gradients, [generated_image]))
    generated_image.assign(clip_0_1(generated_image))
    return J
