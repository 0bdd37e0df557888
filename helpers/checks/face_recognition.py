"""Tests of week 4, "Face_Recognition" (one visible test per graded function, plus ``check_*``).

Expected values are computed here in float64 numpy, straight from the formulas of the notebook --
not by calling an implementation of the graded functions (the student kit has no reference):

- triplet_loss(y_true, [A, P, N], alpha) = sum_i max(||A_i - P_i||^2 - ||A_i - N_i||^2 + alpha, 0),
  A, P, N of shape (m, D): squared distances over the encoding axis, each triplet clipped at zero,
  SUMMED over the batch;
- verify(image_path, identity, database, model) = (dist, door_open), dist = ||encoding -
  database[identity]|| (Euclidean, not squared), door_open = dist < THRESHOLD;
- who_is_it(image_path, database, model) = (min_dist, identity) of the closest person; identity is
  "Not in the database" when min_dist > THRESHOLD.

THRESHOLD is 0.6, dlib's threshold for its face embedding (the original course's FaceNet used 0.7).
No test puts a distance within 0.02 of it, so ``<`` and ``<=`` both pass.

``verify`` and ``who_is_it`` are tested with a stand-in face model, :class:`PlannedEncodings`: the
check writes small image files, one per query, and the stand-in maps each of them to an encoding
planned by the check (its ``predict_on_batch``, ``predict`` and ``__call__`` all work). The planned
encodings put the query at chosen distances from the people of a database made up for the test:
just inside and just outside the threshold, an impostor who is someone else in the database, an
unknown person, a tie (the same encoding enrolled under two names; either name is accepted), an exact
match. Hidden tests use other dimensions, names and seeds, so answers copied from the visible tests
fail. While the student's function runs, ``img_to_encoding`` in the notebook is the course's own
(:func:`helpers.models.face_embedding.img_to_encoding`), and what the function prints is not shown.

Tolerances: ``|got - expected| <= ATOL + RTOL * |expected|``; float32 TensorFlow or numpy both pass.
"""

from __future__ import annotations

import contextlib
import copy
import io
import tempfile
from pathlib import Path

import numpy as np

from helpers.backend import keras, tf
from helpers.grading import all_passed, call, check_close, fail
from helpers.models.face_embedding import img_to_encoding

RTOL = 2e-5
ATOL = 1e-5
#: Distance below which two encodings are the same person: dlib's threshold (FaceNet's was 0.7).
THRESHOLD = 0.6
#: The original course's threshold (FaceNet encodings), a likely mistake here.
FACENET_THRESHOLD = 0.7
#: The identity who_is_it returns for a person farther than THRESHOLD from everyone.
NOT_IN_DATABASE = "Not in the database"
#: No planned distance lies closer than this to THRESHOLD.
_SAFETY = 0.02
#: The check's image files are uniform grey: image i has the value _BASE + _STEP * i.
_BASE, _STEP = 20, 10
_MAX_IMAGES = (255 - _BASE) // _STEP + 1


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _number(function: str, what: str, value, cause: str) -> float:
    """A scalar result (tensor, numpy or Python number) as a float, or a failure saying why not."""
    __tracebackhide__ = True
    try:
        array = np.asarray(keras.ops.convert_to_numpy(value), dtype=np.float64)
    except Exception:  # noqa: BLE001 - anything not convertible is reported
        fail(function, f"{what} is not a number", expected="a scalar tensor or number", got=type(value).__name__,
             cause=cause)
    if array.size != 1:
        fail(function, f"{what} must be a single number", expected="a scalar", got=f"shape {array.shape}", cause=cause)
    return float(array.reshape(()))


# --------------------------------------------------------------------------------------------
# triplet_loss


