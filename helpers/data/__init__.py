"""The course's image data sets, generated offline.

The course cannot download anything, so the small image data sets that the assignments use are
rendered here with vectorised numpy: every image is drawn from signed-distance shapes (capsules,
rounded boxes, ellipses, curves) in a per-image pose (rotation, scale, shift, mirror), with random
skin tones, lighting gradients, textured backgrounds and sensor noise.

Data sets (64x64 RGB, ``uint8``):

- **signs** -- a hand showing 0 to 5 raised fingers (6 classes), 1080 training / 120 test images,
  like the course's SIGNS set;
- **happy** -- a face that smiles (1) or does not (0), 600 training / 150 test images.

Both are deterministic by seed and written once to HDF5 files in the original course's layout
(keys ``train_set_x``, ``train_set_y``, ``test_set_x``, ``test_set_y``, ``list_classes``) under
``helpers.config.data_dir() / "generated"``. Every file carries a fingerprint of this module's
source and of the generation parameters; a stale or unreadable file is rebuilt. If the original
course's files (``train_signs.h5``/``test_signs.h5``, ``train_happy.h5``/``test_happy.h5``) are
placed directly in ``data_dir()``, the loaders read those instead.

Command line::

    python -m helpers.data build                  # write the cache files (no-op when fresh)
    python -m helpers.data preview --out previews # one PNG grid per data set

Shapes (N images of size S): images ``(N, S, S, 3)`` uint8, labels ``(N,)`` int64; the loaders
return labels as ``(1, m)`` rows like the original course.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from helpers import config

#: Bumped by hand when the meaning of the files changes (the source hash covers code edits).
FORMAT_VERSION = 1
#: Seed of the data sets the notebooks use.
DEFAULT_SEED = 0

SIGNS_SIZES = (1080, 120)
HAPPY_SIZES = (600, 150)
SIGNS_CLASSES = np.arange(6, dtype=np.int64)
HAPPY_CLASSES = np.arange(2, dtype=np.int64)

_ORIGINAL_FILES = {
    "signs": ("train_signs.h5", "test_signs.h5"),
    "happy": ("train_happy.h5", "test_happy.h5"),
}


# --------------------------------------------------------------------------------------------
# argument checks
# --------------------------------------------------------------------------------------------

def _check_count(n, name="n", minimum=1):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {type(n).__name__} ({n!r})")
    if n < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {n}")
    return int(n)


def _check_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def _check_size(size):
    size = _check_count(size, "size", minimum=16)
    if size > 512:
        raise ValueError(f"size must be at most 512 pixels, got {size}")
    return size


# --------------------------------------------------------------------------------------------
# drawing primitives, all batched: parameters are (N, 1, 1) arrays, fields are (N, S, S)
# --------------------------------------------------------------------------------------------

def _col(a):
    """(N,) -> (N, 1, 1) float32 so that per-image parameters broadcast over pixel grids."""
    return np.asarray(a, dtype=np.float32)[:, None, None]


def _grid(size):
    """Pixel centres in [-1, 1]: x grows to the right, y grows upwards. Shapes (1,1,S), (1,S,1)."""
    c = ((np.arange(size, dtype=np.float32) + 0.5) / size * 2.0 - 1.0)
    return c[None, None, :], -c[None, :, None]


def _pose(x, y, cx, cy, angle, scale, mirror):
    """Image coordinates -> the object's own frame (inverse of rotate+scale+shift, then mirror)."""
    dx, dy = x - cx, y - cy
    ca, sa = np.cos(angle), np.sin(angle)
    u = (ca * dx + sa * dy) / scale
    v = (-sa * dx + ca * dy) / scale
    return u * mirror, v


def _capsule(u, v, ax, ay, bx, by, r):
    """Signed distance to the segment a-b thickened by r (negative inside)."""
    pax, pay = u - ax, v - ay
    bax, bay = bx - ax, by - ay
    h = np.clip((pax * bax + pay * bay) / (bax * bax + bay * bay + 1e-9), 0.0, 1.0)
    return np.hypot(pax - bax * h, pay - bay * h) - r


def _round_box(u, v, cx, cy, hw, hh, r):
    """Signed distance to an axis-aligned box of half sizes (hw, hh) with corner radius r."""
    qx = np.abs(u - cx) - hw + r
    qy = np.abs(v - cy) - hh + r
    outside = np.hypot(np.maximum(qx, 0.0), np.maximum(qy, 0.0))
    return outside + np.minimum(np.maximum(qx, qy), 0.0) - r


