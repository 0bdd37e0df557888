"""The checking toolkit behind every visible and hidden test of the course.

A test is a sequence of checks on what a student's function returned. The first failing check
raises :class:`GradingFailure` (an ``AssertionError``, so nbgrader and pytest treat it as a failed
test) whose message names the function, says what was expected and what came, and gives the
likely cause::

    conv_forward: values of Z differ from the expected ones
      expected: Z[0, 1, 0, 2] = 0.7316 (and 23 more values within rtol=1e-05, atol=1e-07)
      got:      Z[0, 1, 0, 2] = 1.2046 (24 of 96 values differ; largest difference 0.83)
      likely cause: the stride is ignored (windows move by 1 instead of hparameters["stride"])

Building blocks:

- :func:`call` runs the student's function and turns its exceptions into readable failures;
- :func:`check_type`, :func:`check_shape`, :func:`check_close`, :func:`check_equal` compare
  results, with tolerances stated by the caller; ``check_close`` accepts *diagnoses*: arrays that
  known mistakes would produce, so the message can name the mistake the student made;
- :func:`rel_error` and :func:`numerical_gradient` for gradient checks (CS231n style);
- :func:`summarize_model` / :func:`check_model_summary` compare Keras models by layer kind,
  output shape, parameter count and key settings -- not by TensorFlow-internal op class names;
- :func:`all_passed` prints the single closing line ``All tests passed.``.

Checking functions set ``__tracebackhide__ = True``: IPython then leaves their frames out of the
traceback a student sees, which ends with the message instead of pages of grader internals.
"""

from __future__ import annotations

import textwrap
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from helpers import integrity

PASSED_LINE = "All tests passed."


class GradingFailure(AssertionError):
    """A check failed. The message is meant for the student."""


# --------------------------------------------------------------------------------------------
# messages


def _describe(value: Any) -> str:
    """Short description of a value for messages: arrays by shape and dtype, others by repr."""
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape}, dtype {value.dtype}"
    if hasattr(value, "shape") and hasattr(value, "dtype"):  # tensors
        return f"{type(value).__name__} of shape {tuple(value.shape)}, dtype {value.dtype}"
    if isinstance(value, (tuple, list)) and len(value) > 4:
        return f"{type(value).__name__} of length {len(value)}"
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def fail(function: str, what: str, expected: Any = None, got: Any = None, cause: str | None = None):
    """Raise a :class:`GradingFailure` with the course's message layout."""
    __tracebackhide__ = True
    lines = [f"{function}: {what}"]
    if expected is not None:
        lines.append(f"  expected: {expected}")
    if got is not None:
        lines.append(f"  got:      {got}")
    if cause:
        lines.append("  likely cause: " + textwrap.fill(cause, 90, subsequent_indent="    "))
    raise GradingFailure("\n".join(lines))


def all_passed() -> None:
    """Print the one closing line of a passing visible test."""
    print(PASSED_LINE)


# --------------------------------------------------------------------------------------------
# running the student's function


