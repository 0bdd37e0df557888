"""Instructor reference of week 4's "Face_Recognition": the graded functions, original signatures.

- triplet loss   for a batch of m triplets (anchor A, positive P, negative N), each an (m, D) array
                 of encodings: L = sum_i max(||A_i - P_i||^2 - ||A_i - N_i||^2 + alpha, 0), a SUM over
                 the batch of SQUARED Euclidean distances, each triplet's term clipped at zero;
- verify         dist = ||img_to_encoding(image_path) - database[identity]|| (Euclidean, not squared);
                 the door opens when dist < THRESHOLD;
- who_is_it      the closest identity of the database and its distance; when even the closest is
                 farther than THRESHOLD the person is unknown and the identity returned is
                 NOT_IN_DATABASE.

The threshold. The original course compares FaceNet encodings that ``img_to_encoding`` divided by
their norm, with 0.7. Ours are dlib's face embeddings, not re-normalised, for which dlib's own
threshold is 0.6 (:data:`helpers.models.face_embedding.DISTANCE_THRESHOLD`): on the course's real
photos same-person distances are at most 0.51 and different-person distances at least 0.73. So
THRESHOLD = 0.6 here. At exactly the threshold the original's comparisons disagree (``verify``
opens for dist < 0.7, ``who_is_it`` rejects for min_dist > 0.7); the checks never test that point.

``img_to_encoding(image_path, model)`` is given to students (it lives in
:mod:`helpers.models.face_embedding`, which the notebook imports); it is re-exported here so the
reference is complete.
"""

from __future__ import annotations

import numpy as np

from helpers.backend import tf
from helpers.models.face_embedding import DISTANCE_THRESHOLD, img_to_encoding

#: Distance below which two encodings are the same person (dlib's 0.6; the original's FaceNet used 0.7).
THRESHOLD = DISTANCE_THRESHOLD
#: Identity ``who_is_it`` returns for a face farther than THRESHOLD from everyone in the database.
NOT_IN_DATABASE = "Not in the database"


def triplet_loss(y_true, y_pred, alpha=0.2):
    """Triplet loss of a batch of triplets.

    y_true: unused (Keras passes the labels; the triplet loss needs none).
    y_pred: [anchor, positive, negative], each an (m, D) tensor of encodings.
    alpha: the margin.
    Returns a scalar tensor: sum over the m triplets of max(||a - p||^2 - ||a - n||^2 + alpha, 0).
    """
    anchor, positive, negative = y_pred[0], y_pred[1], y_pred[2]
    pos_dist = tf.reduce_sum(tf.square(tf.subtract(anchor, positive)), axis=-1)   # (m,)
    neg_dist = tf.reduce_sum(tf.square(tf.subtract(anchor, negative)), axis=-1)   # (m,)
    basic_loss = pos_dist - neg_dist + alpha
    loss = tf.reduce_sum(tf.maximum(basic_loss, 0.0))
    return loss


def verify(image_path, identity, database, model):
    """Is the person on ``image_path`` the one they claim to be?

    image_path: path of a face image; identity: the name claimed, a key of ``database``;
    database: {name: (1, D) encoding}; model: the face embedding passed to img_to_encoding.
    Returns (dist, door_open): the Euclidean distance to database[identity] and dist < THRESHOLD.
    """
    encoding = img_to_encoding(image_path, model)
    dist = float(np.linalg.norm(encoding - database[identity]))
    door_open = dist < THRESHOLD
    if door_open:
        print(f"It's {identity}, welcome in!")
    else:
        print(f"It's not {identity}, please go away")
    return dist, door_open


def who_is_it(image_path, database, model):
    """Who, in ``database``, is the person on ``image_path``?

    Returns (min_dist, identity): the smallest Euclidean distance to an encoding of the database and
    its name; identity is NOT_IN_DATABASE when min_dist > THRESHOLD. On a tie, the first name in the
    database's order is kept (strict <).
    """
    encoding = img_to_encoding(image_path, model)
    min_dist, identity = np.inf, None
    for name, db_enc in database.items():
        dist = float(np.linalg.norm(encoding - db_enc))
        if dist < min_dist:
            min_dist, identity = dist, name
    if min_dist > THRESHOLD:
        print("Not in the database.")
        identity = NOT_IN_DATABASE
    else:
        print(f"It's {identity}, the distance is {min_dist:.3f}")
    return min_dist, identity


__all__ = ["NOT_IN_DATABASE", "THRESHOLD", "img_to_encoding", "triplet_loss", "verify", "who_is_it"]
