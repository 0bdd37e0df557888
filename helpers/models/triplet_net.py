"""A small face-embedding ConvNet trained with a triplet loss (week 4), random vs semi-hard triplets.

The loss is a parameter: the Face_Recognition assignment passes the student's ``triplet_loss(y_true,
y_pred, alpha)`` (the sum over a batch of max(|a - p|^2 - |a - n|^2 + alpha, 0)); nothing here
imports a reference solution. Training batches hold ``people`` people with ``per_person`` photos each
(FaceNet's "P x K" batches); every anchor-positive pair of the batch gets one negative, chosen

- ``"random"``: any photo of another person of the batch;
- ``"semi-hard"``: the closest negative that is still further from the anchor than the positive
  (Schroff et al., 2015); when there is none, the furthest negative;
- ``"hard"``: the closest negative of all.

Typical use (X: (m, S, S, 1) floats in [0, 1], y: (m,) person index)::

    model = embedding_net(size=32, seed=0)
    history = train_triplets(model, X, y, triplet_loss, steps=300, mining="semi-hard", seed=0)
    E = embed_faces(model, X_test)          # (m_test, dim), rows of length 1
"""

from __future__ import annotations

import time

import numpy as np

MINING = ("random", "semi-hard", "hard")


def embedding_net(size: int = 32, channels: int = 1, dim: int = 32, width: int = 16, seed: int = 0):
    """A Keras model (N, size, size, channels) -> (N, dim) embeddings of length 1: three 3x3 conv
    blocks (width, 2 width, 4 width filters, ReLU, 2x2 max pool after the first two), global average
    pooling, a dense layer and L2 normalisation. Weights drawn from ``seed``."""
    from helpers.backend import keras

    for name, value, low in (("size", size, 8), ("channels", channels, 1), ("dim", dim, 2), ("width", width, 1)):
        if isinstance(value, bool) or int(value) != value or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    keras.utils.set_random_seed(int(seed))
    inputs = keras.Input((size, size, channels))
    x = inputs
    for k, filters in enumerate((width, 2 * width, 4 * width)):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{k + 1}")(x)
        if k < 2:
            x = keras.layers.MaxPooling2D(2, name=f"pool{k + 1}")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    x = keras.layers.Dense(dim, name="embedding")(x)
    outputs = keras.layers.UnitNormalization(name="unit_length")(x)
    return keras.Model(inputs, outputs, name="small_face_embedding")


def embed_faces(model, X, batch_size: int = 256) -> np.ndarray:
    """Embeddings (m, dim) float64 of images X (m, S, S, C), without training-time behaviour."""
    X = np.asarray(X, dtype=np.float32)
    return np.concatenate([np.asarray(model(X[i:i + batch_size], training=False))
                           for i in range(0, len(X), batch_size)]).astype(np.float64)


def pk_batch(y, people: int, per_person: int, rng) -> np.ndarray:
    """Indices (people * per_person,) of a batch: ``people`` random people of y, ``per_person`` random
    photos of each (every person needs at least ``per_person`` photos)."""
    y = np.asarray(y)
    classes = np.unique(y)
    if people > len(classes):
        raise ValueError(f"people must be <= the {len(classes)} people of y, got {people}")
    chosen = rng.choice(classes, people, replace=False)
    out = []
    for c in chosen:
        photos = np.flatnonzero(y == c)
        if len(photos) < per_person:
            raise ValueError(f"person {c} has {len(photos)} photos, fewer than per_person={per_person}")
        out.append(rng.choice(photos, per_person, replace=False))
    return np.concatenate(out)


