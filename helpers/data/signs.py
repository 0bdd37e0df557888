"""The hand-signs set: a right hand showing 0 to 5 raised fingers (6 classes), like the course's SIGNS.

64x64 RGB ``uint8`` images drawn from signed-distance shapes in a per-image pose, with varied skin,
lighting, colour cast and textured backgrounds; :func:`make_signs` is deterministic by seed.
"""

from __future__ import annotations

import numpy as np

from helpers.data._draw import (
    _backgrounds,
    _capsule,
    _check_count,
    _check_seed,
    _check_size,
    _col,
    _cover,
    _finish,
    _grid,
    _labels,
    _paint,
    _parabola_band,
    _pose,
    _render_chunks,
    _round_box,
    _skin_tones,
    _smin,
)

SIGNS_SIZES = (1080, 120)
SIGNS_CLASSES = np.arange(6, dtype=np.int64)


# Fingers index, middle, ring, little in the hand's own frame (right hand, palm towards camera,
# units: the palm is about 0.55 wide). x of the base, base height, length, radius, splay angle.
_FINGER_X = np.array([-0.195, -0.065, 0.065, 0.19], dtype=np.float32)
_FINGER_BASE_Y = np.array([0.13, 0.16, 0.14, 0.09], dtype=np.float32)
_FINGER_LEN = np.array([0.42, 0.47, 0.43, 0.33], dtype=np.float32)
_FINGER_R = np.array([0.062, 0.064, 0.060, 0.052], dtype=np.float32)
_FINGER_SPLAY = np.array([-0.16, -0.04, 0.07, 0.19], dtype=np.float32)

# Usual ways of showing k fingers (bit 0..3 = index..little, bit 4 = thumb).
_USUAL_SIGNS = {
    0: [0b00000],
    1: [0b00001],
    2: [0b00011],
    3: [0b00111],
    4: [0b01111],
    5: [0b11111],
}


def _choose_fingers(rng, labels):
    """(N,) finger counts -> (N, 5) booleans (index, middle, ring, little, thumb raised)."""
    n = len(labels)
    raised = np.zeros((n, 5), dtype=bool)
    usual = rng.random(n) < 1.0
    for i, k in enumerate(labels):
        if usual[i]:
            options = _USUAL_SIGNS[int(k)]
            mask = options[rng.integers(len(options))]
            raised[i] = [(mask >> b) & 1 for b in range(5)]
        else:
            raised[i, rng.choice(5, size=int(k), replace=False)] = True
    return raised


def _sign_params(rng, labels):
    n = len(labels)
    p = {
        "raised": _choose_fingers(rng, labels),
        "skin": _skin_tones(rng, n),
        "cx": rng.uniform(-0.32, 0.32, n),
        "cy": rng.uniform(-0.44, -0.26, n),
        "angle": rng.uniform(-0.12, 0.12, n),
        "scale": rng.uniform(1.5, 1.7, n),
        "mirror": np.ones(n),  # always the right hand, palm towards the camera, as in SIGNS
        "palm_w": rng.uniform(0.26, 0.31, n),
        "palm_h": rng.uniform(0.24, 0.29, n),
        "finger_len": rng.uniform(0.88, 1.12, (n, 4)) * rng.uniform(0.92, 1.08, (n, 1)),
        "finger_r": rng.uniform(0.92, 1.1, (n, 1)) * np.ones((n, 4)),
        "splay": rng.uniform(1.2, 1.7, n),
        "bend": rng.uniform(-0.08, 0.08, (n, 4)),
        "thumb_angle": rng.uniform(0.75, 1.15, n),
        "thumb_len": rng.uniform(0.30, 0.36, n),
        "light_x": rng.uniform(-1, 1, n),
        "light_y": rng.uniform(-1, 1, n),
        "light_amp": rng.uniform(0.0, 0.25, n),
        "noise": rng.uniform(1.0, 5.0, n),
        "shadow_dx": rng.uniform(-0.06, 0.06, n),
        "shadow_dy": rng.uniform(-0.06, 0.0, n),
        "shadow_a": rng.uniform(0.1, 0.35, n),
    }
    return p


