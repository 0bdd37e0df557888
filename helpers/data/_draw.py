"""Drawing primitives shared by the generated image sets, all batched with numpy.

Per-image parameters are ``(N, 1, 1)`` arrays and fields are ``(N, S, S)``: signed-distance shapes
(capsules, rounded boxes, ellipses, curved bands) in a per-image pose (rotation, scale, shift,
mirror), soft coverage and painting, skin tones, textured backgrounds, lighting and sensor noise,
plus the argument checks every generator uses (``ValueError`` with a clear message).
"""

from __future__ import annotations

import numpy as np


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
