"""helpers.viz.week4: the maths of the week-4 lectures against hand-computed values, the widgets react
to their controls, and the numbers the lectures' text states are the computed ones."""

from __future__ import annotations

import json

import numpy as np
import pytest

from helpers.viz import week4
from tests import REPO

WEEK4 = REPO / "course" / "week4"


def lecture_text(name: str) -> str:
    cells = json.loads((WEEK4 / name).read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


# --- verification vs recognition ------------------------------------------------------------------

def test_false_match_probability_by_hand():
    assert week4.false_match_probability(0.5, 2) == pytest.approx(0.75)        # 1 - 0.5^2
    assert week4.false_match_probability(0.1, 1) == pytest.approx(0.1)
    assert week4.false_match_probability(0.0, 1000) == 0.0
    assert week4.false_match_probability(1.0, 3) == 1.0
    assert week4.false_match_probability(0.01, 100) == pytest.approx(1 - 0.99 ** 100)
    assert week4.per_comparison_rate_for(0.75, 2) == pytest.approx(0.5)
    for bad in ((1.5, 10), (-0.1, 10), (0.1, 0), (0.1, 2.5)):
        with pytest.raises(ValueError):
            week4.false_match_probability(*bad)
    with pytest.raises(ValueError):
        week4.per_comparison_rate_for(1.0, 10)


def test_lecture_1_states_the_computed_risks():
    text = lecture_text("01_Face_Verification_and_Recognition.ipynb")
    risk = week4.false_match_probability(0.01, 100)
    assert f"{risk:.0%}".replace("%", "% of the time") in text.replace("\n", " "), risk     # 63%
    need = week4.per_comparison_rate_for(0.01, 100)
    assert round(need, 4) == 1e-4 and "once in 10,000" in text.replace("\n", " ")
    assert "99.38%" in text   # dlib's published LFW figure, quoted in helpers.models.face_embedding


def test_recognition_risk_widget_redraws():
    w = week4.RecognitionRisk(k=100, p=0.01)
    before, text = w.picture.value, w.text.value
    assert "63.40%" in text
    w.k.value = 1000
    assert w.picture.value != before and w.text.value != text


# --- drawn people, eigenfaces ---------------------------------------------------------------------

def test_drawn_people_shapes_labels_and_determinism():
    X, y = week4.drawn_people(3, 4, seed=5, size=24)
    assert X.shape == (12, 24, 24) and X.dtype == np.float32 and 0 <= X.min() and X.max() <= 1
    assert list(y) == [0] * 4 + [1] * 4 + [2] * 4
    np.testing.assert_array_equal(X, week4.drawn_people(3, 4, seed=5, size=24)[0])
    colour, _ = week4.drawn_people(2, 2, seed=5, size=24, gray=False)
    assert colour.shape == (4, 24, 24, 3) and colour.dtype == np.uint8
    with pytest.raises(ValueError):
        week4.drawn_people(1, 4)
    with pytest.raises(ValueError):
        week4.drawn_people(3, 0)


def test_pca_reconstruct_and_eigenface_explorer():
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(0)
    X = rng.random((10, 16))
    pca = PCA(5).fit(X)
    np.testing.assert_allclose(week4.pca_reconstruct(pca, X, 0), np.tile(pca.mean_, (10, 1)))
    inside = pca.mean_ + 0.3 * pca.components_[0] - 0.2 * pca.components_[2]
    np.testing.assert_allclose(week4.pca_reconstruct(pca, inside[None], 5)[0], inside, atol=1e-12)
    with pytest.raises(ValueError):
        week4.pca_reconstruct(pca, X, 6)
    w = week4.EigenfaceExplorer(pca, X[:3].reshape(3, 4, 4), (4, 4), k=1)
    before = w.picture.value
    w.k.value = 4
    assert w.picture.value != before and "4 numbers per face instead of 16 pixels" in w.text.value


# --- distances, thresholds ------------------------------------------------------------------------

def test_distance_matrix_and_pair_outcomes_by_hand():
    D = week4.distance_matrix([[0, 0], [3, 4], [0, 1]])
    np.testing.assert_allclose(D, [[0, 5, 1], [5, 0, np.sqrt(18)], [1, np.sqrt(18), 0]])
    o = week4.pair_outcomes(D, ["a", "b", "a"], threshold=2)
    # pairs (0,1) 5 different -> true reject; (0,2) 1 same -> true accept; (1,2) 4.24 different -> true reject
    assert o == {"true_accepts": 1, "false_accepts": 0, "true_rejects": 2, "false_rejects": 0, "pairs": 3}
    o = week4.pair_outcomes(D, ["a", "a", "b"], threshold=6)
    assert o == {"true_accepts": 1, "false_accepts": 2, "true_rejects": 0, "false_rejects": 0, "pairs": 3}
    with pytest.raises(ValueError):
        week4.distance_matrix([1, 2, 3])
    with pytest.raises(ValueError):
        week4.pair_outcomes(D, ["a", "b"], 1)


def test_threshold_explorer_redraws():
    D = week4.distance_matrix([[0, 0], [0.5, 0], [1.5, 0]])
    w = week4.ThresholdExplorer(D, ["x0", "x1", "y2"], ["x", "x", "y"], threshold=0.6)
    before = w.picture.value
    assert "1 same-person pairs accepted" in w.text.value
    w.threshold.value = 1.1
    assert w.picture.value != before and "1 different-person pairs wrongly accepted" in w.text.value


# --- triplet loss ---------------------------------------------------------------------------------

def test_triplet_losses_and_kinds_by_hand():
    a = np.zeros((3, 2))
    p = np.array([[1.0, 0], [1, 0], [1, 0]])
    n = np.array([[2.0, 0], [0, 1], [0.5, 0]])
    # d_AP = 1 for all; d_AN = 4, 1, 0.25; alpha 0.5: max(1 - 4 + .5, 0), max(1 - 1 + .5, 0), max(1 - .25 + .5, 0)
    np.testing.assert_allclose(week4.triplet_losses(a, p, n, 0.5), [0, 0.5, 1.25])
    assert list(week4.triplet_kinds(a, p, n, 0.5)) == ["easy", "semi-hard", "hard"]
    assert list(week4.triplet_kinds(a, p, n, 4.0)) == ["semi-hard", "semi-hard", "hard"]
    with pytest.raises(ValueError):
        week4.triplet_losses(a, p, n[:2], 0.5)
    with pytest.raises(ValueError):
        week4.triplet_losses(a, p, n, -1)


def test_random_triplets_are_valid():
    y = np.array([2, 0, 1, 0, 2, 1, 1, 0])
    t = week4.random_triplets(y, 500, seed=3)
    assert t.shape == (500, 3)
    assert np.all(y[t[:, 0]] == y[t[:, 1]]) and np.all(t[:, 0] != t[:, 1]) and np.all(y[t[:, 0]] != y[t[:, 2]])
    assert set(t[:, 2]) == set(range(8))       # every photo gets drawn as a negative
    with pytest.raises(ValueError):
        week4.random_triplets([0, 0, 1], 5)


def test_triplet_training_gradient_lowers_the_loss_and_separates_people():
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 1, (4, 6))
    y = np.repeat(np.arange(4), 8)
    X = centres[y] + 0.3 * rng.normal(0, 1, (32, 6))
    snaps = week4.train_triplet_net(X, y, steps=120, alpha=0.5, lr=0.05, batch=32, snapshot_every=40)
    assert [s["step"] for s in snaps] == [0, 40, 80, 120]
    assert snaps[-1]["loss"] < 0.5 * snaps[0]["loss"]
    E = week4.embed_net(snaps[-1]["params"], X)
    D = week4.distance_matrix(E)
    same = (y[:, None] == y[None]) & ~np.eye(32, dtype=bool)
    assert D[same].mean() < 0.5 * D[y[:, None] != y[None]].mean()


