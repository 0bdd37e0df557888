"""helpers.data.street: generated street scenes, their cache, the tf.data loader; the U-Net reference."""

import json

import numpy as np
import pytest
from PIL import Image

from helpers.data import street


@pytest.fixture(scope="module")
def scenes():
    return street.make_street_scenes(12, seed=5)


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_COURSE_DATA", str(tmp_path))
    return tmp_path


def test_shapes_dtypes_and_classes(scenes):
    assert scenes.images.shape == (12, 96, 128, 3) and scenes.images.dtype == np.uint8
    assert scenes.masks.shape == (12, 96, 128) and scenes.masks.dtype == np.uint8
    assert scenes.instances.shape == (12, 96, 128) and scenes.instances.dtype == np.int16
    assert len(scenes.boxes) == len(scenes.classes) == 12
    # only CARLA ids the docstring promises, and over a dozen frames all of them
    assert set(np.unique(scenes.masks).tolist()) == set(street.CLASSES_PRESENT)
    assert street.CLASS_NAMES[7] == "road" and street.CLASS_NAMES[10] == "vehicle" and street.N_CLASSES == 23
    # every frame is a street: sky, road and vehicles or buildings, and a picture with contrast
    for mask in scenes.masks:
        assert {street.SKY, street.ROAD, street.SIDEWALK} <= set(np.unique(mask).tolist())
    assert (scenes.images.reshape(12, -1).std(axis=1) > 20).all()


def test_deterministic_by_seed_and_independent_of_n_and_size():
    a = street.make_street_scenes(5, seed=11)
    b = street.make_street_scenes(5, seed=11)
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.masks, b.masks)
    for x, y in zip(a.boxes, b.boxes):
        np.testing.assert_array_equal(x, y)
    c = street.make_street_scenes(5, seed=12)
    assert np.abs(a.images.astype(int) - c.images.astype(int)).mean() > 20
    # frame i does not depend on how many frames are asked for
    first = street.make_street_scenes(2, seed=11)
    np.testing.assert_array_equal(first.images, a.images[:2])
    # at twice the size the same streets: the masks agree after subsampling
    large = street.make_street_scenes(9, seed=11, height=192, width=256)
    assert np.mean(large.masks[:5, 1::2, 1::2] == a.masks) > 0.9
    # large frames are rendered 8 at a time; frame 8 is the same alone in its pass or not
    more = street.make_street_scenes(10, seed=11, height=192, width=256)
    np.testing.assert_array_equal(more.images[:9], large.images)
    np.testing.assert_array_equal(more.instances[:9], large.instances)
    # first=: any range of frames, across a chunk of 32 frames (layouts drawn per chunk) and starting
    # inside a pass of large frames; the same pictures, masks and boxes as one long run
    run = street.make_street_scenes(36, seed=11)
    part = street.make_street_scenes(6, seed=11, first=30)
    np.testing.assert_array_equal(part.images, run.images[30:])
    np.testing.assert_array_equal(part.masks, run.masks[30:])
    assert all(np.array_equal(x, y) for x, y in zip(part.boxes, run.boxes[30:]))
    offset = street.make_street_scenes(4, seed=11, height=192, width=256, first=5)
    np.testing.assert_array_equal(offset.images, more.images[5:9])
    with pytest.raises(ValueError, match="first"):
        street.make_street_scenes(2, seed=11, first=-1)


def test_boxes_are_tight_around_their_objects_pixels(scenes):
    height, width = scenes.masks.shape[1:]
    total = 0
    for mask, instances, boxes, classes in zip(scenes.masks, scenes.instances, scenes.boxes, scenes.classes):
        assert boxes.dtype == np.float32 and boxes.shape == (len(classes), 4)
        assert set(classes.tolist()) <= set(street.BOX_CLASSES)
        assert instances.max() == len(boxes)
        for k, ((x1, y1, x2, y2), cls) in enumerate(zip(boxes, classes)):
            assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height
            rows, cols = np.nonzero(instances == k + 1)
            assert len(rows) > 0
            # the box is exactly the extent of the object's visible pixels, and they have its class
            assert (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1) == (x1, y1, x2, y2)
            assert (mask[rows, cols] == cls).all()
            total += 1
        # things (not stuff) always belong to some object
        things = np.isin(mask, (street.PEDESTRIAN, street.POLE, street.VEHICLE, street.TRAFFIC_SIGN,
                                street.TRAFFIC_LIGHT))
        assert (instances[things] > 0).all()
    assert total > 12 * 5


def test_nearer_objects_occlude_farther_ones():
    """With the depth buffer, a car's pixels in front of the road are vehicle, never road: the
    bottom row of every car box touches road, sidewalk, line or another object, not sky."""
    s = street.make_street_scenes(8, seed=3)
    for mask, boxes, classes in zip(s.masks, s.boxes, s.classes):
        for (x1, _y1, x2, y2), cls in zip(boxes.astype(int), classes):
            if cls == street.VEHICLE and y2 < mask.shape[0]:
                below = mask[y2, x1:x2]
                assert not (below == street.SKY).any()


def test_bad_arguments_raise_value_error(tmp_path):
    for kwargs in ({"n": 0, "seed": 1}, {"n": 2.0, "seed": 1}, {"n": True, "seed": 1},
                   {"n": 2, "seed": -1}, {"n": 2, "seed": "1"}, {"n": 2, "seed": 1, "height": 16},
                   {"n": 2, "seed": 1, "width": 2000}, {"n": 2, "seed": 1, "height": 200, "width": 40}):
        with pytest.raises(ValueError):
            street.make_street_scenes(**kwargs)
    with pytest.raises(ValueError):
        street.build_street_cache(n=0, directory=tmp_path)
    with pytest.raises(ValueError):
        street.save_preview(tmp_path, n=0)
    with pytest.raises(ValueError):
        street.overlay_masks(np.zeros((2, 8, 8, 3), np.uint8), np.zeros((2, 8, 9), np.uint8))


