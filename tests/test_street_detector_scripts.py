"""The street detector's training scripts end to end, on a few frames: stage 1 (the GPU script, here on
TensorFlow) and stage 2 (features cache, fine-branch training, --ship) write heads and records that
the course's loaders read."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from helpers.models import street_detector as sd
from tests import REPO

pytestmark = pytest.mark.slow


def _run(*args, timeout=600):
    done = subprocess.run([sys.executable, *map(str, args)], cwd=REPO, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done.stdout


def test_stage_two_caches_trains_and_ships_a_head_that_loads(tmp_path):
    cache, run = tmp_path / "cache", tmp_path / "run"
    _run("scripts/street_detector_features.py", cache, "--seed", 12, "--frames", 64, "--mirror")
    _run("scripts/street_detector_features.py", cache, "--seed", 11, "--frames", 64, "--mirror")
    with np.load(cache / "seed11_000.npz") as z:
        assert z["stride4"].shape == (2, 64, 64, 96, 24) and z["stride8"].shape == (2, 64, 32, 48, 40)
        assert z["trunk"].shape == (2, 64, 16, 24, 96)
        assert all(z[k].dtype == np.float16 for k in ("stride4", "stride8", "trunk"))
        assert z["counts"].sum() == len(z["boxes"]) == len(z["labels"])
    _run("scripts/train_street_detector.py", cache, "--out", run, "--steps", 4, "--batch", 8, "--eval-every", 2)
    history = json.loads((run / "history.json").read_text())
    assert len(history["losses"]) == 4 and [e["step"] for e in history["history"]] == [2, 4]
    assert history["train_views"] == 128 and np.isfinite(history["losses"]).all()
    _run("scripts/train_street_detector.py", cache, "--ship", run / "checkpoints" / "step_00004.npz")
    record = json.loads((run / "street_detector_run.json").read_text())
    shipped = sd.read_run_record()
    assert record["grid"] == [32, 48] and record["first_stage"] == shipped["first_stage"]
    assert record["train"]["frames"] == 64 and record["train"]["mirrored"] and record["held_out"]["frames"] == 64
    both = record["held_out"]["mirror_averaged"]
    assert set(both) >= {"all_objects", "objects_min_area", "first_16_frames"} and 0.0 <= both["all_objects"]["mAP"] <= 1.0
    assert both["all_objects"]["true_boxes"] == record["held_out"]["all_objects"]["true_boxes"]   # the same frames
    # --ship needs the held-out frames mirrored too, and says how to cache them
    rendered_only = tmp_path / "rendered_only"
    rendered_only.mkdir()
    with np.load(cache / "seed12_000.npz") as z:
        np.savez(rendered_only / "seed12_000.npz", **{k: (z[k][:1] if z[k].ndim == 5 else z[k]) for k in z.files})
    failed = subprocess.run([sys.executable, "scripts/train_street_detector.py", rendered_only, "--ship",
                             run / "checkpoints" / "step_00004.npz"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert failed.returncode != 0 and "have no mirrored view" in failed.stderr and "--mirror" in failed.stderr
    # the joined head: the shipped trunk, the newly trained fine branch, in one file the notebook's loader reads
    model, anchors, _ = sd.load_street_detector(run / "street_detector_head_fp16.npz", sha256=record["weights"]["sha256"])
    assert np.allclose(anchors, history["anchors"], atol=1e-4) and model.output_shape == (None, 32, 48, 50)
    with np.load(run / "street_detector_head_fp16.npz") as new, np.load(sd.WEIGHTS_PATH) as old:
        assert all(np.array_equal(new[k], old[k]) for k in new.files if k.split("/")[0] in sd.TRUNK_LAYERS)
        assert not np.array_equal(new["yolo_output/0"], old["yolo_output/0"])


def test_stage_one_script_trains_a_coarse_head_and_scores_it(tmp_path):
    out = tmp_path / "stage1"
    _run("scripts/train_street_detector_gpu.py", "--out", out, "--workers", 1, "--train-frames", 64, "--epochs", 2,
         "--batch", 32, "--held-out-blocks", 1, "--time-budget-s", 300, "--checkpoint-s", 1000, "--warmup-steps", 1)
    run = json.loads((out / "gpu_run.json").read_text())
    assert run["steps"] == 4 and run["stopped_by"] == "epochs"
    assert np.allclose(run["anchors_cells"], sd.read_run_record()["first_stage"]["anchors_cells"], atol=1e-4)
    _run("scripts/train_street_detector_gpu.py", "--evaluate", out / "street_detector_head_fp16.npz", "--skip-checkpoints")
    record = json.loads((out / "street_detector_run.json").read_text())
    assert record["grid"] == [16, 24] and record["held_out"]["frames"] == 320 and record["train"]["steps"] == 4
    assert 0.0 <= record["held_out"]["all_objects"]["mAP"] <= 1.0