def _squared(a, b):
    return np.sum((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2, axis=-1)


def _triplet_loss(a, p, n, alpha):
    """sum_i max(||a_i - p_i||^2 - ||a_i - n_i||^2 + alpha, 0), written out."""
    return float(np.sum(np.maximum(_squared(a, p) - _squared(a, n) + alpha, 0.0)))


def _triplet_diagnoses(a, p, n, alpha):
    """{likely cause: the loss that mistake gives} for check_close."""
    pos, neg = _squared(a, p), _squared(a, n)
    l1_pos = np.sum(np.abs(np.asarray(a, np.float64) - p), axis=-1)
    l1_neg = np.sum(np.abs(np.asarray(a, np.float64) - n), axis=-1)
    diagnoses = {
        "the triplets' losses were averaged (tf.reduce_mean); the triplet loss is their SUM over the batch "
        "(tf.reduce_sum)": np.maximum(pos - neg + alpha, 0).mean(),
        "max(..., 0) is missing: each triplet adds max(pos_dist - neg_dist + alpha, 0), so an easy triplet "
        "(negative far enough) adds 0, not a negative number": np.sum(pos - neg + alpha),
        "the distances are not squared (a square root or tf.norm was used): pos_dist = sum of (anchor - "
        "positive)^2 over the encoding axis": np.sum(np.maximum(np.sqrt(pos) - np.sqrt(neg) + alpha, 0)),
        "the distances were summed over the whole batch (tf.reduce_sum without axis=-1): sum over the "
        "encoding axis only, clip each triplet at zero, then sum": max(pos.sum() - neg.sum() + alpha, 0.0),
        "the maximum with zero was taken after summing over the batch; clip each triplet's term first, "
        "then sum": max(np.sum(pos - neg + alpha), 0.0),
        "positive and negative are swapped: basic_loss = pos_dist - neg_dist + alpha":
            np.sum(np.maximum(neg - pos + alpha, 0)),
        "the margin is subtracted: basic_loss = pos_dist - neg_dist + alpha": np.sum(np.maximum(pos - neg - alpha, 0)),
        "the margin alpha is missing: basic_loss = pos_dist - neg_dist + alpha": np.sum(np.maximum(pos - neg, 0)),
        "absolute differences were summed (L1); the distances are sums of SQUARED differences":
            np.sum(np.maximum(l1_pos - l1_neg + alpha, 0)),
    }
    if alpha != 0.2:
        diagnoses["the argument alpha is ignored (0.2 is written in the formula)"] = _triplet_loss(a, p, n, 0.2)
    return diagnoses


_TRIPLET_CAUSE = ("loss = sum over the batch of max(||anchor - positive||^2 - ||anchor - negative||^2 + alpha, 0), "
                  "with tf.reduce_sum(tf.square(anchor - positive), axis=-1) for the squared distances")


def _check_triplets(target, a, p, n, alpha, what, pass_alpha=True, as_tuple=False):
    """Call triplet_loss on float32 tensors (a, p, n) and compare with the hand computation."""
    __tracebackhide__ = True
    fn = "triplet_loss"
    a, p, n = (np.asarray(x, np.float32) for x in (a, p, n))
    y_pred = [tf.constant(a), tf.constant(p), tf.constant(n)]
    if as_tuple:
        y_pred = tuple(y_pred)
    kwargs = {"alpha": alpha} if pass_alpha else {}
    got = _number(fn, f"the loss ({what})", call(fn, target, None, y_pred, **kwargs),
                  cause="sum the per-triplet losses over the batch (tf.reduce_sum without an axis) and return "
                        "that scalar")
    expected = _triplet_loss(a, p, n, alpha)
    diagnoses = _triplet_diagnoses(a, p, n, alpha)
    if not pass_alpha:
        for wrong in (0.1, 0.3, 0.5, 1.0, 0.0):
            diagnoses.setdefault(f"the default margin is not 0.2: the signature is triplet_loss(y_true, y_pred, "
                                 f"alpha=0.2) (got the loss for alpha={wrong})", _triplet_loss(a, p, n, wrong))
    check_close(fn, f"the loss ({what}" + (")" if pass_alpha else ", alpha not passed: default 0.2)"),
                got, expected, RTOL, ATOL, diagnoses=diagnoses, cause=_TRIPLET_CAUSE)


def _unit_rows(rng, m, d):
    u = rng.standard_normal((m, d))
    return u / np.linalg.norm(u, axis=1, keepdims=True)


def _random_triplets(m, d, alpha, seed):
    """(anchor, positive, negative) of shape (m, d), float32, mixing the three kinds of triplets:

    easy (neg_dist > pos_dist + alpha: contributes 0), semi-hard (pos_dist < neg_dist < pos_dist +
    alpha: contributes less than alpha) and hard (neg_dist < pos_dist: contributes more than alpha),
    each triplet's basic loss at least 0.4 * alpha away from 0, so float32 rounding cannot move it
    across the max with zero.
    """
    rng = _rng(seed)
    kinds = rng.permutation(np.resize([0, 1, 2], m))                            # easy, semi-hard, hard
    basic = np.choose(kinds, [-0.5 - alpha, 0.5 * alpha, alpha + 0.4])           # pos - neg + alpha
    pos = rng.uniform(0.5, 1.0, m)
    neg = pos + alpha - basic                                                    # >= 0.1 for every kind
    anchor = rng.standard_normal((m, d)) * 0.5
    positive = anchor + np.sqrt(pos)[:, None] * _unit_rows(rng, m, d)
    negative = anchor + np.sqrt(neg)[:, None] * _unit_rows(rng, m, d)
    return anchor.astype(np.float32), positive.astype(np.float32), negative.astype(np.float32)


#: The hand-computed batch of the visible test: three triplets of 2-d encodings. With alpha = 0.2:
#: (1) pos 1, neg 4: 1 - 4 + 0.2 < 0 -> 0; (2) pos 1, neg 1: 0.2; (3) pos 9, neg 2: 7.2. Loss 7.4.
HAND_TRIPLETS = (np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 0.0]]),
                 np.array([[1.0, 0.0], [1.0, 2.0], [3.0, 0.0]]),
                 np.array([[0.0, 2.0], [2.0, 1.0], [1.0, 1.0]]))
