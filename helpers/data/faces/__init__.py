"""Real face photos for week 4, with hand-marked face boxes.

Six photos of four people, all public domain (origins and licences in ``README.md`` next to this file):

| key | person | where the pixels come from |
|---|---|---|
| ``obama_portrait_2012.jpg`` | Barack Obama | this folder (White House photo, from the ``face_recognition`` 1.3.0 sdist) |
| ``obama_congress_2009.jpg`` | Barack Obama | this folder (idem) |
| ``obama_blue_room_2010.jpg`` | Barack Obama | this folder (idem) |
| ``biden_blue_room_2010.jpg`` | Joe Biden | this folder (idem) |
| ``astronaut`` | Eileen Collins | ``skimage.data.astronaut()`` (NASA), read from the installed scikit-image |
| ``grace_hopper`` | Grace Hopper | matplotlib's sample ``grace_hopper.jpg`` (US Navy), read from the installed matplotlib |

The four files here are 400x400 RGB JPEGs (about 37 KB each), head-and-shoulders crops of the
originals. Boxes are (x1, y1, x2, y2) in pixels of the image as loaded (x to the right, y down),
drawn by hand from the eyebrows to the chin and from cheek to cheek, ears and hair left out: the
region dlib's face chips frame. ``helpers.models.face_embedding.face_chip(image, box)`` cuts the
150x150 chip the face embedding network takes.

Typical use::

    from helpers.data.faces import load_face_photos
    images, names, boxes = load_face_photos()        # lists: (H, W, 3) uint8 arrays, person names, boxes
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

FACES_DIR = Path(__file__).resolve().parent

#: Photo key -> the person in it, in the order :func:`load_face_photos` returns them.
FACE_PEOPLE = {
    "obama_portrait_2012.jpg": "Barack Obama",
    "obama_congress_2009.jpg": "Barack Obama",
    "obama_blue_room_2010.jpg": "Barack Obama",
    "biden_blue_room_2010.jpg": "Joe Biden",
    "astronaut": "Eileen Collins",
    "grace_hopper": "Grace Hopper",
}

#: Photo key -> hand-marked face box (x1, y1, x2, y2), eyebrows to chin and cheek to cheek.
FACE_BOXES = {
    "obama_portrait_2012.jpg": (125, 112, 274, 262),    # 400x400
    "obama_congress_2009.jpg": (130, 145, 300, 310),    # 400x400
    "obama_blue_room_2010.jpg": (135, 165, 290, 305),   # 400x400
    "biden_blue_room_2010.jpg": (128, 150, 276, 282),   # 400x400
    "astronaut": (180, 88, 270, 173),                   # 512x512
    "grace_hopper": (173, 165, 350, 320),               # 600 high, 512 wide
}


def load_face_photo(key: str) -> np.ndarray:
    """One photo as an (H, W, 3) uint8 RGB array; ``key`` is one of :data:`FACE_PEOPLE`'s keys."""
    if key not in FACE_PEOPLE:
        raise ValueError(f"load_face_photo: unknown photo {key!r}; choose one of {list(FACE_PEOPLE)}")
    if key == "astronaut":
        from skimage.data import astronaut

        return np.asarray(astronaut(), dtype=np.uint8)
    from PIL import Image

    if key == "grace_hopper":
        from matplotlib.cbook import get_sample_data

        path = get_sample_data("grace_hopper.jpg", asfileobj=False)
    else:
        path = FACES_DIR / key
    with Image.open(path) as photo:
        return np.asarray(photo.convert("RGB"), dtype=np.uint8)


def load_face_photos(people: list[str] | None = None):
    """The real face photos with their people and hand-marked face boxes.

    Inputs:
    - people: keep only photos of these people (e.g. ``["Barack Obama", "Joe Biden"]``); None: all six

    Returns ``(images, names, boxes)``: three lists of equal length in :data:`FACE_PEOPLE`'s order:
    (H, W, 3) uint8 RGB arrays (sizes differ), person names, and (x1, y1, x2, y2) boxes.
    """
    keys = list(FACE_PEOPLE)
    if people is not None:
        unknown = sorted(set(people) - set(FACE_PEOPLE.values()))
        if unknown:
            raise ValueError(f"load_face_photos: no photos of {unknown}; "
                             f"people available: {sorted(set(FACE_PEOPLE.values()))}")
        keys = [key for key in keys if FACE_PEOPLE[key] in people]
    images = [load_face_photo(key) for key in keys]
    return images, [FACE_PEOPLE[key] for key in keys], [FACE_BOXES[key] for key in keys]


__all__ = ["FACES_DIR", "FACE_BOXES", "FACE_PEOPLE", "load_face_photo", "load_face_photos"]
