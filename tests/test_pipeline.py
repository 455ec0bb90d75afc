"""utils.build_for_training: fit then creates no variable and gives the same numbers."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import utils
from tests.conftest import small_data, small_model


def _variable_count(model: keras.Model) -> int:
    """The model's, the optimizer's and the metrics' variables."""
    return (len(model.variables) + len(model.optimizer.variables)
            + sum(len(metric.variables) for metric in model.metrics))


def _fit_small(feed: str, build: bool) -> tuple[list[float], list[float], np.ndarray, int]:
    """Train the small network, with or without build_for_training; count variables fit made."""
    keras.utils.set_random_seed(7)
    x, y = small_data(0, 200)
    model = small_model()
    if feed == "dataset":
        data = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(200, seed=2).batch(16)
        fit = lambda: model.fit(data, epochs=3, validation_data=data.take(2),  # noqa: E731
                                shuffle=False, verbose=0)
    else:
        data = (x, y)
        fit = lambda: model.fit(x, y, batch_size=16, epochs=3, validation_split=0.2,  # noqa: E731
                                verbose=0)
    if build:
        utils.build_for_training(model, data)
        assert model.optimizer.built
    before = _variable_count(model)
    history = fit()
    created = _variable_count(model) - before
    weights = np.concatenate([w.ravel() for w in model.get_weights()])
    return history.history["loss"], history.history["val_loss"], weights, created


@pytest.mark.parametrize("feed", ["dataset", "arrays"])
def test_build_for_training_changes_no_number_and_leaves_fit_no_variable_to_create(feed):
    # fit creating no variable is what spares TensorFlow its second tracing of the step
    loss, val, weights, created_by_fit = _fit_small(feed, build=False)
    loss_b, val_b, weights_b, created = _fit_small(feed, build=True)
    assert created_by_fit > 0  # without it, fit creates them while tracing its step
    assert created == 0
    assert loss == loss_b
    assert val == val_b
    np.testing.assert_array_equal(weights, weights_b)
    assert len(set(loss)) == 3  # the network did learn


def test_build_for_training_wants_a_compiled_model():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="compile"):
        utils.build_for_training(model, (np.zeros((2, 4)), np.zeros(2)))


def test_build_for_training_falls_back_to_the_optimizer_with_a_warning(monkeypatch):
    from keras.src.trainers.trainer import Trainer

    monkeypatch.delattr(Trainer, "_symbolic_build")
    model = small_model()
    x, y = small_data(0, 8)
    with pytest.warns(UserWarning, match="optimizer only"):
        utils.build_for_training(model, (x, y))
    assert model.optimizer.built
