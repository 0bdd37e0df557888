"""Drawn faces shared by the happy-faces set and the identities set, batched with numpy.

:func:`face_params` draws every parameter of a face (skin, head shape, hair, eyes, brows, glasses,
nose, mouth, shirt, pose, lighting); :func:`render_faces` paints them on textured backgrounds with the
primitives of :mod:`helpers.data._draw`.
"""

from __future__ import annotations

import numpy as np

from helpers.data._draw import (
    _backgrounds,
    _capsule,
    _col,
    _cover,
    _ellipse,
    _finish,
    _grid,
    _paint,
    _parabola_band,
    _pose,
    _round_box,
    _skin_tones,
)

_HAIR_COLOURS = np.array([
    [0.08, 0.06, 0.05], [0.22, 0.14, 0.08], [0.40, 0.26, 0.14], [0.62, 0.45, 0.25],
    [0.85, 0.72, 0.45], [0.60, 0.25, 0.10], [0.55, 0.55, 0.55], [0.90, 0.90, 0.88],
], dtype=np.float32)
_EYE_COLOURS = np.array([[0.25, 0.15, 0.08], [0.15, 0.30, 0.55], [0.25, 0.45, 0.25],
                         [0.10, 0.08, 0.06]], dtype=np.float32)


def face_params(rng, labels):
    """Drawn-face parameters for len(labels) faces, smiling where labels is 1: a dict of (N,) / (N, 3)
    arrays (skin, head shape, hair, eyes, glasses, mouth, shirt, pose, lighting, noise)."""
    n = len(labels)
    smile = labels.astype(bool)
    # mouth: smiles curve up (open or closed); others are straight, slightly down, or a small "o"
    kind = np.where(smile, (rng.random(n) < 0.3).astype(int), rng.integers(2, 5, n))
    p = {
        "smile": smile,
        "mouth_kind": kind,
        "skin": _skin_tones(rng, n),
        "cx": rng.uniform(-0.06, 0.06, n),
        "cy": rng.uniform(0.04, 0.12, n),
        "angle": rng.uniform(-0.12, 0.12, n),
        "scale": rng.uniform(1.35, 1.5, n),
        "mirror": np.where(rng.random(n) < 0.5, -1.0, 1.0),
        "head_rx": rng.uniform(0.36, 0.45, n),
        "head_ry": rng.uniform(0.47, 0.56, n),
        "jaw": rng.uniform(0.0, 0.07, n),
        "turn": rng.uniform(-0.07, 0.07, n),
        "hair_colour": _HAIR_COLOURS[rng.integers(len(_HAIR_COLOURS), size=n)]
        * rng.uniform(0.85, 1.15, (n, 1)),
        "hair_style": rng.integers(0, 4, n),  # 0 bald, 1 short, 2 long, 3 fringe
        "hairline": rng.uniform(0.18, 0.32, n),
        "eye_colour": _EYE_COLOURS[rng.integers(len(_EYE_COLOURS), size=n)],
        "eye_dx": rng.uniform(0.14, 0.18, n),
        "eye_y": rng.uniform(0.06, 0.12, n),
        "eye_size": rng.uniform(0.8, 1.15, n),
        "brow_tilt": rng.uniform(-0.35, 0.35, n),
        "brow_thick": rng.uniform(0.012, 0.026, n),
        "glasses": rng.random(n) < 0.3,
        "glasses_colour": rng.uniform(0.0, 0.5, (n, 3)),
        "mouth_y": rng.uniform(-0.28, -0.22, n),
        "mouth_w": np.where(smile, rng.uniform(0.17, 0.23, n), rng.uniform(0.10, 0.18, n)),
        "smile_curve": rng.uniform(3.5, 5.5, n),
        "flat_curve": np.where(kind == 3, rng.uniform(-3.0, -1.2, n), rng.uniform(-0.6, 0.6, n)),
        "lip_colour": rng.uniform(0.55, 0.8, n),
        "shirt": rng.uniform(0.1, 0.9, (n, 3)),
        "light_x": rng.uniform(-1, 1, n),
        "light_y": rng.uniform(-1, 1, n),
        "light_amp": rng.uniform(0.0, 0.3, n),
        "noise": rng.uniform(1.0, 7.0, n),
    }
    return p


