"""The week-3 street detector (helpers.models.street_detector): pieces, shipped head, run record, notebook text."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from helpers.data import street
from helpers.models import street_detector as sd
from helpers.models.npz_weights import file_sha256
from tests import REPO


def test_detection_scenes_are_the_street_scenes_with_vehicles_split_by_shape():
    images, boxes, labels = street.make_detection_scenes(32, seed=5, height=96, width=128)
    scenes = street.make_street_scenes(32, seed=5, height=96, width=128)
    assert np.array_equal(images, scenes.images)
    for b, lab, sb, sc in zip(boxes, labels, scenes.boxes, scenes.classes):
        kept = np.isin(sc, (street.VEHICLE, street.PEDESTRIAN, street.TRAFFIC_LIGHT, street.TRAFFIC_SIGN))
        assert np.array_equal(b, sb[kept])
        assert np.array_equal(lab >= 2, sc[kept] != street.VEHICLE)   # pedestrians, lights and signs are 2, 3, 4
        assert np.array_equal(lab[lab >= 2], np.select([sc[kept] == street.PEDESTRIAN, sc[kept] == street.TRAFFIC_LIGHT],
                                                       [2, 3], 4)[lab >= 2])
    every = np.concatenate(labels)
    assert set(np.unique(every)) <= set(range(5)) and np.sum(every == 1) > 0 and np.sum(every == 0) > 3 * np.sum(every == 1)
    assert street.DETECTION_CLASSES == sd.CLASS_NAMES


def test_kmeans_anchors_fit_box_shapes_and_check_arguments():
    rng = np.random.default_rng(0)
    shapes = np.array([[1.0, 2.0], [4.0, 1.0], [0.3, 0.3]])
    wh = np.repeat(shapes, 50, axis=0) * rng.uniform(0.95, 1.05, (150, 2))
    anchors, labels, mean_iou = sd.kmeans_anchors(wh, k=3, seed=1)
    assert anchors.shape == (3, 2) and mean_iou > 0.9
    assert np.allclose(anchors, shapes[[2, 0, 1]], rtol=0.06)    # sorted by area
    assert list(labels) == [1] * 50 + [2] * 50 + [0] * 50          # each box with the anchor of its shape
    # the median and the mean of each group agree here within the 5% jitter
    assert np.allclose(sd.kmeans_anchors(wh, k=3, seed=1, center="mean")[0], anchors, rtol=0.02)
    with pytest.raises(ValueError, match="kmeans_anchors"):
        sd.kmeans_anchors(np.zeros((10, 2)))
    with pytest.raises(ValueError, match="between 1 and the 3 distinct box shapes"):
        sd.kmeans_anchors(np.repeat(shapes, 2, axis=0), k=4, distinct_starts=True)
    with pytest.raises(ValueError, match="center"):
        sd.kmeans_anchors(wh, k=3, center="mode")


def test_targets_put_each_box_in_its_cell_and_best_anchor():
    anchors = np.array([[0.5, 1.0], [3.0, 2.0]])
    boxes = np.array([[40.0, 20.0, 48.0, 36.0], [100.0, 100.0, 148.0, 132.0]])   # centres (44, 28), (124, 116)
    target, truth = sd.yolo_targets(boxes, [2, 0], anchors, grid_shape=(16, 24), stride=16, max_boxes=4)
    assert target.shape == (16, 24, 2, 6) and target[..., 4].sum() == 2
    assert np.allclose(target[1, 2, 0], [44 / 16 - 2, 28 / 16 - 1, 0.0, 0.0, 1.0, 2.0])
    assert np.allclose(target[7, 7, 1], [124 / 16 - 7, 116 / 16 - 7, 0.0, 0.0, 1.0, 0.0])
    assert np.allclose(truth[0], [44 / 384, 28 / 256, 8 / 384, 16 / 256]) and not truth[2:].any()
    with pytest.raises(ValueError, match="labels"):
        sd.yolo_targets(boxes, [0, 7], anchors)


def test_loss_is_small_for_the_perfect_output_and_large_for_a_wrong_one():
    anchors = np.array([[0.5, 1.0], [3.0, 2.0]], np.float32)
    boxes = np.array([[40.0, 20.0, 48.0, 36.0]])
    target, truth = sd.yolo_targets(boxes, [2], anchors, grid_shape=(4, 6), stride=16, num_classes=5)
    raw = np.full((4, 6, 2, 10), -12.0, np.float32)         # confident "no object" everywhere
    raw[..., 2:4] = 0.0
    t = target[1, 2, 0]
    raw[1, 2, 0, :5] = [np.log(t[0] / (1 - t[0])), np.log(t[1] / (1 - t[1])), 0.0, 0.0, 12.0]
    raw[1, 2, 0, 5:] = [-9, -9, 9, -9, -9]
    good = float(sd.yolo_loss(raw.reshape(1, 4, 6, 20), target[None], truth[None], anchors))
    bad = raw.copy()
    bad[1, 2, 0, 4] = -12.0                                  # misses the object
    worse = float(sd.yolo_loss(bad.reshape(1, 4, 6, 20), target[None], truth[None], anchors))
    # the sigmoid cross-entropy of the offsets is not zero at its optimum: compare with its entropy
    entropy = -sum(p * np.log(p) + (1 - p) * np.log(1 - p) for p in t[:2])
    scale = 2 - (8 / 96) * (16 / 64)
    assert good == pytest.approx(scale * entropy, abs=1e-3) and worse > good + 50


def test_giou_term_is_zero_on_the_true_box_and_the_same_for_a_small_and_a_large_box_equally_off():
    """yolo_loss's 1 - GIoU term (giou_scale): 0 when the responsible anchor's box is the true box;
    for a box shifted by a quarter of its width it is 1 - 0.6 (IoU 0.75 / 1.25, the enclosing box is
    the union), for a 4-pixel box shifted 1 pixel as for a 24-pixel box shifted 6 pixels; the
    offsets' cross-entropy instead costs the large box's shift far more."""
    anchors = np.array([[0.5, 0.5], [3.0, 3.0]], np.float32)
    grid, stride = (8, 12), 8

    def extra_loss(box, shift):
        """(GIoU term, loss without it) of a perfect output moved ``shift`` pixels to the right."""
        target, truth = sd.yolo_targets(np.array([box], float), [0], anchors, grid_shape=grid, stride=stride)
        raw = np.full((*grid, 2, 10), -12.0, np.float32)
        raw[..., 2:4] = 0.0
        i, j, a = (int(v[0]) for v in np.nonzero(target[..., 4]))
        tx, ty, tw, th = target[i, j, a, :4]
        tx += shift / stride
        raw[i, j, a, :5] = [np.log(tx / (1 - tx)), np.log(ty / (1 - ty)), tw, th, 12.0]
        raw[i, j, a, 5:] = [9, -9, -9, -9, -9]
        args = (raw.reshape(1, *grid, 20), target[None], truth[None], anchors)
        plain = float(sd.yolo_loss(*args))
        return float(sd.yolo_loss(*args, giou_scale=1.0)) - plain, plain

    small, large = [17.0, 17.0, 21.0, 21.0], [29.0, 29.0, 53.0, 53.0]    # centres 3/8 and 1/8 into their cells
    assert extra_loss(small, 0.0)[0] == pytest.approx(0.0, abs=1e-5)
    assert extra_loss(large, 0.0)[0] == pytest.approx(0.0, abs=1e-5)
    assert extra_loss(small, 1.0)[0] == pytest.approx(1 - 0.75 / 1.25, abs=1e-4)
    assert extra_loss(large, 6.0)[0] == pytest.approx(1 - 0.75 / 1.25, abs=1e-4)
    # without the term, the large box's 6-pixel shift costs more than 5 times the small box's 1-pixel shift
    assert extra_loss(large, 6.0)[1] - extra_loss(large, 0.0)[1] > 5 * (extra_loss(small, 1.0)[1] - extra_loss(small, 0.0)[1])


def _yolo_loss_in_tensorflow(raw, target, truth, anchors, num_classes=5, object_scale=5.0, no_object_scale=1.0,
                             coord_scale=1.0, class_scale=1.0, ignore_iou=0.6):
    """yolo_loss as it was written in TensorFlow ops (it trained the earlier, CPU-trained head), kept to check keras.ops'."""
    from helpers.backend import tf
    from helpers.models.tiny_yolo import yolo_head

    anchors = np.asarray(anchors, np.float32)
    raw = tf.convert_to_tensor(raw, tf.float32)
    shape = tf.shape(raw)
    t = tf.reshape(raw, [shape[0], shape[1], shape[2], len(anchors), 5 + num_classes])
    box_xy, box_wh, _, _ = yolo_head(raw, anchors, num_classes)
    p_min, p_max = box_xy - box_wh / 2, box_xy + box_wh / 2
    truth = tf.convert_to_tensor(truth, tf.float32)[:, None, None, None]
    t_min, t_max = truth[..., :2] - truth[..., 2:] / 2, truth[..., :2] + truth[..., 2:] / 2
    inter = tf.reduce_prod(tf.maximum(tf.minimum(p_max[..., None, :], t_max) - tf.maximum(p_min[..., None, :], t_min), 0.0), -1)
    union = tf.reduce_prod(box_wh, -1)[..., None] + tf.reduce_prod(truth[..., 2:], -1) - inter
    best_iou = tf.reduce_max(inter / tf.maximum(union, 1e-9), axis=-1)
    target = tf.convert_to_tensor(target, tf.float32)
    obj = target[..., 4]
    noobj = (1.0 - obj) * tf.cast(best_iou < ignore_iou, tf.float32)
    conf_ce = tf.nn.sigmoid_cross_entropy_with_logits(labels=obj, logits=t[..., 4])
    conf_loss = object_scale * obj * conf_ce + no_object_scale * noobj * conf_ce
    grid = tf.cast(tf.stack([shape[2], shape[1]]), tf.float32)
    scale = 2.0 - tf.reduce_prod(tf.exp(target[..., 2:4]) * anchors / grid, -1)
    xy_loss = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=target[..., 0:2], logits=t[..., 0:2]), -1)
    wh_loss = tf.reduce_sum(tf.square(t[..., 2:4] - target[..., 2:4]), -1)
    coord_loss = coord_scale * obj * scale * (xy_loss + wh_loss)
    class_ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.cast(target[..., 5], tf.int32), logits=t[..., 5:])
    total = tf.reduce_sum(conf_loss + coord_loss + class_scale * obj * class_ce, axis=[1, 2, 3])
    return tf.reduce_mean(total)


