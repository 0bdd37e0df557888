"""Face verification on drawn identities: classical methods vs a small ConvNet trained with the triplet loss.

Runs what Face_Recognition's parts 3.1 and 3.2 run in full mode (100 training and 40 test people,
8 grey 32x32 photos each; 800 steps of random or semi-hard triplets, alpha = 0.2, Adam 1e-3) for one
or more training seeds, and prints the true-accept rate at 1% false accepts of every method and the
1:K recognition rows. With --record it writes them to benchmarks/results/face_verification.json; the
notebook's text describes that run and tests/test_triplet_net.py checks its claims against the file.

    PYTHONPATH=. python benchmarks/face_verification.py [--seeds 0 1] [--record]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from helpers.backend import device_summary
from helpers.models.triplet_net import embed_faces, embedding_net, train_triplets
from helpers.reference.face_recognition import triplet_loss
from helpers.viz import week4

RECORD = Path(__file__).resolve().parent / "results" / "face_verification.json"
FAR = 0.01


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="network and training seeds")
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--record", action="store_true", help=f"write the results to {RECORD.name}")
    args = parser.parse_args()
    faces = week4.identity_sets(100, 40, 8, seed=0, size=32)
    print(device_summary(), "| load average", os.getloadavg())
    start = time.time()
    classical, _ = week4.classical_distances(faces["X_train"], faces["y_train"], faces["X_test"], faces["y_test"],
                                             components=40, seed=0)   # and dlib's encoder, below
    d_dlib, same_dlib = week4.dlib_distances(100, 40, 8, seed=0)
    classical["dlib ResNet, as trained on real photos"] = (d_dlib, same_dlib)
    record = {"far": FAR,
              "dlib_at_0.6": {"same_accepted": float((d_dlib[same_dlib] < 0.6).mean()),
                              "different_accepted": float((d_dlib[~same_dlib] < 0.6).mean())},
              "steps": args.steps, "classical_and_dlib_seconds": round(time.time() - start, 1),
              "load_average_at_start": round(os.getloadavg()[0], 2), "runs": {}}
    for seed in args.seeds:
        curves = dict(classical)
        curves["ConvNet, untrained"] = week4.pair_distances(embed_faces(embedding_net(32, seed=seed), faces["X_test"]),
                                                            faces["y_test"])
        training, models = {}, {}
        for mining in ("random", "semi-hard"):
            model = embedding_net(size=32, seed=seed)
            history = train_triplets(model, faces["X_train"], faces["y_train"], triplet_loss, steps=args.steps,
                                     mining=mining, alpha=0.2, learning_rate=1e-3, seed=seed)
            models[mining] = model
            curves[f"ConvNet, {mining} triplets"] = week4.pair_distances(embed_faces(model, faces["X_test"]),
                                                                         faces["y_test"])
            last = max(1, args.steps // 10)
            training[mining] = {"seconds": round(history["seconds"], 1),
                                "active_last_tenth": round(float(history["active"][-last:].mean()), 3)}
        rows = week4.verification_table(curves, far=FAR)
        d, same = curves["ConvNet, semi-hard triplets"]
        tau = week4.threshold_at_far(d, same, far=FAR)
        encodings = embed_faces(models["semi-hard"], faces["X_test"])
        recognition = [week4.recognition_experiment(encodings, faces["y_test"], enrolled=k, threshold=tau, seed=0)
                       for k in (5, 10, 20, 30)]
        record["runs"][str(seed)] = {
            "tar_at_far": {r["method"]: week4.verification_rates(*curves[r["method"]],
                                                                  week4.threshold_at_far(*curves[r["method"]], FAR))["tar"]
                           for r in rows},
            "table": rows, "training": training, "threshold": tau, "recognition": recognition}
        print(f"seed {seed}:")
        for r in rows:
            print("  " + " | ".join(str(v) for v in r.values()))
        print("  training", training)
        for r in recognition:
            print(f"  K={r['K']}: recognised {r['recognised']:.1%}, p {r['far_pair']:.2%}, predicted {r['predicted']:.1%}, "
                  f"strangers let in {r['stranger_accepted']:.1%}")
    if args.record:
        RECORD.parent.mkdir(exist_ok=True)
        RECORD.write_text(json.dumps(record, indent=1) + "\n")
        print("written", RECORD)


if __name__ == "__main__":
    main()
