"""utils.no_autotune and utils.array_dataset: same data, same order, autotuner off."""

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


def _trained(feed: str, extra_random_work: bool) -> tuple[list[float], list[float], np.ndarray]:
    """Three epochs of a small batch-norm network, fed as arrays or through array_dataset."""
    keras.utils.set_random_seed(7)
    if extra_random_work:  # draws that change the eager random state before training
        tf.random.uniform((5,))
        tf.random.shuffle(tf.range(9))
    x, y = _small_data(0, 200)
    x_val, y_val = _small_data(1, 40)
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3),
                              keras.layers.BatchNormalization(), keras.layers.ReLU(),
                              keras.layers.Flatten(), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"],
                  steps_per_execution=4)
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