def _ellipse(u, v, cx, cy, rx, ry):
    """Approximate signed distance to an ellipse (exact on the axes, good near the boundary)."""
    px, py = (u - cx), (v - cy)
    k0 = np.hypot(px / rx, py / ry)
    k1 = np.hypot(px / (rx * rx), py / (ry * ry)) + 1e-9
    return k0 * (k0 - 1.0) / k1


def _parabola_band(u, v, cx, cy, curve, half_width, thickness):
    """Distance to the curve y = cy + curve*(x-cx)^2 for |x-cx| <= half_width, thickened."""
    px = u - cx
    f = cy + curve * px * px
    slope = 2.0 * curve * px
    d_curve = np.abs(v - f) / np.sqrt(1.0 + slope * slope) - thickness
    return np.maximum(d_curve, np.abs(px) - half_width)


def _smin(a, b, k):
    """Smooth union of two distance fields (k: blend radius)."""
    h = np.clip(0.5 + 0.5 * (b - a) / k, 0.0, 1.0)
    return b * (1 - h) + a * h - k * h * (1 - h)


def _cover(d, pixel):
    """Anti-aliased coverage in [0, 1] of the shape d < 0, pixel = pixel size in the same units."""
    return np.clip(0.5 - d / pixel, 0.0, 1.0)


def _paint(img, alpha, colour):
    """Alpha-composite colour ((N,1,1,3) or (N,S,S,3)) over img (N,S,S,3) with alpha (N,S,S)."""
    alpha = np.broadcast_to(alpha, img.shape[:3])
    colour = np.broadcast_to(np.asarray(colour, dtype=np.float32), img.shape[:1] + (1, 1, 3)
                             if np.ndim(colour) < 4 or np.shape(colour)[1] == 1 else img.shape)
    used = np.flatnonzero(alpha.reshape(len(alpha), -1).max(axis=1) > 0)
    if len(used) == 0:
        return img
    if len(used) < len(img):  # only the images where this part is drawn
        part = img[used]
        part += alpha[used][..., None] * (colour[used] - part)
        img[used] = part
        return img
    img += alpha[..., None] * (colour - img)
    return img


def _upsample(low, size):
    """Bilinear upsampling of (N, k, k) to (N, size, size) (smooth random textures)."""
    k = low.shape[1]
    pos = (np.arange(size, dtype=np.float32) + 0.5) / size * k - 0.5
    pos = np.clip(pos, 0, k - 1)
    i0 = np.floor(pos).astype(int)
    i1 = np.minimum(i0 + 1, k - 1)
    t = (pos - i0).astype(np.float32)
    rows = low[:, i0, :] * (1 - t)[None, :, None] + low[:, i1, :] * t[None, :, None]
    return rows[:, :, i0] * (1 - t)[None, None, :] + rows[:, :, i1] * t[None, None, :]


def _skin_tones(rng, n):
    """Random skin colours (N, 3) in [0, 1], from very light to very dark."""
    anchors = np.array([
        [0.96, 0.82, 0.72], [0.90, 0.72, 0.58], [0.80, 0.60, 0.45],
        [0.66, 0.46, 0.32], [0.50, 0.33, 0.22], [0.36, 0.23, 0.16],
    ], dtype=np.float32)
    t = rng.uniform(0, len(anchors) - 1, n)
    i = np.minimum(np.floor(t).astype(int), len(anchors) - 2)
    f = (t - i)[:, None]
    tone = anchors[i] * (1 - f) + anchors[i + 1] * f
    tone *= rng.uniform(0.94, 1.06, (n, 1))
    tone[:, 0] *= rng.uniform(0.97, 1.04, n)  # a little redness variation
    return np.clip(tone, 0, 1).astype(np.float32)


