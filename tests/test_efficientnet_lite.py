"""EfficientNet-Lite0: the converted ImageNet weights recognise real photos; the builder's options work."""

import numpy as np
import pytest
import skimage.data
import skimage.transform

from helpers.backend import keras
from helpers.models import efficientnet_lite as lite


def center_crop_224(image):
    """(H, W, 3) uint8 photo -> (224, 224, 3) float32 in [0, 255], central square crop."""
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = image[top:top + side, left:left + side]
    return skimage.transform.resize(square, (224, 224), anti_aliasing=True, preserve_range=True).astype("float32")


@pytest.fixture(scope="module")
def classifier():
    return lite.EfficientNetLite0()


@pytest.fixture(scope="module")
def photo_top5(classifier):
    photos = {"chelsea": skimage.data.chelsea(), "coffee": skimage.data.coffee()}
    batch = np.stack([center_crop_224(p) for p in photos.values()])
    probs = classifier.predict(lite.preprocess_input(batch), verbose=0)
    return dict(zip(photos, lite.decode_predictions(probs, top=5))), probs


def test_weights_file_is_the_converted_one():
    assert lite.WEIGHTS_PATH.stat().st_size > 15_000_000, "weights file looks like a Git LFS pointer or truncated"
    assert lite.file_sha256(lite.WEIGHTS_PATH) == lite.WEIGHTS_SHA256
    assert (lite.WEIGHTS_PATH.parent / "NOTICE").is_file()
    assert (lite.WEIGHTS_PATH.parent / "LICENSE-Apache-2.0.txt").is_file()


def test_class_names():
    names = lite.imagenet_class_names()
    assert len(names) == 1000 and len(set(names)) > 990
    assert names[281] == "tabby" and names[285] == "Egyptian cat" and names[967] == "espresso"


def test_cat_photo_is_a_cat(photo_top5):
    top5, _ = photo_top5
    names = [name for _, name, _ in top5["chelsea"]]
    cats = {"tabby", "tiger cat", "Egyptian cat", "Persian cat", "Siamese cat", "lynx"}
    assert names[0] in cats, f"top-1 for the cat photo is {names[0]!r}; top-5 {names}"
    assert len(cats.intersection(names[:3])) >= 2, f"top-3 for the cat photo: {names[:3]}"


def test_coffee_photo_is_coffee(photo_top5):
    top5, _ = photo_top5
    names = [name for _, name, _ in top5["coffee"]]
    assert names[0] in {"espresso", "cup", "coffee mug"}, f"top-1 for the coffee photo is {names[0]!r}; {names}"
    assert {"espresso", "cup", "coffee mug"}.issubset(names), f"top-5 for the coffee photo: {names}"


def test_probabilities_are_a_distribution(photo_top5):
    _, probs = photo_top5
    assert probs.shape == (2, 1000)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-4)
    assert probs.max(axis=1).min() > 0.3, "the photos should be classified with some confidence"


def test_random_weights_do_not_recognise_the_cat():
    """Guards the test above: the photo result comes from the weights, not from the test."""
    untrained = lite.EfficientNetLite0(weights=None)
    image = center_crop_224(skimage.data.chelsea())[None]
    names = [n for _, n, _ in lite.decode_predictions(untrained.predict(lite.preprocess_input(image), verbose=0))[0]]
    assert not {"tabby", "tiger cat", "Egyptian cat"}.issubset(names)


def test_without_top_any_size_and_shared_weights(classifier):
    backbone = lite.EfficientNetLite0(input_shape=(160, 128, 3), include_top=False)
    assert backbone.output_shape == (None, 5, 4, lite.FEATURE_CHANNELS)
    assert "predictions" not in [layer.name for layer in backbone.layers]
    np.testing.assert_array_equal(
        backbone.get_layer("block6d_dwconv").get_weights()[0], classifier.get_layer("block6d_dwconv").get_weights()[0]
    )
    pooled = lite.EfficientNetLite0(input_shape=(96, 96, 3), include_top=False, pooling="avg", weights=None)
    assert pooled.output_shape == (None, lite.FEATURE_CHANNELS)
    out = pooled.predict(np.zeros((2, 96, 96, 3), "float32"), verbose=0)
    assert out.shape == (2, lite.FEATURE_CHANNELS) and np.isfinite(out).all()


def test_architecture(classifier):
    assert 4_600_000 < classifier.count_params() < 4_700_000  # 4.65 M in the EfficientNet-Lite paper table
    names = [layer.name for layer in classifier.layers]
    assert len(lite.block_names()) == 16
    for block in ("block1a", "block2b", "block7a"):
        assert f"{block}_dwconv" in names and f"{block}_project_bn" in names
    assert "block1a_expand_conv" not in names  # expansion 1: no expand convolution
    assert "block2a_add" not in names and "block2b_add" in names  # shortcut only when shapes match
    assert classifier.get_layer("block3a_dwconv").kernel_size == (5, 5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="include_top"):
        lite.EfficientNetLite0(input_shape=(160, 160, 3), include_top=True, weights=None)
    with pytest.raises(ValueError, match="H, W, 3"):
        lite.EfficientNetLite0(input_shape=(160, 160), include_top=False, weights=None)
    with pytest.raises(ValueError, match="pooling"):
        lite.EfficientNetLite0(include_top=False, pooling="sum", weights=None)
    with pytest.raises(ValueError, match="decode_predictions"):
        lite.decode_predictions(np.zeros((2, 10)))


def test_hash_mismatch_is_reported(tmp_path):
    fake = tmp_path / "efficientnet_lite0.npz"
    np.savez(fake, x=np.zeros(3))
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, name="d")])
    with pytest.raises(ValueError, match="SHA-256"):
        lite.load_weights(model, fake, check_hash=True)
    with pytest.raises(ValueError, match="d/0 missing"):
        lite.load_weights(model, fake, check_hash=False)


def test_preprocess_input_range():
    out = lite.preprocess_input(np.array([0, 127, 255], dtype="uint8"))
    np.testing.assert_allclose(out, [-127 / 128, 0.0, 1.0])
