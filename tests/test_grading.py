"""helpers.grading: messages, tolerances, diagnoses, isolation of helpers, model summaries."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import grading
from helpers.grading import GradingFailure


def test_check_close_passes_within_tolerance_and_fails_outside():
    grading.check_close("f", "x", np.array([1.0, 2.0 + 1e-7]), np.array([1.0, 2.0]), rtol=1e-6, atol=0)
    with pytest.raises(GradingFailure) as failure:
        grading.check_close("f", "x", np.array([1.0, 2.1]), np.array([1.0, 2.0]), rtol=1e-6, atol=0)
    message = str(failure.value)
    assert message.startswith("f: values of x differ") and "x[1] = 2" in message and "x[1] = 2.1" in message
    assert "1 of 2 values differ" in message


def test_check_close_names_the_diagnosed_mistake():
    expected, buggy = np.zeros((2, 2)), np.ones((2, 2))
    with pytest.raises(GradingFailure, match="likely cause: the bias is missing"):
        grading.check_close("f", "Z", buggy, expected, diagnoses={"the bias is missing": buggy})
    with pytest.raises(GradingFailure, match="likely cause: padded too much"):
        grading.check_close("f", "Z", np.ones((3, 3)), expected, diagnoses={"padded too much": np.ones((3, 3))})


def test_check_close_rejects_nan_and_non_numbers():
    with pytest.raises(GradingFailure, match="NaN"):
        grading.check_close("f", "x", np.array([np.nan]), np.array([1.0]))
    with pytest.raises(GradingFailure, match="not numeric"):
        grading.check_close("f", "x", "text", np.array([1.0]))


def test_call_reports_exceptions_and_not_implemented():
    def unfinished(x):
        raise NotImplementedError()

    def broken(x):
        return x[10]

    with pytest.raises(GradingFailure, match="not implemented yet"):
        grading.call("unfinished", unfinished, np.zeros(3))
    with pytest.raises(GradingFailure, match=r"(?s)broken: raised IndexError.*array of shape \(3,\)"):
        grading.call("broken", broken, np.zeros(3))
    with pytest.raises(GradingFailure, match="is not a function"):
        grading.call("f", 42)


def test_call_copies_arrays_and_turns_warnings_into_stdout(capsys):
    def mutating(x):
        import warnings
        warnings.warn("careful", stacklevel=2)
        x[:] = 0
        return 1

    data = np.ones(3)
    assert grading.call("mutating", mutating, data) == 1
    assert data.tolist() == [1, 1, 1]
    captured = capsys.readouterr()
    assert "careful" in captured.out and captured.err == ""


def test_call_with_reference_swaps_helpers_only_during_the_call():
    namespace = {}
    exec("def helper():\n    return 'student'\ndef caller():\n    return helper()", namespace)
    assert grading.call("caller", namespace["caller"], with_reference={"helper": lambda: "reference"}) == "reference"
    assert namespace["helper"]() == "student"


def test_numpy2_scalar_conversion_gets_a_specific_hint():
    def uses_float(b):
        return float(b)

    with pytest.raises(GradingFailure, match=r"b\.item\(\)"):
        grading.call("conv_single_step", uses_float, np.ones((1, 1, 1)) * np.ones(2))


def test_numerical_gradient_of_a_quadratic():
    x = np.array([1.0, -2.0, 3.0])
    grad = grading.numerical_gradient(lambda v: v ** 2, x, np.ones(3))
    assert grading.rel_error(grad, 2 * x) < 1e-9
    with pytest.raises(ValueError, match="float64"):
        grading.numerical_gradient(lambda v: v, np.ones(2, dtype=np.float32), np.ones(2))


def test_model_summary_is_robust_to_equivalent_spellings():
    from helpers.backend import keras

    inputs = keras.Input((8, 8, 3))
    a = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(
        keras.layers.Flatten()(keras.layers.ReLU()(keras.layers.Conv2D(4, 3, padding="same")(inputs)))))
    b = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, padding="same", activation="relu"),
                          keras.layers.Flatten(), keras.layers.Dense(2), keras.layers.Activation("softmax")])
    assert grading.summarize_model(a) == grading.summarize_model(b)
    rows = grading.summarize_model(b)
    assert [r["kind"] for r in rows] == ["Conv2D", "Activation", "Flatten", "Dense", "Activation"]
    assert rows[0]["output_shape"] == (None, 8, 8, 4) and rows[0]["params"] == 4 * (27 + 1)
    grading.check_model_summary("m", a, rows)


def test_model_summary_mismatch_message_names_layer_and_setting():
    from helpers.backend import keras

    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, padding="valid")])
    expected = [{"kind": "Conv2D", "padding": "same", "output_shape": (None, 8, 8, 4)}]
    with pytest.raises(GradingFailure, match=r"layer 1 \(Conv2D\) differs in 'padding'") as failure:
        grading.check_model_summary("model", model, expected, hints={"padding": "use padding='same'"})
    assert "use padding='same'" in str(failure.value)
    with pytest.raises(GradingFailure, match="wrong number of layers"):
        grading.check_model_summary("model", model, expected[:0] + [{"kind": "Conv2D"}, {"kind": "Flatten"}])
    with pytest.raises(GradingFailure, match="did not return a Keras model"):
        grading.check_model_summary("model", None, expected)


def test_batch_norm_axis_is_normalised():
    from helpers.backend import keras

    model = keras.Sequential([keras.Input((4, 4, 2)), keras.layers.BatchNormalization(axis=-1)])
    assert grading.summarize_model(model)[0]["axis"] == 3
