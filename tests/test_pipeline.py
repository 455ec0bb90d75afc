"""utils.no_autotune, utils.array_dataset and utils.build_for_training: faster, same numbers."""

import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import utils


def test_no_autotune_keeps_the_elements_and_turns_the_autotuner_off():
    x = np.arange(40, dtype="float32").reshape(20, 2)
    ds = tf.data.Dataset.from_tensor_slices(x).shuffle(20, seed=3, reshuffle_each_iteration=False)
    ds = ds.batch(6).prefetch(2)
    tuned_off = utils.no_autotune(ds)
    assert ds.options().autotune.enabled is not False  # the original is left as it was
    assert tuned_off.options().autotune.enabled is False
    before = [b.numpy() for b in ds]
    after = [b.numpy() for b in tuned_off]
    assert [len(b) for b in after] == [6, 6, 6, 2]
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.sort(np.concatenate(after), axis=0), x)


def _small_data(seed: int, n: int):
    rng = np.random.default_rng(seed)
    return rng.random((n, 8, 8, 3), dtype=np.float32), (rng.random(n) > 0.5).astype("float32")


def _small_model() -> keras.Model:
    """A compiled batch-norm network small enough to train in a second."""
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3),
                              keras.layers.BatchNormalization(), keras.layers.ReLU(),
                              keras.layers.Flatten(), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"],
                  steps_per_execution=4)
    return model


def _trained(feed: str, extra_random_work: bool) -> tuple[list[float], list[float], np.ndarray]:
    """Three epochs of a small batch-norm network, fed as arrays or through array_dataset."""
    keras.utils.set_random_seed(7)
    if extra_random_work:  # draws that change the eager random state before training
        tf.random.uniform((5,))
        tf.random.shuffle(tf.range(9))
    x, y = _small_data(0, 200)
    x_val, y_val = _small_data(1, 40)
    model = _small_model()
    if feed == "arrays":
        history = model.fit(x, y, batch_size=16, epochs=3, validation_data=(x_val, y_val),
                            verbose=0)
    else:
        history = model.fit(utils.array_dataset(x, y, 16, shuffle=True), epochs=3, shuffle=False,
                            validation_data=utils.array_dataset(x_val, y_val, 16), verbose=0)
    weights = np.concatenate([w.ravel() for w in model.get_weights()])
    return history.history["loss"], history.history["val_loss"], weights


@pytest.mark.parametrize("extra_random_work", [False, True])
def test_array_dataset_trains_exactly_as_fit_on_arrays(extra_random_work):
    # Same seed, same model: every epoch's loss, every validation loss and every
    # final weight must be bit for bit the same, so the batches came in the same order.
    loss_a, val_a, weights_a = _trained("arrays", extra_random_work)
    loss_d, val_d, weights_d = _trained("array_dataset", extra_random_work)
    assert loss_a == loss_d
    assert val_a == val_d
    np.testing.assert_array_equal(weights_a, weights_d)
    assert len(set(loss_a)) == 3  # the network did learn: the check compares real training


def test_array_dataset_batches_in_order_with_the_autotuner_off():
    x = np.arange(50, dtype="float32").reshape(25, 2)
    y = np.arange(25)
    ds = utils.array_dataset(x, y, batch_size=10)
    assert ds.options().autotune.enabled is False
    assert int(ds.cardinality()) == 3  # known, so Keras never runs out of data mid-epoch
    batches = list(ds)
    assert [len(b[0]) for b in batches] == [10, 10, 5]
    np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in batches]), x)
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in batches]), y)
    shuffled = np.concatenate([b[1].numpy() for b in utils.array_dataset(x, y, 10, shuffle=True)])
    assert sorted(shuffled.tolist()) == y.tolist()


def test_array_dataset_falls_back_with_a_warning_when_keras_moves_its_adapter(monkeypatch):
    # A Keras release without the adapter: same data, its own shuffle, and a warning saying so.
    monkeypatch.setitem(sys.modules, "keras.src.trainers.data_adapters.array_data_adapter", None)
    x = np.arange(30, dtype="float32").reshape(15, 2)
    y = np.arange(15)
    with pytest.warns(UserWarning, match="another order"):
        ds = utils.array_dataset(x, y, batch_size=4, shuffle=True)
    assert ds.options().autotune.enabled is False
    batches = list(ds)
    assert [len(b[1]) for b in batches] == [4, 4, 4, 3]
    labels = np.concatenate([b[1].numpy() for b in batches])
    assert sorted(labels.tolist()) == y.tolist()
    np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in batches]), x[labels])


def _variable_count(model: keras.Model) -> int:
    """The model's, the optimizer's and the metrics' variables."""
    return (len(model.variables) + len(model.optimizer.variables)
            + sum(len(metric.variables) for metric in model.metrics))


def _fit_small(feed: str, build: bool) -> tuple[list[float], list[float], np.ndarray, int]:
    """Train the small network, with or without build_for_training; count variables fit made."""
    keras.utils.set_random_seed(7)
    x, y = _small_data(0, 200)
    model = _small_model()
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
    model = _small_model()
    x, y = _small_data(0, 8)
    with pytest.warns(UserWarning, match="optimizer only"):
        utils.build_for_training(model, (x, y))
    assert model.optimizer.built