def test_cache_round_trip_and_rebuild_when_damaged(data_dir):
    folder = street.build_street_cache(n=5, seed=2)
    assert folder == data_dir / "generated" / "street" / "96x128_seed2"
    expected = street.make_street_scenes(5, seed=2)
    names = sorted(p.name for p in (folder / "CameraRGB").glob("*.png"))
    assert names == [f"{i:06d}.png" for i in range(5)]
    for i, name in enumerate(names):
        np.testing.assert_array_equal(np.asarray(Image.open(folder / "CameraRGB" / name)), expected.images[i])
        mask = np.asarray(Image.open(folder / "CameraMask" / name))
        assert mask.shape == (96, 128, 3)
        np.testing.assert_array_equal(mask[..., 0], expected.masks[i])      # the id in red, like CARLA
        assert not mask[..., 1:].any()
    frames = json.loads((folder / "boxes.json").read_text())["frames"]
    np.testing.assert_allclose(np.asarray(frames[3]["boxes"]).reshape(-1, 4), expected.boxes[3])
    assert frames[3]["classes"] == expected.classes[3].tolist()
    loaded = street.load_street_boxes(n=5, seed=2)
    np.testing.assert_array_equal(loaded[4][1], expected.classes[4])

    # a fresh cache is reused as it is
    stamp = (folder / "manifest.json").stat().st_mtime_ns
    assert street.build_street_cache(n=5, seed=2) == folder
    assert (folder / "manifest.json").stat().st_mtime_ns == stamp

    # a truncated PNG is noticed and the whole set rebuilt; no temporary folders stay behind
    damaged = folder / "CameraMask" / "000002.png"
    damaged.write_bytes(damaged.read_bytes()[:40])
    street.build_street_cache(n=5, seed=2)
    np.testing.assert_array_equal(np.asarray(Image.open(damaged))[..., 0], expected.masks[2])
    # so is a missing file, and a manifest of another generator version
    (folder / "CameraRGB" / "000000.png").unlink()
    street.build_street_cache(n=5, seed=2)
    assert (folder / "CameraRGB" / "000000.png").is_file()
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["fingerprint"] = "0" * 16
    (folder / "manifest.json").write_text(json.dumps(manifest))
    street.build_street_cache(n=5, seed=2)
    assert json.loads((folder / "manifest.json").read_text())["fingerprint"] == street.street_fingerprint(5, 2)
    assert sorted(p.name for p in folder.parent.iterdir()) == ["96x128_seed2"]


def test_loader_builds_the_original_pipeline(data_dir):
    dataset = street.load_street_dataset(n=3, seed=4, height=48, width=64)   # small frames, resized up
    pairs = list(dataset.as_numpy_iterator())
    assert len(pairs) == 3
    expected = street.make_street_scenes(3, seed=4, height=48, width=64)
    for (image, mask), truth in zip(pairs, expected.masks):
        assert image.shape == (96, 128, 3) and image.dtype == np.float32
        assert 0.0 <= image.min() and image.max() <= 1.0
        assert mask.shape == (96, 128, 1)
        # nearest-neighbour resizing keeps class ids (no blends between classes)
        np.testing.assert_array_equal(mask[::2, ::2, 0], truth)
    with pytest.raises(ValueError):
        street.load_street_dataset(n=3, seed=4, image_size=(0, 128))


def test_original_files_are_used_when_present(data_dir):
    original = data_dir / "data"
    (original / "CameraRGB").mkdir(parents=True)
    (original / "CameraMask").mkdir()
    for name in ("a.png", "b.png"):
        Image.fromarray(np.full((60, 80, 3), 100, np.uint8)).save(original / "CameraRGB" / name)
        Image.fromarray(np.full((60, 80, 3), 7, np.uint8)).save(original / "CameraMask" / name)
    images, masks = street.street_file_lists()
    assert images == [str(original / "CameraRGB" / n) for n in ("a.png", "b.png")]
    assert masks == [str(original / "CameraMask" / n) for n in ("a.png", "b.png")]
    assert not (data_dir / "generated").exists()


def test_preview_writes_a_grid(tmp_path):
    path = street.save_preview(tmp_path, seed=0, n=6)
    assert path == tmp_path / "street.png"
    with Image.open(path) as picture:
        width, height = picture.size
    assert width > 4 * 2 * 128 and height > 2 * 96


def test_unet_reference_has_the_original_parameter_count():
    from helpers.reference.image_segmentation_unet import (
        conv_block,
        unet_model,
        upsampling_block,
    )

    model = unet_model()
    assert model.count_params() == 8_640_471
    assert model.input_shape == (None, 96, 128, 3) and model.output_shape == (None, 96, 128, 23)
    from helpers.backend import keras

    inputs = keras.Input((16, 24, 3))
    pooled, skip = conv_block(inputs, n_filters=4)
    assert tuple(pooled.shape) == (None, 8, 12, 4) and tuple(skip.shape) == (None, 16, 24, 4)
    same, skip = conv_block(inputs, n_filters=4, max_pooling=False)
    assert same is skip
    up = upsampling_block(pooled, skip, n_filters=6)
    assert tuple(up.shape) == (None, 16, 24, 6)