HAND_LOSS = 7.4


def check_triplet_loss(target, m=6, d=16, alpha=0.3, seed=1):
    """triplet_loss on ``m`` random triplets of ``d``-dimensional encodings (easy, semi-hard and hard
    ones mixed) with margin ``alpha``, then on ``m`` triplets whose three encodings are equal (loss
    m * alpha: every term is the margin alone)."""
    __tracebackhide__ = True
    if m < 1 or d < 1 or alpha <= 0:
        raise ValueError(f"check_triplet_loss: need m >= 1, d >= 1 and alpha > 0, got m={m}, d={d}, alpha={alpha}")
    a, p, n = _random_triplets(m, d, alpha, seed)
    _check_triplets(target, a, p, n, alpha, f"{m} random triplets, {d}-d, alpha={alpha}", as_tuple=True)
    same = _rng(seed + 1000).standard_normal((m, d)).astype(np.float32)
    _check_triplets(target, same, same, same, alpha, f"{m} triplets with a = p = n, alpha={alpha}: m * alpha")


def triplet_loss_test(target):
    """Visible test of triplet_loss."""
    __tracebackhide__ = True
    _check_triplets(target, *HAND_TRIPLETS, 0.2, "hand-computed batch: 0 + 0.2 + 7.2", pass_alpha=False)
    check_triplet_loss(target, m=6, d=16, alpha=0.3, seed=1)
    check_triplet_loss(target, m=3, d=128, alpha=0.5, seed=2)
    all_passed()


# --------------------------------------------------------------------------------------------
# the stand-in face model and the made-up databases


