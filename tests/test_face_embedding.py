"""dlib's face embedding in Keras (helpers.models.face_embedding) and the real face photos (helpers.data.faces).

The conversion is proven two ways: the Keras model reproduces face-api 1.7.15's own output (numbers
recorded by running face-api under node, see scripts/convert_face_recognition_net.py), and on the
real photos every same-person distance is below dlib's 0.6 threshold and every different-person
distance above it. About 10 s on 2 CPU cores (building the model and loading the weights is most).
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from helpers.backend import gpus
from helpers.data.faces import FACE_BOXES, FACE_PEOPLE, load_face_photo, load_face_photos
from helpers.models import face_embedding
from helpers.models.face_embedding import (
    CHIP_SIZE,
    DISTANCE_THRESHOLD,
    EMBEDDING_SIZE,
    WEIGHTS_PATH,
    WEIGHTS_SHA256,
    embed,
    face_chip,
    load_face_embedding,
)
from helpers.models.npz_weights import file_sha256

#: face-api 1.7.15's FaceRecognitionNet (TensorFlow.js, CPU) on :func:`_synthetic_chip`: the first 8
#: numbers and the norm of its descriptor, recorded once under node.
FACE_API_FIRST_8 = [-0.08422700, 0.12426541, 0.11175150, -0.00798152, -0.06557101, -0.06782427, -0.03020772, -0.00618604]
FACE_API_NORM = 1.281186
#: Agreement expected with face-api: float32 on CPU; NVIDIA GPUs may run convolutions in TF32 (10-bit
#: mantissa), which moves the embedding by up to about 1e-3.
FACE_API_TOLERANCE = 5e-3 if gpus() else 2e-6


def _synthetic_chip() -> np.ndarray:
    """A (150, 150, 3) uint8 image of 10x10-pixel random colour blocks (no resampling involved)."""
    rng = np.random.default_rng(2024)
    return np.kron(rng.integers(0, 256, size=(15, 15, 3)), np.ones((10, 10, 1), dtype=np.int64)).astype(np.uint8)


@pytest.fixture(scope="module")
def photos():
    """(keys, people, chips (6, 150, 150, 3) uint8) of the real photos, cut at the hand-marked boxes."""
    keys = list(FACE_BOXES)
    chips = np.stack([face_chip(load_face_photo(key), FACE_BOXES[key]) for key in keys])
    return keys, [FACE_PEOPLE[key] for key in keys], chips


@pytest.fixture(scope="module")
def embeddings(photos):
    """(6, 128) embeddings of the real photos' chips."""
    return embed(photos[2])


def test_shipped_weights_match_their_hash():
    assert WEIGHTS_PATH.is_file()
    assert file_sha256(WEIGHTS_PATH) == WEIGHTS_SHA256


def test_model_reproduces_face_api_output():
    vector = embed(_synthetic_chip())
    assert vector.shape == (EMBEDDING_SIZE,) and vector.dtype == np.float32
    np.testing.assert_allclose(vector[:8], FACE_API_FIRST_8, atol=FACE_API_TOLERANCE)
    assert abs(np.linalg.norm(vector) - FACE_API_NORM) < FACE_API_TOLERANCE


def test_same_person_close_different_people_far(photos, embeddings):
    keys, people, _chips = photos
    distances = np.linalg.norm(embeddings[:, None] - embeddings[None], axis=-1)
    width = max(map(len, keys))
    print("\n" + "\n".join(f"{key:>{width}} " + " ".join(f"{value:.3f}" for value in row)
                           for key, row in zip(keys, distances)))
    for i in range(len(keys)):
        for j in range(i + 1, len(keys)):
            if people[i] == people[j]:
                assert distances[i, j] < DISTANCE_THRESHOLD, f"{keys[i]} vs {keys[j]} (same person): {distances[i, j]:.3f}"
            else:
                assert distances[i, j] > DISTANCE_THRESHOLD, f"{keys[i]} vs {keys[j]} ({people[i]} / {people[j]}): {distances[i, j]:.3f}"
    # Three photos of one person, so the test has same-person pairs to check at all.
    assert people.count("Barack Obama") == 3 and len(set(people)) == 4