def choose_triplets(E, labels, mining: str, rng) -> np.ndarray:
    """One (anchor, positive, negative) index triple per ordered anchor-positive pair of a batch.

    E (b, d) embeddings of the batch, labels (b,) person of each; mining in :data:`MINING`.
    Returns (t, 3) int indices into the batch. Distances are squared Euclidean."""
    if mining not in MINING:
        raise ValueError(f"mining must be one of {MINING}, got {mining!r}")
    E, labels = np.asarray(E, dtype=np.float64), np.asarray(labels)
    sq = (E * E).sum(1)
    d2 = np.maximum(sq[:, None] + sq[None] - 2 * E @ E.T, 0.0)
    same = labels[:, None] == labels[None]
    a, p = np.nonzero(same & ~np.eye(len(labels), dtype=bool))
    if len(a) == 0:
        raise ValueError("the batch needs at least two photos of one person")
    other = ~same[a]                                              # (t, b) candidate negatives
    if not other.any(axis=1).all():
        raise ValueError("the batch needs photos of at least two people")
    d_an = np.where(other, d2[a], np.inf)
    if mining == "random":
        scores = np.where(other, rng.random(other.shape), np.inf)
        n = scores.argmin(1)
    elif mining == "hard":
        n = d_an.argmin(1)
    else:
        beyond = np.where(d_an > d2[a, p][:, None], d_an, np.inf)
        fallback = np.where(other, d2[a], -np.inf).argmax(1)
        n = np.where(np.isfinite(beyond.min(1)), beyond.argmin(1), fallback)
    return np.stack([a, p, n], axis=1)


def train_triplets(model, X, y, loss_fn, steps: int = 300, mining: str = "semi-hard", alpha: float = 0.2,
                   people: int = 8, per_person: int = 4, learning_rate: float = 3e-3, seed: int = 0) -> dict:
    """Train ``model`` in place with ``loss_fn(None, [anchor, positive, negative], alpha)`` (a batch
    SUM, like the assignment's triplet_loss), Adam, ``steps`` P x K batches. X (m, S, S, C), y (m,).

    Returns {'loss': (steps,) mean loss per triplet, 'active': (steps,) share of triplets with a
    positive loss, 'seconds': training time}. Raises ValueError when loss_fn returns something that
    is not one finite number (the caller explains it)."""
    from helpers.backend import keras, tf

    if mining not in MINING:
        raise ValueError(f"mining must be one of {MINING}, got {mining!r}")
    if int(steps) != steps or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    optimizer = keras.optimizers.Adam(learning_rate)
    variables = model.trainable_variables

    @tf.function
    def forward(xb):
        return model(xb, training=False)

    @tf.function
    def train_step(xb, t):
        with tf.GradientTape() as tape:
            E = model(xb, training=True)
            a, p, n = (tf.gather(E, t[:, k]) for k in range(3))
            total = tf.convert_to_tensor(loss_fn(None, [a, p, n], alpha))
            if total.shape.rank is not None and total.shape.num_elements() != 1:
                raise ValueError(f"the loss must be one number, got shape {tuple(total.shape)}")
            loss = tf.reshape(tf.cast(total, tf.float32), ()) / tf.cast(tf.shape(t)[0], tf.float32)
        grads = tape.gradient(loss, variables)
        if all(g is None for g in grads):
            raise ValueError("the loss does not depend on the embeddings (no gradient reaches the network)")
        optimizer.apply_gradients([(g, v) for g, v in zip(grads, variables) if g is not None])
        d_ap = tf.reduce_sum(tf.square(a - p), -1)
        d_an = tf.reduce_sum(tf.square(a - n), -1)
        return loss, tf.reduce_mean(tf.cast(d_ap - d_an + alpha > 0, tf.float32))

    losses, active = np.zeros(int(steps)), np.zeros(int(steps))
    start = time.perf_counter()
    for step in range(int(steps)):
        idx = pk_batch(y, people, per_person, rng)
        xb = tf.constant(X[idx])
        t = choose_triplets(forward(xb).numpy(), y[idx], mining, rng)
        loss, share = train_step(xb, tf.constant(t, dtype=tf.int32))
        losses[step], active[step] = float(loss), float(share)
        if not np.isfinite(losses[step]):
            raise ValueError(f"the loss is not a finite number ({losses[step]}) at step {step}")
    return {"loss": losses, "active": active, "seconds": time.perf_counter() - start}