def call(function: str, target: Callable, *args, with_reference: Mapping[str, Callable] | None = None, **kwargs):
    """Call ``target(*args, **kwargs)``; an exception becomes a :class:`GradingFailure` naming it.

    Arrays passed in are copied first, so a function that modifies its inputs in place cannot
    corrupt the expected values the test computes afterwards.

    with_reference: ``{"zero_pad": helpers.conv.zero_pad, ...}``. While ``target`` runs, these
    names in its module (the notebook's globals) point to the reference implementations, so a
    student's broken ``zero_pad`` costs the points of ``zero_pad`` only, not those of every
    function that calls it. The student's own functions are put back afterwards.

    Integrity (:mod:`helpers.integrity`): ``target`` runs under a profiler; if it enters a reference
    implementation (or a copy of one, or the grader's code) other than the ``with_reference`` stand-ins
    and the functions passed to it, the check fails. Before and after the call, the grader's
    environment (numpy, builtins, Keras, the checks and their expected values) must be as it was when
    the checks were imported, or an :class:`helpers.integrity.IntegrityError` is raised.
    """
    __tracebackhide__ = True
    if not callable(target):
        fail(function, "is not a function", expected="a function", got=_describe(target),
             cause=f"the name {function} was re-assigned to something else; re-run its cell")
    integrity.verify(function)
    args = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)
    allowed = [*(with_reference or {}).values(),
               *(a for a in (*args, *kwargs.values()) if callable(a))]
    namespace = getattr(target, "__globals__", None)
    saved = {}
    if with_reference and isinstance(namespace, dict):
        for name, reference in with_reference.items():
            if name in namespace and namespace[name] is not target:
                saved[name] = namespace[name]
                namespace[name] = reference
    try:
        # Warnings of student code are shown on stdout: nbgrader gives 0 points to a test cell
        # that writes to stderr, and a warning alone does not make an answer wrong.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with integrity.Watch(allowed) as watch:
                result = target(*args, **kwargs)
        for message in {f"{w.category.__name__}: {w.message}" for w in caught}:
            print(f"note: {function} raised a warning (not an error, but worth fixing): {message}")
        if watch.problems:
            fail(function, "does not compute its result with its own code",
                 expected="your own implementation (calling numpy, TensorFlow or Keras is fine)",
                 got="; ".join(watch.problems),
                 cause="the course's reference implementations (helpers.reference, helpers.conv) and the "
                 "grader are not part of an answer; write the computation in your function")
        integrity.verify(function)
        return result
    except NotImplementedError:
        fail(function, "is not implemented yet (it still raises NotImplementedError)",
             cause="replace the `raise NotImplementedError()` line with your code and run the cell")
    except (GradingFailure, integrity.IntegrityError):
        raise
    except Exception as err:  # noqa: BLE001 - any error of student code is reported, not re-raised
        shown = ", ".join([_describe(a) for a in args] + [f"{k}={_describe(v)}" for k, v in kwargs.items()])
        cause = "read the error above; check the shapes of the arrays you slice and multiply"
        if "only 0-dimensional arrays can be converted" in str(err) or "only length-1 arrays" in str(err):
            cause = ("numpy 2 no longer turns an array with dimensions, like b of shape (1, 1, 1), into a number "
                     "with float(); use b.item() or np.squeeze(b)")
        fail(function, f"raised {type(err).__name__}: {err}", expected="a result",
             got=f"an exception when called with ({shown})", cause=cause)
    finally:
        for name, own in saved.items():
            namespace[name] = own


# --------------------------------------------------------------------------------------------
# comparing results


def check_type(function: str, what: str, got: Any, expected: type | tuple[type, ...], cause: str | None = None):
    """Fail unless ``isinstance(got, expected)``."""
    __tracebackhide__ = True
    if not isinstance(got, expected):
        names = expected.__name__ if isinstance(expected, type) else " or ".join(t.__name__ for t in expected)
        fail(function, f"{what} has the wrong type", expected=names, got=f"{type(got).__name__} ({_describe(got)})",
             cause=cause)


def check_shape(function: str, what: str, got: Any, expected: Sequence[int], cause: str | None = None):
    """Fail unless ``np.shape(got) == tuple(expected)``."""
    __tracebackhide__ = True
    shape = np.shape(got)
    if tuple(shape) != tuple(expected):
        fail(function, f"{what} has the wrong shape", expected=tuple(expected), got=tuple(shape), cause=cause)


def check_equal(function: str, what: str, got: Any, expected: Any, cause: str | None = None):
    """Fail unless ``got == expected`` (exact; arrays compared element-wise, shapes must match)."""
    __tracebackhide__ = True
    if isinstance(expected, np.ndarray) or isinstance(got, np.ndarray):
        check_shape(function, what, got, np.shape(expected), cause=cause)
        same = np.array_equal(np.asarray(got), np.asarray(expected))
    else:
        same = got == expected
    if not same:
        fail(function, f"{what} is not what was expected", expected=_describe(expected), got=_describe(got),
             cause=cause)


