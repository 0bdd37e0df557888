"""The "circle or square?" data set: deterministic, balanced, built from shipped photos, shape-only cue."""

import numpy as np
import pytest

from helpers.data import shapes_on_photos as data_transfer


def test_shapes_types_and_balance():
    x, y = data_transfer.make_shapes_on_photos(10, size=48, seed=1)
    assert x.shape == (10, 48, 48, 3) and x.dtype == np.uint8
    assert y.shape == (10,) and set(np.unique(y)) == {0, 1} and y.sum() == 5


def test_same_seed_same_images_other_seed_other_images():
    a, ya = data_transfer.make_shapes_on_photos(6, size=40, seed=3)
    b, yb = data_transfer.make_shapes_on_photos(6, size=40, seed=3)
    c, _ = data_transfer.make_shapes_on_photos(6, size=40, seed=4)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ya, yb)
    assert not np.array_equal(a, c)


def test_train_and_validation_differ():
    (xt, _), (xv, _) = data_transfer.load_shapes_on_photos(4, 4, size=32, seed=0)
    assert not any(np.array_equal(a, b) for a in xt for b in xv)


def test_masks_are_a_disc_and_a_square_of_equal_area():
    disc = data_transfer._shape_mask(np.random.default_rng(5), 200, circle=True)
    square = data_transfer._shape_mask(np.random.default_rng(5), 200, circle=False)
    assert abs(disc.sum() - square.sum()) / disc.sum() < 0.03
    # a disc fills pi/4 of its bounding box; a square rotated by t fills 1 / (cos t + sin t)^2, in [1/2, 1]
    def fill(mask):
        rows, cols = np.nonzero(mask > 0.5)
        return (mask > 0.5).sum() / ((np.ptp(rows) + 1) * (np.ptp(cols) + 1))
    assert abs(fill(disc) - np.pi / 4) < 0.03
    assert 0.49 < fill(square) <= 1.0 and abs(fill(square) - fill(disc)) > 0.03  # (seed 5: not the rare equal case)


def test_mean_colour_does_not_tell_the_class():
    x, y = data_transfer.make_shapes_on_photos(200, size=32, seed=2)
    means = x.reshape(len(x), -1).mean(axis=1)
    gap = abs(means[y == 1].mean() - means[y == 0].mean())
    standard_error = means.std() * np.sqrt(2 / (len(x) / 2))  # of a difference of two means of 100
    assert gap < 3 * standard_error


def test_source_photos_are_real_colour_images():
    photos = data_transfer.source_photos()
    assert len(photos) >= 10
    assert all(p.ndim == 3 and p.shape[2] == 3 and p.dtype == np.uint8 and min(p.shape[:2]) >= 256 for p in photos)


def test_bad_arguments():
    with pytest.raises(ValueError, match="n must be"):
        data_transfer.make_shapes_on_photos(0)
    with pytest.raises(ValueError, match="size"):
        data_transfer.make_shapes_on_photos(2, size=8)