def test_triplet_explorer_redraws_and_counts():
    rng = np.random.default_rng(1)
    y = np.repeat(np.arange(3), 4)
    X = rng.normal(0, 1, (12, 5)) + 2 * np.eye(5)[y]
    snaps = week4.train_triplet_net(X, y, steps=40, snapshot_every=20)
    t = week4.random_triplets(y, 30, seed=0)
    w = week4.TripletExplorer(snaps, X, y, t, alpha=0.5)
    before, text = w.picture.value, w.text.value
    w.step.value = 40
    assert w.picture.value != before
    w.alpha.value = 2.0
    assert w.text.value != text and "30 triplets at step 40, alpha = 2.0" in w.text.value


def test_pair_features_and_all_pairs():
    np.testing.assert_allclose(week4.pair_features([[1, -2]], [[3, 1]]), [[2, 3]])
    pairs, same = week4.all_pairs([0, 1, 0])
    assert pairs.tolist() == [[0, 1], [0, 2], [1, 2]] and same.tolist() == [0, 1, 0]
    with pytest.raises(ValueError):
        week4.pair_features([[1, 2]], [[1, 2, 3]])


# --- what ConvNets learn --------------------------------------------------------------------------

def test_vgg16_receptive_fields_by_hand():
    f = week4.receptive_fields(week4.VGG16_STACK)
    # 3x3 convs add 2 * jump, 2x2 pools add 1 * jump and double it
    assert f["block1_conv1"] == (3, 1, 0.5) and f["block1_conv2"] == (5, 1, 0.5)
    assert f["block1_pool"] == (6, 2, 1.0)
    assert f["block2_conv2"][:2] == (14, 2)
    assert f["block3_conv3"][:2] == (40, 4)
    assert f["block4_conv3"][:2] == (92, 8)
    assert f["block5_conv1"][:2] == (132, 16)


