"""Variants of the week-4 Face_Recognition functions: usual mistakes (must lose points) and other
correct ways (must keep them).

Each is written as a student would in the notebook, with its names: np, tf, keras, Path and the
given img_to_encoding(image_path, model). The hard-coded variants copy the visible tests' answers
(keyed by the inputs those tests use) and must fail only the hidden tests.
"""

# ruff: noqa: F821

from pathlib import Path

import numpy as np

from helpers.backend import tf
from helpers.models.face_embedding import img_to_encoding
from tests.variants import variant

# --------------------------------------------------------------------------------------------
# triplet_loss


@variant("triplet_loss", "correct", "tf.norm squared and tf.nn.relu, y_pred unpacked")
def triplet_loss_norm_relu(y_true, y_pred, alpha=0.2):
    anchor, positive, negative = y_pred
    pos_dist = tf.square(tf.norm(anchor - positive, axis=1))
    neg_dist = tf.square(tf.norm(anchor - negative, axis=1))
    return tf.reduce_sum(tf.nn.relu(pos_dist - neg_dist + alpha))


@variant("triplet_loss", "correct", "numpy on the tensors, a loop over the batch")
def triplet_loss_numpy_loop(y_true, y_pred, alpha=0.2):
    anchor, positive, negative = (np.asarray(t, dtype=np.float64) for t in y_pred)
    loss = 0.0
    for i in range(anchor.shape[0]):
        pos_dist = np.sum((anchor[i] - positive[i]) ** 2)
        neg_dist = np.sum((anchor[i] - negative[i]) ** 2)
        loss += max(pos_dist - neg_dist + alpha, 0.0)
    return loss


@variant("triplet_loss", "buggy", "mean over the batch instead of the sum")
def triplet_loss_mean(y_true, y_pred, alpha=0.2):
    anchor, positive, negative = y_pred[0], y_pred[1], y_pred[2]
    pos_dist = tf.reduce_sum(tf.square(anchor - positive), axis=-1)
    neg_dist = tf.reduce_sum(tf.square(anchor - negative), axis=-1)
    return tf.reduce_mean(tf.maximum(pos_dist - neg_dist + alpha, 0.0))


@variant("triplet_loss", "buggy", "no max with zero")
def triplet_loss_no_max(y_true, y_pred, alpha=0.2):
    anchor, positive, negative = y_pred[0], y_pred[1], y_pred[2]
    pos_dist = tf.reduce_sum(tf.square(anchor - positive), axis=-1)
    neg_dist = tf.reduce_sum(tf.square(anchor - negative), axis=-1)
    return tf.reduce_sum(pos_dist - neg_dist + alpha)


@variant("triplet_loss", "buggy", "distances not squared (tf.norm)")
def triplet_loss_not_squared(y_true, y_pred, alpha=0.2):
    anchor, positive, negative = y_pred[0], y_pred[1], y_pred[2]
    pos_dist = tf.norm(anchor - positive, axis=-1)
    neg_dist = tf.norm(anchor - negative, axis=-1)
    return tf.reduce_sum(tf.maximum(pos_dist - neg_dist + alpha, 0.0))


@variant("triplet_loss", "buggy", "distances summed over the whole batch (no axis)")
def triplet_loss_no_axis(y_true, y_pred, alpha=0.2):
    anchor, positive, negative = y_pred[0], y_pred[1], y_pred[2]
    pos_dist = tf.reduce_sum(tf.square(anchor - positive))
    neg_dist = tf.reduce_sum(tf.square(anchor - negative))
    return tf.reduce_sum(tf.maximum(pos_dist - neg_dist + alpha, 0.0))


@variant("triplet_loss", "buggy", "margin fixed at 0.2, alpha ignored")
def triplet_loss_fixed_margin(y_true, y_pred, alpha=0.2):
    anchor, positive, negative = y_pred[0], y_pred[1], y_pred[2]
    pos_dist = tf.reduce_sum(tf.square(anchor - positive), axis=-1)
    neg_dist = tf.reduce_sum(tf.square(anchor - negative), axis=-1)
    return tf.reduce_sum(tf.maximum(pos_dist - neg_dist + 0.2, 0.0))


@variant("triplet_loss", "buggy", "hard-coded answers of the visible tests")
def triplet_loss_hard_coded(y_true, y_pred, alpha=0.2):
    answers = {2.0: 7.4, -3.627: 1.7, 11.214: 1.8, -4.714: 1.15, -32.03: 1.5}
    key = round(float(np.sum(np.asarray(y_pred[0]))), 3)
    return answers.get(key, 0.0)


# --------------------------------------------------------------------------------------------
# verify


@variant("verify", "correct", "tf.norm on the encodings, door_open from the comparison")
def verify_tf_norm(image_path, identity, database, model):
    encoding = img_to_encoding(image_path, model)
    dist = float(tf.norm(tf.constant(encoding) - tf.constant(database[identity])))
    door_open = dist < 0.6
    print("welcome in!" if door_open else "please go away")
    return dist, door_open


@variant("verify", "correct", "square root of the sum of squares, <= at the threshold, encodings flattened")
def verify_sqrt_sum(image_path, identity, database, model):
    encoding = np.ravel(img_to_encoding(image_path, model))
    stored = np.ravel(database[identity])
    dist = np.sqrt(np.sum(np.square(encoding - stored)))
    door_open = bool(dist <= 0.6)
    return dist, door_open


@variant("verify", "buggy", "squared distance")
def verify_squared(image_path, identity, database, model):
    encoding = img_to_encoding(image_path, model)
    dist = np.sum((encoding - database[identity]) ** 2)
    door_open = dist < 0.6
    return dist, door_open


