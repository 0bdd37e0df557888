"""Quiet TensorFlow/Keras import, shared by every Keras notebook.

TensorFlow's C++ runtime prints start-up lines to the process's stderr (CUDA probing, oneDNN
notices) even when there is nothing wrong. In a notebook these appear as red text, and nbgrader
scores a test cell 0 if it writes to stderr. Import TensorFlow from here instead::

    from helpers.backend import tf, keras

The same code uses an NVIDIA GPU when TensorFlow can see one (install variant in the README);
:func:`device_summary` says which device is in use. The start-up messages are not lost: they are
captured and :func:`startup_log` returns them (e.g. why CUDA did not load); with
``CNN_COURSE_TF_LOGS=1`` in the environment they go to stderr as usual instead (never set it for
the autograder: a test cell that writes to stderr scores 0).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile

#: Set to 1 to let TensorFlow's start-up messages through to stderr (e.g. to see why CUDA did not load).
SHOW_LOGS_VARIABLE = "CNN_COURSE_TF_LOGS"
_SHOW_LOGS = os.environ.get(SHOW_LOGS_VARIABLE, "").strip() not in ("", "0")
if not _SHOW_LOGS:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
_STARTUP_LOG = ""


@contextlib.contextmanager
def _captured_stderr_fd():
    """Send file descriptor 2 to a temporary file for the duration (C++ logs bypass ``sys.stderr``);
    what was written is kept in ``_STARTUP_LOG`` (see :func:`startup_log`)."""
    global _STARTUP_LOG
    try:
        sys.stderr.flush()
    except Exception:  # pragma: no cover - a closed/odd stderr must not break the import
        pass
    try:
        saved = os.dup(2)
    except OSError:  # pragma: no cover - no fd 2 at all
        yield
        return
    capture = tempfile.TemporaryFile()
    os.dup2(capture.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        capture.seek(0)
        _STARTUP_LOG = capture.read().decode(errors="replace")
        capture.close()


class TensorFlowMissing(AttributeError):
    """Raised on any use of ``tf`` while Keras runs on another backend than TensorFlow."""


class _NoTensorFlow:
    """Stands for ``tf`` under Keras's JAX or PyTorch backend: false in a test (``if not tf``), and
    any attribute raises :class:`TensorFlowMissing` saying why, instead of an obscure error later."""

    def __bool__(self):
        return False

    def __getattr__(self, name):
        raise TensorFlowMissing(
            f"tf.{name}: Keras runs on its {KERAS_BACKEND!r} backend here, without TensorFlow. The notebooks "
            "need TensorFlow: unset KERAS_BACKEND (or set it to tensorflow, also in ~/.keras/keras.json) "
            "and restart the kernel")


with contextlib.nullcontext() if _SHOW_LOGS else _captured_stderr_fd():
    import keras  # noqa: E402

    #: Keras's backend. The course and its notebooks use TensorFlow; a training script may run on
    #: Keras's JAX or PyTorch backend instead (``KERAS_BACKEND=jax``), e.g. on a GPU machine that has
    #: no TensorFlow. ``tf`` is then a stand-in that is false and refuses every use: only code that
    #: needs nothing but ``keras`` works there.
    KERAS_BACKEND = keras.backend.backend()
    if KERAS_BACKEND == "tensorflow":
        import tensorflow as tf  # noqa: E402

        if not _SHOW_LOGS:
            tf.get_logger().setLevel("ERROR")
        # Touch the runtime once so device discovery (and its logging) happens now, while captured.
        _DEVICES = tf.config.list_physical_devices()
        tf.constant(0.0).numpy()
    else:
        tf = _NoTensorFlow()
        _DEVICES = []


def startup_log() -> str:
    """What TensorFlow wrote to stderr while it was imported (CUDA probing, oneDNN notices, errors).

    Empty when ``CNN_COURSE_TF_LOGS=1`` was set (the messages then went to stderr as usual). Look
    here when a GPU is not used: ``print(helpers.backend.startup_log())``.
    """
    return _STARTUP_LOG


def gpus() -> list:
    """Physical GPU devices TensorFlow can use (empty on a CPU-only machine)."""
    return [d for d in _DEVICES if d.device_type == "GPU"]


def device_summary() -> str:
    """One line naming the device the notebooks will train on, e.g. ``'CPU (2 threads)'``."""
    if not tf:
        text = f"Keras {keras.__version__} on {KERAS_BACKEND}"
        if KERAS_BACKEND == "jax":
            import jax

            text += f" {jax.__version__}: " + ", ".join(f"{d.platform} {d.device_kind}" for d in jax.devices())
        return text
    found = gpus()
    if found:
        return f"GPU: {len(found)} device(s), TensorFlow {tf.__version__}"
    return f"CPU ({os.cpu_count()} cores), TensorFlow {tf.__version__}"


__all__ = ["tf", "keras", "gpus", "device_summary", "startup_log"]