class PlannedEncodings:
    """Stand-in for the face embedding: each image file the check wrote maps to a planned encoding.

    Image i is a uniform grey ``size`` x ``size`` RGB image of value ``20 + 10 i``; the stand-in reads
    that value (from [0, 255] pixels, or [0, 1] if the caller scaled them) and returns
    ``encodings[i]``. ``predict_on_batch``, ``predict`` and calling it all work on (N, H, W, 3) or
    (H, W, 3) batches, of any H and W. ``input_shape`` is (None, size, size, 3), so
    ``img_to_encoding`` does not resize the check's images.
    """

    def __init__(self, encodings, size: int = 8):
        self.encodings = np.asarray(encodings, dtype=np.float32)
        if self.encodings.ndim != 2 or not 1 <= len(self.encodings) <= _MAX_IMAGES:
            raise ValueError(f"PlannedEncodings: need 1 to {_MAX_IMAGES} encodings as an (N, D) array")
        self.size = int(size)
        self.input_shape = (None, self.size, self.size, 3)
        self.output_shape = (None, self.encodings.shape[1])
        self.calls = 0

    def image(self, index: int) -> np.ndarray:
        """The (size, size, 3) uint8 image that stands for encoding ``index``."""
        return np.full((self.size, self.size, 3), _BASE + _STEP * index, dtype=np.uint8)

    def _encode(self, images) -> np.ndarray:
        batch = np.asarray(keras.ops.convert_to_numpy(images), dtype=np.float64)
        if batch.ndim == 3:
            batch = batch[None]
        rows = []
        for image in batch:
            value = image.mean() * (255.0 if image.max() <= 1.0 else 1.0)
            index = int(round((value - _BASE) / _STEP))
            if not 0 <= index < len(self.encodings) or abs(value - (_BASE + _STEP * index)) > 2:
                raise ValueError("the test's stand-in face model got an image that is not one of the test's image "
                                 "files; pass image_path unchanged to img_to_encoding(image_path, model)")
            rows.append(self.encodings[index])
        self.calls += 1
        return np.stack(rows)

    def predict_on_batch(self, images):
        return self._encode(images)

    def predict(self, images, batch_size=None, verbose=0, **kwargs):
        return self._encode(images)

    def __call__(self, images, training=False):
        return tf.constant(self._encode(images))


@contextlib.contextmanager
def _image_files(encodings):
    """Yields (paths, model): one PNG file per encoding in a temporary folder, and the stand-in model."""
    model = PlannedEncodings(encodings)
    with tempfile.TemporaryDirectory(prefix="face_check_") as folder:
        paths = []
        for index in range(len(model.encodings)):
            path = Path(folder) / f"face_{index}.png"
            from PIL import Image

            Image.fromarray(model.image(index)).save(path)
            paths.append(str(path))
        yield paths, model


def _people(names, dim, rng, min_distance=1.6):
    """{name: (1, dim) float32 encoding}, every two people at least ``min_distance`` apart."""
    scale = 2.5 / np.sqrt(dim)
    for _ in range(1000):
        encodings = (rng.standard_normal((len(names), dim)) * scale).astype(np.float32)
        gaps = np.linalg.norm(encodings[:, None].astype(np.float64) - encodings[None], axis=-1)
        if len(names) < 2 or gaps[np.triu_indices(len(names), 1)].min() >= min_distance:
            return {name: encodings[i:i + 1].copy() for i, name in enumerate(names)}
    raise ValueError(f"could not place {len(names)} people {min_distance} apart in {dim} dimensions; use more dimensions")


def _near(center, distance, rng):
    """A (1, D) float32 encoding at ``distance`` from ``center`` (1, D), in a random direction."""
    direction = rng.standard_normal(center.shape)
    return (center.astype(np.float64) + distance * direction / np.linalg.norm(direction)).astype(np.float32)


def _distance(a, b) -> float:
    return float(np.linalg.norm(np.asarray(a, np.float64) - np.asarray(b, np.float64)))


def _quiet_call(function: str, target, *args):
    """call() with the course's img_to_encoding in the notebook, and what the function prints hidden."""
    __tracebackhide__ = True
    with contextlib.redirect_stdout(io.StringIO()):
        return call(function, target, *args, with_reference={"img_to_encoding": img_to_encoding})


