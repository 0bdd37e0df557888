"""The U-Net trained on the street scenes: scores, the shipped weights against their run record,
the training script on a tiny run, and the notebook's text against the record."""

import json
import re

import numpy as np
import pytest

from helpers.models import unet_street
from tests import REPO


def test_scores_on_a_hand_made_example():
    true = np.array([[0, 0, 1, 1], [2, 2, 2, 1]])
    pred = np.array([[0, 1, 1, 1], [2, 2, 0, 5]])
    conf = unet_street.confusion_matrix(true, pred, n_classes=6)
    assert conf.sum() == 8 and conf[0, 0] == 1 and conf[0, 1] == 1 and conf[2, 0] == 1 and conf[1, 5] == 1
    scores = unet_street.scores_from_confusion(conf, names=list("abcdef"))
    assert scores["pixel_accuracy"] == pytest.approx(5 / 8)
    # a: 1 hit, 2 true + 2 predicted -> 1/3; b: 2 hits, 3 true + 3 predicted -> 2/4; c: 2 hits, 3 + 2 -> 2/3
    assert scores["iou"] == pytest.approx({"a": 1 / 3, "b": 0.5, "c": 2 / 3})
    assert "f" not in scores["iou"]  # predicted but absent from the truth: not in the mean
    assert scores["mean_iou"] == pytest.approx((1 / 3 + 0.5 + 2 / 3) / 3)
    assert unet_street.segmentation_scores(true, pred, n_classes=6)["mean_iou"] == pytest.approx(scores["mean_iou"])


def test_scores_refuse_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        unet_street.confusion_matrix(np.zeros((2, 3), int), np.zeros((3, 2), int))
    with pytest.raises(ValueError, match=r"\[0, 23\)"):
        unet_street.confusion_matrix(np.full((2, 2), 23), np.zeros((2, 2), int))
    with pytest.raises(ValueError, match="non-empty square"):
        unet_street.scores_from_confusion(np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"\(n, H, W, 3\)"):
        unet_street.predict_masks(None, np.zeros((2, 8, 8)))


def test_shipped_weights_reproduce_the_run_record_on_the_held_out_frames():
    """The float16 file, loaded without the instructor reference, scores the record's held-out frames
    (rendered again from their seed) as the record says."""
    from helpers.data.street import make_street_scenes

    run = unet_street.load_street_unet_run()
    assert run is not None and run["weights_sha256"]
    assert unet_street.WEIGHTS_PATH.stat().st_size == run["weights_bytes"] <= 18_000_000
    model = unet_street.load_street_unet()
    assert model.count_params() == run["parameters"]
    assert model.input_shape == (None, 96, 128, 3) and model.output_shape == (None, 96, 128, 23)
    held = make_street_scenes(run["heldout_frames"]["frames"], run["heldout_frames"]["seed"])
    scores = unet_street.segmentation_scores(held.masks, unet_street.predict_masks(model, held.images))
    recorded = run["heldout"]
    assert scores["pixel_accuracy"] == pytest.approx(recorded["pixel_accuracy"], abs=2e-3)
    assert scores["mean_iou"] == pytest.approx(recorded["mean_iou"], abs=5e-3)
    assert set(scores["iou"]) == set(recorded["iou"])
    for name, value in recorded["iou"].items():
        assert scores["iou"][name] == pytest.approx(value, abs=0.02), name
    best = run["epochs"][run["best_epoch"] - 1]
    assert best["mean_iou"] == max(e["mean_iou"] for e in run["epochs"])
    assert recorded["mean_iou"] == pytest.approx(best["mean_iou"], abs=5e-3)  # float16 costs ~nothing
    assert run["train"]["seed"] != run["heldout_frames"]["seed"]


def test_a_damaged_weights_file_is_refused(tmp_path, monkeypatch):
    bad = tmp_path / "unet_street_fp16.npz"
    bad.write_bytes(b"version https://git-lfs.github.com/spec/v1\n")
    unet_street.architecture_path_for(bad).write_text(unet_street.ARCHITECTURE_PATH.read_text())
    monkeypatch.setattr(unet_street, "WEIGHTS_PATH", bad)
    with pytest.raises(ValueError, match="have SHA-256 .* expected"):
        unet_street.load_street_unet()
    monkeypatch.setattr(unet_street, "load_street_unet_run", lambda: None)
    with pytest.raises(ValueError, match="no run record"):
        unet_street.load_street_unet()
    with pytest.raises(ValueError, match="architecture file missing"):
        unet_street.load_street_unet(tmp_path / "other.npz")