def _backgrounds(rng, n, size, skin, saturation=0.4, stripes_p=0.25):
    """Textured backgrounds (N, S, S, 3): base colour, linear gradient, soft blotches, stripes.

    The base brightness differs from the skin's (N, 3) by 0.25..0.5, so the subject stands out.
    """
    hue = rng.uniform(0.0, 1.0, (n, 3))
    hue = hue - hue.mean(axis=1, keepdims=True)
    skin_lum = skin.mean(axis=1)
    gap = rng.uniform(0.22, 0.45, n)
    up, down = skin_lum + gap, skin_lum - gap
    # lighter or darker than the skin, half and half: a linear model on raw pixels cannot use
    # "skin is brighter than the background" (or darker), a ConvNet's edge detectors can
    lum = np.where((up <= 0.97) & ((rng.random(n) < 0.5) | (down < 0.08)), up, down)
    lum = np.clip(lum, 0.1, 0.95)
    base = np.clip(lum[:, None] + saturation * hue, 0.02, 1.0)
    # half of the backgrounds have the skin's own hue (only the brightness differs), so colour
    # alone does not tell hand from background
    skin_hued = np.clip(skin * (lum / np.maximum(skin_lum, 1e-3))[:, None], 0.02, 1.0)
    base = np.where((rng.random(n) < 0.5)[:, None], skin_hued, base)
    x, y = _grid(size)
    ang = rng.uniform(0, 2 * np.pi, n)
    strength = rng.uniform(0.0, 0.35, n)
    grad = 1.0 + _col(strength) * (np.cos(_col(ang)) * x + np.sin(_col(ang)) * y) * 0.5
    tex = _upsample(rng.normal(0, 1, (n, 6, 6)).astype(np.float32), size)
    tex_amp = rng.uniform(0.0, 0.10, n)
    fine = _upsample(rng.normal(0, 1, (n, 16, 16)).astype(np.float32), size)
    fine_amp = rng.uniform(0.0, 0.05, n)
    stripe_on = rng.random(n) < stripes_p
    stripe_freq = rng.uniform(4, 14, n)
    stripe_ang = rng.uniform(0, np.pi, n)
    stripes = np.sin(_col(stripe_freq) * (np.cos(_col(stripe_ang)) * x + np.sin(_col(stripe_ang)) * y) * np.pi)
    stripes = _col(stripe_on * 0.06) * np.sign(stripes)
    light_field = grad + _col(tex_amp) * tex + _col(fine_amp) * fine + stripes
    tint = rng.uniform(-0.04, 0.04, (n, 3)).astype(np.float32)
    img = base[:, None, None, :].astype(np.float32) * light_field[..., None] + tint[:, None, None, :]
    return img.astype(np.float32)


def _finish(img, rng, lighting_x, lighting_y, light_amp, noise_sigma):
    """Global lighting gradient, colour cast, noise, quantisation to uint8."""
    n, size = img.shape[0], img.shape[1]
    x, y = _grid(size)
    light = 1.0 + _col(light_amp) * (_col(lighting_x) * x + _col(lighting_y) * y)
    img *= light[..., None]
    # white balance: every picture gets its own colour cast
    img *= rng.uniform(0.86, 1.14, (n, 1, 1, 3)).astype(np.float32)
    img += rng.normal(0, 1, img.shape).astype(np.float32) * noise_sigma[:, None, None, None] / 255.0
    return np.clip(np.rint(img * 255.0), 0, 255).astype(np.uint8)


def _labels(rng, n, labels, n_classes, range_message):
    """Labels to render: balanced classes in random order when ``labels`` is None, else the given
    (n,) integers, checked to lie in 0..n_classes-1 (ValueError with ``range_message`` otherwise)."""
    if labels is None:
        return _balanced_labels(rng, n, n_classes)
    labels = np.asarray(labels)
    if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be {n} integers, got shape {labels.shape} dtype {labels.dtype}")
    if labels.min() < 0 or labels.max() > n_classes - 1:
        raise ValueError(range_message)
    return labels.astype(np.int64)


def _balanced_labels(rng, n, n_classes):
    """n labels with every class as equally often as possible, in random order."""
    labels = np.arange(n, dtype=np.int64) % n_classes
    return rng.permutation(labels)


# --------------------------------------------------------------------------------------------
# hand signs
# --------------------------------------------------------------------------------------------

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


def _render_chunks(render, params, n, seed, size, chunk=256):
    """Render in chunks (bounded memory); each chunk has its own noise stream, so results do not
    depend on anything but (seed, n, size)."""
    out = np.empty((n, size, size, 3), dtype=np.uint8)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        part = {k: v[start:stop] for k, v in params.items()}
        rng = np.random.default_rng([seed, 7919, start])
        out[start:stop] = render(part, rng, size)
    return out


# --------------------------------------------------------------------------------------------
# happy faces
# --------------------------------------------------------------------------------------------

_HAIR_COLOURS = np.array([
    [0.08, 0.06, 0.05], [0.22, 0.14, 0.08], [0.40, 0.26, 0.14], [0.62, 0.45, 0.25],
    [0.85, 0.72, 0.45], [0.60, 0.25, 0.10], [0.55, 0.55, 0.55], [0.90, 0.90, 0.88],
], dtype=np.float32)
_EYE_COLOURS = np.array([[0.25, 0.15, 0.08], [0.15, 0.30, 0.55], [0.25, 0.45, 0.25],
                         [0.10, 0.08, 0.06]], dtype=np.float32)


def _happy_params(rng, labels):
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