def test_keras_ops_loss_equals_the_tensorflow_loss_and_packs_for_compile():
    """yolo_loss (keras.ops, trains under JAX too) gives the TensorFlow version's numbers on random
    outputs and real targets; packed_yolo_loss on pack_targets' array gives the same."""
    images, boxes, labels = street.make_detection_scenes(4, seed=3, height=256, width=384)
    anchors = np.array([[0.2, 0.4], [0.6, 0.7], [1.0, 1.4], [2.1, 2.0], [5.2, 4.2]], np.float32)
    targets = [sd.yolo_targets(b, c, anchors, sd.COARSE_GRID, sd.COARSE_STRIDE) for b, c in zip(boxes, labels)]
    target, truth = np.stack([t for t, _ in targets]), np.stack([u for _, u in targets])
    assert target[..., 4].sum() > 10
    rng = np.random.default_rng(0)
    for spread in (0.5, 3.0):
        raw = rng.normal(0.0, spread, (4, 16, 24, 50)).astype(np.float32)
        new = float(sd.yolo_loss(raw, target, truth, anchors))
        old = float(_yolo_loss_in_tensorflow(raw, target, truth, anchors))
        assert new == pytest.approx(old, rel=1e-5)
        packed = float(sd.packed_yolo_loss(anchors, sd.COARSE_GRID)(sd.pack_targets(target, truth), raw))
        assert packed == pytest.approx(old, rel=1e-5)
        scaled = dict(object_scale=2.0, no_object_scale=0.5, coord_scale=3.0, class_scale=1.5, ignore_iou=0.3)
        assert float(sd.yolo_loss(raw, target, truth, anchors, **scaled)) == pytest.approx(
            float(_yolo_loss_in_tensorflow(raw, target, truth, anchors, **scaled)), rel=1e-5)
    # through Keras's compile + test_on_batch, as the GPU script trains stage 1: the loss of the coarse head's output
    head = sd.build_coarse_head()
    head.compile(loss=sd.packed_yolo_loss(anchors, sd.COARSE_GRID))
    rng = np.random.default_rng(1)
    features = [rng.normal(0.0, 1.0, (4, 16, 24, 112)).astype(np.float32),
                rng.normal(0.0, 1.0, (4, 8, 12, 320)).astype(np.float32)]
    through_keras = float(head.test_on_batch(features, sd.pack_targets(target, truth)))
    assert through_keras == pytest.approx(float(sd.yolo_loss(head(features), target, truth, anchors)), rel=1e-5)


