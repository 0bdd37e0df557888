"""Expected values of the visible tests: computed with the instructor reference, or read from the kit.

The checks of a notebook ask for every value that needs the reference (an expected array, the
outputs a known mistake gives, a reference model's summary) through an :class:`Expected` store::

    EXPECTED = Expected("convolution_step_by_step")
    expected = EXPECTED("zero_pad", lambda: reference(...).zero_pad(X, pad), X, pad)

The value is keyed by its name and a SHA-256 of the inputs it depends on. Where
``helpers.reference`` exists (the instructor's repository, the autograder) the value is computed
on the spot; :func:`recording` also keeps every value asked for, which is how
``cnn-course student-kit`` writes ``helpers/checks/expected/<nb>.npz`` while running each visible
test with the reference solutions. In the student kit, which has no ``helpers.reference``, the
value is read from that file, after checking it against ``helpers/checks/expected/MANIFEST.json``
(SHA-256 of every file). So the visible tests give the same verdicts and messages in both places,
and a missing or altered file says so instead of passing or failing for a wrong reason.

Hidden tests ask for values at fresh inputs, which the kit does not hold: they run only where the
reference is (the autograder).

``CNN_COURSE_EXPECTED=stored`` makes the repository read the stored values too (tests of the kit).
Stored values are arrays, numbers, strings, None, tuples, lists and dicts of these (no pickle).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.util
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

#: Folder of the stored values: ``<nb>.npz`` per notebook and ``MANIFEST.json``.
EXPECTED_DIR = Path(__file__).resolve().parent / "expected"
MANIFEST = "MANIFEST.json"
_ENV = "CNN_COURSE_EXPECTED"

_recorder: dict[str, dict[str, Any]] | None = None
_loaded: dict[tuple[str, str], dict[str, Any]] = {}


class ExpectedDataError(ValueError):
    """The stored expected values of a visible test are missing, altered or do not hold a value."""


def reference(nb: str):
    """The instructor reference module ``helpers.reference.<nb>`` (absent from the student kit)."""
    try:
        return importlib.import_module(f"helpers.reference.{nb}")
    except ModuleNotFoundError as err:
        if err.name not in ("helpers.reference", f"helpers.reference.{nb}"):
            raise
        raise ExpectedDataError(
            f"helpers.reference.{nb} is not part of the student kit: this check needs the instructor's "
            "reference (the hidden tests run only in the autograder)") from None


def reference_available() -> bool:
    """Whether the instructor references are installed (not in the student kit)."""
    if os.environ.get(_ENV, "").strip().lower() == "stored":
        return False
    return importlib.util.find_spec("helpers.reference") is not None


# --------------------------------------------------------------------------------------------
# keys


def _feed(h, value: Any) -> None:
    if isinstance(value, np.generic):
        value = np.asarray(value)
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        h.update(f"a{array.dtype.str}{array.shape}".encode())
        h.update(array.tobytes())
    elif isinstance(value, (bool, int, float, str, type(None))):
        h.update(f"{type(value).__name__}:{value!r};".encode())
    elif isinstance(value, (tuple, list)):
        h.update(f"{type(value).__name__}[{len(value)}".encode())
        for item in value:
            _feed(h, item)
        h.update(b"]")
    elif isinstance(value, dict):
        h.update(f"dict[{len(value)}".encode())
        for k in sorted(value, key=repr):
            _feed(h, k)
            _feed(h, value[k])
        h.update(b"]")
    else:
        raise TypeError(f"stored expected values: cannot key an input of type {type(value).__name__}")


def key_of(name: str, inputs: tuple) -> str:
    """``name`` and the SHA-256 (first 24 hex digits) of the inputs the value depends on."""
    h = hashlib.sha256()
    _feed(h, inputs)
    return f"{name}|{h.hexdigest()[:24]}"


# --------------------------------------------------------------------------------------------
# encoding (JSON tree + arrays, no pickle)


def _encode(value: Any, arrays: list) -> Any:
    if isinstance(value, np.ndarray):
        arrays.append(value)
        return {"$a": len(arrays) - 1}
    if isinstance(value, np.generic):
        arrays.append(np.asarray(value))
        return {"$s": len(arrays) - 1}
    if isinstance(value, (bool, int, float, str, type(None))):
        return value
    if isinstance(value, tuple):
        return {"$t": [_encode(v, arrays) for v in value]}
    if isinstance(value, list):
        return [_encode(v, arrays) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("stored expected values: dict keys must be strings")
        return {"$d": {k: _encode(v, arrays) for k, v in value.items()}}
    raise TypeError(f"stored expected values: cannot store a value of type {type(value).__name__}")


def _decode(tree: Any, arrays: dict) -> Any:
    if isinstance(tree, list):
        return [_decode(v, arrays) for v in tree]
    if isinstance(tree, dict):
        if "$a" in tree:
            return arrays[f"a{tree['$a']}"].copy()
        if "$s" in tree:
            return arrays[f"a{tree['$s']}"][()]
        if "$t" in tree:
            return tuple(_decode(v, arrays) for v in tree["$t"])
        return {k: _decode(v, arrays) for k, v in tree["$d"].items()}
    return tree


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_store(nb: str, values: dict[str, Any], folder: Path) -> Path:
    """Write ``values`` ({key: value}) as ``folder/<nb>.npz`` and return its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays: list = []
    index = {key: _encode(value, arrays) for key, value in sorted(values.items())}
    path = folder / f"{nb}.npz"
    np.savez_compressed(path, index=np.array(json.dumps(index, sort_keys=True)),
                        **{f"a{i}": a for i, a in enumerate(arrays)})
    return path