def _close(got: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    return np.isclose(got, expected, rtol=rtol, atol=atol)


def check_close(
    function: str,
    what: str,
    got: Any,
    expected: Any,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    diagnoses: Mapping[str, Any] | None = None,
    cause: str | None = None,
):
    """Fail unless ``got`` has ``expected``'s shape and ``|got - expected| <= atol + rtol * |expected|``.

    diagnoses: ``{"the stride is ignored": array_a_buggy_version_returns, ...}``. When the values
    differ and ``got`` matches one of these arrays, its key becomes the likely cause; otherwise
    ``cause`` is used.
    """
    __tracebackhide__ = True
    try:
        got_array = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        fail(function, f"{what} is not numeric", expected=_describe(np.asarray(expected)), got=_describe(got))
    expected_array = np.asarray(expected, dtype=np.float64)
    if got_array.shape != expected_array.shape:
        for name, candidate in (diagnoses or {}).items():
            if np.shape(candidate) == got_array.shape:
                cause = name
                break
        fail(function, f"{what} has the wrong shape", expected=expected_array.shape, got=got_array.shape, cause=cause)
    if not np.all(np.isfinite(got_array)):
        bad = int(np.sum(~np.isfinite(got_array)))
        fail(function, f"{what} contains {bad} NaN or infinite value(s)", expected="finite numbers",
             got=_describe(got), cause=cause or "a division by zero or an uninitialised array (np.empty)")
    ok = _close(got_array, expected_array, rtol, atol)
    if ok.all():
        return
    for name, candidate in (diagnoses or {}).items():
        candidate = np.asarray(candidate, dtype=np.float64)
        if candidate.shape == got_array.shape and _close(got_array, candidate, rtol, atol).all():
            cause = name
            break
    worst = np.unravel_index(np.argmax(np.abs(got_array - expected_array) * ~ok), ok.shape)
    where = f"{what}[{', '.join(str(int(i)) for i in worst)}]" if ok.ndim else what
    n_bad, n_all = int((~ok).sum()), ok.size
    fail(
        function,
        f"values of {what} differ from the expected ones (tolerance rtol={rtol:g}, atol={atol:g})",
        expected=f"{where} = {expected_array[worst]:.6g}",
        got=f"{where} = {got_array[worst]:.6g} ({n_bad} of {n_all} values differ; "
        f"largest difference {np.max(np.abs(got_array - expected_array)):.3g})",
        cause=cause,
    )


# --------------------------------------------------------------------------------------------
# gradients


def rel_error(x: Any, y: Any) -> float:
    """Largest relative error ``|x - y| / max(1e-8, |x| + |y|)`` over all entries."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def numerical_gradient(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, df: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Centred-difference gradient of ``sum(f(x) * df)`` with respect to ``x``.

    f: function of the array x (modified in place and restored), returning an array shaped like df.
    x: float64 array, any shape. df: upstream gradient, shape of f(x). Returns an array shaped like x:
    ``grad[i] = sum((f(x + h e_i) - f(x - h e_i)) * df) / (2h)``. With h = 1e-5 and float64, a
    correct analytic gradient agrees to a relative error below about 1e-8.
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise ValueError("x must be a float64 numpy array (finite differences need double precision)")
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        index = it.multi_index
        old = x[index]
        x[index] = old + h
        plus = np.array(f(x), dtype=np.float64, copy=True)
        x[index] = old - h
        minus = np.array(f(x), dtype=np.float64, copy=True)
        x[index] = old
        grad[index] = np.sum((plus - minus) * df) / (2 * h)
        it.iternext()
    return grad


# --------------------------------------------------------------------------------------------
# Keras models

#: Settings compared per layer kind when the expected row names them.
_LAYER_SETTINGS = {
    "Conv2D": ("filters", "kernel_size", "strides", "padding"),
    "Conv2DTranspose": ("filters", "kernel_size", "strides", "padding"),
    "DepthwiseConv2D": ("kernel_size", "strides", "padding"),
    "Dense": ("units",),
    "MaxPooling2D": ("pool_size", "strides", "padding"),
    "AveragePooling2D": ("pool_size", "strides", "padding"),
    "ZeroPadding2D": ("padding",),
    "BatchNormalization": ("axis",),
    "Dropout": ("rate",),
    "Activation": ("activation",),
}

#: Layer classes that only apply an activation, mapped to the activation's name.
_ACTIVATION_LAYERS = {"ReLU": "relu", "Softmax": "softmax", "LeakyReLU": "leaky_relu", "ELU": "elu"}


def _plain(value: Any) -> Any:
    """Config values as plain Python: lists -> tuples, activations -> names."""
    if isinstance(value, list):
        return tuple(_plain(v) for v in value)
    if callable(value):
        return getattr(value, "__name__", str(value))
    return value


def _activation_name(value: Any) -> str:
    name = _plain(value)
    if isinstance(name, dict):  # serialised activation
        name = name.get("config", {}).get("name", str(name))
    return str(name)


def summarize_model(model) -> list[dict]:
    """Describe a Keras model as a list of rows, one per layer that computes something.

    Each row is ``{"kind": "Conv2D", "output_shape": (None, 64, 64, 32), "params": 4736,
    "padding": "valid", ...}`` with the settings of :data:`_LAYER_SETTINGS` for its kind.
    Normalisation, so that equivalent models compare equal:

    - input layers are left out;
    - a layer with a built-in activation (``Conv2D(..., activation="relu")``) becomes two rows,
      the layer with ``activation="linear"`` and an ``Activation`` row;
    - ``ReLU()``, ``Softmax()`` ... become ``{"kind": "Activation", "activation": "relu"}``;
    - ``BatchNormalization(axis=-1)`` on 4-D data reports ``axis=3`` (same axis).
    """
    rows = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "InputLayer":
            continue
        config = layer.get_config()
        try:
            shape = tuple(layer.output.shape)
        except Exception:  # noqa: BLE001 - a layer used twice or not built has no single output
            shape = None
        row = {"kind": kind, "output_shape": shape, "params": int(layer.count_params())}
        if kind in _ACTIVATION_LAYERS:
            row = {"kind": "Activation", "output_shape": shape, "params": 0, "activation": _ACTIVATION_LAYERS[kind]}
            rows.append(row)
            continue
        for key in _LAYER_SETTINGS.get(kind, ()):
            if key in config:
                row[key] = _plain(config[key])
        if kind == "Activation":
            row["activation"] = _activation_name(config.get("activation"))
        if kind == "BatchNormalization" and shape is not None:
            axis = row.get("axis")
            axis = axis[0] if isinstance(axis, tuple) and len(axis) == 1 else axis
            row["axis"] = axis % len(shape) if isinstance(axis, int) else axis
        rows.append(row)
        activation = config.get("activation")
        if kind != "Activation" and activation is not None and _activation_name(activation) != "linear":
            rows.append({"kind": "Activation", "output_shape": shape, "params": 0,
                         "activation": _activation_name(activation)})
    return rows


def _row_text(row: Mapping[str, Any]) -> str:
    settings = ", ".join(f"{k}={v!r}" for k, v in row.items() if k not in ("kind", "output_shape", "params"))
    return f"{row['kind']}({settings}) -> output {row.get('output_shape')}, {row.get('params')} parameters"


def check_model_summary(function: str, model, expected: Iterable[Mapping[str, Any]], hints: Mapping[str, str] | None = None):
    """Compare ``summarize_model(model)`` with expected rows, layer by layer.

    expected: rows as :func:`summarize_model` makes them; only the keys present in an expected row
    are compared, so a test states exactly what matters. hints: ``{"padding": "...", ...}`` likely
    causes by mismatching key (``"kind"``, ``"output_shape"``, ``"params"``, or a setting).
    """
    __tracebackhide__ = True
    hints = dict(hints or {})
    if not hasattr(model, "layers") or not hasattr(model, "count_params"):
        fail(function, "did not return a Keras model", expected="a keras.Model", got=_describe(model),
             cause="return the model you built (e.g. `return model`)")
    got_rows = summarize_model(model)
    expected = list(expected)
    for index, (want, have) in enumerate(zip(expected, got_rows)):
        for key, value in want.items():
            if _plain(have.get(key)) != _plain(value):
                fail(
                    function,
                    f"layer {index + 1} ({have['kind']}) differs in {key!r}",
                    expected=_row_text(want),
                    got=_row_text(have),
                    cause=hints.get(key) or f"check the {key} of layer {index + 1} against the description",
                )
    if len(got_rows) != len(expected):
        extra = got_rows[len(expected):] or expected[len(got_rows):]
        fail(
            function,
            "has the wrong number of layers (activations counted as layers)",
            expected=f"{len(expected)} layers",
            got=f"{len(got_rows)} layers; first {'extra' if len(got_rows) > len(expected) else 'missing'}: "
            f"{_row_text(extra[0])}",
            cause=hints.get("count") or "a layer is missing or added; compare your layers with the list in the description",
        )


def backbone_call_training(model, backbone_model):
    """The ``training`` argument ``model`` passes when it calls ``backbone_model``.

    Returns False/True when it is passed, None when it is not, and the string "not called" when
    ``backbone_model`` is not used by ``model``; raises LookupError if Keras's graph cannot be read.
    """
    nodes_by_depth = getattr(model, "_nodes_by_depth", None)
    if nodes_by_depth is None:
        raise LookupError("this Keras version does not expose the model graph")
    calls = [node for nodes in nodes_by_depth.values() for node in nodes if node.operation is backbone_model]
    if not calls:
        return "not called"
    values = []
    for node in calls:
        arguments = node.arguments
        if "training" in arguments.kwargs:
            values.append(arguments.kwargs["training"])
        elif len(arguments.args) > 1:
            values.append(arguments.args[1])
        else:
            values.append(None)
    if any(v is not False for v in values):
        return next(v for v in values if v is not False)
    return False
