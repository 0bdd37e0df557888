"""helpers.viz.augment: PCA colour augmentation, colour shifts and ten crops against hand-computed
values, Keras augmentation reproducible by seed, the widgets, and the measured numbers of lectures 5-6."""

from __future__ import annotations

import json

import numpy as np
import pytest

from helpers.viz import augment
from tests import REPO

WEEK2 = REPO / "course" / "week2"


def test_pca_colour_basis_of_pixels_varying_along_one_colour_direction():
    rng = np.random.default_rng(0)
    t = rng.normal(0, 0.1, size=(20, 20, 1))
    direction = np.array([1.0, 1.0, 0.0]) / np.sqrt(2)
    image = 0.5 + t * direction                      # all variation along (1, 1, 0)/sqrt(2)
    values, vectors = augment.pca_colour_basis(image)
    assert values[0] == pytest.approx(np.var(t, ddof=1))
    assert values[1:] == pytest.approx([0, 0], abs=1e-12)
    assert abs(vectors[:, 0] @ direction) == pytest.approx(1.0)


def test_pca_colour_shift_moves_every_pixel_by_alpha_sigma_along_the_direction():
    image = np.full((4, 4, 3), 0.5)
    image[0, 0] = [0.3, 0.3, 0.5]
    image[1, 1] = [0.7, 0.7, 0.5]
    values, vectors = augment.pca_colour_basis(image)
    out, shift = augment.pca_colour_shift(image, [2.0, 0.0, 0.0])
    assert shift == pytest.approx(2.0 * np.sqrt(values[0]) * vectors[:, 0])
    assert out - image == pytest.approx(np.broadcast_to(shift, image.shape))
    assert augment.pca_colour_shift(image, [0, 0, 0])[0] == pytest.approx(image)
    with pytest.raises(ValueError, match="alphas"):
        augment.pca_colour_shift(image, [1, 2])


def test_colour_shift_clips_and_checks_shapes():
    image = np.array([[[0.1, 0.5, 0.95]]])
    assert np.allclose(augment.colour_shift(image, [-0.2, 0.1, 0.1]), [[[0.0, 0.6, 1.0]]])
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        augment.colour_shift(np.zeros((4, 4)), [0, 0, 0])


def test_ten_crops_are_the_corners_the_centre_and_their_mirrors():
    image = np.arange(5 * 6).reshape(5, 6, 1)
    crops = augment.ten_crops(image, 3)
    assert crops.shape == (10, 3, 3, 1)
    assert crops[0, 0, 0, 0] == 0 and crops[1, 0, 0, 0] == 3 and crops[2, 0, 0, 0] == 12
    assert crops[3, -1, -1, 0] == 29 and crops[4, 0, 0, 0] == image[1, 1, 0]
    assert np.array_equal(crops[5:], crops[:5, :, ::-1])
    with pytest.raises(ValueError, match="larger"):
        augment.ten_crops(image, 6)


def test_augment_batch_is_reproducible_by_seed_and_a_no_op_when_everything_is_off():
    image = augment.photo("coffee", 48)
    a = augment.augment_batch(image, 3, seed=1, rotation=20, shear=0.3, crop=0.7, colour=0.1, pca=1.0)
    b = augment.augment_batch(image, 3, seed=1, rotation=20, shear=0.3, crop=0.7, colour=0.1, pca=1.0)
    c = augment.augment_batch(image, 3, seed=2, rotation=20, shear=0.3, crop=0.7, colour=0.1, pca=1.0)
    assert a.shape == (3, 48, 48, 3) and 0 <= a.min() and a.max() <= 1
    assert np.allclose(a, b) and not np.allclose(a, c)
    plain = augment.augment_batch(image, 2, seed=0, flip=False)
    assert np.allclose(plain, image[None], atol=1e-6)
    with pytest.raises(ValueError, match="crop"):
        augment.augment_batch(image, crop=0)


def test_photos_are_square_rgb_in_0_1():
    for name in augment.LABELLED_PHOTOS:
        p = augment.photo(name, 32)
        assert p.shape == (32, 32, 3) and 0 <= p.min() and p.max() <= 1


def test_widgets_redraw_when_a_control_moves():
    w = augment.AugmentationPlayground(size=48)
    before = w.image.value
    w.seed.value = 5
    assert w.image.value != before
    f = augment.FreezeVsDataExplorer()
    before = f.image.value
    f.n_train.value = f.n_train.options[-1]
    assert f.image.value != before and f"{f.n_train.value} training images" in f.info.value


def test_multicrop_explorer_with_the_shipped_classifier():
    m = augment.MultiCropExplorer(cover=0.6)
    crops, probs = m.predict()
    assert crops.shape == (10, 224, 224, 3) and probs.shape == (10, 1000)
    assert np.allclose(probs.sum(axis=1), 1, atol=1e-4)
    assert np.argmax(probs.mean(axis=0)) in augment.LABELLED_PHOTOS["chelsea (cat)"][2]
    before = m.image.value
    m.cover.value = 0.9
    assert m.image.value != before


def _text(name):
    return "".join("".join(c["source"]) for c in json.loads((WEEK2 / name).read_text())["cells"])


def test_measurements_have_what_the_lectures_read():
    m = augment.load_measurements()
    assert m["sizes"] == sorted(m["sizes"]) and m["validation_images"] == 400
    for key in ("frozen", "last_block", "scratch"):
        assert len(m[key]) == len(m["sizes"]) and all(0 <= a <= 1 for a in m[key])
    mc = m["multicrop"]
    assert len(mc["single_centre"]) == len(mc["single_ten_crop"]) == mc["networks"]


def test_lectures_quote_the_measured_numbers():
    """Lectures 5 and 6 discuss the measured accuracies; the numbers in their text are the stored ones."""
    m = augment.load_measurements()
    text5 = _text("05_Transfer_Learning_and_Data_Augmentation.ipynb")
    first, last = m["sizes"][0], m["sizes"][-1]
    for key in ("frozen", "last_block", "scratch"):
        assert f"{m[key][0]:.1%}" in text5 and f"{m[key][-1]:.1%}" in text5, key
    assert f"{first} images" in text5 and f"{last} images" in text5
    mc = m["multicrop"]
    text6 = _text("06_The_State_of_Computer_Vision.ipynb")
    for value in (np.mean(mc["single_centre"]), np.mean(mc["single_ten_crop"]), mc["ensemble_centre"],
                  mc["ensemble_ten_crop"]):
        assert f"{value:.1%}" in text6, value