def test_output_shape_and_norm(embeddings):
    model = face_embedding._shared_model()
    assert model.input_shape == (None, CHIP_SIZE, CHIP_SIZE, 3)
    assert model.output_shape == (None, EMBEDDING_SIZE)
    assert model.count_params() == 5_614_592          # every number in face-api's weights file, no more
    assert embeddings.shape == (6, EMBEDDING_SIZE) and embeddings.dtype == np.float32
    assert np.all(np.isfinite(embeddings))
    # dlib's embeddings are not re-normalised to length 1; on faces their norms are about 1.3 to 1.5.
    norms = np.linalg.norm(embeddings, axis=1)
    assert np.all((norms > 1.1) & (norms < 1.7)), norms


def test_embedding_is_deterministic_and_batch_independent(photos, embeddings):
    chips = photos[2]
    if gpus():   # cuDNN may pick another convolution algorithm on a later call
        np.testing.assert_allclose(embed(chips), embeddings, atol=1e-4)
    else:
        np.testing.assert_array_equal(embed(chips), embeddings)
    one_at_a_time = embed(chips, batch_size=1)
    np.testing.assert_allclose(one_at_a_time, embeddings, atol=1e-4)
    np.testing.assert_allclose(embed(chips[2]), embeddings[2], atol=1e-4)


def test_face_chip_geometry():
    # A white 40x20 box on black: the chip is the square of side 40 * 1.5 = 60 around its centre,
    # so the box fills the middle two thirds across and a third in height.
    image = np.zeros((200, 300, 3), np.uint8)
    image[100:120, 150:190] = 255
    chip = face_chip(image, (150, 100, 190, 120), size=60, padding=0.25)
    assert chip.shape == (60, 60, 3) and chip.dtype == np.uint8
    assert chip[30, 30].tolist() == [255, 255, 255]
    assert chip[30, 11].max() > 200 and chip[30, 48].max() > 200           # inside, near the left/right ends
    assert chip[30, 8].max() < 40 and chip[30, 52].max() < 40              # outside the box
    assert chip[18, 30].max() < 40 and chip[42, 30].max() < 40             # above / below the box
    # Near the photo's edge the square extends past it: that part is black.
    corner = face_chip(np.full((100, 100, 3), 200, np.uint8), (0, 0, 40, 40))
    assert corner[:20, :20].max() == 0 and corner[100:, 100:].min() == 200


def test_photos_and_boxes_fit():
    images, names, boxes = load_face_photos()
    assert list(FACE_BOXES) == list(FACE_PEOPLE) and len(images) == len(names) == len(boxes) == 6
    for image, box in zip(images, boxes):
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
        x1, y1, x2, y2 = box
        assert 0 <= x1 < x2 <= image.shape[1] and 0 <= y1 < y2 <= image.shape[0]
        assert 0.6 < (x2 - x1) / (y2 - y1) < 1.4                            # faces, not strips
    only = load_face_photos(people=["Joe Biden"])
    assert only[1] == ["Joe Biden"] and only[2] == [FACE_BOXES["biden_blue_room_2010.jpg"]]