def _pair(function: str, result, names: tuple[str, str], what: str):
    """The two values of a returned pair, or a failure saying what came instead."""
    __tracebackhide__ = True
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        fail(function, f"must return a pair {names} {what}", expected=f"a tuple ({names[0]}, {names[1]})",
             got=f"{type(result).__name__}: {result!r}"[:200],
             cause=f"end the function with `return {names[0]}, {names[1]}`")
    return result[0], result[1]


def _as_bool(value):
    """True/False for bool-like results (bool, numpy or tensor booleans), None otherwise."""
    try:
        array = np.asarray(keras.ops.convert_to_numpy(value))
    except Exception:  # noqa: BLE001
        return None
    if array.dtype != np.bool_ or array.size != 1:
        return None
    return bool(array.reshape(()))


def _threshold_cause(distance: float, expected_in: bool) -> str:
    """Likely cause when a decision at ``distance`` came out wrong (``expected_in``: below the threshold)."""
    if expected_in and distance >= 0.5:
        return ("the threshold is too small: a distance below 0.6 means the same person (dlib's threshold for "
                "this embedding)")
    if expected_in:
        return "the comparison seems reversed: a distance BELOW 0.6 means the same person"
    if distance < FACENET_THRESHOLD:
        return ("the original course's threshold 0.7 (for FaceNet) was used; this embedding's threshold is 0.6 "
                "(dlib's)")
    return "the comparison seems reversed: a distance ABOVE 0.6 means another person"


def _check_plan(function: str, distances, safety=_SAFETY):
    for distance in distances:
        if abs(distance - THRESHOLD) < safety:
            raise ValueError(f"{function}: distance {distance} is within {safety} of the threshold {THRESHOLD}")


# --------------------------------------------------------------------------------------------
# verify


def check_verify(target, dim=8, names=("Ada", "Bruno", "Chen", "Dalia"), distances=(0.3, 1.1, 0.55, 0.66),
                 seed=1):
    """verify(image_path, identity, database, model) for a database of ``names`` (``dim``-d encodings).

    One query per entry of ``distances``: a photo at that distance from the person it claims to be
    (the second, third, ... name in turn, never only the first); then an impostor, a photo of the first
    person claiming to be the last one. Checks dist (Euclidean to database[identity]) and door_open
    (dist < 0.6) for each.
    """
    __tracebackhide__ = True
    fn = "verify"
    names = tuple(names)
    if len(names) < 2 or len(set(names)) != len(names):
        raise ValueError("check_verify: need at least two distinct names")
    _check_plan("check_verify", distances)
    rng = _rng(seed)
    database = _people(names, dim, rng)
    cases = []                                            # (claimed name, query encoding)
    for index, distance in enumerate(distances):
        claimed = names[(index + 1) % len(names)]
        cases.append((claimed, _near(database[claimed], distance, rng)))
    cases.append((names[-1], _near(database[names[0]], 0.2, rng)))
    with _image_files(np.concatenate([query for _, query in cases])) as (paths, model):
        for path, (claimed, query) in zip(paths, cases):
            result = _quiet_call(fn, target, path, claimed, copy.deepcopy(database), model)
            dist, door_open = _pair(fn, result, ("dist", "door_open"), f"for a photo claiming to be {claimed!r}")
            if _as_bool(dist) is not None and _as_bool(door_open) is None:
                fail(fn, "returned its two values in the wrong order", expected="(dist, door_open)",
                     got=f"({dist!r}, {door_open!r})", cause="return dist, door_open (the distance first)")
            expected = _distance(query, database[claimed])
            closest = min(_distance(query, encoding) for encoding in database.values())
            what = f"dist for a photo claiming to be {claimed!r} (true distance {expected:.3f}, {dim}-d encodings)"
            got = _number(fn, what, dist, cause="dist = np.linalg.norm(encoding - database[identity]), a number")
            diagnoses = {
                "dist is the SQUARED distance; use np.linalg.norm(encoding - database[identity]), the square root "
                "of the sum of squares": expected ** 2,
                "dist sums absolute differences (L1); use the Euclidean distance np.linalg.norm(encoding - "
                "database[identity])": float(np.abs(query.astype(np.float64) - database[claimed]).sum()),
                "dist is the distance to the closest person of the database; verify compares with "
                "database[identity], the person claimed, only": closest,
                f"dist is the distance to the first person of the database ({names[0]!r}); use database[identity]":
                    _distance(query, database[names[0]]),
            }
            check_close(fn, what, got, expected, RTOL, ATOL, diagnoses=diagnoses,
                        cause="encoding = img_to_encoding(image_path, model); dist = np.linalg.norm(encoding - "
                              "database[identity]); use the model and database passed as arguments")
            opened = _as_bool(door_open)
            if opened is None:
                fail(fn, f"door_open for a photo claiming to be {claimed!r} is not True or False",
                     expected="a boolean (bool or numpy bool)", got=repr(door_open)[:100],
                     cause="door_open = dist < 0.6 (True when the door opens)")
            if opened != (expected < THRESHOLD):
                fail(fn, f"door_open is wrong for a photo claiming to be {claimed!r} at distance {expected:.3f}",
                     expected=f"{expected < THRESHOLD} (the door opens when dist < {THRESHOLD})", got=opened,
                     cause=_threshold_cause(expected, expected < THRESHOLD))