def write_manifest(folder: Path) -> Path:
    """``folder/MANIFEST.json``: the SHA-256 of every ``.npz`` in ``folder``."""
    folder = Path(folder)
    manifest = {"format": 1, "files": {p.name: file_sha256(p) for p in sorted(folder.glob("*.npz"))}}
    path = folder / MANIFEST
    path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return path


def _load(nb: str, folder: Path) -> dict[str, Any]:
    cache_key = (str(folder), nb)
    if cache_key in _loaded:
        return _loaded[cache_key]
    where = f"{folder.name}/{nb}.npz"
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise ExpectedDataError(
            f"the expected values of the visible tests are missing ({folder.name}/{MANIFEST} not found): "
            "this copy of the course kit is incomplete; get the kit again from your instructor")
    try:
        files = json.loads(manifest_path.read_text())["files"]
    except (ValueError, KeyError, TypeError):
        raise ExpectedDataError(f"{folder.name}/{MANIFEST} is damaged; get the kit again from your instructor") from None
    path = folder / f"{nb}.npz"
    if f"{nb}.npz" not in files or not path.is_file():
        raise ExpectedDataError(
            f"the expected values of the visible tests of {nb} are missing ({where} not found): "
            "get the kit again from your instructor")
    if file_sha256(path) != files[f"{nb}.npz"]:
        raise ExpectedDataError(
            f"the expected values of the visible tests of {nb} were altered ({where} does not match its "
            f"SHA-256 in {MANIFEST}): the visible tests cannot be trusted; get the kit again from your instructor")
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    index = json.loads(str(arrays.pop("index")))
    values = {key: _decode(tree, arrays) for key, tree in index.items()}
    _loaded[cache_key] = values
    return values


# --------------------------------------------------------------------------------------------
# the store


class Expected:
    """Values of notebook ``nb``'s checks that need the reference (see the module docstring)."""

    def __init__(self, nb: str, folder: Path | None = None):
        self.nb = nb
        self.folder = Path(folder) if folder is not None else EXPECTED_DIR

    def __call__(self, name: str, compute: Callable[[], Any], *inputs) -> Any:
        """The value ``compute()`` gives (with the reference), keyed by ``name`` and ``inputs``."""
        key = key_of(name, inputs)
        if reference_available():
            value = compute()
            if _recorder is not None:
                _encode(value, [])  # fail at kit-build time on a value that cannot be stored
                _recorder.setdefault(self.nb, {})[key] = value
            return value
        values = _load(self.nb, self.folder)
        if key not in values:
            raise ExpectedDataError(
                f"{name}: no stored expected value for these inputs in {self.folder.name}/{self.nb}.npz. "
                "The student kit holds the values of the visible tests only (hidden tests run in the "
                "autograder); if this is a visible test, the stored values do not match this version of the "
                "checks: get the kit again from your instructor")
        return values[key]

    def lazy(self, name: str, compute: Callable[[], Any], *inputs) -> Callable[[], Any]:
        """Like calling the store, but deferred (e.g. diagnoses, needed only when a check fails).

        While recording, the value is computed and kept at once, so the kit holds it.
        """
        if _recorder is not None and reference_available():
            value = self(name, compute, *inputs)
            return lambda: value
        return lambda: self(name, compute, *inputs)


@contextlib.contextmanager
def recording() -> Iterator[dict[str, dict[str, Any]]]:
    """Keep every value asked for while the block runs: ``{nb: {key: value}}`` (kit build)."""
    global _recorder
    if not reference_available():
        raise ExpectedDataError("recording expected values needs helpers.reference (the instructor's repository)")
    previous, _recorder = _recorder, {}
    try:
        yield _recorder
    finally:
        _recorder = previous


def clear_cache() -> None:
    """Forget the stored values read so far (tests that alter the files)."""
    _loaded.clear()


__all__ = ["EXPECTED_DIR", "Expected", "ExpectedDataError", "clear_cache", "key_of", "recording", "reference",
           "reference_available", "write_manifest", "write_store"]
