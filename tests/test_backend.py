"""helpers.backend: TensorFlow for the notebooks, and a clear refusal of ``tf`` when a training
script runs Keras on another backend (``KERAS_BACKEND=jax`` on a GPU machine without TensorFlow)."""

import pytest


def test_notebooks_get_tensorflow():
    from helpers import backend

    assert backend.KERAS_BACKEND == "tensorflow" and backend.tf and backend.tf.constant(2.0).numpy() == 2.0
    assert "TensorFlow" in backend.device_summary()


def test_the_stand_in_for_tf_is_false_and_says_why_it_cannot_be_used():
    from helpers.backend import TensorFlowMissing, _NoTensorFlow

    stand_in = _NoTensorFlow()
    assert not stand_in
    with pytest.raises(TensorFlowMissing, match=r"tf\.constant: Keras runs on its .* unset KERAS_BACKEND"):
        stand_in.constant(1.0)