def verify_test(target):
    """Visible test of verify."""
    __tracebackhide__ = True
    check_verify(target)
    all_passed()


# --------------------------------------------------------------------------------------------
# who_is_it


def _is_unknown(identity) -> bool:
    return isinstance(identity, str) and identity.strip().rstrip(".").lower() == NOT_IN_DATABASE.lower()


def _check_who(target, path, model, database, query, accepted, what):
    """Call who_is_it once and compare (min_dist, identity); ``accepted``: the right identities."""
    __tracebackhide__ = True
    fn = "who_is_it"
    result = _quiet_call(fn, target, path, copy.deepcopy(database), model)
    min_dist, identity = _pair(fn, result, ("min_dist", "identity"), what)
    if isinstance(min_dist, str) and not isinstance(identity, str):
        fail(fn, "returned its two values in the wrong order", expected="(min_dist, identity)",
             got=f"({min_dist!r}, {identity!r})", cause="return min_dist, identity (the distance first)")
    names = list(database)
    distances = [_distance(query, database[name]) for name in names]
    expected = min(distances)
    got = _number(fn, f"min_dist {what}", min_dist, cause="min_dist is the smallest distance, a number")
    diagnoses = {
        "min_dist is the SQUARED distance; use np.linalg.norm(encoding - db_enc)": expected ** 2,
        "min_dist is the LARGEST distance: the comparison is reversed, keep a distance when dist < min_dist":
            max(distances),
        "min_dist is the distance to the LAST person of the database: update min_dist and identity only when "
        "dist < min_dist": distances[-1],
        f"min_dist was initialised to the threshold ({THRESHOLD}); start from a large number (e.g. 100) so the "
        "smallest distance comes back even for unknown people": THRESHOLD,
        f"min_dist was initialised to the original's threshold ({FACENET_THRESHOLD}); start from a large number "
        "(e.g. 100)": FACENET_THRESHOLD,
        "min_dist was never updated (it still holds its initial value 100): set min_dist = dist when dist < "
        "min_dist": 100.0,
    }
    check_close(fn, f"min_dist {what}", got, expected, RTOL, ATOL, diagnoses=diagnoses,
                cause="loop over database.items(): dist = np.linalg.norm(encoding - db_enc); if dist < min_dist: "
                      "min_dist = dist; identity = name (start with min_dist = 100)")
    expected_known = expected < THRESHOLD
    if expected_known and identity in accepted:
        return
    if not expected_known and _is_unknown(identity):
        return
    want = (" or ".join(repr(name) for name in accepted) if expected_known else repr(NOT_IN_DATABASE))
    if expected_known and _is_unknown(identity):
        cause = _threshold_cause(expected, True)
    elif not expected_known and identity in names and identity == names[int(np.argmin(distances))]:
        cause = (_threshold_cause(expected, False) if expected < FACENET_THRESHOLD else
                 f"the closest person is farther than {THRESHOLD}: the person is unknown, return "
                 f"identity = {NOT_IN_DATABASE!r} (and print it)")
    elif identity == names[-1] and names[-1] not in accepted:
        cause = ("the LAST name of the database came back, not the closest: set identity = name inside "
                 "`if dist < min_dist:`, together with min_dist")
    elif identity in names and identity == names[int(np.argmax(distances))]:
        cause = "the FARTHEST person came back: the comparison is reversed (keep the name when dist < min_dist)"
    elif identity is None:
        cause = "identity is None: set identity = name whenever dist < min_dist (and start with min_dist = 100)"
    else:
        cause = "identity is the name of the closest encoding (the name whose dist is min_dist)"
    fail(fn, f"identity is wrong {what} (closest distance {expected:.3f})", expected=want,
         got=repr(identity)[:100], cause=cause)