def _render_signs(p, rng, size):
    n = len(p["cx"])
    img = _backgrounds(rng, n, size, p["skin"], saturation=0.3, stripes_p=0.05)
    x, y = _grid(size)
    scale = _col(p["scale"])
    pixel = (2.0 / size) / scale
    pose = (_col(p["cx"]), _col(p["cy"]), _col(p["angle"]), scale, _col(p["mirror"]))
    u, v = _pose(x, y, *pose)
    raised = p["raised"]
    skin = p["skin"]

    def hand_mass(uu, vv):
        """Palm + wrist + raised fingers + raised thumb as one smooth silhouette, with parts."""
        pw, ph = _col(p["palm_w"]), _col(p["palm_h"])
        palm = _round_box(uu, vv, 0.0, -0.1, pw, ph, 0.13)
        wrist = _round_box(uu, vv, 0.0, -0.75, pw * 0.78, 0.45, 0.08)
        mass = _smin(palm, wrist, 0.08)
        fingers = []
        for f in range(4):
            bx = _FINGER_X[f] * pw / 0.28
            by = _FINGER_BASE_Y[f] + ph - 0.27
            ang = _FINGER_SPLAY[f] * _col(p["splay"])
            length = _FINGER_LEN[f] * _col(p["finger_len"][:, f])
            r = _FINGER_R[f] * _col(p["finger_r"][:, f])
            mx = bx + np.sin(ang) * length * 0.5 + _col(p["bend"][:, f]) * 0.1
            my = by + np.cos(ang) * length * 0.5
            tx = bx + np.sin(ang) * length
            ty = by + np.cos(ang) * length
            seg = np.minimum(_capsule(uu, vv, bx, by - 0.05, mx, my, r * 1.05),
                             _capsule(uu, vv, mx, my, tx, ty, r * 0.95))
            fingers.append((seg, by))
            on = _col(raised[:, f])
            mass = np.where(on > 0, _smin(mass, seg, 0.03), mass)
        ta = _col(p["thumb_angle"])
        tl = _col(p["thumb_len"])
        tbx, tby = pw * 0.85, -0.22
        tmx, tmy = tbx + np.sin(ta) * tl * 0.55, tby + np.cos(ta) * tl * 0.55
        ttx, tty = tmx + np.sin(ta - 0.35) * tl * 0.5, tmy + np.cos(ta - 0.35) * tl * 0.5
        thumb = np.minimum(_capsule(uu, vv, tbx - 0.1, tby - 0.08, tmx, tmy, 0.085),
                           _capsule(uu, vv, tmx, tmy, ttx, tty, 0.07))
        mass = np.where(_col(raised[:, 4]) > 0, _smin(mass, thumb, 0.05), mass)
        return mass, palm, fingers, thumb

    mass, palm, fingers, thumb = hand_mass(u, v)
    # soft shadow on the background: the silhouette, blurred and shifted by a few pixels
    soft = np.clip(0.5 - mass * (size / 6.0), 0.0, 1.0)
    shift_x = np.rint(p["shadow_dx"] * size / 2).astype(int)
    shift_y = np.rint(-p["shadow_dy"] * size / 2).astype(int)
    m = int(max(np.abs(shift_x).max(), np.abs(shift_y).max(), 1))
    padded = np.pad(soft, ((0, 0), (m, m), (m, m)), mode="edge")
    shadow = np.stack([padded[i, m - shift_y[i]:m - shift_y[i] + size, m - shift_x[i]:m - shift_x[i] + size]
                       for i in range(n)])
    img *= (1.0 - shadow * _col(p["shadow_a"]))[..., None]
    depth = np.sqrt(np.clip(-mass / 0.09, 0.0, 1.0))
    shade = 0.70 + 0.30 * depth
    # creases: darken along the side edges of raised fingers where they meet other skin
    for f, (seg, by) in enumerate(fingers):
        on = _col(raised[:, f])
        edge = np.exp(-(seg / 0.014) ** 2) * (v > by + 0.02) * (mass < -0.01)
        shade = shade * (1.0 - 0.28 * edge * on)
    # palm lines
    line = _parabola_band(u, v, 0.02, -0.02, -0.9, 0.2, 0.004)
    shade = shade * (1.0 - 0.10 * _cover(line, pixel * 1.5))
    colour = skin[:, None, None, :] * shade[..., None]
    img = _paint(img, _cover(mass, pixel), colour)

    # folded fingers: the backs of the curled fingers lie over the palm, knuckles on top
    for f in range(4):
        off = _col(~raised[:, f])
        pw, ph = _col(p["palm_w"]), _col(p["palm_h"])
        bx = _FINGER_X[f] * pw / 0.28
        by = _FINGER_BASE_Y[f] + ph - 0.27
        r = _FINGER_R[f] * _col(p["finger_r"][:, f]) * 1.08
        seg = _capsule(u, v, bx, by + 0.03, bx * 0.92, by - 0.13, r)
        d_depth = np.sqrt(np.clip(-seg / 0.06, 0, 1))
        fshade = 0.66 + 0.30 * d_depth
        img = _paint(img, _cover(seg, pixel) * off, skin[:, None, None, :] * fshade[..., None])
        nail = _capsule(u, v, bx * 0.92, by - 0.10, bx * 0.92, by - 0.14, r * 0.55)
        img = _paint(img, _cover(nail, pixel) * off * 0.5,
                     (skin * 0.6 + 0.4 * np.array([0.95, 0.8, 0.78], np.float32))[:, None, None, :])
    # folded thumb across the palm
    pw = _col(p["palm_w"])
    thumb_f = np.minimum(_capsule(u, v, pw * 0.95, -0.28, pw * 0.35, -0.12, 0.085),
                         _capsule(u, v, pw * 0.35, -0.12, -pw * 0.25, -0.06, 0.07))
    tdepth = np.sqrt(np.clip(-thumb_f / 0.06, 0, 1))
    img = _paint(img, _cover(thumb_f, pixel) * _col(~raised[:, 4]),
                 skin[:, None, None, :] * (0.68 + 0.30 * tdepth)[..., None])
    # fingernails of raised fingers (paler tips)
    return _finish(img, rng, p["light_x"], p["light_y"], p["light_amp"], p["noise"])


def make_signs(n, seed, size=64, labels=None):
    """Render n hand-sign images.

    Inputs: n (int >= 1), seed (int >= 0), size (pixels, 16..512), labels: optional (n,) ints in
    0..5 (default: balanced classes in random order).
    Returns: X uint8 (n, size, size, 3), y int64 (n,) -- the number of raised fingers.
    Deterministic: the same (n, seed, size, labels) give the same images.
    """
    n, seed, size = _check_count(n), _check_seed(seed), _check_size(size)
    rng = np.random.default_rng(seed)
    labels = _labels(rng, n, labels, 6, "labels must be finger counts between 0 and 5")
    params = _sign_params(rng, labels)
    return _render_chunks(_render_signs, params, n, seed, size), labels
