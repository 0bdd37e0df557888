"""helpers.data.identities: drawn people, several photos each; deterministic, and photos of one person
closer than photos of two people on average, but far from trivially separable in pixel space."""

import numpy as np
import pytest

from helpers import data
from helpers.data.identities import IDENTITY_TRAITS, SHOT_TRAITS, identity_traits, make_identities


def test_shapes_labels_and_determinism():
    X, y = make_identities(3, 4, seed=5, size=40)
    assert X.shape == (12, 40, 40, 3) and X.dtype == np.uint8
    assert y.dtype == np.int64 and list(y) == [0] * 4 + [1] * 4 + [2] * 4
    again, _ = make_identities(3, 4, seed=5, size=40)
    np.testing.assert_array_equal(X, again)
    other, _ = make_identities(3, 4, seed=6, size=40)
    assert np.abs(X.astype(int) - other.astype(int)).mean() > 10
    assert (X.reshape(len(X), -1).std(axis=1) > 10).all()       # pictures, not flat colour
    assert data.make_identities is make_identities


def test_traits_are_disjoint_and_cover_the_issue_list():
    assert not set(IDENTITY_TRAITS) & set(SHOT_TRAITS)
    for trait in ("head_rx", "jaw", "eye_dx", "nose_len", "mouth_y", "hair_style", "skin", "glasses", "age"):
        assert trait in IDENTITY_TRAITS
    people = identity_traits(np.random.default_rng(0), 50)
    assert set(people) == set(IDENTITY_TRAITS)
    assert people["age"].min() < 0.2 and people["age"].max() > 0.8


def test_the_photos_of_a_person_differ_in_pose_and_light():
    X, _ = make_identities(2, 5, seed=1, size=32)
    one = X[:5].astype(float)
    # no two photos of one person are near copies
    d = np.abs(one[:, None] - one[None]).mean(axis=(2, 3, 4))
    assert d[np.triu_indices(5, 1)].min() > 8


def _pixel_distances(seed):
    X, y = make_identities(20, 6, seed=seed, size=32)
    F = X.reshape(len(X), -1).astype(np.float64) / 255
    D = np.linalg.norm(F[:, None] - F[None], axis=-1)
    i, j = np.triu_indices(len(y), 1)
    return D[i, j], y[i] == y[j]


@pytest.mark.parametrize("seed", [0, 3])
def test_same_person_closer_on_average_but_not_separable(seed):
    from sklearn.metrics import roc_auc_score

    d, same = _pixel_distances(seed)
    assert d[same].mean() < 0.9 * d[~same].mean()
    auc = roc_auc_score(same, -d)            # 1.0: a pixel distance would tell every pair apart
    assert 0.6 < auc < 0.9, auc
    # many same-person pairs are further apart than the median different-person pair
    assert (d[same] > np.median(d[~same])).mean() > 0.15


@pytest.mark.parametrize("call, message", [
    (lambda: make_identities(1, 3, 0), "n_people must be at least 2"),
    (lambda: make_identities(3, 0, 0), "per_person must be at least 1"),
    (lambda: make_identities(3, 2, -1), "seed"),
    (lambda: make_identities(3, 2, 0, size=8), "size"),
    (lambda: make_identities(2.5, 2, 0), "n_people must be an integer"),
])
def test_bad_arguments_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