def test_lecture_3_states_the_receptive_fields_and_photo_count():
    text = lecture_text("03_What_ConvNets_Learn_Style_and_1D_3D.ipynb")
    f = week4.receptive_fields(week4.VGG16_STACK)
    assert f"`block1_conv2` ({f['block1_conv2'][0]} pixels wide)" in text
    assert f"`block4_conv3` ({f['block4_conv3'][0]} pixels wide" in text
    photos, names = week4.patch_photos(size=16)
    assert photos.shape == (len(names), 16, 16, 3) and f"We run {len(names)} photos" in text
    assert f"With only {len(names)} photos" in text.replace("\n", " ")


def test_top_activations_and_crop_patch_by_hand():
    acts = np.zeros((3, 4, 4, 2))
    acts[0, 1, 2, 1] = 5
    acts[1, 3, 0, 1] = 7
    acts[2, 0, 0, 1] = 1
    acts[2, 2, 2, 1] = 2
    assert week4.top_activations(acts, 1, 2) == [(1, 3, 0, 7.0), (0, 1, 2, 5.0)]
    assert week4.top_activations(acts, 1, 5)[-1] == (2, 2, 2, 2.0)
    assert week4.top_activations(acts, 1, 2, border=1) == [(0, 1, 2, 5.0), (2, 2, 2, 2.0)]   # (3, 0) is on the edge
    with pytest.raises(ValueError):
        week4.top_activations(acts, 2)
    # block4_conv3 of a 112-px photo: r 92, jump 8, start 4 -> centres >= 28 px inside: ceil(24 / 8) = 3
    assert week4.patch_border((92, 8, 4.0), 112, 14) == 3
    assert week4.patch_border((5, 1, 0.5), 112, 112) == 2
    image = np.arange(36, dtype=float).reshape(6, 6, 1)
    # field 3 wide, jump 1, start 0.5: position (0, 0) looks at rows/cols -1..1 (one row/col of zeros)
    patch = week4.crop_patch(image, 0, 0, (3, 1, 0.5))
    np.testing.assert_array_equal(patch[..., 0], [[0, 0, 0], [0, 0, 1], [0, 6, 7]])
    np.testing.assert_array_equal(week4.crop_patch(image, 2, 3, (3, 1, 0.5))[..., 0],
                                  image[1:4, 2:5, 0])


def test_patch_explorer_redraws():
    rng = np.random.default_rng(0)
    acts = {"a": rng.random((3, 8, 8, 4)), "b": rng.random((3, 4, 4, 6))}
    fields = {"a": (3, 1, 0.5), "b": (6, 2, 1.0)}
    w = week4.PatchExplorer(acts, rng.random((3, 8, 8, 3)), fields, count=3)
    before = w.picture.value
    w.unit.value = 3
    assert w.picture.value != before
    w.layer.value = "b"
    assert w.unit.max == 5 and "each unit sees a 6x6 pixel patch" in w.text.value
    with pytest.raises(ValueError):
        week4.PatchExplorer(acts, rng.random((3, 8, 8, 3)), fields, layer="c")


# --- style costs ----------------------------------------------------------------------------------