def check_who_is_it(target, dim=8, names=("Ada", "Bruno", "Chen", "Dalia", "Emeka"), seed=2):
    """who_is_it(image_path, database, model) on a made-up database of ``names`` (``dim``-d encodings).

    Queries: a photo 0.35 from a person in the middle of the database; 0.52 from the first person;
    1.0 from the second (unknown: farther than 0.6 from everyone); 0.66 from the last (unknown); the
    last person's encoding itself (distance 0); and, with the second person's encoding enrolled a
    second time under another name at the end of the database, a photo 0.3 from it (a tie: either
    name is accepted). Works with a single name too.
    """
    __tracebackhide__ = True
    names = tuple(names)
    if not names or len(set(names)) != len(names):
        raise ValueError("check_who_is_it: need at least one name, all distinct")
    rng = _rng(seed)
    database = _people(names, dim, rng)
    middle, first, last, second = names[len(names) // 2], names[0], names[-1], names[min(1, len(names) - 1)]
    alias = f"{second} (enrolled twice)"
    tied = dict(database)
    tied[alias] = database[second].copy()
    plans = [  # (database, query, accepted identities, description)
        (database, _near(database[middle], 0.35, rng), (middle,), f"for a photo 0.35 from {middle!r}"),
        (database, _near(database[first], 0.52, rng), (first,), f"for a photo 0.52 from {first!r}"),
        (database, _near(database[second], 1.0, rng), (), f"for an unknown person 1.0 from {second!r}"),
        (database, _near(database[last], 0.66, rng), (), f"for an unknown person 0.66 from {last!r}"),
        (database, database[last].copy(), (last,), f"for the photo enrolled as {last!r} itself (distance 0)"),
        (tied, _near(database[second], 0.3, rng), (second, alias),
         f"for a photo 0.3 from {second!r}, whose encoding is enrolled under two names (a tie)"),
    ]
    for table, query, accepted, what in plans:
        distances = sorted(_distance(query, encoding) for encoding in table.values())
        _check_plan("check_who_is_it", distances[:1])
        if accepted and len(accepted) == 1 and len(distances) > 1 and distances[1] - distances[0] < 0.1:
            raise ValueError(f"check_who_is_it: {what}: the second closest person is too close; change the seed")
    with _image_files(np.concatenate([query for _, query, _, _ in plans])) as (paths, model):
        for path, (table, query, accepted, what) in zip(paths, plans):
            _check_who(target, path, model, table, query, accepted, what)


def who_is_it_test(target):
    """Visible test of who_is_it."""
    __tracebackhide__ = True
    check_who_is_it(target)
    all_passed()


__all__ = [
    "check_triplet_loss",
    "check_verify",
    "check_who_is_it",
    "triplet_loss_test",
    "verify_test",
    "who_is_it_test",
]
