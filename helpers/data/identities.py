"""Drawn identities: several photos of each of many drawn people, for face verification statistics.

Each person keeps their own face shape (head width and height, jaw), skin, hair (colour, style,
hairline), eyes (colour, spacing, height, size), brows, nose (length, width), mouth height and lips,
glasses (worn in most, not all, of their photos) and age (forehead lines, lines under the eyes and
from the nose to the mouth, grey hair). Every photo redraws the pose (shift, tilt, zoom, a small turn),
the lighting (direction, strength, colour cast), the expression (smiling or not, mouth shape), the
clothes, the background and the sensor noise. :func:`make_identities` is deterministic by seed.
"""

from __future__ import annotations

import numpy as np

from helpers.data._draw import _check_count, _check_seed, _check_size, _render_chunks
from helpers.data._face import face_params, render_faces

#: Parameters that make the person: fixed for all photos of one identity.
IDENTITY_TRAITS = ("skin", "mirror", "head_rx", "head_ry", "jaw", "hair_colour", "hair_style", "hairline",
                   "eye_colour", "eye_dx", "eye_y", "eye_size", "brow_tilt", "brow_thick", "glasses",
                   "glasses_colour", "mouth_y", "lip_colour", "nose_len", "nose_width", "age")
#: Parameters redrawn for every photo: pose, lighting, expression, clothes, noise.
SHOT_TRAITS = ("cx", "cy", "angle", "scale", "turn", "light_x", "light_y", "light_amp", "noise",
               "smile", "mouth_kind", "mouth_w", "smile_curve", "flat_curve", "shirt")

_GREY_HAIR = np.float32([0.72, 0.72, 0.70])


def identity_traits(rng, n_people: int) -> dict:
    """The fixed traits of ``n_people`` people: a dict of (n_people,) or (n_people, 3) arrays, keys
    :data:`IDENTITY_TRAITS`."""
    people = face_params(rng, rng.integers(0, 2, n_people))
    people["nose_len"] = rng.uniform(0.10, 0.19, n_people)
    people["nose_width"] = rng.uniform(0.025, 0.05, n_people)
    age = rng.uniform(0.0, 1.0, n_people)
    people["age"] = age
    grey = np.clip(2.0 * age - 1.2, 0.0, 0.9)[:, None]         # hair turns grey from age 0.6
    people["hair_colour"] = people["hair_colour"] * (1 - grey) + _GREY_HAIR * grey
    people["hairline"] = people["hairline"] + 0.06 * np.clip(age - 0.5, 0, None)   # and recedes a little
    return {key: people[key] for key in IDENTITY_TRAITS}


def shot_traits(rng, n: int) -> dict:
    """What changes from photo to photo, for ``n`` photos: keys :data:`SHOT_TRAITS`. Pose and light
    vary more than in the happy-faces set (tilt up to 0.2 rad, lighting gradient up to 0.5)."""
    shots = face_params(rng, rng.integers(0, 2, n))
    shots["angle"] = rng.uniform(-0.2, 0.2, n)
    shots["turn"] = rng.uniform(-0.09, 0.09, n)
    shots["scale"] = rng.uniform(1.34, 1.5, n)
    shots["cx"] = rng.uniform(-0.08, 0.08, n)
    shots["light_amp"] = rng.uniform(0.0, 0.5, n)
    return {key: shots[key] for key in SHOT_TRAITS}


def make_identities(n_people, per_person, seed, size=64):
    """Photos of ``n_people`` drawn people, ``per_person`` photos each, the photos of one person
    consecutive (person i has photos i * per_person ... (i + 1) * per_person - 1).

    Inputs: n_people (int >= 2), per_person (int >= 1), seed (int >= 0), size (pixels, 16..512).
    Returns: X uint8 (n_people * per_person, size, size, 3), y int64 (n_people * per_person,), the
    person index. Two disjoint sets of people: split one call's people, or use two seeds.
    """
    n_people = _check_count(n_people, "n_people", minimum=2)
    per_person = _check_count(per_person, "per_person")
    seed, size = _check_seed(seed), _check_size(size)
    rng = np.random.default_rng([seed, 4242])
    people = identity_traits(rng, n_people)
    y = np.repeat(np.arange(n_people, dtype=np.int64), per_person)
    params = {key: value[y] for key, value in people.items()}
    params.update(shot_traits(rng, len(y)))
    # glasses come off in about one photo in six of the people who wear them
    params["glasses"] = params["glasses"] & (rng.random(len(y)) > 0.17)
    return _render_chunks(render_faces, params, len(y), seed, size), y