def test_training_script_runs_end_to_end_on_a_tiny_setting(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("train_unet_street", REPO / "scripts" / "train_unet_street.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    weights, record = tmp_path / "w_fp16.npz", tmp_path / "run.json"
    script.main(["--n-filters", "2", "--train-frames", "16", "--heldout-frames", "4", "--epochs", "2",
                 "--batch-size", "8", "--out-weights", str(weights), "--out-record", str(record)])
    run = json.loads(record.read_text())
    assert len(run["epochs"]) == 2 and run["heldout"]["mean_iou"] >= 0 and run["weights_sha256"]
    assert run["train"] == {"frames": 16, "seed": 1} and run["heldout_frames"] == {"frames": 4, "seed": 2}
    model = unet_street.load_street_unet(weights)  # its architecture JSON was written next to it
    assert model.count_params() == run["parameters"]
    # a second stage from the first one's weights, rendered by two processes: the record keeps the first
    weights2, record2 = tmp_path / "w2_fp16.npz", tmp_path / "run2.json"
    script.main(["--n-filters", "2", "--train-frames", "16", "--heldout-frames", "4", "--epochs", "1",
                 "--batch-size", "8", "--workers", "2", "--init", str(weights), "--first-stage-record", str(record),
                 "--out-weights", str(weights2), "--out-record", str(record2)])
    run2 = json.loads(record2.read_text())
    assert run2["first_stage"] == run and run2["args"]["init"].startswith("first_stage")
    with pytest.raises(ValueError, match="goes with --init"):
        script.parse_args(["--first-stage-record", str(record)])
    with pytest.raises(ValueError, match="must differ"):
        script.parse_args(["--train-seed", "3", "--heldout-seed", "3"])
    w, freq = script.class_weights(np.array([[0, 0, 0, 1]]), power=1.0, max_weight=10.0, n_classes=3)
    assert freq[:2].tolist() == [0.75, 0.25] and w[2] == 0
    assert w[0] == pytest.approx(0.5 / 0.75) and w[1] == pytest.approx(0.5 / 0.25)


def test_notebook_text_quotes_the_run_record():
    """The numbers in "A U-Net trained here for longer" are those of helpers/models/unet_street_run.json
    (the shipped stage and the first stage it started from)."""
    import nbformat

    run = unet_street.load_street_unet_run()
    first = run["first_stage"]
    nb = nbformat.read(REPO / "source" / "week3" / "Image_Segmentation_UNet.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    start = text.index("### A U-Net trained here for longer")
    section = " ".join(text[start:text.index("## 7 - What to remember")].split())
    held = run["heldout"]
    minutes = round(sum(e["train_seconds"] + e["eval_seconds"] for stage in (first, run) for e in stage["epochs"]) / 60)
    quoted = [f"`n_filters={run['n_filters']}`", f"{run['parameters']:,} parameters", f"about {minutes} minutes",
              f"stage 1: {first['train']['frames']:,} frames for {len(first['epochs'])} epochs",
              f"to {first['args']['learning_rate']:g} and then",
              f"{run['train']['frames']:,} frames (the first {first['train']['frames']:,} are stage 1's) for {len(run['epochs'])} epochs",
              f"warm-up over a fifth of an epoch to {run['args']['learning_rate']:g}",
              f"{run['heldout_frames']['frames']} held-out frames", f"epoch {run['best_epoch']} of stage 2",
              f"pixel accuracy {held['pixel_accuracy']:.3f}", f"mean IoU {held['mean_iou']:.3f}",
              f"last epoch of stage 2 scored {run['epochs'][-1]['mean_iou']:.3f}"]
    assert run["args"]["init"].startswith("first_stage") and first["n_filters"] == run["n_filters"]
    assert first["args"]["warmup_epochs"] == 0.5 and run["args"]["warmup_epochs"] == 0.2   # "first half epoch", "a fifth"
    assert first["train"]["seed"] == run["train"]["seed"] != run["heldout_frames"]["seed"]
    args = run["args"]
    assert first["args"]["class_weight_power"] == args["class_weight_power"] and not args["no_flip"]
    small = ("fence", "pedestrian", "pole", "wall", "traffic sign", "traffic light")
    share = sum(run["train_pixel_fraction"][k] for k in small)
    for stage, name in ((first, "stage 1"), (run, "stage 2")):
        curve = ", ".join(f"{e['mean_iou']:.2f}" for e in stage["epochs"])
        quoted.append(f"{curve} in {name}")
    best = first["best_epoch"]
    quoted += [f"^{{{args['class_weight_power']}}}", f"cover {share:.1%}",
               f"alone {run['train_pixel_fraction']['traffic light']:.1%}",
               f"after epoch {best} the loss jumped and the mean IoU fell from {first['epochs'][best - 1]['mean_iou']:.2f} "
               f"to {first['epochs'][best]['mean_iou']:.2f}", f"climbed back to {first['epochs'][-1]['mean_iou']:.2f}",
               "pixel accuracy at least 0.95 and mean IoU at least 0.80"]
    assert first["epochs"][best]["loss"] > 2 * first["epochs"][best - 1]["loss"]   # "the loss jumped"
    for phrase in quoted:
        assert phrase in section, phrase
    met = held["pixel_accuracy"] >= 0.95 and held["mean_iou"] >= 0.80
    assert ("is **not**" in section) == (not met) and ("is reached" in section) == met
    for name, value in held["iou"].items():
        if re.search(rf"\b{re.escape(name)} {value:.2f}\b", section) is None:
            pytest.fail(f"IoU of {name} ({value:.2f}) not quoted as '{name} {value:.2f}'")
