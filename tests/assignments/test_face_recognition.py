"""Face_Recognition: what only this notebook needs (shared proofs: test_grader_proofs.py).

The hand-computed triplet loss; the stand-in face model of the checks and the course's
img_to_encoding; the checks do not import helpers.reference (absent from the student kit); the
references agree with the hand computations; the text's claims on the real photos (same person below
0.6, different people above it, the notebook's database and visitors; part 4.1's chips cut at the face
detector's boxes).
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from helpers.checks import face_recognition as checks
from tests.assignments.registry import SPECS

SPEC = SPECS["face_recognition"]


def test_hand_computed_triplet_loss_is_7_4():
    """The visible test's batch, by hand (the notebook's text walks through it): 0 + 0.2 + 7.2."""
    from helpers.reference.face_recognition import triplet_loss

    anchor, positive, negative = checks.HAND_TRIPLETS
    terms = [max(np.sum((a - p) ** 2) - np.sum((a - n) ** 2) + 0.2, 0.0) for a, p, n in zip(anchor, positive, negative)]
    assert terms == pytest.approx([0.0, 0.2, 7.2]) and sum(terms) == pytest.approx(checks.HAND_LOSS)
    assert float(triplet_loss(None, [np.float32(x) for x in checks.HAND_TRIPLETS])) == pytest.approx(7.4, rel=1e-6)


def test_random_triplets_mix_easy_semi_hard_and_hard():
    anchor, positive, negative = checks._random_triplets(9, 16, 0.3, seed=5)
    basic = checks._squared(anchor, positive) - checks._squared(anchor, negative) + 0.3
    assert np.sum(basic < 0) == 3 and np.sum((basic > 0) & (basic < 0.3)) == 3 and np.sum(basic > 0.3) == 3
    assert np.min(np.abs(basic)) > 0.1 and np.min(np.abs(basic - 0.3)) > 0.1   # far from the kinks


def test_checks_do_not_import_the_reference():
    tree = ast.parse(Path(checks.__file__).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not any(name and "reference" in name for name in imported), imported


def test_img_to_encoding_reads_the_planned_encoding(tmp_path):
    """The given img_to_encoding on the checks' stand-in: a PNG file -> its planned (1, D) encoding;
    also after a resize (a model of another input size) and from pixels scaled to [0, 1]."""
    from PIL import Image

    from helpers.models.face_embedding import img_to_encoding

    encodings = np.arange(12, dtype=np.float32).reshape(3, 4)
    model = checks.PlannedEncodings(encodings)
    for index in range(3):
        path = tmp_path / f"{index}.png"
        Image.fromarray(model.image(index)).resize((20, 20)).save(path)
        got = img_to_encoding(str(path), model)
        assert got.shape == (1, 4) and got.dtype == np.float32 and np.array_equal(got[0], encodings[index])
    assert np.array_equal(model.predict(model.image(2)[None] / 255.0), encodings[2:3])
    with pytest.raises(ValueError, match="not one of the test's image"):
        model.predict_on_batch(np.full((1, 8, 8, 3), 7.0))
    with pytest.raises(ValueError, match="no image file"):
        img_to_encoding(tmp_path / "missing.png", model)


def test_hidden_tests_use_other_answers_than_the_visible_ones():
    """Every hard-coded variant fails only the hidden tests (checked by the shared proofs); here: there
    is one per graded function."""
    hard_coded = sorted(v.function for v in SPEC.notebook.buggy if "hard-coded" in v.description)
    assert hard_coded == ["triplet_loss", "verify", "who_is_it"]


def test_bad_check_arguments_are_refused():
    with pytest.raises(ValueError, match="within"):
        checks.check_verify(None, distances=(0.61,))
    with pytest.raises(ValueError, match="alpha"):
        checks.check_triplet_loss(None, alpha=0.0)
    with pytest.raises(ValueError, match="distinct"):
        checks.check_who_is_it(None, names=("Ada", "Ada"))


def test_real_photos_same_person_below_and_others_above_the_threshold(tmp_path):
    """The notebook's pipeline on the real photos: chips at the hand boxes, written as PNG, encoded with
    img_to_encoding; the three Obama photos are within 0.6 of each other, everyone else farther; the
    reference recognises the two Obama visitors and rejects Grace Hopper; verify refuses Obama with
    Biden's badge."""
    from PIL import Image

    from helpers.data.faces import FACE_BOXES, FACE_PEOPLE, load_face_photo
    from helpers.models.face_embedding import face_chip, img_to_encoding, load_face_embedding
    from helpers.reference.face_recognition import NOT_IN_DATABASE, THRESHOLD, verify, who_is_it

    model = load_face_embedding()
    paths = {}
    for key, box in FACE_BOXES.items():
        paths[Path(key).stem] = str(tmp_path / f"{Path(key).stem}.png")
        Image.fromarray(face_chip(load_face_photo(key), box)).save(paths[Path(key).stem])
    encodings = np.concatenate([img_to_encoding(path, model) for path in paths.values()])
    people = [FACE_PEOPLE[key] for key in FACE_BOXES]
    distances = np.linalg.norm(encodings[:, None] - encodings[None], axis=-1)
    for i in range(len(people)):
        for j in range(i + 1, len(people)):
            assert (distances[i, j] < THRESHOLD) == (people[i] == people[j]), (i, j, distances[i, j])
    same = [distances[i, j] for i in range(6) for j in range(i + 1, 6) if people[i] == people[j]]
    different = [distances[i, j] for i in range(6) for j in range(i + 1, 6) if people[i] != people[j]]
    assert 0.4 < min(same) and max(same) < 0.55 and 0.7 < min(different) and max(different) < 0.9   # the text's ranges

    database = {"Barack Obama": img_to_encoding(paths["obama_portrait_2012"], model),
                "Joe Biden": img_to_encoding(paths["biden_blue_room_2010"], model),
                "Eileen Collins": img_to_encoding(paths["astronaut"], model)}
    assert verify(paths["obama_congress_2009"], "Barack Obama", database, model)[1] is True
    assert verify(paths["obama_blue_room_2010"], "Joe Biden", database, model)[1] is False
    assert who_is_it(paths["obama_congress_2009"], database, model)[1] == "Barack Obama"
    assert who_is_it(paths["obama_blue_room_2010"], database, model)[1] == "Barack Obama"
    assert who_is_it(paths["grace_hopper"], database, model)[1] == NOT_IN_DATABASE


