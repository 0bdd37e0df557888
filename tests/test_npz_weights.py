"""helpers.models.npz_weights: weights saved by layer name round-trip, and bad files are refused
with a message that names the file and the key."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.backend import keras
from helpers.models.npz_weights import file_sha256, load_npz_weights, save_npz_weights


def small_model(seed, units=4):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((3,))
    hidden = keras.layers.Dense(5, activation="relu", name="hidden")(inputs)
    hidden = keras.layers.BatchNormalization(name="norm")(hidden)
    return keras.Model(inputs, keras.layers.Dense(units, name="out")(hidden))


def test_round_trip_in_float16_and_float32(tmp_path):
    """Weights come back by name into a differently initialised model: exactly in float32, and
    within float16 rounding (relative 2**-11 ~ 4.9e-4) in float16; the returned hash is the file's."""
    source, x = small_model(0), np.random.default_rng(0).standard_normal((6, 3)).astype("float32")
    for dtype, rtol in (("float32", 0.0), ("float16", 4.9e-4)):
        path = tmp_path / f"w_{dtype}.npz"
        digest = save_npz_weights(source, path, dtype=dtype)
        assert digest == file_sha256(path)
        target = small_model(1)
        load_npz_weights(target, path, sha256=digest)
        for a, b in zip(source.get_weights(), target.get_weights()):
            assert b.dtype == np.float32
            np.testing.assert_allclose(b, a, rtol=rtol, atol=1e-7)
    np.testing.assert_allclose(target.predict(x, verbose=0), source.predict(x, verbose=0), rtol=1e-2, atol=1e-3)


def test_bad_files_are_refused_with_the_reason(tmp_path):
    path = tmp_path / "w.npz"
    digest = save_npz_weights(small_model(0), path)
    with pytest.raises(ValueError, match="not found"):
        load_npz_weights(small_model(0), tmp_path / "missing.npz")
    with pytest.raises(ValueError, match="SHA-256"):
        load_npz_weights(small_model(0), path, sha256="0" * 64)
    with pytest.raises(ValueError, match=r"out/0 has shape \(5, 4\).*expects \(5, 3\)"):
        load_npz_weights(small_model(0, units=3), path, sha256=digest)
    other = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="elsewhere")])
    with pytest.raises(ValueError, match="elsewhere/0 missing"):
        load_npz_weights(other, path, what="test weights")
    with pytest.raises(ValueError, match="no weights"):
        save_npz_weights(keras.Sequential([keras.Input((3,)), keras.layers.ReLU()]), tmp_path / "empty.npz")
