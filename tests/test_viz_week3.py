"""helpers.viz.week3: the pure functions against hand-computed values, the widgets by moving their controls."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.viz import week3


def test_localisation_target_and_its_loss():
    y = week3.localisation_target((10, 20, 30, 60), 1, (100, 200))
    np.testing.assert_allclose(y, [1, 20 / 200, 40 / 100, 40 / 100, 20 / 200, 0, 1, 0])
    np.testing.assert_allclose(week3.target_to_box(y, (100, 200)), (10, 20, 30, 60))
    y_hat = y + [-0.1, 0.1, 0, 0, 0, 0.2, -0.2, 0]
    loss, terms = week3.localisation_loss(y, y_hat)
    assert loss == pytest.approx(0.01 + 0.01 + 0.04 + 0.04)
    empty = week3.localisation_target(None, None, (100, 200))
    assert empty[0] == 0 and np.isnan(empty[1:]).all()
    loss, terms = week3.localisation_loss(empty, y_hat)
    assert loss == pytest.approx(0.81) and np.isnan(terms[1:]).all()
    with pytest.raises(ValueError, match="class_index"):
        week3.localisation_target((0, 0, 1, 1), 3, (10, 10))
    with pytest.raises(ValueError, match="x2 >= x1"):
        week3.localisation_target((5, 0, 1, 1), 0, (10, 10))


def test_landmarks_vector_and_mirror():
    v = week3.landmark_vector([(10, 20), (30, 40)], (100, 50))
    np.testing.assert_allclose(v, [1, 0.2, 0.2, 0.6, 0.4])
    m = week3.mirror_landmarks({"left eye": (10, 5), "right eye": (30, 5), "nose": (20, 9)}, 100)
    assert m == {"right eye": (90, 5), "left eye": (70, 5), "nose": (80, 9)}
    assert len(week3.landmark_vector(list(week3.ASTRONAUT_LANDMARKS.values()), (512, 512))) == 17


def test_window_counts_and_multiplies():
    assert week3.window_count(16, 16, 14, 2) == 4
    assert week3.window_count(384, 512, 64, 32) == 11 * 15
    assert week3.window_count(10, 10, 12, 1) == 0
    cost = week3.sliding_window_multiplies(64, 64)
    # per window: conv 10*10*16*75 + fc1 5*5*16*400 + fc2 400*400 + fc3 400*4
    assert cost["per_window"] == 120_000 + 160_000 + 160_000 + 1_600
    assert cost["windows"] == 26 * 26 == 676
    assert cost["at_once"] == 60 * 60 * 16 * 75 + 676 * (160_000 + 160_000 + 1_600)


def test_convolutionalised_classifier_gives_every_window():
    model = week3.window_classifier(seed=1)
    image = np.random.default_rng(2).uniform(0, 1, (18, 20, 3)).astype("float32")
    r = week3.compare_sliding_windows(model, image, repeats=1)
    assert r["grid"] == (3, 4) and r["windows"] == 12
    assert r["max_difference"] < 1e-5


def test_yolo_assignment_and_target():
    a = week3.yolo_assign((50, 10, 70, 50), (100, 100), 4)     # centre (60, 30), cells of 25
    assert (a["row"], a["col"]) == (1, 2)
    assert a["bx"] == pytest.approx(0.4) and a["by"] == pytest.approx(0.2)
    assert a["bh"] == pytest.approx(1.6) and a["bw"] == pytest.approx(0.8)
    y, lost = week3.yolo_target([(50, 10, 70, 50), (55, 26, 65, 34), (0, 0, 10, 10)], [1, 0, 2], (100, 100), 4)
    assert y.shape == (4, 4, 8) and lost == [1] and y[0, 0, 7] == 1 and y[:, :, 0].sum() == 2


def test_iou_and_non_max_suppression():
    assert week3.iou((0, 0, 2, 2), (1, 1, 3, 3)) == pytest.approx(1 / 7)
    assert week3.iou((0, 0, 4, 4), (1, 1, 3, 3)) == pytest.approx(0.25)
    assert week3.iou((0, 0, 2, 2), (2, 0, 4, 2)) == 0
    boxes = [(0, 0, 10, 10), (1, 1, 11, 11), (20, 20, 30, 30), (0, 0, 9, 10)]
    r = week3.non_max_suppression(boxes, [0.9, 0.8, 0.7, 0.3], 0.5, 0.5)
    assert r["keep"] == [0, 2] and list(r["suppressed"]) == [1] and r["low"] == [3]
    assert r["suppressed"][1][1] == pytest.approx(81 / 119)
    assert week3.non_max_suppression(boxes, [0.9, 0.8, 0.7, 0.3], 0.5, 0.7)["keep"] == [0, 1, 2]
    with pytest.raises(ValueError, match="iou_threshold"):
        week3.non_max_suppression(boxes, [1, 1, 1, 1], 0.5, 1.5)


def test_kmeans_anchors_with_iou_distance():
    np.testing.assert_allclose(week3.wh_iou([[2, 4]], [[4, 2], [2, 4]]), [[4 / 12, 1]])
    wh = np.array([[2, 8], [2, 9], [3, 8], [10, 4], [11, 4], [10, 5.0]])
    anchors, labels, mean = week3.kmeans_anchors(wh, 2, seed=0)
    np.testing.assert_allclose(anchors, [[7 / 3, 25 / 3], [31 / 3, 13 / 3]])
    assert list(labels) == [0, 0, 0, 1, 1, 1] and 0.8 < mean < 1
    with pytest.raises(ValueError, match="distinct"):
        week3.kmeans_anchors(wh[:1], 2)


def test_region_proposals_and_recall():
    img = np.zeros((40, 40, 3))
    img[10:20, 5:25] = 1.0
    props = week3.region_proposals(img)
    assert week3.recall([(5, 10, 25, 20)], props) == 1.0
    assert week3.recall([(5, 10, 25, 20)], [(30, 30, 40, 40)]) == 0.0
    assert len(week3.all_windows(40, 40, sizes=(16,), stride=8)) == 4 * 4 == week3.window_count(40, 40, 16, 8)


def test_transposed_convolution_by_hand_and_against_keras():
    assert week3.transposed_output_size(2, 3, 2, 1) == 3
    out = week3.transposed_conv2d([[1, 2]], [[1, 1], [1, 1]], stride=1)
    np.testing.assert_array_equal(out, [[1, 3, 2], [1, 3, 2]])
    np.testing.assert_array_equal(week3.overlap_counts(2, 3, 2), [[1, 1, 2, 1, 1]] * 2 + [[2, 2, 4, 2, 2]] + [[1, 1, 2, 1, 1]] * 2)
    np.testing.assert_array_equal(week3.overlap_counts(3, 4, 2, 1)[1:-1, 1:-1], 4)
    from helpers.backend import keras

    rng = np.random.default_rng(0)
    x, k = rng.normal(size=(3, 4)), rng.normal(size=(3, 3))
    layer = keras.layers.Conv2DTranspose(1, 3, strides=2, padding="valid", use_bias=False)
    layer.build((1, 3, 4, 1))
    layer.set_weights([k[:, :, None, None]])
    np.testing.assert_allclose(np.asarray(layer(x[None, :, :, None]))[0, :, :, 0],
                               week3.transposed_conv2d(x, k, 2), atol=1e-5)
    with pytest.raises(ValueError, match="crops everything"):
        week3.transposed_output_size(1, 1, 1, 1)


def test_encoder_decoder_skips_add_the_concatenations():
    plain, unet = week3.tiny_encoder_decoder(False), week3.tiny_encoder_decoder(True)
    assert plain.output_shape == unet.output_shape == (None, 48, 64, 3)
    assert unet.count_params() > plain.count_params()
    with pytest.raises(ValueError, match="multiples of 4"):
        week3.tiny_encoder_decoder(True, height=50)


def _changes(widget, control, value):
    before = widget.image.value
    control.value = value
    assert widget.image.value != before


def test_labels_of_neighbouring_boxes_do_not_overlap():
    """Two boxes with the same top-left corner: the second label goes inside the box, not onto the first."""
    boxes = np.array([[50, 40, 90, 80], [52, 41, 100, 90], [0, 0, 20, 20]])
    places = week3.label_positions(boxes, widths=20, height=10, image_shape=(120, 160))
    assert places[0] == (50.0, 29.0)          # just above its box
    assert places[1] == (52.0, 42.0)          # above would hit label 0: just inside its own top edge
    assert places[2] == (0.0, 1.0)            # no room above the image: inside
    rects = [(x, y, x + 20, y + 10) for x, y in places]
    for i in range(3):
        for j in range(i):
            a, b = rects[i], rects[j]
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (i, j)
    with pytest.raises(ValueError, match="height"):
        week3.label_positions(boxes, 20, 0, (120, 160))


def test_draw_boxes_labels_avoid_each_other_across_calls():
    """Two detections drawn by separate calls at the same corner: the second label does not cover the first."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3))
    ax.imshow(np.zeros((120, 160, 3)))
    week3.draw_boxes(ax, [[40, 50, 80, 90]], ["car 0.95"], color="yellow")                 # (y1, x1, y2, x2)
    week3.draw_boxes(ax, [[50, 41, 100, 90]], ["car 0.65"], color="cyan", order="xy")     # (x1, y1, x2, y2)
    assert [p.get_xy() for p in ax.patches] == [(50.0, 40.0), (50.0, 41.0)]
    fig.canvas.draw()
    first, second = (t.get_window_extent() for t in ax.texts)
    assert not first.overlaps(second), (first, second)
    assert ax.texts[0].get_color() == "black" and ax.texts[1].get_color() == "black"
    with pytest.raises(ValueError, match="order"):
        week3.draw_boxes(ax, [[0, 0, 1, 1]], order="xyxy")
    with pytest.raises(ValueError, match="2 labels for 1 boxes"):
        week3.draw_boxes(ax, [[0, 0, 1, 1]], ["a", "b"])
    plt.close(fig)


def test_widgets_redraw_when_moved():
    loc = week3.LocalisationExplorer()
    _changes(loc, loc.scene, 1)
    _changes(loc, loc.shift, -0.2)
    loc.scene.value = len(loc.examples) - 1
    assert "pc = 0" in loc.table.value
    grid = week3.YoloGridExplorer()
    _changes(grid, grid.grid, 8)
    nms = week3.NMSPlayground()
    _changes(nms, nms.box_x, -40)
    _changes(nms, nms.iou_threshold, 0.1)
    anchors = week3.AnchorExplorer(week3.street_box_shapes(n=8), k=2, k_max=3)
    _changes(anchors, anchors.k, 3)
    tc = week3.TransposedConvExplorer()
    _changes(tc, tc.f, 4)
    assert "no checkerboard" in tc.info.value
    seg = week3.SegmentationViewer(n=2)
    _changes(seg, seg.scene, 1)
    rec = week3.ReconstructionViewer(np.zeros((2, 8, 8, 3)), {"a": np.ones((2, 8, 8, 3)) * [[[[0.2]]], [[[0.9]]]]})
    _changes(rec, rec.scene, 1)
