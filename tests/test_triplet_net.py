"""helpers.models.triplet_net (the small face encoder trained with a triplet loss) and the verification
statistics of helpers.viz.week4 (thresholds at a false-accept rate, 1:K recognition, classical methods)."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.models import triplet_net
from helpers.viz import week4


def _sum_loss(y_true, y_pred, alpha=0.2):
    from helpers.backend import tf

    a, p, n = y_pred
    basic = tf.reduce_sum(tf.square(a - p), -1) - tf.reduce_sum(tf.square(a - n), -1) + alpha
    return tf.reduce_sum(tf.maximum(basic, 0.0))


def test_embedding_net_gives_unit_vectors():
    model = triplet_net.embedding_net(size=16, dim=8, width=4, seed=0)
    E = triplet_net.embed_faces(model, np.random.default_rng(0).random((5, 16, 16, 1)))
    assert E.shape == (5, 8)
    np.testing.assert_allclose(np.linalg.norm(E, axis=1), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="dim"):
        triplet_net.embedding_net(dim=1)


def test_choose_triplets_by_hand():
    # person 0 at x = 0 and 1, person 1 at x = 1.5 and 5 (1-D embeddings)
    E = np.array([[0.0], [1.0], [1.5], [5.0]])
    labels = np.array([0, 0, 1, 1])
    rng = np.random.default_rng(0)
    hard = triplet_net.choose_triplets(E, labels, "hard", rng)
    semi = triplet_net.choose_triplets(E, labels, "semi-hard", rng)
    rand = triplet_net.choose_triplets(E, labels, "random", rng)
    assert [tuple(t[:2]) for t in hard] == [(0, 1), (1, 0), (2, 3), (3, 2)]
    # anchor 0, positive 1 (d2 = 1): negatives at d2 2.25 and 25 -> semi-hard 2 (the closest beyond), hard 2
    # anchor 1, positive 0 (d2 = 1): negatives at d2 0.25 and 16 -> semi-hard 3, hard 2
    # anchor 2, positive 3 (d2 = 12.25): negatives at 2.25, 0.25 -> none beyond: semi-hard falls back to the furthest, 0
    assert list(hard[:, 2]) == [2, 2, 1, 1]
    assert list(semi[:, 2]) == [2, 3, 0, 1]
    assert all(labels[t[2]] != labels[t[0]] for t in rand)
    with pytest.raises(ValueError, match="mining"):
        triplet_net.choose_triplets(E, labels, "easy", rng)
    with pytest.raises(ValueError, match="two people"):
        triplet_net.choose_triplets(E, np.zeros(4, dtype=int), "hard", rng)


def test_pk_batch():
    y = np.repeat(np.arange(5), 3)
    idx = triplet_net.pk_batch(y, 4, 2, np.random.default_rng(1))
    assert idx.shape == (8,) and len(set(y[idx])) == 4 and np.bincount(y[idx]).max() == 2
    with pytest.raises(ValueError, match="per_person"):
        triplet_net.pk_batch(y, 2, 4, np.random.default_rng(1))


def test_training_lowers_the_loss_and_bad_losses_are_refused():
    faces = week4.identity_sets(8, 3, 4, seed=2, size=16)
    model = triplet_net.embedding_net(size=16, dim=8, width=4, seed=0)
    history = triplet_net.train_triplets(model, faces["X_train"], faces["y_train"], _sum_loss, steps=30,
                                         mining="random", people=4, per_person=3, learning_rate=1e-2, seed=0)
    assert history["loss"].shape == (30,) and history["seconds"] > 0
    assert history["loss"][-10:].mean() < history["loss"][:3].mean()

    def per_triplet(y_true, y_pred, alpha=0.2):     # forgot the sum over the batch
        from helpers.backend import tf
        a, p, n = y_pred
        return tf.reduce_sum(tf.square(a - p), -1)

    def constant(y_true, y_pred, alpha=0.2):        # no gradient reaches the network
        return 1.0

    for bad, message in ((per_triplet, "one number"), (constant, "does not depend")):
        with pytest.raises(ValueError, match=message):
            triplet_net.train_triplets(triplet_net.embedding_net(size=16, dim=8, width=4), faces["X_train"],
                                       faces["y_train"], bad, steps=2, people=4, per_person=3)


def test_threshold_rates_and_roc_by_hand():
    d = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
    same = np.array([1, 1, 0, 1, 0, 0, 0], dtype=bool)
    # 4 different-person pairs; at far = 0.25 one of them may fall below tau: tau = 0.5 (0.3 accepted)
    assert week4.threshold_at_far(d, same, 0.25) == pytest.approx(0.5)
    assert week4.threshold_at_far(d, same, 0.0) == pytest.approx(0.3)
    r = week4.verification_rates(d, same, 0.5)
    assert r["tar"] == pytest.approx(1.0) and r["far"] == pytest.approx(0.25) and r["accuracy"] == pytest.approx(0.875)
    far, tar = week4.roc_points(d, same)
    assert far[0] == 0 and tar[-1] == 1 and np.all(np.diff(far) >= 0)
    with pytest.raises(ValueError):
        week4.threshold_at_far(d, np.ones(7, dtype=bool), 0.01)
    dist, s = week4.pair_distances(np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]]), [0, 0, 1])
    np.testing.assert_allclose(dist, [5.0, 1.0, np.hypot(3, 3)])
    assert list(s) == [True, False, False]


def test_recognition_experiment_on_perfect_and_useless_embeddings():
    y = np.repeat(np.arange(10), 3)
    perfect = np.eye(10)[y] * 5.0
    r = week4.recognition_experiment(perfect, y, enrolled=4, threshold=1.0, seed=0)
    assert r["K"] == 4 and r["visitors"] == 8 and r["strangers"] == 18
    assert r["recognised"] == 1.0 and r["stranger_accepted"] == 0.0 and r["predicted"] == 0.0
    same_point = np.zeros((30, 2))
    r = week4.recognition_experiment(same_point, y, enrolled=4, threshold=1.0, seed=0)
    assert r["stranger_accepted"] == 1.0 and r["far_pair"] == 1.0
    with pytest.raises(ValueError, match="enrolled"):
        week4.recognition_experiment(perfect, y, enrolled=10, threshold=1.0)


def test_classical_methods_on_drawn_identities():
    faces = week4.identity_sets(12, 6, 5, seed=1, size=16)
    curves, pca = week4.classical_distances(faces["X_train"], faces["y_train"], faces["X_test"], faces["y_test"],
                                            components=20, svm_pairs=100, seed=0)
    assert set(curves) == {"pixels", "eigenfaces (PCA)", "Fisherfaces (PCA + LDA)", "SVM on PCA pairs"}
    assert pca.components_.shape == (20, 256)
    for d, same in curves.values():
        assert d.shape == same.shape and same.sum() == 6 * 10        # 6 test people, 10 pairs each
    rows = week4.verification_table(curves, far=0.01)
    assert [r["method"] for r in rows] == list(curves) and "true accepts at 1% false accepts" in rows[0]


def test_the_notebook_text_states_the_sizes_its_code_uses():
    import json

    from tests import REPO

    cells = json.loads((REPO / "source/week4/Face_Recognition.ipynb").read_text())["cells"]
    text = " ".join("\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown").split())
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert "N_TRAIN, N_TEST, PER_PERSON, STEPS = (20, 10, 5, 10) if FAST else (100, 40, 8, 800)" in code
    assert "8 of each person; 100 training people, 40 test people" in text
    assert "800 Adam steps, each on 8 people with 4 photos each" in text
    assert "(20 and 10 people, 5 photos, 10 steps)" in text
    assert "dense layer with 32 outputs" in text
    assert triplet_net.embedding_net().output_shape == (None, 32)
    import inspect

    defaults = inspect.signature(triplet_net.train_triplets).parameters
    assert defaults["people"].default == 8 and defaults["per_person"].default == 4
    # 8 people x 4 photos: every ordered anchor-positive pair gets one negative
    E = np.random.default_rng(0).normal(size=(32, 4))
    t = triplet_net.choose_triplets(E, np.repeat(np.arange(8), 4), "semi-hard", np.random.default_rng(0))
    assert len(t) == 96 and "(96 of them)" in text
    assert "components=40" in code and "PCA of the training photos, 40 components" in text


def test_recorded_full_mode_run_supports_the_notebook_text():
    """Face_Recognition's text after the verification table describes the full-mode run recorded by
    benchmarks/face_verification.py (two training seeds): each claim holds for both."""
    import json

    from tests import REPO

    record = json.loads((REPO / "benchmarks/results/face_verification.json").read_text())
    assert record["far"] == 0.01 and record["steps"] == 800 and set(record["runs"]) == {"0", "1"}
    assert record["dlib_at_0.6"]["different_accepted"] > 0.5          # "accepts most pairs of different drawn people"
    for seed, run in record["runs"].items():
        tar = run["tar_at_far"]
        classical = ("eigenfaces (PCA)", "Fisherfaces (PCA + LDA)", "SVM on PCA pairs")
        assert tar["ConvNet, untrained"] <= tar["pixels"], seed                     # "no better than the raw pixels"
        assert tar["eigenfaces (PCA)"] - tar["pixels"] < 0.05, seed                  # "barely beat the pixels"
        assert tar["eigenfaces (PCA)"] < tar["SVM on PCA pairs"] < tar["Fisherfaces (PCA + LDA)"], seed
        assert tar["ConvNet, random triplets"] > max(tar[name] for name in classical), seed
        assert tar["dlib ResNet, as trained on real photos"] <= tar["eigenfaces (PCA)"] + 0.005, seed   # "no better"
        assert tar["ConvNet, semi-hard triplets"] > tar["ConvNet, random triplets"], seed
        training = run["training"]
        assert training["random"]["active_last_tenth"] < 0.15                        # "small"
        assert training["semi-hard"]["active_last_tenth"] > 3 * training["random"]["active_last_tenth"]
        assert training["random"]["seconds"] + training["semi-hard"]["seconds"] < 120   # <= 2 minutes
        rows = run["recognition"]
        assert [r["K"] for r in rows] == [5, 10, 20, 30]
        assert all(0.003 < r["far_pair"] < 0.02 for r in rows)                       # "about 1%"
        let_in = [r["stranger_accepted"] for r in rows]
        assert let_in[0] < 0.1 and 0.25 < let_in[-1] < 0.45, seed   # "from a few percent to about a third"
        assert let_in[-1] > let_in[-2] > let_in[1], seed                             # grows with K
        recognised = [r["recognised"] for r in rows]
        assert recognised == sorted(recognised, reverse=True), seed                  # falls with K
        assert all(abs(r["stranger_accepted"] - r["predicted"]) < 0.1 for r in rows), seed


def test_dlib_distances_on_drawn_test_people():
    d, same = week4.dlib_distances(3, 2, 2, seed=0, size=32)
    assert d.shape == same.shape == (6,) and same.sum() == 2 and np.all(d >= 0)
