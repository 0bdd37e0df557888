"""HDF5 cache and loaders of the 64x64 image sets (signs, happy), in the original course's layout.

Files ``train_<name>_seed<S>.h5`` / ``test_<name>_seed<S>.h5`` under
``helpers.config.data_dir() / "generated"`` hold the keys ``train_set_x``, ``train_set_y``,
``test_set_x``, ``test_set_y`` and ``list_classes``. Each carries a fingerprint: a hash of a few
freshly rendered sample images (so any change of a generator's output, and only that, invalidates
the cache), the format version, the seed and the set sizes. A stale or unreadable file is rebuilt;
writes are atomic. If the original course's files (``train_signs.h5``/``test_signs.h5``,
``train_happy.h5``/``test_happy.h5``) are placed directly in ``data_dir()``, the loaders read those.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np

from helpers import config
from helpers.data._draw import _check_count, _check_seed
from helpers.data.happy import HAPPY_CLASSES, HAPPY_SIZES, make_happy
from helpers.data.signs import SIGNS_CLASSES, SIGNS_SIZES, make_signs

#: Bumped by hand when the meaning of the files changes (the fingerprint covers the generators' output).
FORMAT_VERSION = 1
#: Seed of the data sets the notebooks use.
DEFAULT_SEED = 0

_ORIGINAL_FILES = {
    "signs": ("train_signs.h5", "test_signs.h5"),
    "happy": ("train_happy.h5", "test_happy.h5"),
}
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