@variant("verify", "buggy", "door opens above the threshold")
def verify_reversed(image_path, identity, database, model):
    encoding = img_to_encoding(image_path, model)
    dist = np.linalg.norm(encoding - database[identity])
    if dist > 0.6:
        print("It's " + str(identity) + ", welcome in!")
        door_open = True
    else:
        print("It's not " + str(identity) + ", please go away")
        door_open = False
    return dist, door_open


@variant("verify", "buggy", "the original's threshold 0.7")
def verify_facenet_threshold(image_path, identity, database, model):
    encoding = img_to_encoding(image_path, model)
    dist = np.linalg.norm(encoding - database[identity])
    door_open = dist < 0.7
    return dist, door_open


@variant("verify", "buggy", "compares with the closest person, not the claimed one")
def verify_closest(image_path, identity, database, model):
    encoding = img_to_encoding(image_path, model)
    dist = min(np.linalg.norm(encoding - db_enc) for db_enc in database.values())
    door_open = dist < 0.6
    return dist, door_open


@variant("verify", "buggy", "returns (door_open, dist)")
def verify_swapped(image_path, identity, database, model):
    encoding = img_to_encoding(image_path, model)
    dist = np.linalg.norm(encoding - database[identity])
    return dist < 0.6, dist


@variant("verify", "buggy", "hard-coded answers of the visible tests")
def verify_hard_coded(image_path, identity, database, model):
    answers = {"face_0.png": (0.3, True), "face_1.png": (1.1, False), "face_2.png": (0.55, True),
               "face_3.png": (0.66, False), "face_4.png": (4.595107555389404, False)}
    return answers.get(Path(image_path).name, (1.0, False))


# --------------------------------------------------------------------------------------------
# who_is_it


@variant("who_is_it", "correct", "min over the database with a key, <= threshold")
def who_is_it_min_key(image_path, database, model):
    encoding = img_to_encoding(image_path, model)
    distances = {name: float(np.linalg.norm(encoding - db_enc)) for name, db_enc in database.items()}
    identity = min(distances, key=distances.get)
    min_dist = distances[identity]
    if not min_dist <= 0.6:
        identity = "Not in the database."
    return min_dist, identity


@variant("who_is_it", "correct", "np.argmin over stacked encodings, last of tied names")
def who_is_it_argmin(image_path, database, model):
    names = list(database)
    stacked = np.concatenate([np.reshape(database[name], (1, -1)) for name in names])
    distances = np.linalg.norm(stacked - np.reshape(img_to_encoding(image_path, model), (1, -1)), axis=1)
    best = len(names) - 1 - int(np.argmin(distances[::-1]))
    min_dist = distances[best]
    if min_dist > 0.6:
        print("Not in the database.")
        return min_dist, "Not in the database"
    return min_dist, names[best]


@variant("who_is_it", "buggy", "returns the last identity, not the closest")
def who_is_it_last(image_path, database, model):
    encoding = img_to_encoding(image_path, model)
    min_dist = 100
    for name, db_enc in database.items():
        dist = np.linalg.norm(encoding - db_enc)
        if dist < min_dist:
            min_dist = dist
        identity = name
    if min_dist > 0.6:
        identity = "Not in the database"
    return min_dist, identity


@variant("who_is_it", "buggy", "keeps the farthest person (comparison reversed)")
def who_is_it_farthest(image_path, database, model):
    encoding = img_to_encoding(image_path, model)
    min_dist = 0
    identity = None
    for name, db_enc in database.items():
        dist = np.linalg.norm(encoding - db_enc)
        if dist > min_dist:
            min_dist = dist
            identity = name
    if min_dist > 0.6:
        identity = "Not in the database"
    return min_dist, identity


@variant("who_is_it", "buggy", "never says 'Not in the database' (as the original returns the closest name)")
def who_is_it_never_unknown(image_path, database, model):
    encoding = img_to_encoding(image_path, model)
    min_dist = 100
    for name, db_enc in database.items():
        dist = np.linalg.norm(encoding - db_enc)
        if dist < min_dist:
            min_dist = dist
            identity = name
    if min_dist > 0.6:
        print("Not in the database.")
    return min_dist, identity


@variant("who_is_it", "buggy", "unknown only above the original's threshold 0.7")
def who_is_it_facenet_threshold(image_path, database, model):
    encoding = img_to_encoding(image_path, model)
    min_dist = 100
    for name, db_enc in database.items():
        dist = np.linalg.norm(encoding - db_enc)
        if dist < min_dist:
            min_dist = dist
            identity = name
    if min_dist > 0.7:
        identity = "Not in the database"
    return min_dist, identity


@variant("who_is_it", "buggy", "min_dist starts at the threshold")
def who_is_it_starts_at_threshold(image_path, database, model):
    encoding = img_to_encoding(image_path, model)
    min_dist = 0.6
    identity = "Not in the database"
    for name, db_enc in database.items():
        dist = np.linalg.norm(encoding - db_enc)
        if dist < min_dist:
            min_dist = dist
            identity = name
    return min_dist, identity


@variant("who_is_it", "buggy", "hard-coded answers of the visible tests")
def who_is_it_hard_coded(image_path, database, model):
    answers = {"face_0.png": (0.35, "Chen"), "face_1.png": (0.52, "Ada"), "face_2.png": (1.0, "Not in the database"),
               "face_3.png": (0.66, "Not in the database"), "face_4.png": (0.0, "Emeka"), "face_5.png": (0.3, "Bruno")}
    return answers.get(Path(image_path).name, (1.0, "Not in the database"))