def _render_happy(p, rng, size):
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
    nose = _capsule(fu, v, 0.0, 0.02, 0.015, -0.12, 0.035)
    img = _paint(img, _cover(nose, pixel) * 0.25, skin * 0.6)
    for side in (-1.0, 1.0):
        nostril = _ellipse(fu, v, side * 0.03, -0.13, 0.018, 0.011)
        img = _paint(img, _cover(nostril, pixel) * 0.6, skin * 0.45)

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


def make_happy(n, seed, size=64, labels=None):
    """Render n face images, smiling (label 1) or not (label 0).

    Inputs: n (int >= 1), seed (int >= 0), size (pixels, 16..512), labels: optional (n,) of 0/1.
    Returns: X uint8 (n, size, size, 3), y int64 (n,).
    """
    n, seed, size = _check_count(n), _check_seed(seed), _check_size(size)
    rng = np.random.default_rng(seed)
    labels = _labels(rng, n, labels, 2, "labels must be 0 (not smiling) or 1 (smiling)")
    params = _happy_params(rng, labels)
    return _render_chunks(_render_happy, params, n, seed, size), labels


# --------------------------------------------------------------------------------------------
# HDF5 files and loaders
# --------------------------------------------------------------------------------------------

_MAKERS = {"signs": (make_signs, SIGNS_SIZES, SIGNS_CLASSES),
           "happy": (make_happy, HAPPY_SIZES, HAPPY_CLASSES)}


def _check_name(name):
    if name not in _MAKERS:
        raise ValueError(f"unknown data set {name!r}; choose one of {sorted(_MAKERS)}")
    return name


def fingerprint(name, seed=DEFAULT_SEED):
    """Hex digest identifying a generated data set: a hash of a few freshly rendered sample images
    (so any change of the generator's output, and only that, invalidates the cache), the format
    version, the seed and the set sizes."""
    _check_name(name)
    seed = _check_seed(seed)
    make, sizes, _ = _MAKERS[name]
    sample, labels = make(6, seed=90210)
    h = hashlib.sha256()
    h.update(sample.tobytes())
    h.update(labels.tobytes())
    h.update(f"{name}|{seed}|{FORMAT_VERSION}|{sizes}".encode())
    return h.hexdigest()[:16]


def generated_paths(name, seed=DEFAULT_SEED, directory=None):
    """(train_path, test_path) of the generated files of a data set (they may not exist yet)."""
    _check_name(name)
    seed = _check_seed(seed)
    root = Path(directory) if directory is not None else config.data_dir()
    folder = root / "generated"
    train_file, test_file = _ORIGINAL_FILES[name]
    stem = f"seed{seed}"
    return (folder / train_file.replace(".h5", f"_{stem}.h5"),
            folder / test_file.replace(".h5", f"_{stem}.h5"))


def _write_h5(path, prefix, X, y, classes, digest):
    import h5py

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as f:
            f.create_dataset(f"{prefix}_set_x", data=X)
            f.create_dataset(f"{prefix}_set_y", data=y)
            f.create_dataset("list_classes", data=classes)
            f.attrs["fingerprint"] = digest
        os.replace(tmp, path)  # atomic: readers never see a half-written file
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _is_fresh(path, prefix, digest, count):
    import h5py

    try:
        with h5py.File(path, "r") as f:
            if f.attrs.get("fingerprint") != digest:
                return False
            return (f[f"{prefix}_set_x"].shape == (count, 64, 64, 3)
                    and f[f"{prefix}_set_y"].shape == (count,) and "list_classes" in f)
    except (OSError, KeyError, ValueError):
        return False


def build_dataset(name, seed=DEFAULT_SEED, directory=None, force=False):
    """Generate a data set's two HDF5 files unless fresh ones exist; return (train_path, test_path).

    A file whose fingerprint differs (the generator changed) or that cannot be read is rebuilt.
    """
    _check_name(name)
    seed = _check_seed(seed)
    make, (n_train, n_test), classes = _MAKERS[name]
    digest = fingerprint(name, seed)
    train_path, test_path = generated_paths(name, seed, directory)
    if (not force and _is_fresh(train_path, "train", digest, n_train)
            and _is_fresh(test_path, "test", digest, n_test)):
        return train_path, test_path
    train_seed, test_seed = (int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(2))
    X, y = make(n_train, train_seed)
    _write_h5(train_path, "train", X, y, classes, digest)
    X, y = make(n_test, test_seed)
    _write_h5(test_path, "test", X, y, classes, digest)
    return train_path, test_path


