"""The course's data sets, generated offline (nothing is ever downloaded), one module per data set.

- :mod:`helpers.data.signs`            -- a hand showing 0 to 5 raised fingers (64x64, 6 classes,
  1080 training / 120 test images), like the course's SIGNS set;
- :mod:`helpers.data.happy`            -- a face that smiles or not (64x64, 600 / 150 images);
- :mod:`helpers.data.identities`       -- several photos of each of many drawn people (face shape,
  skin, hair, eyes, nose, mouth, glasses, age fixed per person; pose, lighting, expression redrawn),
  for face verification and recognition (week 4);
- :mod:`helpers.data.shapes_on_photos` -- "circle or square?" pasted on real photos that
  scikit-image and scikit-learn ship (week 2's transfer learning);
- :mod:`helpers.data.cache`            -- the HDF5 cache of signs and happy in the original course's
  layout (fingerprinted, atomic writes, rebuilt when stale or damaged; the original files are used
  when a user puts them in ``helpers.config.data_dir()``) and their loaders;
- :mod:`helpers.data._draw`            -- batched drawing primitives the generators share;
- :mod:`helpers.data._face`            -- the drawn face shared by happy and identities;
- :mod:`helpers.data.cli`              -- ``python -m helpers.data build|preview``.

Every generator is deterministic by seed (seeds are arguments, never global state). Shapes: images
``(N, S, S, 3)`` uint8, labels ``(N,)`` int64; the loaders return labels as ``(1, m)`` rows like the
original course. The names notebooks use are re-exported here (``from helpers.data import load_signs_dataset``).
"""

from helpers.data.cache import (
    DEFAULT_SEED,
    FORMAT_VERSION,
    build_dataset,
    convert_to_one_hot,
    fingerprint,
    generated_paths,
    load_h5_pair,
    load_happy_dataset,
    load_signs_dataset,
    original_paths,
)
from helpers.data.cli import main, save_preview
from helpers.data.happy import HAPPY_CLASSES, HAPPY_SIZES, make_happy
from helpers.data.identities import IDENTITY_TRAITS, SHOT_TRAITS, make_identities
from helpers.data.signs import SIGNS_CLASSES, SIGNS_SIZES, make_signs

__all__ = [
    "DEFAULT_SEED", "FORMAT_VERSION", "build_dataset", "convert_to_one_hot", "fingerprint", "generated_paths",
    "load_h5_pair", "load_happy_dataset", "load_signs_dataset", "original_paths", "main", "save_preview",
    "HAPPY_CLASSES", "HAPPY_SIZES", "make_happy", "IDENTITY_TRAITS", "SHOT_TRAITS", "make_identities", "SIGNS_CLASSES", "SIGNS_SIZES", "make_signs",
]