def test_gram_and_costs_by_hand():
    A = np.array([[[1.0, 2.0], [3.0, 4.0]]])          # (1, 2, 2): positions (1, 2) and (3, 4)
    np.testing.assert_allclose(week4.gram(A), [[10, 14], [14, 20]])
    assert week4.content_cost(np.zeros((1, 1, 2)), np.ones((1, 1, 2))) == pytest.approx(2 / 8)
    # G_S = 4, G_G = 1: (4 - 1)^2 / (4 * 1^2 * 1^2)
    assert week4.layer_style_cost(np.full((1, 1, 1), 2.0), np.ones((1, 1, 1))) == pytest.approx(2.25)
    # a shift keeps the Gram matrix: zero style cost, non-zero content cost
    rng = np.random.default_rng(0)
    a = rng.random((4, 4, 3))
    moved = np.roll(a, 1, axis=1)
    assert week4.layer_style_cost(a, moved) == pytest.approx(0, abs=1e-12)
    assert week4.content_cost(a, moved) > 0
    assert week4.nst_cost(1.0, 2.0, 10, 40) == 90.0
    with pytest.raises(ValueError):
        week4.gram(np.zeros((2, 2)))
    with pytest.raises(ValueError):
        week4.layer_style_cost(np.zeros((1, 1, 2)), np.zeros((1, 1, 3)))


def test_style_explorer_redraws_and_weights_the_costs():
    rng = np.random.default_rng(0)
    acts_a = {"l1": rng.random((4, 4, 3)), "l2": rng.random((2, 2, 5))}
    acts_b = {"l1": rng.random((4, 4, 3)), "l2": rng.random((2, 2, 5))}
    w = week4.StyleExplorer(acts_a, acts_b, channels=3)
    before, bars = w.grams.value, w.bars.value
    w.layer.value = "l2"
    assert w.grams.value != before
    w.weights["l1"].value = 0.0
    assert w.bars.value != bars
    assert w.weighted_costs()["l1"] == 0
    assert w.weighted_costs()["l2"] == pytest.approx(0.5 * week4.layer_style_cost(acts_a["l2"], acts_b["l2"]))


# --- 1D and 3D convolutions -----------------------------------------------------------------------

def test_conv1d_and_output_shapes_by_hand():
    np.testing.assert_allclose(week4.conv1d([1, 2, 3, 4, 5], [1, 0, -1]), [-2, -2, -2])
    np.testing.assert_allclose(week4.conv1d([1, 2, 3, 4, 5], [1, 0, -1], stride=2), [-2, -2])
    np.testing.assert_allclose(week4.conv1d([1, 2, 3, 4], [0.5, 0.5], stride=2), [1.5, 3.5])
    assert week4.conv_output_shape((1000,), 15, 4) == (247,)         # floor(985 / 4) + 1
    assert week4.conv_output_shape((12, 24, 24), (3, 5, 5), (1, 2, 2)) == (10, 10, 10)
    assert week4.conv_output_shape((12, 24, 24), 3, 1, 1) == (12, 24, 24)
    with pytest.raises(ValueError):
        week4.conv_output_shape((12, 24), (3, 3, 3))
    with pytest.raises(ValueError):
        week4.conv1d([[1, 2]], [1])


def test_kernels_signal_and_video():
    assert week4.filter_kernel("smooth", 4).sum() == pytest.approx(1)
    np.testing.assert_allclose(week4.filter_kernel("slope", 4), [0.5, 0.5, -0.5, -0.5])
    assert week4.filter_kernel("spike", 9).sum() == pytest.approx(0, abs=1e-12)
    with pytest.raises(ValueError):
        week4.filter_kernel("wave", 5)
    s = week4.ecg_like_signal(seconds=4, rate=250, bpm=72, noise=0.0)
    assert s.shape == (1000,)
    # beats at 0.3 s + k * 60/72 s: 5 within 4 s, each a spike about 1 high
    peaks = np.flatnonzero((s[1:-1] > s[:-2]) & (s[1:-1] >= s[2:]) & (s[1:-1] > 0.7)) + 1
    assert len(peaks) == 5 and abs(peaks[0] / 250 - 0.3) < 0.01
    v = week4.moving_ball_video(frames=5, size=16)
    assert v.shape == (5, 16, 16) and v.max() == 1.0
    centre_x = [np.mean(np.nonzero(frame == 1.0)[1]) for frame in v]
    assert np.all(np.diff(centre_x) > 0)     # the ball moves right


def test_signal_filter_redraws():
    w = week4.SignalFilter(week4.ecg_like_signal(seconds=1), rate=250, width=15)
    before = w.picture.value
    assert "<b>236</b>" in w.text.value        # floor((250 - 15) / 1) + 1
    w.width.value = 17
    assert w.picture.value != before
    w.stride.value = 4
    assert "<b>59</b>" in w.text.value          # floor((250 - 17) / 4) + 1
