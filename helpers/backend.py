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


with _silenced_stderr_fd():
    import tensorflow as tf  # noqa: E402
    import keras  # noqa: E402

    tf.get_logger().setLevel("ERROR")
    # Touch the runtime once so device discovery (and its logging) happens while silenced.
    _DEVICES = tf.config.list_physical_devices()
    tf.constant(0.0).numpy()


def gpus() -> list:
    """Physical GPU devices TensorFlow can use (empty on a CPU-only machine)."""
    return [d for d in _DEVICES if d.device_type == "GPU"]


def device_summary() -> str:
    """One line naming the device the notebooks will train on, e.g. ``'CPU (2 threads)'``."""
    found = gpus()
    if found:
        return f"GPU: {len(found)} device(s), TensorFlow {tf.__version__}"
    return f"CPU ({os.cpu_count()} cores), TensorFlow {tf.__version__}"


__all__ = ["tf", "keras", "gpus", "device_summary"]