def load_h5_pair(train_path, test_path):
    """Read a (train, test) pair of files in the course's layout.

    Returns X_train (m, 64, 64, 3) uint8, Y_train (1, m), X_test, Y_test (1, m_test), classes.
    """
    import h5py

    with h5py.File(train_path, "r") as f:
        X_train = np.array(f["train_set_x"][:])
        Y_train = np.array(f["train_set_y"][:])
    with h5py.File(test_path, "r") as f:
        X_test = np.array(f["test_set_x"][:])
        Y_test = np.array(f["test_set_y"][:])
        classes = np.array(f["list_classes"][:])
    return X_train, Y_train.reshape(1, -1), X_test, Y_test.reshape(1, -1), classes


def original_paths(name, directory=None):
    """(train, test) paths of the original course's files in the data folder, or None if absent."""
    _check_name(name)
    root = Path(directory) if directory is not None else config.data_dir()
    paths = tuple(root / f for f in _ORIGINAL_FILES[name])
    return paths if all(p.is_file() for p in paths) else None


def _load(name, seed, directory):
    original = original_paths(name, directory)
    if original is not None:
        return load_h5_pair(*original)
    paths = build_dataset(name, seed, directory)
    try:
        return load_h5_pair(*paths)
    except (OSError, KeyError, ValueError):  # damaged after the freshness check: rebuild once
        return load_h5_pair(*build_dataset(name, seed, directory, force=True))


def load_signs_dataset(seed=DEFAULT_SEED, directory=None):
    """The hand-signs data set (0 to 5 raised fingers), like the course's SIGNS.

    Returns X_train uint8 (1080, 64, 64, 3), Y_train int (1, 1080), X_test (120, 64, 64, 3),
    Y_test (1, 120), classes (6,). Reads the original ``train_signs.h5``/``test_signs.h5`` if they
    are in ``directory`` (default ``helpers.config.data_dir()``), else the generated set.
    """
    return _load("signs", seed, directory)


def load_happy_dataset(seed=DEFAULT_SEED, directory=None):
    """The happy-faces data set (1 = smiling).

    Returns X_train uint8 (600, 64, 64, 3), Y_train int (1, 600), X_test (150, 64, 64, 3),
    Y_test (1, 150), classes (2,). Reads the original ``train_happy.h5``/``test_happy.h5`` if they
    are in ``directory`` (default ``helpers.config.data_dir()``), else the generated set.
    """
    return _load("happy", seed, directory)


def convert_to_one_hot(Y, C):
    """Labels (1, m) or (m,) of ints in [0, C) -> one-hot (C, m) (the course's layout)."""
    Y = np.asarray(Y).reshape(-1)
    C = _check_count(C, "C")
    if Y.size and (Y.min() < 0 or Y.max() >= C):
        raise ValueError(f"labels must lie in [0, {C}), got values from {Y.min()} to {Y.max()}")
    return np.eye(C, dtype=np.float32)[Y.astype(int)].T


# --------------------------------------------------------------------------------------------
# previews and command line
# --------------------------------------------------------------------------------------------

def save_preview(name, out_dir, seed=DEFAULT_SEED, per_class=8, directory=None):
    """Write ``<out_dir>/<name>.png``: a grid of training images, one row per class."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _check_name(name)
    per_class = _check_count(per_class, "per_class")
    X, Y, _, _, classes = _load(name, seed, directory)
    Y = Y.reshape(-1)
    titles = {"signs": "{} finger(s)", "happy": "{}"}
    fig, axes = plt.subplots(len(classes), per_class, figsize=(per_class * 1.1, len(classes) * 1.2))
    for row, c in enumerate(classes):
        idx = np.flatnonzero(Y == c)[:per_class]
        for col in range(per_class):
            ax = axes[row, col]
            ax.axis("off")
            if col < len(idx):
                ax.imshow(X[idx[col]])
        label = titles[name].format(int(c)) if name == "signs" else ("smiling" if c else "not smiling")
        axes[row, 0].set_title(label, fontsize=8, loc="left")
    fig.tight_layout()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m helpers.data", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="write the data sets' HDF5 files (no-op when fresh)")
    b.add_argument("--seed", type=int, default=DEFAULT_SEED)
    b.add_argument("--force", action="store_true")
    pv = sub.add_parser("preview", help="write one PNG grid per data set")
    pv.add_argument("--out", default="previews")
    pv.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    import time

    for name in _MAKERS:
        t0 = time.perf_counter()
        if args.command == "build":
            paths = build_dataset(name, args.seed, force=args.force)
            print(f"{name}: {paths[0]} {paths[1]} ({time.perf_counter() - t0:.1f} s)")
        else:
            path = save_preview(name, args.out, seed=args.seed)
            print(f"{name}: {path} ({time.perf_counter() - t0:.1f} s)")
    return 0


