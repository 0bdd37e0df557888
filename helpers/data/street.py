"""Street scenes seen from a car, with per-pixel labels and object boxes (week 3).

The original U-Net assignment segments frames of the CARLA driving simulator, which cannot be
downloaded here, so this module renders its own: a pinhole camera 1.2-1.8 m above a flat road
looks down a street; the road (2-4 lanes, dashed and solid markings, sometimes a zebra crossing
and parking lanes) runs to the vanishing point between sidewalks, grass strips, fences and
facades (buildings with windows, walls, hedges, gaps onto a distant skyline). Street lamps,
traffic lights and traffic signs stand on the sidewalks; trees, pedestrians and cars of four
shapes (sedan, hatchback/SUV, van, box truck; seen from behind, oncoming from the front, and from
the side when they are off-centre) are placed in the world and drawn through a depth buffer, so
nearer things occlude farther ones whatever the drawing order. Each frame gets its own light
(gain, colour cast, sun side, cast shadows, haze by distance), textures, blur and sensor noise.
Everything is vectorised numpy over batches of frames.

Colours overlap between classes on purpose: grey road, grey sidewalks, grey buildings, grey poles
and grey cars; green trees, green grass, green cars, green fences and green signs; white lane
lines, white cars and white signs; and every frame is lit differently. A per-pixel classifier on
colour alone does poorly (``benchmarks/street_scenes.py`` measures it); telling the classes apart
needs shape, texture and context, which is what the U-Net learns.

Speed: 60-150 frames/s at 96x128 on 2 shared cores (``benchmarks/street_scenes.py``): whole-frame
surfaces are (n, H, W) fields, objects are drawn on flat lists of the pixels of their rectangles.

Labels are CARLA's semantic-segmentation class ids (the original assignment's 23 classes,
``CLASS_NAMES``). The ids that appear: 1 building, 2 fence, 4 pedestrian, 5 pole, 6 road line,
7 road, 8 sidewalk, 9 vegetation, 10 vehicle, 11 wall, 12 traffic sign, 13 sky, 18 traffic light,
22 terrain (``CLASSES_PRESENT``); 0, 3, 14-17 and 19-21 never do. Lamp posts and the posts of signs
and traffic lights are poles (5), a traffic light's housing is 18, a sign's plate 12, tree trunks
and crowns vegetation, crossings road lines, as in CARLA.

Objects (``BOX_CLASSES``: pedestrians, poles, vegetation (trees), vehicles, traffic signs,
traffic lights) carry a bounding box of their *visible* pixels, ``(x1, y1, x2, y2)`` in pixel-edge
coordinates (a single pixel at column c, row r has the box ``(c, r, c + 1, r + 1)``), and an
instance map says which pixel belongs to which box. Objects hidden completely get no box.

The scene layout is drawn from ``seed`` in world units and does not depend on the frame size, so
``make_street_scenes(n, seed, 384, 512)`` shows the same streets as ``(n, seed, 96, 128)``, larger
(only the fine texture noise differs): week 3's detection notebook uses them at a larger size.

Cache (``build_street_cache``, ``load_street_dataset``): ``data_dir()/generated/street/<H>x<W>_seed<S>/``
in the original assignment's layout, ``CameraRGB/000000.png ...`` and ``CameraMask/000000.png ...``
(RGB masks with the class id in the red channel, like CARLA's), plus ``boxes.json`` and a
``manifest.json`` holding a fingerprint of the generator and a hash of every file; a missing,
stale or damaged cache is rebuilt in a temporary folder and renamed into place. If the original
assignment's files are in ``data_dir()/data/CameraRGB`` and ``data_dir()/data/CameraMask``, the
loader reads those instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

from helpers import config

# --------------------------------------------------------------------------------------------
# classes
# --------------------------------------------------------------------------------------------

#: CARLA's semantic-segmentation classes, indexed by id (the original assignment's 23 classes).
CLASS_NAMES = (
    "unlabeled", "building", "fence", "other", "pedestrian", "pole", "road line", "road",
    "sidewalk", "vegetation", "vehicle", "wall", "traffic sign", "sky", "ground", "bridge",
    "rail track", "guard rail", "traffic light", "static", "dynamic", "water", "terrain",
)
N_CLASSES = len(CLASS_NAMES)

BUILDING, FENCE, PEDESTRIAN, POLE, ROAD_LINE, ROAD, SIDEWALK = 1, 2, 4, 5, 6, 7, 8
VEGETATION, VEHICLE, WALL, TRAFFIC_SIGN, SKY, TRAFFIC_LIGHT, TERRAIN = 9, 10, 11, 12, 13, 18, 22

#: The class ids this generator draws.
CLASSES_PRESENT = (BUILDING, FENCE, PEDESTRIAN, POLE, ROAD_LINE, ROAD, SIDEWALK, VEGETATION,
                   VEHICLE, WALL, TRAFFIC_SIGN, SKY, TRAFFIC_LIGHT, TERRAIN)
#: Classes of the objects that get bounding boxes.
BOX_CLASSES = (PEDESTRIAN, POLE, VEGETATION, VEHICLE, TRAFFIC_SIGN, TRAFFIC_LIGHT)

#: Colours of CARLA's own palette (for overlays and previews), RGB 0-255, indexed by id.
CLASS_COLOURS = np.array([
    (0, 0, 0), (70, 70, 70), (100, 40, 40), (55, 90, 80), (220, 20, 60), (153, 153, 153),
    (157, 234, 50), (128, 64, 128), (244, 35, 232), (107, 142, 35), (0, 0, 142),
    (102, 102, 156), (220, 220, 0), (70, 130, 180), (81, 0, 81), (150, 100, 100),
    (230, 150, 140), (180, 165, 180), (250, 170, 30), (110, 190, 160), (170, 120, 50),
    (45, 60, 150), (145, 170, 100)], dtype=np.uint8)

#: Number of frames of the cached set (the original assignment has 1060 CARLA frames).
DEFAULT_FRAMES = 1060
DEFAULT_SEED = 0
#: Bumped by hand when the cache's layout changes (the fingerprint covers the generator's output).
FORMAT_VERSION = 1

_CHUNK = 32            # frames rendered together; parameters are drawn per chunk of this size
_CAR_SLOTS = 6
_PEDESTRIAN_SLOTS = 5
_POLE_SLOTS = 3        # per side of the street
_TREE_SLOTS = 3        # per side
_SEGMENTS = 7          # facade segments per side
_FAR = 1.0e5           # depth of the distant skyline; the sky is at infinity
_NOWHERE = 1.0e7       # depth of a plane that a pixel column does not see


class StreetScenes(NamedTuple):
    """A batch of rendered frames.

    images (n, H, W, 3) uint8; masks (n, H, W) uint8 class ids; instances (n, H, W) int16, 0 for
    "stuff" (road, sky, buildings, ...) and k + 1 for the pixels of ``boxes[i][k]``; boxes: list of
    n float32 arrays (k_i, 4) of (x1, y1, x2, y2) pixel-edge corners of the visible pixels; classes:
    list of n int64 arrays (k_i,) of class ids (one of ``BOX_CLASSES``).
    """

    images: np.ndarray
    masks: np.ndarray
    instances: np.ndarray
    boxes: list
    classes: list


# --------------------------------------------------------------------------------------------
# argument checks
# --------------------------------------------------------------------------------------------

def _integer(value, name, low, high=None):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {type(value).__name__} ({value!r})")
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValueError(f"{name} must be {bounds}, got {value}")
    return int(value)


def _check_frame_size(height, width):
    height = _integer(height, "height", 32, 1024)
    width = _integer(width, "width", 32, 1024)
    if not 0.5 <= width / height <= 3.0:
        raise ValueError(f"width / height must lie between 0.5 and 3, got {width} x {height}")
    return height, width


# --------------------------------------------------------------------------------------------
# small numeric helpers (fields are (n, H, W); per-frame values are (n,) or (n, 1, 1))
# --------------------------------------------------------------------------------------------

def _c(values):
    """(n,) -> (n, 1, 1) float32, so per-frame values broadcast over pixel fields."""
    return np.asarray(values, dtype=np.float32)[:, None, None]


def _b(values):
    """(n,) -> (n, 1, 1) bool: per-frame flags that broadcast over pixel fields."""
    return np.asarray(values, dtype=bool)[:, None, None]


def _rgb(values):
    """(n, 3) -> (n, 1, 1, 3) float32 colours that broadcast over (n, H, W, 3) images."""
    return np.asarray(values, dtype=np.float32)[:, None, None, :]


class _FrameNoise:
    """Random textures drawn frame by frame from ``default_rng([seed, frame, 1])``, so frame i is
    the same picture whatever n is, and its coarse textures (drawn first, on grids whose size does
    not depend on the frame's) are the same at every frame size."""

    def __init__(self, seed, first, count):
        self.rngs = [np.random.default_rng([seed, first + i, 1]) for i in range(count)]

    def normal(self, *shape):
        """Standard normal values (count, *shape) float32."""
        return np.stack([r.standard_normal(shape, dtype=np.float32) for r in self.rngs])


def _smooth_noise(noise, height, width, cells_y, cells_x):
    """Smooth noise (n, H, W) float32, about N(0, 0.6): random values on a coarse grid of
    cells_y x cells_x, interpolated bilinearly."""
    low = noise.normal(cells_y + 1, cells_x + 1)

    def axis(size, cells):
        pos = (np.arange(size, dtype=np.float32) + 0.5) / size * cells
        i0 = np.minimum(pos.astype(int), cells - 1)
        return i0, (pos - i0).astype(np.float32)

    iy, ty = axis(height, cells_y)
    ix, tx = axis(width, cells_x)
    rows = low[:, iy, :] * (1 - ty)[None, :, None] + low[:, iy + 1, :] * ty[None, :, None]
    return rows[:, :, ix] * (1 - tx) + rows[:, :, ix + 1] * tx


def _frac(a):
    return a - np.floor(a)


def _hash01(*ints):
    """Cheap deterministic pseudo-random values in [0, 1) from integer arrays (per window, ...)."""
    h = np.zeros(np.broadcast_shapes(*(np.shape(i) for i in ints)), dtype=np.uint32)
    for k, i in enumerate(ints):
        h = h ^ (np.asarray(i).astype(np.int64).astype(np.uint32) * np.uint32((0x9E3779B1 + 0x85EBCA77 * k) & 0xFFFFFFFF))
        h = (h ^ (h >> np.uint32(15))) * np.uint32(0x2C1B3C6D)
    h = h ^ (h >> np.uint32(13))
    return (h & np.uint32(0xFFFFFF)).astype(np.float32) / np.float32(0x1000000)


def _round_box(u, v, cu, cv, half_u, half_v, radius):
    """Signed distance to a rounded box centred at (cu, cv) (negative inside)."""
    qu = np.abs(u - cu) - half_u + radius
    qv = np.abs(v - cv) - half_v + radius
    return (np.hypot(np.maximum(qu, 0.0), np.maximum(qv, 0.0))
            + np.minimum(np.maximum(qu, qv), 0.0) - radius)


def _capsule(u, v, au, av, bu, bv, radius):
    """Signed distance to the segment a-b thickened by radius."""
    pu, pv = u - au, v - av
    du, dv = bu - au, bv - av
    h = np.clip((pu * du + pv * dv) / (du * du + dv * dv + 1e-9), 0.0, 1.0)
    return np.hypot(pu - du * h, pv - dv * h) - radius


def _pick(rng, palette, n, jitter):
    """n colours (n, 3) drawn from a palette (k, 3), each channel scaled by 1 +- jitter."""
    palette = np.asarray(palette, dtype=np.float32)
    colours = palette[rng.integers(0, len(palette), n)]
    return np.clip(colours * rng.uniform(1 - jitter, 1 + jitter, (n, 3)), 0.0, 1.0).astype(np.float32)


# Palettes, chosen so that classes share colours (see the module docstring).
_GREYS = [(0.42, 0.42, 0.43), (0.55, 0.55, 0.54), (0.66, 0.65, 0.63), (0.30, 0.31, 0.33)]
_BUILDING_COLOURS = _GREYS + [(0.72, 0.66, 0.56), (0.60, 0.36, 0.28), (0.80, 0.78, 0.74),
                              (0.48, 0.44, 0.40), (0.70, 0.58, 0.42), (0.38, 0.45, 0.50),
                              (0.52, 0.58, 0.48)]
_CAR_COLOURS = _GREYS + [(0.85, 0.85, 0.84), (0.10, 0.10, 0.11), (0.60, 0.10, 0.10),
                         (0.12, 0.22, 0.50), (0.18, 0.36, 0.20), (0.75, 0.62, 0.15),
                         (0.55, 0.52, 0.45), (0.35, 0.50, 0.30)]
_CLOTHES = [(0.10, 0.10, 0.12), (0.15, 0.20, 0.38), (0.45, 0.45, 0.45), (0.70, 0.66, 0.55),
            (0.60, 0.12, 0.12), (0.20, 0.40, 0.22), (0.85, 0.85, 0.82), (0.40, 0.30, 0.22),
            (0.30, 0.45, 0.65), (0.75, 0.55, 0.20)]
_FOLIAGE = [(0.20, 0.36, 0.14), (0.28, 0.44, 0.18), (0.16, 0.28, 0.16), (0.36, 0.46, 0.22),
            (0.55, 0.42, 0.16), (0.45, 0.30, 0.18)]           # last two: autumn
_POLE_COLOURS = [(0.40, 0.41, 0.42), (0.55, 0.56, 0.56), (0.18, 0.20, 0.19), (0.20, 0.30, 0.22),
                 (0.65, 0.64, 0.60)]
_SKIN = [(0.94, 0.80, 0.68), (0.82, 0.62, 0.48), (0.62, 0.44, 0.30), (0.40, 0.27, 0.18)]


# --------------------------------------------------------------------------------------------
# scene parameters, in world units (metres), drawn per chunk of _CHUNK frames
# --------------------------------------------------------------------------------------------

def _scene_parameters(rng, n):
    """Everything random about n frames except texture noise: a dict of arrays with first axis n."""
    p = {}
    u = rng.uniform
    # camera: horizon row and vanishing column as fractions of the frame, focal length in widths
    p["horizon"] = u(0.36, 0.50, n)
    p["vanish_x"] = u(0.38, 0.62, n)
    p["focal"] = u(0.75, 1.05, n)
    p["camera_height"] = u(1.2, 1.8, n)
    # road: lanes of width lane_width, the camera in lane `ego`; parking lanes on either side
    lanes = rng.integers(2, 5, n)
    ego = np.minimum((rng.random(n) * lanes).astype(int), lanes - 1)
    lane_width = u(3.0, 3.7, n)
    road_left = -(ego + 0.5) * lane_width + u(-0.4, 0.4, n)
    p.update(lanes=lanes, ego=ego, lane_width=lane_width, road_left=road_left)
    p["two_way"] = rng.random(n) < 0.6          # lanes left of the ego lane carry oncoming cars
    p["park_left"] = np.where(rng.random(n) < 0.3, u(2.0, 2.6, n), 0.0)
    p["park_right"] = np.where(rng.random(n) < 0.45, u(2.0, 2.6, n), 0.0)
    p["sidewalk"] = u(1.6, 4.5, (n, 2))          # widths, left and right
    p["grass"] = np.where(rng.random((n, 2)) < 0.35, u(1.0, 5.0, (n, 2)), 0.0)
    p["setback"] = u(0.0, 1.5, (n, 2))          # sidewalk or grass edge -> facade plane
    p["dash_period"] = u(8.0, 14.0, n)
    p["dash_duty"] = u(0.35, 0.6, n)
    p["dash_phase"] = u(0.0, 20.0, n)
    p["line_width"] = u(0.12, 0.2, n)
    p["edge_lines"] = rng.random(n) < 0.6
    p["centre_yellow"] = p["two_way"] & (rng.random(n) < 0.4)
    p["crossing"] = np.where(rng.random(n) < 0.3, u(7.0, 30.0, n), -100.0)
    # surfaces
    grey = u(0.26, 0.5, n)
    p["road_colour"] = np.clip(grey[:, None] * u(0.93, 1.07, (n, 3)), 0, 1)
    p["sidewalk_colour"] = _pick(rng, [(0.62, 0.61, 0.58), (0.50, 0.50, 0.50), (0.68, 0.60, 0.52),
                                       (0.45, 0.44, 0.42), (0.58, 0.46, 0.42)], n, 0.08)
    p["tile"] = u(0.4, 1.2, n)
    p["grass_colour"] = _pick(rng, [(0.30, 0.45, 0.18), (0.40, 0.48, 0.25), (0.45, 0.40, 0.25),
                                    (0.25, 0.36, 0.18)], n, 0.1)
    p["line_colour"] = _pick(rng, [(0.92, 0.92, 0.90), (0.80, 0.80, 0.78)], n, 0.05)
    # sky and light
    p["sky_top"] = _pick(rng, [(0.30, 0.50, 0.85), (0.55, 0.62, 0.72), (0.70, 0.72, 0.75),
                               (0.40, 0.55, 0.78), (0.45, 0.40, 0.60)], n, 0.08)
    p["sky_horizon"] = _pick(rng, [(0.75, 0.82, 0.92), (0.80, 0.80, 0.80), (0.92, 0.75, 0.55),
                                   (0.68, 0.70, 0.72)], n, 0.06)
    p["clouds"] = u(0.0, 0.5, n)
    p["skyline"] = rng.random(n) < 0.8
    p["skyline_trees"] = rng.random(n) < 0.35
    p["skyline_height"] = u(0.04, 0.18, n)
    p["gain"] = u(0.55, 1.3, n)
    p["tint"] = u(0.88, 1.12, (n, 3))
    p["sunny"] = rng.random(n) < 0.55
    p["sun_left"] = rng.random(n) < 0.5                    # the lit side of the street
    p["shadow_reach"] = u(-2.0, 6.0, n)                    # how far the shade reaches into the road
    p["haze"] = u(0.0, 0.7, n)
    p["haze_distance"] = u(60.0, 300.0, n)
    p["blur"] = u(0.0, 0.15, n)
    p["noise"] = u(0.004, 0.03, n)
    # facades: per side, _SEGMENTS segments along the street
    shape = (n, 2, _SEGMENTS)
    p["segment_length"] = u(7.0, 30.0, shape)
    kind = rng.choice(4, size=shape, p=[0.1, 0.6, 0.1, 0.2])   # gap, building, wall, hedge/trees
    p["segment_kind"] = kind
    height = np.select([kind == 1, kind == 2, kind == 3],
                       [u(5.0, 32.0, shape), u(1.2, 2.6, shape), u(2.5, 9.0, shape)], 0.0)
    p["segment_height"] = height
    colours = _pick(rng, _BUILDING_COLOURS, n * 2 * _SEGMENTS, 0.08).reshape(shape + (3,))
    hedge = _pick(rng, _FOLIAGE, n * 2 * _SEGMENTS, 0.1).reshape(shape + (3,))
    p["segment_colour"] = np.where((kind == 3)[..., None], hedge, colours)
    p["window_width"] = u(2.0, 4.5, shape)
    p["floor_height"] = u(2.8, 3.8, shape)
    p["window_fill"] = u(0.35, 0.75, shape)
    p["glass"] = _pick(rng, [(0.15, 0.18, 0.22), (0.30, 0.36, 0.42), (0.10, 0.10, 0.10),
                             (0.45, 0.50, 0.55)], n * 2 * _SEGMENTS, 0.1).reshape(shape + (3,))
    # fences between the sidewalk and what lies behind
    p["fence"] = rng.random((n, 2)) < 0.35
    p["fence_from"] = u(0.0, 20.0, (n, 2))
    p["fence_length"] = u(8.0, 60.0, (n, 2))
    p["fence_height"] = u(0.9, 1.7, (n, 2))
    p["fence_solid"] = rng.random((n, 2)) < 0.3
    p["fence_colour"] = _pick(rng, [(0.45, 0.45, 0.45), (0.45, 0.32, 0.20), (0.20, 0.32, 0.22),
                                    (0.70, 0.70, 0.68), (0.15, 0.15, 0.15)], n * 2, 0.08).reshape(n, 2, 3)
    p["post_spacing"] = u(1.8, 3.0, (n, 2))
    # poles on both sidewalks: 0 none, 1 street lamp, 2 traffic sign, 3 traffic light
    shape = (n, 2, _POLE_SLOTS)
    spacing = u(12.0, 30.0, (n, 2, 1))
    p["pole_z"] = u(3.0, 14.0, (n, 2, 1)) + spacing * np.arange(_POLE_SLOTS) + u(-2, 2, shape)
    p["pole_kind"] = rng.choice(4, size=shape, p=[0.15, 0.3, 0.3, 0.25])
    p["pole_offset"] = u(0.3, 0.7, shape)                   # from the curb onto the sidewalk
    p["pole_colour"] = _pick(rng, _POLE_COLOURS, n * 2 * _POLE_SLOTS, 0.06).reshape(shape + (3,))
    p["pole_width"] = u(0.14, 0.28, shape)
    p["lamp_height"] = u(6.0, 9.0, shape)
    p["lamp_arm"] = u(1.0, 2.5, shape)
    p["sign_height"] = u(2.2, 3.2, shape)
    p["sign_size"] = u(0.7, 1.1, shape)
    p["sign_shape"] = rng.integers(0, 4, shape)             # circle, triangle, rectangle, diamond
    p["sign_rim"] = _pick(rng, [(0.75, 0.10, 0.10), (0.10, 0.25, 0.65), (0.12, 0.45, 0.22),
                                (0.90, 0.90, 0.88), (0.85, 0.70, 0.10)], n * 2 * _POLE_SLOTS, 0.08).reshape(shape + (3,))
    p["sign_fill"] = _pick(rng, [(0.92, 0.92, 0.90), (0.10, 0.25, 0.65), (0.12, 0.45, 0.22),
                                 (0.85, 0.70, 0.10)], n * 2 * _POLE_SLOTS, 0.08).reshape(shape + (3,))
    p["light_height"] = u(3.2, 4.5, shape)
    p["light_over_road"] = rng.random(shape) < 0.4
    p["light_arm"] = u(2.5, 5.0, shape)
    p["light_state"] = rng.integers(0, 3, shape)            # red, amber, green
    p["light_housing"] = _pick(rng, [(0.12, 0.12, 0.12), (0.22, 0.24, 0.22), (0.60, 0.55, 0.15),
                                     (0.35, 0.35, 0.36)], n * 2 * _POLE_SLOTS, 0.08).reshape(shape + (3,))
    # trees on the outer part of the sidewalk or on the grass
    shape = (n, 2, _TREE_SLOTS)
    p["tree"] = rng.random(shape) < 0.45
    p["tree_z"] = u(4.0, 70.0, shape)
    p["tree_offset"] = u(0.2, 1.0, shape)
    p["crown_height"] = u(3.0, 6.5, shape)
    p["crown_width"] = u(1.3, 3.0, shape)
    p["crown_tall"] = u(0.9, 1.5, shape)
    p["crown_colour"] = _pick(rng, _FOLIAGE, n * 2 * _TREE_SLOTS, 0.1).reshape(shape + (3,))
    p["trunk_colour"] = _pick(rng, [(0.30, 0.24, 0.18), (0.40, 0.38, 0.34)], n * 2 * _TREE_SLOTS,
                              0.1).reshape(shape + (3,))
    # cars, nearest first: z grows by at least 4 m per slot; lane -1/-2: parking left/right
    gaps = u(4.0, 16.0, (n, _CAR_SLOTS))
    p["car_z"] = u(5.0, 12.0, (n, 1)) + np.cumsum(gaps, axis=1) - gaps[:, :1]
    p["car"] = rng.random((n, _CAR_SLOTS)) < 0.6
    lane = (rng.random((n, _CAR_SLOTS)) * lanes[:, None]).astype(int)
    parking = rng.random((n, _CAR_SLOTS))
    lane = np.where((parking < 0.3) & (p["park_right"][:, None] > 0), -2, lane)
    lane = np.where((parking > 0.8) & (p["park_left"][:, None] > 0), -1, lane)
    p["car_lane"] = lane
    p["car_shift"] = u(-0.35, 0.35, (n, _CAR_SLOTS))
    car_type = rng.choice(4, size=(n, _CAR_SLOTS), p=[0.4, 0.3, 0.2, 0.1])
    p["car_type"] = car_type
    p["car_width"] = np.select([car_type == 3], [u(2.3, 2.5, (n, _CAR_SLOTS))], u(1.7, 2.05, (n, _CAR_SLOTS)))
    p["car_height"] = np.choose(car_type, [u(1.35, 1.5, (n, _CAR_SLOTS)), u(1.55, 1.85, (n, _CAR_SLOTS)),
                                           u(1.9, 2.5, (n, _CAR_SLOTS)), u(3.0, 3.6, (n, _CAR_SLOTS))])
    p["car_length"] = np.choose(car_type, [u(4.2, 4.9, (n, _CAR_SLOTS)), u(3.9, 4.7, (n, _CAR_SLOTS)),
                                           u(4.8, 5.5, (n, _CAR_SLOTS)), u(6.5, 8.5, (n, _CAR_SLOTS))])
    p["car_colour"] = _pick(rng, _CAR_COLOURS, n * _CAR_SLOTS, 0.06).reshape(n, _CAR_SLOTS, 3)
    # pedestrians on the sidewalks (side -1 left, +1 right), some on the crossing
    shape = (n, _PEDESTRIAN_SLOTS)
    p["pedestrian"] = rng.random(shape) < 0.55
    p["ped_side"] = np.where(rng.random(shape) < 0.5, -1, 1)
    p["ped_across"] = u(0.15, 0.95, shape)                  # position across the sidewalk
    p["ped_z"] = 3.0 + rng.exponential(10.0, shape)
    p["ped_on_crossing"] = rng.random(shape) < 0.35
    p["ped_height"] = u(1.5, 1.92, shape)
    p["ped_phase"] = u(-1.0, 1.0, shape)
    p["ped_profile"] = rng.random(shape) < 0.5              # seen from the side: narrower
    p["skin"] = _pick(rng, _SKIN, n * _PEDESTRIAN_SLOTS, 0.05).reshape(shape + (3,))
    p["shirt"] = _pick(rng, _CLOTHES, n * _PEDESTRIAN_SLOTS, 0.08).reshape(shape + (3,))
    p["trousers"] = _pick(rng, _CLOTHES[:4] + _CLOTHES[7:9], n * _PEDESTRIAN_SLOTS, 0.08).reshape(shape + (3,))
    p["hair"] = _pick(rng, [(0.08, 0.06, 0.05), (0.30, 0.20, 0.12), (0.60, 0.50, 0.30),
                            (0.55, 0.55, 0.55)], n * _PEDESTRIAN_SLOTS, 0.1).reshape(shape + (3,))
    return {k: np.asarray(v) for k, v in p.items()}


# --------------------------------------------------------------------------------------------
# rendering
# --------------------------------------------------------------------------------------------

class _Pixels:
    """The pixels of n frames inside one rectangle per frame, as flat lists of length m.

    Objects cover a small part of the frame, so they are drawn on these lists rather than on whole
    (n, H, W) fields: index (m,) flat positions in an (n, H, W) buffer, frame (m,), x and y (m,)
    pixel centres. ``of(a)`` picks per-frame values (n, ...) for every listed pixel.
    """

    def __init__(self, cam, left, top, right, bottom, present):
        height, width = cam.height, cam.width
        c0 = np.clip(np.floor(left), 0, width).astype(np.int32)
        c1 = np.where(present, np.clip(np.ceil(right), 0, width), 0).astype(np.int32)
        r0 = np.clip(np.floor(top), 0, height).astype(np.int32)
        r1 = np.clip(np.ceil(bottom), 0, height).astype(np.int32)
        rows = np.arange(height, dtype=np.int32)[None, :, None]
        cols = np.arange(width, dtype=np.int32)[None, None, :]
        inside = (((rows >= r0[:, None, None]) & (rows < r1[:, None, None]))
                  & ((cols >= c0[:, None, None]) & (cols < c1[:, None, None])))
        self.index = np.flatnonzero(inside)
        self.frame = self.index // (height * width)
        within = self.index - self.frame * (height * width)
        self.y = (within // width).astype(np.float32) + np.float32(0.5)
        self.x = (within % width).astype(np.float32) + np.float32(0.5)

    def of(self, per_frame):
        return np.asarray(per_frame, dtype=np.float32)[self.frame]

    def flag(self, per_frame):
        return np.asarray(per_frame, dtype=bool)[self.frame]

    def field(self, values):
        """Pick the listed pixels of an (n, H, W) field (noise textures)."""
        return values.reshape(-1)[self.index]


class _Canvas:
    """Colour, label, depth and instance buffers of n frames, drawn through a depth test."""

    def __init__(self, n, height, width):
        self.rgb = np.zeros((n, height, width, 3), np.float32)
        self.label = np.zeros((n, height, width), np.uint8)
        self.depth = np.full((n, height, width), np.inf, np.float32)
        self.instance = np.zeros((n, height, width), np.int16)

    def draw(self, cover, depth, colour, label, instance=0):
        """Paint colour/label where cover (n,H,W) is true and depth is nearer than what is there.

        depth broadcasts to (n, H, W) (metres), colour to (n, H, W, 3), label/instance to (n, H, W).
        """
        shape = self.depth.shape
        depth = np.broadcast_to(np.asarray(depth, np.float32), shape)
        visible = np.broadcast_to(cover, shape) & (depth < self.depth)
        np.copyto(self.depth, depth, where=visible)
        np.copyto(self.rgb, np.asarray(colour, np.float32), where=visible[..., None])
        np.copyto(self.label, np.asarray(label, np.uint8), where=visible)
        np.copyto(self.instance, np.asarray(instance, np.int16), where=visible)

    def draw_pixels(self, pixels, cover, depth, colour, label, instance=0):
        """The same on a pixel list: cover (m,) bool, depth (m,), colour (m, 3)."""
        where = pixels.index[cover]
        depth = np.broadcast_to(depth, cover.shape)[cover]
        flat_depth = self.depth.reshape(-1)
        nearer = depth < flat_depth[where]
        where = where[nearer]
        flat_depth[where] = depth[nearer]
        self.rgb.reshape(-1, 3)[where] = np.broadcast_to(colour, cover.shape + (3,))[cover][nearer]
        self.label.reshape(-1)[where] = label
        self.instance.reshape(-1)[where] = instance


class _Camera:
    """Pinhole camera of n frames: world (X right, height Y above ground, Z ahead) <-> pixels.

    Per-frame values come as (n,) arrays (``*_n``) and as (n, 1, 1) for whole-frame fields."""

    def __init__(self, p, height, width):
        self.height, self.width = height, width
        self.y0_n = (p["horizon"] * height).astype(np.float32)      # horizon row
        self.x0_n = (p["vanish_x"] * width).astype(np.float32)      # vanishing column
        self.f_n = (p["focal"] * width).astype(np.float32)          # pixels per metre at 1 m
        self.h_n = p["camera_height"].astype(np.float32)
        self.y0, self.x0, self.f, self.h = (_c(a) for a in (self.y0_n, self.x0_n, self.f_n, self.h_n))
        self.xs = (np.arange(width, dtype=np.float32) + 0.5)[None, None, :]    # (1, 1, W)
        self.ys = (np.arange(height, dtype=np.float32) + 0.5)[None, :, None]   # (1, H, 1)

    def column_depth(self, plane_x):
        """Depth (n, 1, W) at which each pixel column meets the vertical plane X = plane_x (n,1,1);
        a huge finite depth (``_NOWHERE``) where the column does not see that plane."""
        dx = self.xs - self.x0
        z = plane_x * self.f / np.where(np.abs(dx) < 1e-3, 1e-3, dx)
        return np.where((z > 0.3) & (z < _NOWHERE), z, _NOWHERE).astype(np.float32)

    def height_at(self, z):
        """Height above the ground (n, H, *) of each pixel row on a surface at depth z."""
        return self.h - (self.ys - self.y0) * z / self.f

    def row_of(self, height_above_ground, z):
        """Pixel row (n,) of a point at a height and depth (n,)."""
        return self.y0_n + self.f_n * (self.h_n - height_above_ground) / z

    def column_of(self, x_world, z):
        """Pixel column (n,) of a point at lateral position x_world and depth z (n,)."""
        return self.x0_n + self.f_n * x_world / z

    def sprite(self, x_world, z, half_width, tall, present):
        """Pixels of an upright object standing at (x_world, z) (n,) whose extent is |u| <=
        half_width, 0 <= v <= tall (metres); returns (pixels, u, v, scale) where u (m,) is metres
        right of its axis, v (m,) metres above the ground and scale (m,) pixels per metre."""
        scale_n = self.f_n / z
        centre = self.x0_n + x_world * scale_n
        base = self.y0_n + self.h_n * scale_n
        pixels = _Pixels(self, centre - half_width * scale_n - 1, base - tall * scale_n - 1,
                         centre + half_width * scale_n + 1, base + 1, present & (z > 0.5))
        scale = pixels.of(scale_n)
        u = (pixels.x - pixels.of(centre)) / scale
        v = (pixels.of(base) - pixels.y) / scale
        return pixels, u, v, scale


def _thick(half, scale, pixels=0.6):
    """A half width in metres, at least `pixels` pixels wide, so thin things stay visible."""
    return np.maximum(half, pixels / scale)


def _render(p, noise, height, width):
    """Render the frames described by parameters p; returns (rgb float (n,H,W,3), label, instance,
    instance class table (n, K) of class ids (0 = unused))."""
    n = len(p["horizon"])
    cam = _Camera(p, height, width)
    canvas = _Canvas(n, height, width)
    xs, ys = cam.xs, cam.ys
    ids = np.zeros((n, 1 + _CAR_SLOTS + _PEDESTRIAN_SLOTS + 2 * 2 * _POLE_SLOTS + 2 * _TREE_SLOTS), np.int64)
    next_id = [1]

    def new_instance(cls, present):
        k = next_id[0]
        next_id[0] += 1
        ids[:, k] = np.where(present, cls, 0)
        return k

    # coarse textures first (the same at every frame size), then the per-pixel grain
    blotch = _smooth_noise(noise, height, width, 6, 8)                     # large-scale stains
    leafy = _smooth_noise(noise, height, width, 19, 25)                    # foliage, crowns
    cloud = np.clip(_smooth_noise(noise, height, width, 3, 5) * 1.4 - 0.2, 0.0, 1.0)
    tops = np.abs(_smooth_noise(noise, 1, width, 1, 10))                   # (n, 1, W) skyline
    fine = noise.normal(height, width)                                     # grain for textures

    # ---- sky and clouds (depth inf) -------------------------------------------------------
    t = np.clip(ys / np.maximum(cam.y0, 1.0), 0.0, 1.0)[..., None]         # 0 top .. 1 horizon
    sky = _rgb(p["sky_top"]) * (1 - t) + _rgb(p["sky_horizon"]) * t
    sky = sky + (_c(p["clouds"]) * cloud)[..., None] * (np.float32(0.93) - sky)
    canvas.draw(np.ones((1, 1, 1), bool), np.float32(1e9), sky, SKY)

    # ---- distant skyline: rooftops or tree tops along the horizon ---------------------------
    # tree tops are smooth; rooftops are quantised into flat roofs of a few heights
    rooftop = np.where(_c(p["skyline_trees"]) > 0, tops, np.round(tops * 5) / 5)
    skyline_top = cam.y0 - _c(p["skyline_height"]) * height * (0.3 + rooftop)
    skyline_colour = np.where(_c(p["skyline_trees"])[..., None] > 0, np.float32([0.25, 0.32, 0.22]),
                              np.float32([0.42, 0.43, 0.46]))
    skyline_colour = skyline_colour * (1 + 0.1 * blotch[..., None])
    canvas.draw((ys > skyline_top) & _b(p["skyline"]), np.float32(_FAR), skyline_colour,
                np.where(_c(p["skyline_trees"]) > 0, VEGETATION, BUILDING).astype(np.uint8))

    # ---- ground: road, lines, sidewalks, grass ---------------------------------------------
    below = ys > cam.y0 + 0.3
    gz = cam.f * cam.h / np.maximum(ys - cam.y0, 0.3)                      # (n, H, 1)
    gx = (xs - cam.x0) * gz / cam.f                                        # (n, H, W)
    left_edge = _c(p["road_left"] - p["park_left"])
    lanes_left = _c(p["road_left"])
    right_lanes = _c(p["road_left"] + p["lanes"] * p["lane_width"])
    right_edge = right_lanes + _c(p["park_right"])
    walk_left = left_edge - _c(p["sidewalk"][:, 0])
    walk_right = right_edge + _c(p["sidewalk"][:, 1])
    road = (gx > left_edge) & (gx < right_edge)
    sidewalk = ((gx > walk_left) & (gx <= left_edge)) | ((gx >= right_edge) & (gx < walk_right))
    pixel_metres = gz / cam.f                                              # one pixel, in metres
    half_line = np.maximum(_c(p["line_width"]) / 2, 0.45 * pixel_metres)
    far_enough = gz < _c(p["lane_width"]) * cam.f / 4.0                    # lines >= 4 px apart
    lines = np.zeros(gx.shape, bool)
    dashes = _frac((gz + _c(p["dash_phase"])) / _c(p["dash_period"])) < _c(p["dash_duty"])
    dash_rows = _c(p["dash_period"]) * cam.f * cam.h / gz ** 2 > 5.0      # dashes resolved
    for k in range(1, 4):
        divider = lanes_left + k * _c(p["lane_width"])
        inner = _b(k < p["lanes"])
        near = np.abs(gx - divider) < half_line
        centre = _b((k == p["ego"]) & p["centre_yellow"])
        centre_line = (np.abs(np.abs(gx - divider) - 1.6 * half_line) < 0.6 * half_line)
        lines |= inner & far_enough & np.where(centre, centre_line, near & (dashes | ~dash_rows))
    edges = _b(p["edge_lines"]) & far_enough
    lines |= edges & ((np.abs(gx - lanes_left - half_line) < half_line)
                      | (np.abs(gx - right_lanes + half_line) < half_line))
    crossing = ((gz > _c(p["crossing"])) & (gz < _c(p["crossing"]) + 3.5)
                & (_frac(gx / 1.1) < 0.5) & (gx > lanes_left + 0.3) & (gx < right_lanes - 0.3))
    lines = (lines | crossing) & road
    yellow = _b(p["centre_yellow"]) & (np.abs(gx - lanes_left - (_c(p["ego"]) * _c(p["lane_width"]))) < 4 * half_line)
    # colours: a palette per frame (white line, yellow line, asphalt, sidewalk, grass) looked up
    # per pixel, times a brightness texture: asphalt grain and stains, tiles and curbs, grass
    surface = np.where(lines, np.where(yellow, 1, 0), np.where(road, 2, np.where(sidewalk, 3, 4)))
    yellow_paint = np.broadcast_to(np.float32([0.85, 0.68, 0.15]), (n, 3))
    palette = np.stack([p["line_colour"], yellow_paint, p["road_colour"], p["sidewalk_colour"],
                        p["grass_colour"]], axis=1).astype(np.float32)                 # (n, 5, 3)
    tile = _c(p["tile"])
    tiles_visible = tile * cam.f / gz > 3.0
    joints = ((_frac(gx / tile) < 0.08) | (_frac(gz / tile) < 0.08)) & tiles_visible
    curb = (np.abs(gx - left_edge) < 0.2) | (np.abs(gx - right_edge) < 0.2)
    grain = np.float32([0.05, 0.05, 0.05, 0.04, 0.12])[surface]
    stains = np.float32([0.0, 0.0, 0.08, 0.05, 0.0])[surface]
    brightness = 1 + grain * fine + stains * blotch
    brightness += np.where(surface == 3, 0.15 * curb - 0.18 * joints, np.where(surface == 4, 0.2 * leafy, 0.0))
    ground_colour = palette[np.arange(n)[:, None, None], surface] * brightness[..., None]
    ground_label = np.array([ROAD_LINE, ROAD_LINE, ROAD, SIDEWALK, TERRAIN], np.uint8)[surface]
    canvas.draw(below, gz, ground_colour, ground_label)

    # ---- facades: buildings (with windows), walls, hedges, in segments along the street ----
    # A pixel column left of the vanishing point sees the left side's planes, one right of it the
    # right side's, so both sides are computed at once: per-column values come from the side the
    # column sees, and the (n, H, W) work is done once.
    sides = ((0, -1.0, walk_left), (1, 1.0, walk_right))
    sunny = p["sunny"]
    right_side = xs >= cam.x0                                              # (n, 1, W)
    side_index = right_side.astype(np.int64)

    def seen(left_value, right_value):
        """Per-column choice between a left-side and a right-side value ((n,1,1) or (n,1,W), or
        colours (n,1,1,3))."""
        which = right_side[..., None] if np.ndim(left_value) == 4 else right_side
        return np.where(which, right_value, left_value)

    def facade_plane(side):
        return sides[side][2] + sides[side][1] * (_c(p["grass"][:, side]) + _c(p["setback"][:, side]))

    z = seen(cam.column_depth(facade_plane(0)), cam.column_depth(facade_plane(1)))   # (n, 1, W)
    ends = np.cumsum(p["segment_length"], axis=2)                          # (n, 2, S)
    ends = seen(ends[:, 0][:, None, None, :], ends[:, 1][:, None, None, :])   # (n, 1, W, S)
    seg = (z[..., None] > ends).sum(-1)                                    # (n, 1, W)
    inside = seg < _SEGMENTS
    seg = np.minimum(seg, _SEGMENTS - 1)
    slot = side_index * _SEGMENTS + seg                                    # into (n, 2 * S)

    def per_column(values):
        """(n, 2, S) or (n, 2, S, 3) segment values -> (n, 1, W) or (n, 1, W, 3) per column."""
        flat = values.reshape((n, 2 * _SEGMENTS) + values.shape[3:])[:, None]
        index = slot if values.ndim == 3 else slot[..., None]
        return np.take_along_axis(flat, index, axis=2)

    kind = np.where(inside, per_column(p["segment_kind"]), 0)
    top_height = per_column(p["segment_height"]).astype(np.float32)
    hedge = kind == 3
    top_height = top_height + hedge * (0.8 * np.sin(z * 1.7 + side_index) + 0.5 * np.sin(z * 0.63))
    top = cam.y0 + cam.f * (cam.h - top_height) / z                        # (n, 1, W) rows
    bottom = cam.y0 + cam.f * cam.h / z
    cover = (kind > 0) & (ys >= top) & (ys < bottom)
    colour = per_column(p["segment_colour"])                               # (n, 1, W, 3)
    up = cam.height_at(z)                                                  # (n, H, W) metres
    # windows: a grid in facade coordinates (z along, `up` height), some lit; shops at the bottom
    ww, fh = per_column(p["window_width"]), per_column(p["floor_height"])
    fill = per_column(p["window_fill"])
    cell_u, cell_v = z / ww, (up - 0.4) / fh
    in_window = ((np.abs(_frac(cell_u) - 0.5) < fill / 2) & (np.abs(_frac(cell_v) - 0.55) < 0.28)
                 & (up > 3.0) & (up < top_height - 1.0) & (kind == 1))
    shop = (kind == 1) & (up > 0.3) & (up < 2.6) & (_frac(z / (ww * 2.0)) < 0.7)
    lit = _hash01(np.floor(cell_u), np.floor(cell_v), slot) < 0.15
    glass = np.where(lit[..., None], np.float32([0.85, 0.75, 0.45]), per_column(p["glass"]))
    cornice = (kind == 1) & (up > top_height - 0.5)
    sun_on_left = _c(sunny & p["sun_left"]) * 0.25 - _c(sunny & ~p["sun_left"]) * 0.2
    sun_on_right = _c(sunny & ~p["sun_left"]) * 0.25 - _c(sunny & p["sun_left"]) * 0.2
    shade = (1 + seen(sun_on_left, sun_on_right)) * (1 + 0.05 * fine + 0.06 * blotch - 0.15 * cornice
                                                     + 0.25 * hedge * leafy + 0.12 * hedge * fine)
    colour = np.where((in_window | shop)[..., None], glass, colour * shade[..., None])
    label = np.choose(kind, [0, BUILDING, WALL, VEGETATION]).astype(np.uint8)
    canvas.draw(cover, z, colour, label)

    # ---- fences along the outer edge of the sidewalks: posts, rails or solid planks --------
    def per_side(name):
        values = p[name]
        return seen(_c(values[:, 0]), _c(values[:, 1])) if values.ndim == 2 else \
            seen(_rgb(values[:, 0]), _rgb(values[:, 1]))

    plane = seen(walk_left, walk_right)
    z = cam.column_depth(plane)
    start = per_side("fence_from")
    span = (z > start) & (z < start + per_side("fence_length")) & (per_side("fence") > 0)
    up = cam.height_at(z)
    fence_height = per_side("fence_height")
    rail_half = _thick(0.05, cam.f / z)
    spacing = per_side("post_spacing")
    pixels_per_metre_along = cam.f * np.abs(plane) / z ** 2                # the plane recedes
    post = np.abs(_frac(z / spacing) - 0.5) * spacing < _thick(0.06, pixels_per_metre_along)
    rails = ((np.abs(up - fence_height + rail_half) < rail_half) | (np.abs(up - 0.25) < rail_half)
             | (np.abs(up - fence_height * 0.6) < rail_half))
    solid = per_side("fence_solid") > 0
    cover = span & (up > 0) & (up < fence_height) & (solid | post | rails)
    planks = 1 - 0.15 * (_frac(up / 0.15) < 0.2) * solid
    colour = per_side("fence_colour") * (planks * (1 + 0.05 * fine))[..., None]
    canvas.draw(cover, z - 0.05, colour, FENCE)

    # ---- shade on the ground: the far side's buildings shade part of the street ------------
    ground_now = np.isin(canvas.label, (ROAD, ROAD_LINE, SIDEWALK, TERRAIN))
    shaded_left = gx < left_edge + _c(p["shadow_reach"])
    shaded_right = gx > right_edge - _c(p["shadow_reach"])
    shade = _b(sunny) & np.where(_b(p["sun_left"]), shaded_right, shaded_left)
    darken = np.where(shade & ground_now, 0.6, 1.0).astype(np.float32)

    # ---- cars: shadows first, then bodies (rear or front face, and the near side) ----------
    lane_centre = lanes_left[:, 0, 0][:, None] + (p["car_lane"] + 0.5) * p["lane_width"][:, None]
    lane_centre = np.where(p["car_lane"] == -1, (p["road_left"] - p["park_left"] / 2)[:, None], lane_centre)
    lane_centre = np.where(p["car_lane"] == -2, (right_lanes[:, 0, 0] + p["park_right"] / 2)[:, None], lane_centre)
    car_x = lane_centre + p["car_shift"]
    oncoming = p["two_way"][:, None] & (p["car_lane"] >= 0) & (p["car_lane"] < p["ego"][:, None])
    for k in range(_CAR_SLOTS):
        z0, x0 = _c(p["car_z"][:, k]), _c(car_x[:, k])
        car_width, car_length = _c(p["car_width"][:, k]), _c(p["car_length"][:, k])
        shadow = (np.abs(gx - x0) < car_width / 2 + 0.15) & (gz > z0 - 0.3) & (gz < z0 + car_length)
        darken = np.where(shadow & ground_now & _b(p["car"][:, k]), darken * 0.5, darken)
    canvas.rgb *= darken[..., None]

    for k in range(_CAR_SLOTS):
        present = p["car"][:, k]
        instance = new_instance(VEHICLE, present)
        _draw_car(canvas, cam, p, k, car_x[:, k], oncoming[:, k], fine, instance)

    # ---- poles: lamps, signs and traffic lights --------------------------------------------
    for side, sign, _ in sides:
        curb = left_edge if side == 0 else right_edge
        for k in range(_POLE_SLOTS):
            kind = p["pole_kind"][:, side, k]
            pole_id = new_instance(POLE, kind > 0)
            attached = new_instance(np.where(kind == 3, TRAFFIC_LIGHT, TRAFFIC_SIGN), (kind == 2) | (kind == 3))
            _draw_pole(canvas, cam, p, side, sign, k, curb[:, 0, 0], pole_id, attached, fine)

    # ---- trees ------------------------------------------------------------------------------
    for side, sign, walk_edge in sides:
        for k in range(_TREE_SLOTS):
            instance = new_instance(VEGETATION, p["tree"][:, side, k])
            x = walk_edge[:, 0, 0] - sign * p["tree_offset"][:, side, k] + sign * p["grass"][:, side] * 0.5
            _draw_tree(canvas, cam, p, side, k, x, leafy, fine, instance)

    # ---- pedestrians --------------------------------------------------------------------------
    for k in range(_PEDESTRIAN_SLOTS):
        present = p["pedestrian"][:, k]
        instance = new_instance(PEDESTRIAN, present)
        _draw_pedestrian(canvas, cam, p, k, walk_left[:, 0, 0], left_edge[:, 0, 0], right_edge[:, 0, 0],
                         walk_right[:, 0, 0], lanes_left[:, 0, 0], right_lanes[:, 0, 0], fine, instance)

    # ---- light, haze, blur, noise -----------------------------------------------------------
    rgb = canvas.rgb
    haze = _c(p["haze"]) * (1 - np.exp(-np.minimum(canvas.depth, 1e4) / _c(p["haze_distance"])))
    haze = np.where(canvas.label == SKY, 0.0, haze)[..., None]
    rgb += haze * (_rgb(p["sky_horizon"]) - rgb)
    rgb *= _rgb(p["tint"] * p["gain"][:, None])
    b = _rgb(np.repeat(p["blur"][:, None], 3, axis=1))
    rgb[:, :, 1:-1] = rgb[:, :, 1:-1] * (1 - 2 * b) + (rgb[:, :, :-2] + rgb[:, :, 2:]) * b
    rgb[:, 1:-1] = rgb[:, 1:-1] * (1 - 2 * b) + (rgb[:, :-2] + rgb[:, 2:]) * b
    rgb += noise.normal(*rgb.shape[1:]) * _rgb(np.repeat(p["noise"][:, None], 3, axis=1))
    return rgb, canvas.label, canvas.instance, ids


def _draw_car(canvas, cam, p, k, car_x, oncoming, fine, instance):
    """One car slot of every frame: the rear (or front) face as a sprite and, for a car off the
    camera's axis, the side facing the camera: a vertical plane from z to z + length."""
    present = p["car"][:, k]
    z_n, x_n = p["car_z"][:, k], car_x
    width_n, tall_n, length_n = p["car_width"][:, k], p["car_height"][:, k], p["car_length"][:, k]
    # the pixels of both faces: from the rear face to the far end of the side
    side_x_n = x_n - np.sign(x_n) * width_n / 2
    far_z = z_n + length_n
    scale_n = cam.f_n / z_n
    left = np.minimum(cam.column_of(x_n - width_n / 2, z_n), cam.column_of(side_x_n, far_z)) - 1
    right = np.maximum(cam.column_of(x_n + width_n / 2, z_n), cam.column_of(side_x_n, far_z)) + 1
    top = cam.row_of(tall_n, z_n) - 1
    bottom = cam.row_of(0.0, z_n) + 1
    px = _Pixels(cam, left, top, right, bottom, present)
    kind = p["car_type"][:, k]
    scale = px.of(scale_n)
    u = (px.x - px.of(cam.column_of(x_n, z_n))) / scale
    v = (px.of(cam.row_of(0.0, z_n)) - px.y) / scale
    width, tall, length = px.of(width_n), px.of(tall_n), px.of(length_n)
    # body line (top of the lower body) and how much the cabin narrows, by type
    belt = tall * px.of(np.choose(kind, [0.55, 0.52, 0.55, 0.98]))
    taper = px.of(np.choose(kind, [0.25, 0.18, 0.08, 0.0]))
    body = px.of(p["car_colour"][:, k])
    grain = px.field(fine)
    half = width / 2
    au = np.abs(u)
    wheels = (np.abs(au - (half - 0.38)) < 0.2) & (v >= 0) & (v < 0.5)
    lower = _round_box(u, v, 0.0, (0.28 + belt) / 2, half, (belt - 0.28) / 2, 0.12) < 0
    rise = np.clip((v - belt) / np.maximum(tall - belt, 0.05), 0, 1)
    cabin = (v >= belt - 0.05) & (v < tall) & (au < half - 0.06 - taper * rise)
    window = cabin & (v > belt + 0.08) & (v < tall - 0.1) & (au < half - 0.18 - taper * rise)
    window &= px.flag(kind != 3) & (px.flag(kind != 2) | (au > 0.06))     # vans: two rear doors
    lights = (au > half - 0.4) & (au < half - 0.08) & (np.abs(v - (belt - 0.22)) < 0.1)
    plate = (au < 0.26) & (np.abs(v - 0.5) < 0.08)
    bumper = (v > 0.22) & (v < 0.36)
    cover = wheels | lower | cabin
    light_colour = np.where(px.flag(oncoming)[:, None], np.float32([0.95, 0.92, 0.80]),
                            np.float32([0.80, 0.10, 0.08]))
    glass = np.float32([0.12, 0.14, 0.17]) + 0.25 * px.of(p["sky_top"]) * (1.0 - rise)[:, None]
    colour = body * (0.9 + 0.2 * np.clip(v / tall, 0, 1) + 0.03 * grain)[:, None]
    colour = np.where(bumper[:, None], colour * 0.55, colour)
    colour = np.where(lights[:, None], light_colour, colour)
    colour = np.where(plate[:, None], np.float32([0.9, 0.9, 0.85]), colour)
    colour = np.where(window[:, None], glass, colour)
    colour = np.where((wheels & ~lower)[:, None], np.float32([0.07, 0.07, 0.07]), colour)
    z0 = px.of(z_n)
    canvas.draw_pixels(px, cover, z0, colour, VEHICLE, instance)

    # the side that faces the camera: the plane X = side_x from z0 to z0 + length
    seen = px.flag(np.abs(x_n) > width_n / 2 + 0.1)
    side_x = px.of(side_x_n)
    dx = px.x - px.of(cam.x0_n)
    z = side_x * px.of(cam.f_n) / np.where(np.abs(dx) < 1e-3, 1e-3, dx)
    along = (z - z0) / length                                              # 0 rear .. 1 front
    up = px.of(cam.h_n) - (px.y - px.of(cam.y0_n)) * z / px.of(cam.f_n)
    cabin_from = px.of(np.choose(kind, [0.28, 0.12, 0.06, 0.0]))
    cabin_to = px.of(np.choose(kind, [0.75, 0.85, 0.9, 1.0]))
    roof = np.where((along > cabin_from) & (along < cabin_to), tall, belt)
    wheel_at = np.minimum(np.abs(along - 0.17), np.abs(along - 0.83)) * length
    wheel_distance = wheel_at ** 2 + (up - 0.33) ** 2
    wheel = wheel_distance < 0.33 ** 2
    cover = seen & (z > 0) & (along >= 0) & (along <= 1) & (((up > 0.28) & (up < roof)) | wheel)
    side_window = ((up > belt + 0.08) & (up < tall - 0.08) & (along > cabin_from + 0.04)
                   & (along < cabin_to - 0.04) & px.flag(kind != 3))
    colour = body * (0.72 + 0.15 * np.clip(up / tall, 0, 1) + 0.03 * grain)[:, None]
    colour = np.where(side_window[:, None], np.float32([0.12, 0.14, 0.17]), colour)
    tyre = wheel & ((up < 0.28) | (wheel_distance > 0.2 ** 2))
    colour = np.where(tyre[:, None], np.float32([0.08, 0.08, 0.08]), colour)
    canvas.draw_pixels(px, cover, z, colour, VEHICLE, instance)


def _draw_pole(canvas, cam, p, side, sign, k, curb, pole_id, attached_id, fine):
    """A pole slot on one side: street lamp (pole with an arm over the road), traffic sign (plate
    on a short pole) or traffic light (housing on the pole or hung from an arm over the road)."""
    kind_n = p["pole_kind"][:, side, k]
    over_n = p["light_over_road"][:, side, k] & (kind_n == 3)
    top_n = np.select([kind_n == 1, kind_n == 2, kind_n == 3],
                      [p["lamp_height"][:, side, k], p["sign_height"][:, side, k],
                       p["light_height"][:, side, k]], 0.0) + over_n * 1.5
    arm_n = np.where(kind_n == 1, p["lamp_arm"][:, side, k], np.where(over_n, p["light_arm"][:, side, k], 0.0))
    reach = np.maximum(arm_n + 0.4, 0.6)
    z_n = p["pole_z"][:, side, k]
    x_n = curb + sign * p["pole_offset"][:, side, k]
    px, u, v, scale = cam.sprite(x_n, z_n, reach, top_n + 0.2, kind_n > 0)
    kind = px.of(kind_n)
    towards_road = -sign
    lamp, sign_pole, light, over_road = kind == 1, kind == 2, kind == 3, px.flag(over_n)
    top, arm_len = px.of(top_n), px.of(arm_n)
    grain = px.field(fine)
    half = _thick(px.of(p["pole_width"][:, side, k]) / 2, scale)
    shaft = (np.abs(u) < half) & (v > 0) & (v < top)
    arm_u = u * towards_road
    arm_half = _thick(np.float32(0.06), scale, 0.5)
    arm = (lamp | over_road) & (arm_u > 0) & (arm_u < arm_len) & (np.abs(v - top + arm_half) < arm_half)
    lamp_head = lamp & (np.abs(arm_u - arm_len) < 0.35) & (v < top) & (v > top - 0.18)
    cover = shaft | arm | lamp_head
    colour = px.of(p["pole_colour"][:, side, k]) * (1 + 0.12 * np.clip(u * towards_road / half, -1, 1) + 0.03 * grain)[:, None]
    z = px.of(z_n)
    canvas.draw_pixels(px, cover, z, colour, POLE, pole_id)

    # the sign's plate, facing the camera, at the top of its pole
    size = px.of(p["sign_size"][:, side, k])
    du, dv = u / (size / 2), (v - (top - size * 0.5)) / (size / 2)      # -1..1 over the plate
    shape = px.of(p["sign_shape"][:, side, k])
    circle = np.hypot(du, dv) - 1
    triangle = np.maximum(np.abs(du) * 0.87 + dv * 0.5 - 0.5, -dv - 0.5) * 1.5
    rectangle = np.maximum(np.abs(du) - 1.0, np.abs(dv) * 1.35 - 1.0)
    diamond = (np.abs(du) + np.abs(dv)) * 0.75 - 0.75
    plate_sdf = np.select([shape == 0, shape == 1, shape == 2], [circle, triangle, rectangle], diamond)
    plate = (plate_sdf < 0) & sign_pole
    rim = plate_sdf > -0.25
    symbol = (np.abs(du) < 0.45) & (np.abs(dv) < 0.12) & (shape == 0)
    colour = np.where(rim[:, None], px.of(p["sign_rim"][:, side, k]), px.of(p["sign_fill"][:, side, k]))
    colour = np.where(symbol[:, None], np.float32([0.1, 0.1, 0.1]), colour)
    canvas.draw_pixels(px, plate, z - 0.02, colour, TRAFFIC_SIGN, attached_id)

    # the traffic light's housing: three lamps, one lit
    hu = arm_u - np.where(over_road, arm_len - 0.3, 0.0)
    box_top = np.where(over_road, top - 0.1, top)
    housing = light & (np.abs(hu) < _thick(np.float32(0.18), scale, 0.8)) & (v < box_top) & (v > box_top - 0.95)
    slot = np.clip(np.floor((box_top - v) / 0.95 * 3), 0, 2)
    bulb = np.hypot(hu, v - (box_top - (slot + 0.5) * 0.95 / 3)) < 0.11
    state = px.of(p["light_state"][:, side, k])
    on = slot == state
    bulb_colour = np.float32([[1.0, 0.2, 0.1], [1.0, 0.7, 0.1], [0.2, 1.0, 0.4]])[state.astype(int)]
    colour = px.of(p["light_housing"][:, side, k]) * (1 + 0.04 * grain)[:, None]
    colour = np.where((bulb & ~on)[:, None], np.float32([0.06, 0.06, 0.06]), colour)
    colour = np.where((bulb & on)[:, None], bulb_colour, colour)
    canvas.draw_pixels(px, housing, z - 0.03, colour, TRAFFIC_LIGHT, attached_id)


def _draw_tree(canvas, cam, p, side, k, x_n, leafy, fine, instance):
    """A tree: a trunk and an irregular leafy crown (both vegetation, as in CARLA)."""
    crown_h_n, crown_w_n = p["crown_height"][:, side, k], p["crown_width"][:, side, k]
    crown_tall_n = crown_w_n * p["crown_tall"][:, side, k]
    z_n = p["tree_z"][:, side, k]
    px, u, v, scale = cam.sprite(x_n, z_n, crown_w_n * 1.3, crown_h_n + crown_tall_n * 1.3,
                                 p["tree"][:, side, k])
    crown_h, crown_w, crown_tall = px.of(crown_h_n), px.of(crown_w_n), px.of(crown_tall_n)
    leaves, grain = px.field(leafy), px.field(fine)
    crown = (u / crown_w) ** 2 + ((v - crown_h) / crown_tall) ** 2 + 0.35 * leaves < 1.0
    trunk = (np.abs(u) < _thick(0.17, scale)) & (v > 0) & (v < crown_h)
    colour = np.where(crown[:, None],
                      px.of(p["crown_colour"][:, side, k]) * (1 + 0.3 * leaves + 0.12 * grain - 0.2 * (v > crown_h))[:, None],
                      px.of(p["trunk_colour"][:, side, k]) * (1 + 0.05 * grain)[:, None])
    canvas.draw_pixels(px, crown | trunk, px.of(z_n), colour, VEGETATION, instance)


def _draw_pedestrian(canvas, cam, p, k, walk_left, left_edge, right_edge, walk_right,
                     lanes_left, right_lanes, fine, instance):
    """A walking person on a sidewalk (or on the zebra crossing): legs, torso, arms, head."""
    right = p["ped_side"][:, k] > 0
    across = p["ped_across"][:, k]
    x_n = np.where(right, right_edge + across * (walk_right - right_edge),
                   walk_left + (1 - across) * (left_edge - walk_left))
    z_n = p["ped_z"][:, k]
    crossing = p["ped_on_crossing"][:, k] & (p["crossing"] > 0)
    x_n = np.where(crossing, lanes_left + across * (right_lanes - lanes_left), x_n)
    z_n = np.where(crossing, p["crossing"] + 0.5 + across * 2.5, z_n)
    tall_n = p["ped_height"][:, k]
    px, u, v, scale = cam.sprite(x_n, z_n, 0.6, tall_n + 0.05, p["pedestrian"][:, k])
    tall, phase = px.of(tall_n), px.of(p["ped_phase"][:, k])
    profile = px.flag(p["ped_profile"][:, k])
    width = np.where(profile, 0.62, 1.0)
    hip, shoulder, head_v = tall * 0.52, tall * 0.81, tall * 0.93
    stride = np.where(profile, 0.28, 0.06) * phase
    leg_r = _thick(0.075, scale, 0.5)
    legs = ((_capsule(u, v, -0.09 * width, hip, -0.09 * width + stride, 0.05, leg_r) < 0)
            | (_capsule(u, v, 0.09 * width, hip, 0.09 * width - stride, 0.05, leg_r) < 0))
    torso = _round_box(u, v, 0.0, (hip + shoulder) / 2, 0.2 * width, (shoulder - hip) / 2 + 0.04, 0.07) < 0
    arm_r = _thick(0.05, scale, 0.5)
    swing = np.where(profile, 0.22, 0.04) * phase
    arms = ((_capsule(u, v, -0.21 * width, shoulder - 0.05, -0.24 * width - swing, hip - 0.02, arm_r) < 0)
            | (_capsule(u, v, 0.21 * width, shoulder - 0.05, 0.24 * width + swing, hip - 0.02, arm_r) < 0))
    head = np.hypot(u / 0.1, (v - head_v) / 0.12) < 1.0
    hair = head & (v > head_v + 0.02)
    skin = px.of(p["skin"][:, k])
    colour = np.where(legs[:, None], px.of(p["trousers"][:, k]), px.of(p["shirt"][:, k]))
    colour = np.where((arms & (v < hip + 0.12))[:, None], skin, colour)
    colour = np.where(head[:, None], skin, colour)
    colour = np.where(hair[:, None], px.of(p["hair"][:, k]), colour)
    colour = colour * (1 + 0.04 * px.field(fine))[:, None]
    canvas.draw_pixels(px, legs | torso | arms | head, px.of(z_n), colour, PEDESTRIAN, instance)


def _boxes_from_instances(instance, ids, slots=None):
    """Tight boxes of every instance's visible pixels: lists of (k, 4) float32 and (k,) int64.

    slots: an optional list that receives, per frame, the (k,) instance numbers of the kept boxes
    (1.._CAR_SLOTS are the car slots, in order)."""
    n, height, width = instance.shape
    boxes, classes = [], []
    present = np.zeros(ids.shape, bool)
    x1 = np.zeros(ids.shape, np.float32)
    y1, x2, y2 = x1.copy(), x1.copy(), x1.copy()
    for k in range(1, ids.shape[1]):
        mask = instance == k
        rows, cols = mask.any(axis=2), mask.any(axis=1)                   # (n, H), (n, W)
        present[:, k] = rows.any(axis=1)
        y1[:, k] = rows.argmax(axis=1)
        y2[:, k] = height - rows[:, ::-1].argmax(axis=1)
        x1[:, k] = cols.argmax(axis=1)
        x2[:, k] = width - cols[:, ::-1].argmax(axis=1)
    remap = np.zeros((n, ids.shape[1]), np.int16)
    for i in range(n):
        keep = np.flatnonzero(present[i] & (ids[i] > 0))
        boxes.append(np.stack([x1[i, keep], y1[i, keep], x2[i, keep], y2[i, keep]], axis=1).astype(np.float32))
        classes.append(ids[i, keep].astype(np.int64))
        remap[i, keep] = np.arange(1, len(keep) + 1)
        if slots is not None:
            slots.append(keep)
    instance = np.take_along_axis(remap, instance.reshape(n, -1).astype(np.int64), axis=1).reshape(n, height, width)
    return boxes, classes, instance.astype(np.int16)


def _chunks(n, seed, height, width, vehicle_types=None, first=0):
    """Render frames first..first+n-1 in order; yields StreetScenes of at most _CHUNK frames each.

    The layout is drawn for a whole chunk of _CHUNK frames whatever is asked for, and the
    textures frame by frame, so frame i is the same picture in make_street_scenes(n, seed) for
    every n > i. Large frames are rendered a few at a time (about _CHUNK frames of 96x128 worth
    of pixels per pass), which bounds the memory and does not change the pictures.

    vehicle_types: an optional list that receives, per frame, a (k,) int64 array with the car
    type of each box (0 sedan, 1 hatchback/SUV, 2 van, 3 box truck; -1 for boxes of other classes).
    """
    per_pass = max(1, _CHUNK * 96 * 128 // (height * width))
    end = first + n
    for chunk in range(first // _CHUNK, (end - 1) // _CHUNK + 1):
        chunk_start = chunk * _CHUNK
        layout = _scene_parameters(np.random.default_rng([seed, chunk, 0]), _CHUNK)
        for start in range(max(first, chunk_start), min(end, chunk_start + _CHUNK), per_pass):
            stop = min(end, chunk_start + _CHUNK, start + per_pass)
            part = {key: value[start - chunk_start:stop - chunk_start] for key, value in layout.items()}
            rgb, label, instance, ids = _render(part, _FrameNoise(seed, start, stop - start), height, width)
            slots = [] if vehicle_types is not None else None
            boxes, classes, instance = _boxes_from_instances(instance, ids, slots)
            if slots is not None:
                for frame, keep in enumerate(slots):
                    car = (keep >= 1) & (keep <= _CAR_SLOTS)
                    types = np.full(len(keep), -1, np.int64)
                    types[car] = part["car_type"][frame, keep[car] - 1]
                    vehicle_types.append(types)
            images = np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)
            yield StreetScenes(images, label, instance, boxes, classes)


def make_street_scenes(n, seed, height=96, width=128, first=0):
    """Render n street scenes; deterministic by seed.

    Parameters: n frames (>= 1), seed (non-negative int), frame height and width in pixels
    (32..1024 each, width/height between 0.5 and 3), first: index of the first frame (default 0).
    Frame i depends on (seed, i) only: the first frames of a longer run are the same pictures,
    ``first`` renders frames first..first+n-1 of that run (so parts can be rendered in parallel),
    and a larger size shows the same streets in more detail (only the per-pixel grain and sensor
    noise differ).

    Returns a :class:`StreetScenes`: images (n, H, W, 3) uint8, masks (n, H, W) uint8 CARLA class
    ids (those of ``CLASSES_PRESENT``), instances (n, H, W) int16 (k + 1 = the k-th box of that
    frame, 0 = no object), boxes (n arrays (k, 4) float32 of x1, y1, x2, y2 pixel edges of the
    visible pixels) and classes (n arrays (k,) int64 of ``BOX_CLASSES`` ids).
    """
    n = _integer(n, "n", 1)
    seed = _integer(seed, "seed", 0)
    height, width = _check_frame_size(height, width)
    first = _integer(first, "first", 0)
    parts = list(_chunks(n, seed, height, width, first=first))
    return StreetScenes(np.concatenate([c.images for c in parts]), np.concatenate([c.masks for c in parts]),
                        np.concatenate([c.instances for c in parts]),
                        [b for c in parts for b in c.boxes], [k for c in parts for k in c.classes])


#: Classes of the week-3 street detector: CARLA's one vehicle class split by the car's shape.
DETECTION_CLASSES = ("car", "truck", "pedestrian", "traffic light", "traffic sign")
#: Car types (``car_type`` of the layout) that count as "truck": the box truck.
_TRUCK_TYPES = (3,)


def make_detection_scenes(n, seed, height=256, width=384, first=0):
    """Street scenes with boxes labelled for the week-3 detector (:data:`DETECTION_CLASSES`).

    The frames are exactly those of ``make_street_scenes(n, seed, height, width, first)`` (frames
    first..first+n-1 of the run of that seed; frame i depends on (seed, i) only). Vehicles are
    split by their shape: box trucks are "truck" (1), sedans, hatchbacks/SUVs and vans "car" (0);
    pedestrians are 2, traffic lights 3, traffic signs 4; poles and trees are left out (the
    generator draws no buses). Returns (images (n, H, W, 3) uint8, boxes: list of n (k, 4) float32
    (x1, y1, x2, y2) pixel edges, labels: list of n (k,) int64 indices into DETECTION_CLASSES).
    """
    n = _integer(n, "n", 1)
    seed = _integer(seed, "seed", 0)
    height, width = _check_frame_size(height, width)
    first = _integer(first, "first", 0)
    images, boxes, labels, types = [], [], [], []
    for part in _chunks(n, seed, height, width, vehicle_types=types, first=first):
        images.append(part.images)
        boxes.extend(part.boxes)
        labels.extend(part.classes)
    out_boxes, out_labels = [], []
    for frame_boxes, classes, kinds in zip(boxes, labels, types):
        label = np.select([classes == VEHICLE, classes == PEDESTRIAN, classes == TRAFFIC_LIGHT,
                           classes == TRAFFIC_SIGN], [np.where(np.isin(kinds, _TRUCK_TYPES), 1, 0), 2, 3, 4], -1)
        keep = label >= 0
        out_boxes.append(frame_boxes[keep].reshape(-1, 4))
        out_labels.append(label[keep].astype(np.int64))
    return np.concatenate(images), out_boxes, out_labels


# --------------------------------------------------------------------------------------------
# cache in the original assignment's layout, loaders, preview
# --------------------------------------------------------------------------------------------

def street_cache_dir(seed=DEFAULT_SEED, height=96, width=128, directory=None):
    """Folder of a generated set: ``<data_dir>/generated/street/<H>x<W>_seed<S>`` (may not exist)."""
    seed = _integer(seed, "seed", 0)
    height, width = _check_frame_size(height, width)
    root = Path(directory) if directory is not None else config.data_dir()
    return root / "generated" / "street" / f"{height}x{width}_seed{seed}"


def original_street_dir(directory=None):
    """``<data_dir>/data`` if it holds the original assignment's ``CameraRGB`` and ``CameraMask``
    PNG folders (non-empty), else None."""
    root = (Path(directory) if directory is not None else config.data_dir()) / "data"
    rgb, mask = root / "CameraRGB", root / "CameraMask"
    if rgb.is_dir() and mask.is_dir() and any(rgb.glob("*.png")) and any(mask.glob("*.png")):
        return root
    return None


def street_fingerprint(n=DEFAULT_FRAMES, seed=DEFAULT_SEED, height=96, width=128):
    """Hex digest naming a generated set: a hash of a few freshly rendered sample frames (so a
    change of the generator's output, and only that, invalidates caches), the format version and
    the set's n, seed and size."""
    sample = make_street_scenes(3, seed=90210, height=48, width=64)
    h = hashlib.sha256()
    for part in (sample.images, sample.masks, sample.instances, *sample.boxes, *sample.classes):
        h.update(np.ascontiguousarray(part).tobytes())
    h.update(f"street|{FORMAT_VERSION}|{n}|{seed}|{height}x{width}".encode())
    return h.hexdigest()[:16]


def _file_digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def _read_manifest(folder):
    try:
        return json.loads((Path(folder) / "manifest.json").read_text())
    except (OSError, ValueError):
        return None


def _cache_is_intact(folder, digest, n):
    """True when the folder's manifest names this fingerprint and n frames, and every file listed
    in it exists with the recorded hash (a truncated or edited PNG counts as damaged)."""
    manifest = _read_manifest(folder)
    if not isinstance(manifest, dict) or manifest.get("fingerprint") != digest or manifest.get("n") != n:
        return False
    files = manifest.get("files")
    if not isinstance(files, dict) or len(files) != 2 * n + 1:
        return False
    try:
        return all(_file_digest(Path(folder) / name) == value for name, value in files.items())
    except OSError:
        return False


def _png_bytes(array):
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def build_street_cache(n=DEFAULT_FRAMES, seed=DEFAULT_SEED, height=96, width=128, directory=None,
                       force=False):
    """Write n generated frames in the original layout unless an intact copy exists; return the folder.

    Files: ``CameraRGB/000000.png`` (RGB), ``CameraMask/000000.png`` (RGB, class id in the red
    channel, green and blue 0, like CARLA's masks), ``boxes.json`` (per frame: file, boxes as
    [x1, y1, x2, y2], class ids) and ``manifest.json`` (fingerprint, n, seed, size, a hash of
    every file), written last. The set is built in a temporary sibling folder and renamed into
    place, so readers never see half a set; a stale or damaged one is replaced.
    """
    n = _integer(n, "n", 1)
    folder = street_cache_dir(seed, height, width, directory)
    digest = street_fingerprint(n, seed, height, width)
    if not force and _cache_is_intact(folder, digest, n):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=folder.name + ".", suffix=".tmp", dir=folder.parent))
    try:
        (building / "CameraRGB").mkdir()
        (building / "CameraMask").mkdir()
        files, frames, index = {}, [], 0
        for part in _chunks(n, seed, height, width):
            red_masks = np.zeros(part.masks.shape + (3,), np.uint8)
            red_masks[..., 0] = part.masks
            for image, mask, boxes, classes in zip(part.images, red_masks, part.boxes, part.classes):
                name = f"{index:06d}.png"
                for sub, array in (("CameraRGB", image), ("CameraMask", mask)):
                    data = _png_bytes(array)
                    (building / sub / name).write_bytes(data)
                    files[f"{sub}/{name}"] = hashlib.sha256(data).hexdigest()[:16]
                frames.append({"file": name, "boxes": boxes.tolist(), "classes": classes.tolist()})
                index += 1
        boxes_json = json.dumps({"format": "x1, y1, x2, y2 in pixel edges; CARLA class ids",
                                 "class_names": {str(c): CLASS_NAMES[c] for c in BOX_CLASSES},
                                 "frames": frames})
        (building / "boxes.json").write_text(boxes_json)
        files["boxes.json"] = _file_digest(building / "boxes.json")
        manifest = {"fingerprint": digest, "format": FORMAT_VERSION, "n": n, "seed": seed,
                    "height": height, "width": width, "files": files}
        (building / "manifest.json").write_text(json.dumps(manifest, indent=0))
        # swap in: move an old copy aside, rename the new one into place, delete the old one
        old = None
        if folder.exists():
            old = folder.with_name(f"{folder.name}.old{os.getpid()}")
            os.rename(folder, old)
        try:
            os.rename(building, folder)
        except OSError:                           # another process won the race: keep its copy
            if not _cache_is_intact(folder, digest, n):
                raise
            shutil.rmtree(building, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return folder


def street_file_lists(n=DEFAULT_FRAMES, seed=DEFAULT_SEED, height=96, width=128, directory=None):
    """(image_paths, mask_paths): sorted lists of str, pairs by file name, like the original notebook.

    Uses the original files in ``<data_dir>/data/CameraRGB`` / ``CameraMask`` when they are there
    (n, seed and size are then ignored), else the generated cache (built if needed).
    """
    original = original_street_dir(directory)
    folder = original if original is not None else build_street_cache(n, seed, height, width, directory)
    names = sorted(p.name for p in (folder / "CameraRGB").glob("*.png"))
    return ([str(folder / "CameraRGB" / name) for name in names],
            [str(folder / "CameraMask" / name) for name in names])


def load_street_dataset(n=DEFAULT_FRAMES, seed=DEFAULT_SEED, height=96, width=128, directory=None,
                        image_size=(96, 128)):
    """The ``tf.data`` pipeline of the original notebook over the street frames.

    File lists (:func:`street_file_lists`) -> read -> ``decode_png`` (3 channels) -> image
    ``convert_image_dtype`` to float32 in [0, 1], mask = max over its channels (the class id,
    keepdims) -> both resized to ``image_size`` with ``method="nearest"``. Yields unbatched pairs
    (image (96, 128, 3) float32, mask (96, 128, 1) uint8) by default.
    """
    if (not isinstance(image_size, (tuple, list)) or len(image_size) != 2
            or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1 for s in image_size)):
        raise ValueError(f"image_size must be two positive integers (height, width), got {image_size!r}")
    image_list, mask_list = street_file_lists(n, seed, height, width, directory)
    image_size = tuple(int(s) for s in image_size)
    from helpers.backend import (
        tf,  # imported here: the generator itself needs no TensorFlow
    )

    def process_path(image_path, mask_path):
        image = tf.image.decode_png(tf.io.read_file(image_path), channels=3)
        image = tf.image.convert_image_dtype(image, tf.float32)
        mask = tf.image.decode_png(tf.io.read_file(mask_path), channels=3)
        mask = tf.math.reduce_max(mask, axis=-1, keepdims=True)
        return image, mask

    def preprocess(image, mask):
        return (tf.image.resize(image, image_size, method="nearest"),
                tf.image.resize(mask, image_size, method="nearest"))

    dataset = tf.data.Dataset.from_tensor_slices((tf.constant(image_list), tf.constant(mask_list)))
    return dataset.map(process_path).map(preprocess)


def load_street_boxes(n=DEFAULT_FRAMES, seed=DEFAULT_SEED, height=96, width=128, directory=None):
    """Boxes of the generated set: list over frames of (boxes (k, 4) float32, classes (k,) int64)."""
    folder = build_street_cache(n, seed, height, width, directory)
    frames = json.loads((folder / "boxes.json").read_text())["frames"]
    return [(np.asarray(f["boxes"], np.float32).reshape(-1, 4), np.asarray(f["classes"], np.int64))
            for f in frames]


def overlay_masks(images, masks, opacity=0.55):
    """Frames (n, H, W, 3) uint8 with masks (n, H, W) drawn over them in CARLA's palette."""
    images, masks = np.asarray(images), np.asarray(masks)
    if images.shape[:-1] != masks.shape or images.shape[-1] != 3:
        raise ValueError(f"images (n, H, W, 3) and masks (n, H, W) must match, got {images.shape} and {masks.shape}")
    if not 0.0 <= opacity <= 1.0:
        raise ValueError(f"opacity must lie in [0, 1], got {opacity}")
    blended = images * (1 - opacity) + CLASS_COLOURS[np.clip(masks, 0, N_CLASSES - 1)] * opacity
    return np.clip(blended + 0.5, 0, 255).astype(np.uint8)


def save_preview(out_dir, seed=DEFAULT_SEED, n=16):
    """Write ``<out_dir>/street.png``: n frames, each next to its mask overlaid, 4 pairs per row,
    with a legend of the classes; returns the path."""
    from PIL import Image, ImageDraw

    n = _integer(n, "n", 1, 256)
    scenes = make_street_scenes(n, seed)
    height, width = scenes.images.shape[1:3]
    pairs = np.concatenate([scenes.images, overlay_masks(scenes.images, scenes.masks)], axis=2)
    columns = min(4, n)
    rows = -(-n // columns)
    gap = 4
    legend_height = 18 * (-(-len(CLASSES_PRESENT) // 7))
    sheet = Image.new("RGB", (columns * (2 * width + gap) + gap, rows * (height + gap) + gap + legend_height),
                      (255, 255, 255))
    for i, pair in enumerate(pairs):
        r, c = divmod(i, columns)
        sheet.paste(Image.fromarray(pair), (gap + c * (2 * width + gap), gap + r * (height + gap)))
    draw = ImageDraw.Draw(sheet)
    top = rows * (height + gap) + gap
    for i, cls in enumerate(CLASSES_PRESENT):
        r, c = divmod(i, 7)
        x, y = gap + c * 2 * width * columns // 7, top + 18 * r + 2
        draw.rectangle([x, y, x + 12, y + 12], fill=tuple(int(v) for v in CLASS_COLOURS[cls]))
        draw.text((x + 16, y), f"{cls} {CLASS_NAMES[cls]}", fill=(0, 0, 0))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "street.png"
    sheet.save(path)
    return path


__all__ = [
    "BOX_CLASSES", "CLASSES_PRESENT", "CLASS_COLOURS", "CLASS_NAMES", "DEFAULT_FRAMES", "DEFAULT_SEED",
    "DETECTION_CLASSES", "N_CLASSES", "StreetScenes", "build_street_cache", "load_street_boxes",
    "load_street_dataset", "make_detection_scenes", "make_street_scenes", "original_street_dir", "overlay_masks",
    "save_preview", "street_cache_dir",
    "street_file_lists", "street_fingerprint",
]
