"""The transfer-learning backbone: Keras's MobileNetV2 weights when cached, else EfficientNet-Lite0.

A fake Keras cache (MobileNetV2 weights written here in Keras's legacy .h5 layout, random values)
exercises the MobileNetV2 path without any download; the real cache is never touched.
"""

import h5py
import numpy as np
import pytest

from helpers.backend import keras
from helpers.models import backbones, efficientnet_lite


def write_fake_mobilenet_v2_cache(root, size=128, seed=3):
    """Save a random MobileNetV2 (no top) as Keras's cached ImageNet file; return its first kernel."""
    from keras.src.legacy.saving import legacy_h5_format

    keras.utils.set_random_seed(seed)
    model = keras.applications.MobileNetV2(input_shape=(size, size, 3), include_top=False, weights=None)
    path = root / "models" / backbones.mobilenet_v2_weights_file(size)
    path.parent.mkdir(parents=True)
    with h5py.File(path, "w") as handle:
        legacy_h5_format.save_weights_to_hdf5_group(handle, model)
    return path, model.get_layer("Conv1").get_weights()[0]


def test_choice_without_cache_is_efficientnet(tmp_path):
    assert backbones.find_mobilenet_v2_weights(128, tmp_path) is None
    assert backbones.choose_backbone(128, cache_dir=tmp_path) == "efficientnet_lite0"
    with pytest.raises(ValueError, match="no MobileNetV2 ImageNet weights"):
        backbones.choose_backbone(128, prefer="mobilenet_v2", cache_dir=tmp_path)
    with pytest.raises(ValueError, match="prefer"):
        backbones.choose_backbone(128, prefer="resnet")


def test_choice_prefers_the_cached_size(tmp_path):
    for size in (96, 224):
        path = tmp_path / "models" / backbones.mobilenet_v2_weights_file(size)
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"\0" * 2_000_000)
    assert backbones.find_mobilenet_v2_weights(224, tmp_path).name.endswith("_224_no_top.h5")
    assert backbones.find_mobilenet_v2_weights(128, tmp_path).name.endswith("_96_no_top.h5")
    assert backbones.find_mobilenet_v2_weights(200, tmp_path).name.endswith("_224_no_top.h5")
    assert backbones.choose_backbone(160, cache_dir=tmp_path) == "mobilenet_v2"
    assert backbones.choose_backbone(160, prefer="efficientnet_lite0", cache_dir=tmp_path) == "efficientnet_lite0"


def test_truncated_file_is_ignored(tmp_path):
    path = tmp_path / "models" / backbones.mobilenet_v2_weights_file(128)
    path.parent.mkdir()
    path.write_bytes(b"partial download")
    assert backbones.choose_backbone(128, cache_dir=tmp_path) == "efficientnet_lite0"


def test_keras_home_is_honoured(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert backbones.keras_cache_dir() == tmp_path


def test_load_mobilenet_v2_from_the_cache(tmp_path):
    _, conv1 = write_fake_mobilenet_v2_cache(tmp_path, size=128)
    backbone = backbones.load_backbone((128, 128, 3), cache_dir=tmp_path)
    assert backbone.name == "mobilenet_v2" and backbone.weights.endswith("_128_no_top.h5")
    np.testing.assert_array_equal(backbone.model.get_layer("Conv1").get_weights()[0], conv1)
    assert backbone.model.output_shape == (None, 4, 4, 1280)
    assert backbone.preprocess_input is keras.applications.mobilenet_v2.preprocess_input
    assert backbones.preprocess_for(backbone.model) is backbone.preprocess_input


def test_load_efficientnet_lite0(tmp_path):
    backbone = backbones.load_backbone((96, 96, 3), cache_dir=tmp_path)
    assert backbone.name == "efficientnet_lite0" and backbone.weights == str(efficientnet_lite.WEIGHTS_PATH)
    assert backbone.model.output_shape == (None, 3, 3, 1280) and backbone.model.trainable
    assert backbone.preprocess_input is efficientnet_lite.preprocess_input
    assert backbones.preprocess_for(backbone.model) is efficientnet_lite.preprocess_input
    reference = efficientnet_lite.EfficientNetLite0(include_top=False)
    np.testing.assert_array_equal(backbone.model.get_layer("top_conv").get_weights()[0],
                                  reference.get_layer("top_conv").get_weights()[0])
    scratch = backbones.load_backbone((96, 96, 3), pretrained=False, cache_dir=tmp_path)
    assert scratch.weights == "random"
    assert not np.allclose(scratch.model.get_layer("top_conv").get_weights()[0],
                           reference.get_layer("top_conv").get_weights()[0])


def test_preprocessing_functions_agree_on_range():
    pixels = np.array([0.0, 127.5, 255.0], dtype="float32")
    for preprocess in (efficientnet_lite.preprocess_input, keras.applications.mobilenet_v2.preprocess_input):
        out = np.asarray(preprocess(pixels.copy()))
        np.testing.assert_allclose(out, [-1, 0, 1], atol=0.01)


def test_bad_shape():
    with pytest.raises(ValueError, match="image_shape"):
        backbones.load_backbone((16, 16, 3))
