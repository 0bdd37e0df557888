"""The happy-faces set: a face that smiles (1) or does not (0), like the course's Happy House set.

64x64 RGB ``uint8`` images of drawn faces (hair, glasses, skin, pose, lighting); :func:`make_happy`
is deterministic by seed.
"""

from __future__ import annotations

import numpy as np

from helpers.data._draw import _check_count, _check_seed, _check_size, _labels, _render_chunks
from helpers.data._face import face_params, render_faces

HAPPY_SIZES = (600, 150)
HAPPY_CLASSES = np.arange(2, dtype=np.int64)


def make_happy(n, seed, size=64, labels=None):
    """Render n face images, smiling (label 1) or not (label 0).

    Inputs: n (int >= 1), seed (int >= 0), size (pixels, 16..512), labels: optional (n,) of 0/1.
    Returns: X uint8 (n, size, size, 3), y int64 (n,).
    """
    n, seed, size = _check_count(n), _check_seed(seed), _check_size(size)
    rng = np.random.default_rng(seed)
    labels = _labels(rng, n, labels, 2, "labels must be 0 (not smiling) or 1 (smiling)")
    params = face_params(rng, labels)
    return _render_chunks(render_faces, params, n, seed, size), labels
