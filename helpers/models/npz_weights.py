"""Model weights as numpy ``.npz`` archives, one array per Keras weight, keyed by layer name.

Keys are ``"<layer name>/<weight index>"`` (the index into ``layer.get_weights()``), so a file fits
any model whose layers carry the same names and shapes, whatever order they were built in, and it
loads with numpy alone. The course ships its pretrained and trained weights this way (EfficientNet-
Lite0's ImageNet weights, ResNet-50 trained on the hand signs), each checked by SHA-256 before use.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np


def file_digest(path: str | Path, algorithm: str = "sha256") -> str:
    """Hex digest of a file (``algorithm``: any name ``hashlib.new`` knows, e.g. "sha256", "md5"), read in 1 MiB chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file."""
    return file_digest(path, "sha256")


def save_npz_weights(model, path: str | Path, dtype: str = "float16") -> str:
    """Write every layer's weights to a compressed ``.npz`` cast to ``dtype``; return its SHA-256.

    float16 halves the file (ResNet-50: 43 MB instead of 95 MB) and changes a trained network's
    probabilities by about 1e-3; loading casts back to each variable's own dtype.
    """
    arrays = {f"{layer.name}/{index}": np.asarray(value).astype(dtype)
              for layer in model.layers for index, value in enumerate(layer.get_weights())}
    if not arrays:
        raise ValueError("save_npz_weights: the model has no weights")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial.npz")
    np.savez_compressed(partial, **arrays)
    partial.replace(path)
    return file_sha256(path)


def verified_file(path: str | Path, sha256: str | None = None, what: str = "weights") -> Path:
    """``path`` as a Path after checking it exists and, when ``sha256`` is given, has that SHA-256.

    Raises ValueError naming ``what`` and the file when it is missing, damaged or replaced (a Git
    LFS pointer, say): nothing is loaded from a file that fails.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{what} not found at {path}")
    if sha256 is not None:
        found = file_sha256(path)
        if found != sha256:
            raise ValueError(f"{what} at {path} have SHA-256 {found}, expected {sha256}: "
                             "the file is damaged or was replaced (a Git LFS pointer?); restore it from the repository")
    return path


def load_npz_weights(model, path: str | Path, sha256: str | None = None, what: str = "weights") -> None:
    """Copy weights from an ``.npz`` written by :func:`save_npz_weights` into ``model``'s layers by name.

    Inputs:
    - model: Keras model; every weight of every layer must be found in the file with the same shape
      (extra arrays, e.g. a classifier the model was built without, are ignored)
    - path: the ``.npz`` file
    - sha256: when given, the file's SHA-256 must match (a damaged or replaced file, or a Git LFS
      pointer, is refused before anything is loaded)
    - what: name used in error messages, e.g. "EfficientNet-Lite0 weights"

    Raises ValueError with a message naming the file and the key for any mismatch.
    """
    path = verified_file(path, sha256, what)
    with np.load(path) as archive:
        stored = {key: archive[key] for key in archive.files}
    set_weights_by_name(model, stored, path, what)


def set_weights_by_name(model, arrays: dict, source, what: str = "weights") -> None:
    """Give every layer of ``model`` its weights from ``arrays`` = ``{"<layer name>/<index>": array}``.

    Each array is cast to its variable's dtype. Raises ValueError naming ``what``, ``source`` (where
    the arrays came from) and the key when one is missing or has another shape than the model expects.
    """
    for layer in model.layers:
        current = layer.get_weights()
        if not current:
            continue
        new = []
        for index, value in enumerate(current):
            key = f"{layer.name}/{index}"
            if key not in arrays:
                raise ValueError(f"{what}: {key} missing from {source}")
            if arrays[key].shape != value.shape:
                raise ValueError(f"{what}: {key} has shape {arrays[key].shape} in {source}, "
                                 f"the model expects {value.shape}")
            new.append(np.asarray(arrays[key]).astype(value.dtype))
        layer.set_weights(new)


__all__ = ["file_sha256", "save_npz_weights", "load_npz_weights", "verified_file", "set_weights_by_name"]