def test_detector_chips_support_the_notebook_text(tmp_path):
    """Part 4.1 as the notebook runs it: detect_faces at its default score threshold (0.5) on each photo,
    the best box moved by box_from_detector, chips written as PNG and encoded with img_to_encoding. Every
    number its text quotes is computed here: faces found, the missed photo's best score, the same-person
    and smallest different-person distances, the distance of each detector chip to its hand-box chip, and
    that cutting at the detector's own boxes would mix two people."""
    import json

    from PIL import Image

    from helpers.data.faces import FACE_BOXES, FACE_PEOPLE, load_face_photo
    from helpers.models.face_embedding import box_from_detector, face_chip, img_to_encoding, load_face_embedding
    from helpers.models.tiny_yolo import detect_faces
    from tests import REPO

    cells = json.loads((REPO / "source/week4/Face_Recognition.ipynb").read_text())["cells"]
    text = " ".join("\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown").split())
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert "found = detect_faces(photo)" in code and "box = box_from_detector(detected)" in code   # threshold 0.5
    assert "keep the boxes scoring above 0.5" in text

    model = load_face_embedding()

    def encode(key, box, suffix):
        path = tmp_path / f"{Path(key).stem}_{suffix}.png"
        Image.fromarray(face_chip(load_face_photo(key), box)).save(path)
        return img_to_encoding(str(path), model)[0]

    found = {key: detect_faces(load_face_photo(key)) for key in FACE_BOXES}
    keys = [key for key, faces in found.items() if faces]
    missed = [key for key in FACE_BOXES if key not in keys]
    assert f"The detector finds {len(keys)} of the {len(FACE_BOXES)} faces" in text
    assert missed == ["obama_congress_2009.jpg"] and "In `obama_congress_2009` its best box scores" in text
    best = detect_faces(load_face_photo(missed[0]), score_threshold=0.01, max_faces=1)[0][0]
    assert best < 0.5 and f"its best box scores {best:.2f}, below 0.5" in text

    people = [FACE_PEOPLE[key] for key in keys]
    pairs = [(i, j) for i in range(len(keys)) for j in range(i + 1, len(keys))]

    def distances(boxes, suffix):
        vectors = np.stack([encode(key, box, suffix) for key, box in zip(keys, boxes)])
        D = np.linalg.norm(vectors[:, None] - vectors[None], axis=-1)
        same = [D[i, j] for i, j in pairs if people[i] == people[j]]
        different = [D[i, j] for i, j in pairs if people[i] != people[j]]
        return vectors, same, different

    detector, same, different = distances([box_from_detector(found[key][0][1]) for key in keys], "detector")
    assert len(same) == 1 and max(same) < 0.6 < min(different)            # "decides every pair right"
    assert f"the two Obama photos are {max(same):.3f} apart" in text
    assert f"different people stay {min(different):.2f} or more apart" in text
    hand, _, _ = distances([FACE_BOXES[key] for key in keys], "hand")
    moved = np.linalg.norm(detector - hand, axis=-1)
    assert 0.15 < moved.min() and moved.max() < 0.35 and "about 0.2 to 0.3 from the hand-box chip" in text, moved
    _, _, raw_different = distances([found[key][0][1] for key in keys], "raw")
    assert min(raw_different) < 0.6 and "two different people come closer than 0.6" in text
