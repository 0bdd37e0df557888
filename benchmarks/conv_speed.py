"""How fast is helpers.conv.conv_forward (vectorised im2col) next to TensorFlow and to plain loops?

Prints the median time of each implementation on the same realistic input and the ratios, all
measured in this one run. Goal: the vectorised numpy version within 3x of tf.nn.conv2d on a CPU.

    python benchmarks/conv_speed.py [--batch 32] [--size 64] [--filters 8] [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from helpers import conv
from helpers.backend import device_summary, tf


def median_seconds(function, repeats: int) -> float:
    function()  # warm-up: first calls allocate and (for TensorFlow) pick kernels
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--filters", type=int, default=8)
    parser.add_argument("--kernel", type=int, default=3)
    parser.add_argument("--stride", type=int, default=1)
    parser.add_argument("--pad", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--loop-batch", type=int, default=2,
                        help="examples timed for the loop version (it is slow); scaled to --batch")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    A = rng.standard_normal((args.batch, args.size, args.size, args.channels)).astype(np.float32)
    W = rng.standard_normal((args.kernel, args.kernel, args.channels, args.filters)).astype(np.float32)
    b = rng.standard_normal((1, 1, 1, args.filters)).astype(np.float32)
    hp = {"stride": args.stride, "pad": args.pad}
    A_tf, W_tf, b_tf = tf.constant(A), tf.constant(W), tf.constant(b)
    paddings = [[0, 0], [args.pad, args.pad], [args.pad, args.pad], [0, 0]]

    def tensorflow():
        return (tf.nn.conv2d(tf.pad(A_tf, paddings), W_tf, strides=args.stride, padding="VALID") + b_tf).numpy()

    ours, _ = conv.conv_forward(A, W, b, hp)
    assert np.allclose(ours, tensorflow(), atol=1e-4), "implementations disagree"

    t_tf = median_seconds(tensorflow, args.repeats)
    t_fast = median_seconds(lambda: conv.conv_forward(A, W, b, hp), args.repeats)
    few = A[: args.loop_batch]
    t_loops = median_seconds(lambda: conv.conv_forward_loops(few, W, b, hp), 1) * args.batch / args.loop_batch

    print(f"device: {device_summary()}")
    print(f"input {A.shape} float32, filters {W.shape}, stride {args.stride}, pad {args.pad}")
    print(f"tf.nn.conv2d            {t_tf * 1e3:10.2f} ms")
    print(f"helpers.conv (im2col)   {t_fast * 1e3:10.2f} ms   {t_fast / t_tf:6.2f}x TensorFlow")
    print(f"loops (scaled from {args.loop_batch})  {t_loops * 1e3:10.1f} ms   {t_loops / t_tf:6.0f}x TensorFlow, "
          f"{t_loops / t_fast:5.0f}x im2col")
    print(f"goal: im2col within 3x of TensorFlow -> {'met' if t_fast / t_tf <= 3 else 'NOT met'}")


if __name__ == "__main__":
    main()
