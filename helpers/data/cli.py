"""``python -m helpers.data build|preview``: write the cached data sets, or PNG grids of them."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from helpers.data._draw import _check_count
from helpers.data.cache import _MAKERS, DEFAULT_SEED, _check_name, _load, build_dataset


def save_preview(name, out_dir, seed=DEFAULT_SEED, per_class=8, directory=None):
    """Write ``<out_dir>/<name>.png``: a grid of training images, one row per class."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _check_name(name)
    per_class = _check_count(per_class, "per_class")
    X, Y, _, _, classes = _load(name, seed, directory)
    Y = Y.reshape(-1)
    titles = {"signs": "{} finger(s)", "happy": "{}"}
    fig, axes = plt.subplots(len(classes), per_class, figsize=(per_class * 1.1, len(classes) * 1.2))
    for row, c in enumerate(classes):
        idx = np.flatnonzero(Y == c)[:per_class]
        for col in range(per_class):
            ax = axes[row, col]
            ax.axis("off")
            if col < len(idx):
                ax.imshow(X[idx[col]])
        label = titles[name].format(int(c)) if name == "signs" else ("smiling" if c else "not smiling")
        axes[row, 0].set_title(label, fontsize=8, loc="left")
    fig.tight_layout()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m helpers.data", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="write the data sets' HDF5 files (no-op when fresh)")
    b.add_argument("--seed", type=int, default=DEFAULT_SEED)
    b.add_argument("--force", action="store_true")
    pv = sub.add_parser("preview", help="write one PNG grid per data set (or only the named ones)")
    pv.add_argument("names", nargs="*", choices=[*_MAKERS, "street", []], metavar="NAME",
                    help=f"data sets to preview: {', '.join([*_MAKERS, 'street'])} (default: all)")
    pv.add_argument("--out", default="previews")
    pv.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    if args.command == "preview" and "street" in (args.names or ["street"]):
        from helpers.data import street

        t0 = time.perf_counter()
        print(f"street: {street.save_preview(args.out, seed=args.seed)} ({time.perf_counter() - t0:.1f} s)")
    for name in _MAKERS:
        if args.command == "preview" and args.names and name not in args.names:
            continue
        t0 = time.perf_counter()
        if args.command == "build":
            paths = build_dataset(name, args.seed, force=args.force)
            print(f"{name}: {paths[0]} {paths[1]} ({time.perf_counter() - t0:.1f} s)")
        else:
            path = save_preview(name, args.out, seed=args.seed)
            print(f"{name}: {path} ({time.perf_counter() - t0:.1f} s)")
    return 0