def test_head_is_the_trunk_then_the_fine_branch_with_the_shipped_weights():
    """The shipped head equals the frozen trunk followed by the fine branch, as stage 2 trains them
    (on cached trunk outputs); the trunk's layers carry stage 1's names, so a coarse head's file
    gives its trunk; outputs are on the 32 x 48 grid."""
    head, trunk, branch, coarse = sd.build_head(), sd.build_trunk(), sd.build_fine_branch(), sd.build_coarse_head()
    anchors = sd.load_head_weights(head)
    for model in (trunk, branch):
        assert np.array_equal(sd.load_head_weights(model, sha256=None), anchors)
    names = lambda model: {layer.name for layer in model.layers if layer.weights}   # noqa: E731
    assert names(trunk) == set(sd.TRUNK_LAYERS) and names(head) == names(trunk) | names(branch)
    assert names(coarse) == names(trunk) | {"yolo_output"}
    rng = np.random.default_rng(0)
    s4, s8, s16, s32 = (rng.normal(0.0, 1.0, (2, 256 // stride, 384 // stride, c)).astype(np.float32)
                        for stride, c in zip(sd.FEATURE_STRIDES, sd.FEATURE_CHANNELS))
    whole = np.asarray(head([s4, s8, s16, s32], training=False))
    assert whole.shape == (2, *sd.GRID_SHAPE, 50) and sd.GRID_SHAPE == (32, 48) and sd.COARSE_GRID == (16, 24)
    parts = np.asarray(branch([s4, s8, np.asarray(trunk([s16, s32], training=False))], training=False))
    assert np.allclose(whole, parts, atol=1e-5)
    assert coarse([s16, s32]).shape == (2, 16, 24, 50)


def test_detection_scenes_render_any_range_and_flip_with_their_boxes():
    images, boxes, labels = street.make_detection_scenes(6, seed=4, height=64, width=96)
    part, part_boxes, part_labels = street.make_detection_scenes(3, seed=4, height=64, width=96, first=2)
    assert np.array_equal(part, images[2:5])
    assert all(np.array_equal(a, b) for a, b in zip(part_boxes, boxes[2:5]))
    assert all(np.array_equal(a, b) for a, b in zip(part_labels, labels[2:5]))
    flipped = sd.flip_boxes(np.array([[10.0, 5.0, 30.0, 20.0]]), width=96)
    assert np.array_equal(flipped, [[66.0, 5.0, 86.0, 20.0]])
    # a box of a frame covers the same pixels in the mirrored frame
    b = boxes[0][0].astype(int)
    m = sd.flip_boxes(boxes[0][:1], width=96)[0].astype(int)
    assert np.array_equal(images[0, b[1]:b[3], b[0]:b[2]][:, ::-1], images[0][:, ::-1][m[1]:m[3], m[0]:m[2]])


def test_unflip_raw_decodes_to_the_mirrored_boxes_and_mirror_average_keeps_a_symmetric_output():
    """unflip_raw turns the raw output of a mirrored frame into the frame's layout: decoded by
    yolo_head, each box's centre x becomes 1 - x in the mirrored column, y, sizes, confidence and
    class probabilities stay; doing it twice gives the output back. A detector whose output on the
    mirror is exactly the mirror of its output is left unchanged by mirror_average."""
    from helpers.models.tiny_yolo import yolo_head

    rng = np.random.default_rng(3)
    raw = rng.normal(size=(2, 4, 6, sd.NUM_ANCHORS * (5 + sd.NUM_CLASSES))).astype(np.float32)
    anchors = rng.uniform(0.5, 3.0, (sd.NUM_ANCHORS, 2)).astype(np.float32)
    back = np.asarray(sd.unflip_raw(raw))
    xy, wh, conf, probs = (np.asarray(v) for v in yolo_head(raw, anchors, sd.NUM_CLASSES))
    xy_m, wh_m, conf_m, probs_m = (np.asarray(v)[:, :, ::-1] for v in yolo_head(back, anchors, sd.NUM_CLASSES))
    np.testing.assert_allclose(xy_m[..., 0], 1.0 - xy[..., 0], atol=1e-6)   # (col + 1 - s) / W mirrored
    assert np.array_equal(xy_m[..., 1], xy[..., 1]) and np.array_equal(wh_m, wh)
    assert np.array_equal(conf_m, conf) and np.array_equal(probs_m, probs)
    assert np.array_equal(np.asarray(sd.unflip_raw(back)), raw)
    # a perfectly mirror-symmetric detector: its output on the mirror is unflip_raw of its output
    np.testing.assert_allclose(np.asarray(sd.mirror_average(raw, back)), raw, atol=1e-6)
    other = rng.normal(size=raw.shape).astype(np.float32)
    np.testing.assert_allclose(np.asarray(sd.mirror_average(raw, other)), (raw + np.asarray(sd.unflip_raw(other))) / 2, atol=1e-6)
    with pytest.raises(ValueError, match="not 5 anchors"):
        sd.unflip_raw(np.zeros((1, 2, 2, 48), np.float32))


def test_coco_average_precision_on_known_detections():
    truth = [np.array([[0, 0, 10, 10], [20, 20, 40, 40]], float), np.array([[5, 5, 15, 25]], float)]
    labels = [np.array([0, 1]), np.array([0])]
    perfect = [(t, np.ones(len(t)), lab) for t, lab in zip(truth, labels)]
    result = sd.coco_average_precision(truth, labels, perfect, class_names=("a", "b", "c"))
    assert result["per_class"] == {"a": pytest.approx(1.0), "b": pytest.approx(1.0), "c": None}
    assert result["mAP"] == pytest.approx(1.0) and result["true_boxes"] == {"a": 2, "b": 1, "c": 0}
    # one of the two "a" boxes found, plus a higher-scored false alarm: AP of a is about 1/2 x 1/2
    half = [(np.array([[0, 0, 10, 10], [50, 50, 60, 60]], float), np.array([0.5, 0.9]), np.array([0, 0])),
            (np.zeros((0, 4)), np.zeros(0), np.zeros(0))]
    result = sd.coco_average_precision(truth, labels, half, class_names=("a", "b"))
    assert result["per_class"]["a"] == pytest.approx(0.5 * 51 / 101, abs=0.01) and result["per_class"]["b"] == 0.0
    # with a minimum area, the small box (100 px²) no longer counts
    small = sd.coco_average_precision(truth, labels, perfect, class_names=("a", "b"), min_area=150)
    assert small["true_boxes"] == {"a": 1, "b": 1} and small["mAP"] == pytest.approx(1.0)


def test_run_record_describes_the_shipped_head():
    record = sd.read_run_record()
    assert sd.WEIGHTS_SHA256 == record["weights"]["sha256"] == file_sha256(sd.WEIGHTS_PATH)
    assert record["classes"] == list(sd.CLASS_NAMES) and record["grid"] == list(sd.GRID_SHAPE)
    assert record["stride"] == sd.STRIDE and record["backbone_layers"] == list(sd.FEATURE_LAYERS)
    first = record["first_stage"]          # stage 1: the trunk, with its own output on the 16 x 24 grid
    assert first["grid"] == list(sd.COARSE_GRID) and first["backbone_layers"] == list(sd.COARSE_LAYERS)
    assert first["held_out"]["chunk_seeds"] == record["held_out"]["chunk_seeds"]
    assert record["held_out"]["evaluator"].startswith("pycocotools COCOeval")
    with np.load(sd.WEIGHTS_PATH) as z:
        assert all(z[k].dtype == np.float16 for k in z.files if k != "anchors")
        assert np.allclose(z["anchors"], record["anchors_cells"], atol=1e-4)
    train_seeds, held_seeds = record["train"]["chunk_seeds"], record["held_out"]["chunk_seeds"]
    assert max(held_seeds) < train_seeds[0] or min(held_seeds) > train_seeds[1]   # held-out frames never trained on


@pytest.mark.slow
def test_shipped_detector_reproduces_the_run_records_map_on_held_out_frames():
    """Backbone + shipped head, live on the first 16 held-out frames (rendered now), scored by COCOeval,
    give the run record's mAP for those frames (computed from cached float16 features) within 0.03, in
    one pass and mirror-averaged (the default); the default model's output is mirror_average of the
    one-pass model's outputs on the frames and on their mirror images."""
    record = sd.read_run_record()
    model, anchors, names = sd.load_street_detector()
    one_pass, _, _ = sd.load_street_detector(mirror=False)
    frames, boxes, labels = street.make_detection_scenes(16, record["held_out"]["chunk_seeds"][0], 256, 384)
    raw = model(frames.astype(np.float32), training=False)
    assert raw.shape == (16, 32, 48, 50) and one_pass.count_params() == model.count_params()
    raw_once = one_pass(frames.astype(np.float32), training=False)
    mirrored = one_pass(frames[:, :, ::-1].astype(np.float32), training=False)
    np.testing.assert_allclose(np.asarray(raw), np.asarray(sd.mirror_average(raw_once, mirrored)), atol=1e-4)
    outputs = sd.street_yolo_outputs(model, anchors, frames)
    assert [tuple(t.shape) for t in outputs] == [(16, 32, 48, 5, 2), (16, 32, 48, 5, 2), (16, 32, 48, 5, 1), (16, 32, 48, 5, 5)]
    held_out = record["held_out"]
    for output, recorded in [(raw_once, held_out["first_16_frames"]), (raw, held_out["mirror_averaged"]["first_16_frames"])]:
        result = sd.coco_average_precision(boxes, labels, sd.detect(output, anchors))
        assert result["mAP"] == pytest.approx(recorded["mAP"], abs=0.03)


def test_notebook_text_quotes_the_run_record():
    """Every number of part 7's text that comes from the training runs (both stages) equals the run
    record, and the traffic-light width it quotes is the held-out frames' median."""
    import nbformat

    record = sd.read_run_record()
    first = record["first_stage"]
    nb = nbformat.read(REPO / "source" / "week3" / "Car_Detection_YOLO.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    part7 = " ".join(text[text.index("## 7 - "):text.index("## 8 - ")].split())   # line breaks as spaces
    held_out, first_held_out = record["held_out"], first["held_out"]
    mirrored = held_out["mirror_averaged"]
    quoted = {
        "mAP": f"mAP@0.5 of **{mirrored['all_objects']['mAP']:.2f}**",
        "mAP_min_area": f"square pixels, **{mirrored['objects_min_area']['mAP']:.2f}**",
        "one_pass": f"One pass per frame scores **{held_out['all_objects']['mAP']:.2f}** (traffic light "
                    f"{held_out['all_objects']['per_class']['traffic light']:.2f}, traffic sign "
                    f"{held_out['all_objects']['per_class']['traffic sign']:.2f}; "
                    f"{held_out['objects_min_area']['mAP']:.2f} without the tiny boxes)",
        "frames": f"trained on {record['train']['frames']:,} frames, each also mirrored",
        "held_out_frames": f"On the {held_out['frames']} held-out frames",
        "first_stage": f"of {first_held_out['all_objects']['mAP']:.2f} on the same frames in one pass (traffic light "
                       f"{first_held_out['all_objects']['per_class']['traffic light']:.2f}, traffic sign "
                       f"{first_held_out['all_objects']['per_class']['traffic sign']:.2f}; "
                       f"{first_held_out['objects_min_area']['mAP']:.2f} without the tiny boxes)",
        "stage1_minutes": f"about {round(first['train']['seconds'] / 60)} minutes of training",
        "stage2_minutes": f"about {round(record['train']['seconds'] / 60)} minutes",
    }
    for key, value in quoted.items():
        assert value in part7, (key, value)
    for name, ap in mirrored["all_objects"]["per_class"].items():
        assert f"{name} {ap:.2f}" in part7, (name, ap)
    lights = (mirrored["all_objects"]["per_class"]["traffic light"], mirrored["objects_min_area"]["per_class"]["traffic light"])
    assert "traffic lights from {:.2f} to {:.2f}".format(*lights) in part7
    # the goal sentence says which way reaches 0.80
    reached = (held_out["all_objects"]["mAP"] >= 0.80, mirrored["all_objects"]["mAP"] >= 0.80)
    goal = {(True, True): "a single pass reaches it too", (False, True): "the mirror average reaches it, a single pass does not",
            (False, False): "so it is still short"}[reached]
    assert goal in part7, (reached, goal)
    assert "`load_street_detector(mirror=False)` gives the single pass" in part7
    assert f"under {held_out['min_area_px2']:.0f} square pixels" in part7
    curve = ", ".join(f"{e['held_out_mAP50']:.2f}" for e in record["history"])
    steps = ", ".join(f"{e['step']:,}" for e in record["history"])
    assert f"mAP@0.5 in one pass was {curve} after {steps} steps" in part7
    # "The curve flattens": the last 3,000 steps gained less than a third of the 3,000 before them
    by_step = {e["step"]: e["held_out_mAP50"] for e in record["history"]}
    early, late = by_step[4000] - by_step[1000], by_step[7000] - by_step[4000]
    assert late < early / 3
    assert f"The curve flattens: it gained {early:.2f} from 1,000 to 4,000 steps and {late:.2f} from 4,000 to 7,000" in part7
    assert record["train"]["mirrored"] and first["train"]["mirrored"]
    assert re.search(r"32 x 48 grid of 8-pixel cells", part7) and "16 x 24 grid" in part7
    # the text's layout and loss are the run's: four backbone maps, the GIoU term in stage 2's loss
    assert record["backbone_layers"][0] == "block2b_add" and "stride-4, stride-8, stride-16 and stride-32" in part7
    assert record["train"]["giou_scale"] > 0 and "1 - \\text{GIoU}" in part7
    # "Traffic lights are 3.5 pixels wide (the median)", and 1.2 pixels to the side drops IoU below 0.5
    _, boxes, labels = street.make_detection_scenes(64, held_out["chunk_seeds"][0], 256, 384)
    widths = np.concatenate([b[lab == 3, 2] - b[lab == 3, 0] for b, lab in zip(boxes, labels)])
    assert np.median(widths) == 3.5 and "Traffic lights are 3.5 pixels wide (the median)" in part7
    assert (3.5 - 1.2) / (3.5 + 1.2) < 0.5 < (3.5 - 1.1) / (3.5 + 1.1) and "placed 1.2 pixels to the side" in part7
    assert json.dumps(record)   # the record is plain JSON