@pytest.mark.parametrize("call, message", [
    (lambda: face_chip(np.zeros((50, 50, 3), np.float32), (10, 10, 40, 40)), "uint8"),
    (lambda: face_chip(np.zeros((50, 50), np.uint8), (10, 10, 40, 40)), "RGB"),
    (lambda: face_chip(np.zeros((50, 50, 3), np.uint8), (40, 10, 10, 40)), "x1 < x2"),
    (lambda: face_chip(np.zeros((50, 50, 3), np.uint8), (10, 10, 40)), "four numbers"),
    (lambda: face_chip(np.zeros((50, 50, 3), np.uint8), (60, 60, 90, 90)), "outside"),
    (lambda: face_chip(np.zeros((50, 50, 3), np.uint8), (10, 10, 40, 40), padding=-0.1), "padding"),
    (lambda: face_chip(np.zeros((50, 50, 3), np.uint8), (10, 10, 40, 40), size=0), "size"),
    (lambda: embed(np.zeros((2, 64, 64, 3), np.uint8)), "150"),
    (lambda: embed(np.zeros((2, 150, 150, 3), np.float32)), "uint8"),
    (lambda: embed(np.zeros((0, 150, 150, 3), np.uint8)), "no face chips"),
    (lambda: embed(np.zeros((1, 150, 150, 3), np.uint8), batch_size=0), "batch_size"),
    (lambda: load_face_photos(people=["Nobody"]), "Nobody"),
    (lambda: load_face_photo("nobody.jpg"), "unknown photo"),
])
def test_bad_arguments_raise_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_damaged_or_missing_weights_file_is_refused(tmp_path):
    damaged = tmp_path / "face_embedding_dlib.npz"
    shutil.copy(WEIGHTS_PATH, damaged)
    raw = bytearray(damaged.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    damaged.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="SHA-256 .* expected .*damaged"):
        load_face_embedding(damaged, sha256=WEIGHTS_SHA256)
    with pytest.raises(ValueError, match="not found"):
        load_face_embedding(tmp_path / "missing.npz")
    # A file of the right format that lacks a layer's weights names the missing key.
    with np.load(WEIGHTS_PATH) as archive:
        arrays = {key: archive[key] for key in archive.files if not key.startswith("fc/")}
    np.savez(tmp_path / "no_fc.npz", **arrays)
    with pytest.raises(ValueError, match="fc/0 missing"):
        load_face_embedding(tmp_path / "no_fc.npz")


def test_detector_crops_with_the_fitted_box_transform_separate_the_people():
    """The Tiny-YOLOv2 detector's own boxes reach over the forehead: cut as they are, two different
    people come closer than 0.6. Moved by the fixed transform fitted on the photos
    (face_embedding.DETECTOR_BOX_TRANSFORM), every same-person distance is below 0.6 and every
    different-person one above it, also when the transform is fitted without the photo it is applied to."""
    from helpers.models.face_embedding import DETECTOR_BOX_TRANSFORM, box_from_detector, fit_box_transform
    from helpers.models.tiny_yolo import detect_faces

    found = {key: detect_faces(load_face_photo(key)) for key in FACE_BOXES}
    keys = [key for key, faces in found.items() if faces]
    assert len(keys) == 5 and "obama_congress_2009.jpg" not in keys      # missed at score 0.5
    detected = [found[key][0][1] for key in keys]
    transform = fit_box_transform(detected, [FACE_BOXES[key] for key in keys])
    np.testing.assert_allclose(transform, DETECTOR_BOX_TRANSFORM, atol=5e-4)
    people = [FACE_PEOPLE[key] for key in keys]
    same = np.array([[a == b for b in people] for a in people]) & ~np.eye(len(keys), dtype=bool)
    different = np.array([[a != b for b in people] for a in people])

    def distances(boxes):
        vectors = embed(np.stack([face_chip(load_face_photo(key), box) for key, box in zip(keys, boxes)]))
        return np.linalg.norm(vectors[:, None] - vectors[None], axis=-1)

    raw = distances(detected)
    assert raw[different].min() < DISTANCE_THRESHOLD                     # the boxes as the detector gives them mix
    fitted = distances([box_from_detector(box) for box in detected])
    left_out = [box_from_detector(box, fit_box_transform(np.delete(detected, i, 0),
                                                         [FACE_BOXES[k] for k in keys if k != key]))
                for i, (key, box) in enumerate(zip(keys, detected))]
    for D in (fitted, distances(left_out)):
        assert D[same].max() < DISTANCE_THRESHOLD < D[different].min(), D
