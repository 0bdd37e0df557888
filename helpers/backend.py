"""Quiet TensorFlow/Keras import, shared by every Keras notebook.

TensorFlow's C++ runtime prints start-up lines to the process's stderr (CUDA probing, oneDNN
notices) even when there is nothing wrong. In a notebook these appear as red text, and nbgrader
scores a test cell 0 if it writes to stderr. Import TensorFlow from here instead::

    from helpers.backend import tf, keras

The same code uses an NVIDIA GPU when TensorFlow can see one (install variant in the README);
:func:`device_summary` says which device is in use.
"""

from __future__ import annotations

import contextlib
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@contextlib.contextmanager
def _silenced_stderr_fd():
    """Send file descriptor 2 to /dev/null for the duration (C++ logs bypass ``sys.stderr``)."""
    try:
        sys.stderr.flush()
    except Exception:  # pragma: no cover - a closed/odd stderr must not break the import
        pass
    try:
        saved = os.dup(2)
    except OSError:  # pragma: no cover - no fd 2 at all
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


#: Keras 3 backend in use. The course is written for "tensorflow" (the default); model-building and
#: training code that uses only ``keras`` also runs with KERAS_BACKEND=jax or torch, where ``tf`` is None.
BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")

with _silenced_stderr_fd():
    if BACKEND == "tensorflow":
        import tensorflow as tf  # noqa: E402

        tf.get_logger().setLevel("ERROR")
        # Touch the runtime once so device discovery (and its logging) happens while silenced.
        _DEVICES = [d.device_type for d in tf.config.list_physical_devices()]
        tf.constant(0.0).numpy()
    else:
        tf = None
        if BACKEND == "jax":
            import jax

            _DEVICES = [d.platform.upper() for d in jax.devices()]
        elif BACKEND == "torch":
            import torch

            _DEVICES = ["GPU"] * torch.cuda.device_count() or ["CPU"]
        else:
            raise ValueError(f"KERAS_BACKEND must be tensorflow, jax or torch, got {BACKEND!r}")
    import keras  # noqa: E402


def gpus() -> list[str]:
    """One entry per GPU the Keras backend can use (empty on a CPU-only machine)."""
    return [d for d in _DEVICES if d in ("GPU", "CUDA")]


def device_summary() -> str:
    """One line naming the device the notebooks will train on, e.g. ``'CPU (2 cores), tensorflow'``."""
    found = gpus()
    version = tf.__version__ if tf is not None else keras.__version__
    where = f"GPU: {len(found)} device(s)" if found else f"CPU ({os.cpu_count()} cores)"
    return f"{where}, Keras backend {BACKEND} ({'TensorFlow' if tf is not None else 'Keras'} {version})"


__all__ = ["tf", "keras", "BACKEND", "gpus", "device_summary"]