def render_faces(p, rng, size):
    """Draw the faces described by :func:`face_params`'s dict ``p`` (N faces): (N, size, size, 3) uint8.

    Optional keys (drawn only when present, so the happy-faces set stays as it was): ``nose_len``,
    ``nose_width`` (N,), the nose's length and half width; ``age`` (N,) in [0, 1], forehead lines,
    lines under the eyes and from the nose to the mouth, stronger with age."""
    n = len(p["cx"])
    img = _backgrounds(rng, n, size, p["skin"], saturation=0.35, stripes_p=0.1)
    x, y = _grid(size)
    scale = _col(p["scale"])
    pixel = (2.0 / size) / scale
    u, v = _pose(x, y, _col(p["cx"]), _col(p["cy"]), _col(p["angle"]), scale, _col(p["mirror"]))
    skin = p["skin"][:, None, None, :]
    hair = np.clip(p["hair_colour"], 0, 1)[:, None, None, :]
    style = p["hair_style"]
    rx, ry = _col(p["head_rx"]), _col(p["head_ry"])
    turn = _col(p["turn"])
    fu = u - turn  # features shift sideways when the head turns a little

    # shoulders and neck
    shoulders = _ellipse(u, v, 0.0, -1.15, 0.95, 0.45)
    img = _paint(img, _cover(shoulders, pixel), p["shirt"][:, None, None, :].astype(np.float32))
    neck = _round_box(u, v, 0.0, -0.55, rx * 0.45, 0.25, 0.06)
    img = _paint(img, _cover(neck, pixel), skin * 0.78)
    # long hair behind the head
    long_hair = _round_box(u, v, 0.0, -0.15, rx + 0.08, ry * 0.9, 0.2)
    img = _paint(img, _cover(long_hair, pixel) * _col(style == 2), hair * 0.85)
    # ears
    for side in (-1.0, 1.0):
        ear = _ellipse(u, v, side * rx * 0.98, 0.02, 0.06, 0.10)
        img = _paint(img, _cover(ear, pixel), skin * 0.88)
    # head: an ellipse with a narrower jaw
    head = _ellipse(u, v, 0.0, 0.0, rx, ry)
    jaw = _ellipse(u, v, 0.0, -0.05, rx - _col(p["jaw"]), ry)
    head = np.where(v < -0.05, np.maximum(head, jaw), head)
    depth = np.sqrt(np.clip(-head / 0.12, 0, 1))
    img = _paint(img, _cover(head, pixel), skin * (0.74 + 0.26 * depth)[..., None])
    # hair on top of the head
    cap = np.maximum(_ellipse(u, v, 0.0, 0.02, rx + 0.035, ry + 0.05),
                     -(v - _col(p["hairline"]) + 0.25 * u * u))
    fringe = _ellipse(u, v, -0.08, _col(p["hairline"]) + 0.05, rx * 0.9, 0.13)
    cap = np.where(_col(style == 3) > 0, np.minimum(cap, np.maximum(fringe, head)), cap)
    img = _paint(img, _cover(cap, pixel) * _col(style != 0), hair)

    # eyes, irises, brows
    ex, ey, es = _col(p["eye_dx"]), _col(p["eye_y"]), _col(p["eye_size"])
    eye_colour = p["eye_colour"][:, None, None, :]
    for side in (-1.0, 1.0):
        white = _ellipse(fu, v, side * ex, ey, 0.062 * es, 0.036 * es)
        img = _paint(img, _cover(white, pixel), np.float32([0.95, 0.95, 0.93]))
        iris = _ellipse(fu, v, side * ex, ey, 0.03 * es, 0.03 * es)
        img = _paint(img, _cover(np.maximum(iris, white), pixel), eye_colour)
        pupil = _ellipse(fu, v, side * ex, ey, 0.013 * es, 0.013 * es)
        img = _paint(img, _cover(pupil, pixel) * 0.9, np.float32([0.02, 0.02, 0.02]))
        tilt = _col(p["brow_tilt"]) * side
        brow = _capsule(fu, v, side * ex - 0.06, ey + 0.075 - tilt * 0.03,
                        side * ex + 0.06, ey + 0.075 + tilt * 0.03, _col(p["brow_thick"]))
        img = _paint(img, _cover(brow, pixel), hair * 0.8)
    # glasses: two rings and a bridge
    g_on = _col(p["glasses"])
    gcol = p["glasses_colour"][:, None, None, :].astype(np.float32)
    for side in (-1.0, 1.0):
        ring = np.abs(_ellipse(fu, v, side * ex, ey, 0.09, 0.07)) - 0.012
        img = _paint(img, _cover(ring, pixel) * g_on, gcol)
    bridge = _capsule(fu, v, -ex + 0.09, ey + 0.01, ex - 0.09, ey + 0.01, 0.01)
    img = _paint(img, _cover(bridge, pixel) * g_on, gcol)
    # nose: a soft shadow and nostrils
    if "nose_len" in p:  # an identity's own nose: length and width
        tip, half = 0.02 - _col(p["nose_len"]), _col(p["nose_width"])
        nose = _capsule(fu, v, 0.0, 0.02, 0.015, tip, half)
        img = _paint(img, _cover(nose, pixel) * 0.3, skin * 0.6)
        for side in (-1.0, 1.0):
            nostril = _ellipse(fu, v, side * half * 0.9, tip - 0.01, 0.018, 0.011)
            img = _paint(img, _cover(nostril, pixel) * 0.6, skin * 0.45)
    else:
        nose = _capsule(fu, v, 0.0, 0.02, 0.015, -0.12, 0.035)
        img = _paint(img, _cover(nose, pixel) * 0.25, skin * 0.6)
        for side in (-1.0, 1.0):
            nostril = _ellipse(fu, v, side * 0.03, -0.13, 0.018, 0.011)
            img = _paint(img, _cover(nostril, pixel) * 0.6, skin * 0.45)
    if "age" in p:  # ageing: lines on the forehead, under the eyes and from the nose to the mouth
        age = _col(p["age"])
        line = skin * 0.62
        for k in range(3):
            wrinkle = _parabola_band(fu, v, 0.0, ey + 0.14 + 0.045 * k, -0.8, rx * 0.55, 0.006)
            img = _paint(img, _cover(wrinkle, pixel) * np.clip(age * 1.6 - 0.4 * k, 0, 0.8), line)
        for side in (-1.0, 1.0):
            bag = _parabola_band(fu, v, side * ex, ey - 0.055, 2.5, 0.05 * es, 0.006)
            img = _paint(img, _cover(bag, pixel) * np.clip(age * 1.3 - 0.2, 0, 0.7), line)
            fold = _capsule(fu, v, side * 0.07, -0.10, side * 0.12, -0.24, 0.007)
            img = _paint(img, _cover(fold, pixel) * np.clip(age * 1.4 - 0.5, 0, 0.7), line)

    # mouth
    my, mw = _col(p["mouth_y"]), _col(p["mouth_w"])
    lips = skin * 0.55 + _col(p["lip_colour"])[..., None] * np.float32([0.45, 0.12, 0.12])
    kind = p["mouth_kind"]
    sc = _col(p["smile_curve"])
    # 0: open smile (a crescent with teeth), 1: closed smile (a curved-up line)
    upper = my + sc * 0.35 * fu * fu
    lower = my - 0.10 + sc * 1.1 * fu * fu
    crescent = np.maximum(np.maximum(v - upper, lower - v), np.abs(fu) - mw)
    crescent = np.maximum(crescent, -(my + 0.5 * sc * mw * mw * 0.35 - v) - 1.0)
    img = _paint(img, _cover(crescent - 0.008, pixel) * _col(kind == 0), lips * 0.8)
    img = _paint(img, _cover(crescent + 0.004, pixel) * _col(kind == 0), np.float32([0.25, 0.05, 0.06]))
    teeth = np.maximum(crescent + 0.004, upper - 0.045 - v)
    img = _paint(img, _cover(teeth, pixel) * _col(kind == 0), np.float32([0.95, 0.93, 0.88]))
    closed = _parabola_band(fu, v, 0.0, my - 0.03, sc, mw, 0.02)
    img = _paint(img, _cover(closed - 0.008, pixel) * _col(kind == 1), lips)
    img = _paint(img, _cover(closed, pixel) * _col(kind == 1), lips * 0.45)
    # 2: neutral straight / slight, 3: down-turned, 4: small open "o"
    flat = _parabola_band(fu, v, 0.0, my - 0.01, _col(p["flat_curve"]), mw, 0.016)
    flat_on = _col((kind == 2) | (kind == 3))
    img = _paint(img, _cover(flat - 0.008, pixel) * flat_on, lips)
    img = _paint(img, _cover(flat, pixel) * flat_on, lips * 0.45)
    oh = _ellipse(fu, v, 0.0, my - 0.02, mw * 0.45, 0.035)
    img = _paint(img, _cover(oh - 0.01, pixel) * _col(kind == 4), lips)
    img = _paint(img, _cover(oh, pixel) * _col(kind == 4), np.float32([0.25, 0.05, 0.06]))
    # cheeks lift a little with a smile
    for side in (-1.0, 1.0):
        cheek = _ellipse(fu, v, side * 0.2, -0.12, 0.07, 0.05)
        img = _paint(img, _cover(cheek, pixel * 6) * 0.18 * _col(p["smile"]), skin * np.float32([1.05, 0.8, 0.8]))
    return _finish(img, rng, p["light_x"], p["light_y"], p["light_amp"], p["noise"])
