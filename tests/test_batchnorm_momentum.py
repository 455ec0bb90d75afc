"""How BatchNormalization.momentum is read, checked on a one-layer model.

Notebook 3 re-estimates the batch-norm statistics by changing the layers'
``momentum`` attribute for eager calls and restoring it before training goes
on. That relies on what these tests pin down: an eager call of the model reads
a new value at once, but a ``fit`` that has already run keeps the momentum it
was traced with until the model is compiled again. They fail loudly if a Keras
release changes it.
"""

from __future__ import annotations

import numpy as np
import pytest

import utils  # noqa: F401  (first: quiets TensorFlow, sets up Keras)
import keras

MEAN = 5.0


def one_batch() -> tuple[np.ndarray, np.ndarray]:
    """8 samples of 4 features whose batch mean is exactly MEAN in every feature."""
    x = np.full((8, 4), MEAN, dtype="float32")
    x[::2] += 1.0
    x[1::2] -= 1.0
    return x, np.zeros((8, 4), dtype="float32")


def bn_model() -> tuple[keras.Model, keras.layers.BatchNormalization]:
    keras.utils.set_random_seed(0)
    bn = keras.layers.BatchNormalization(momentum=0.99)
    model = keras.Sequential([keras.Input(shape=(4,)), bn])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="mse")
    return model, bn


def fit_one_step(model: keras.Model) -> None:
    x, y = one_batch()
    model.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)


def moving_mean(bn: keras.layers.BatchNormalization) -> float:
    values = bn.moving_mean.numpy()
    assert np.allclose(values, values[0]), values
    return float(values[0])


def test_fit_keeps_the_momentum_it_was_traced_with_until_compile():
    model, bn = bn_model()
    fit_one_step(model)                      # traces the training step with m = 0.99
    after_first = moving_mean(bn)
    assert after_first == pytest.approx(0.01 * MEAN, rel=1e-5)

    bn.momentum = 0.5
    fit_one_step(model)                      # same traced step: still 0.99
    after_second = moving_mean(bn)
    assert after_second == pytest.approx(0.99 * after_first + 0.01 * MEAN, rel=1e-5)

    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="mse")
    fit_one_step(model)                      # traced again: now 0.5
    assert moving_mean(bn) == pytest.approx(0.5 * after_second + 0.5 * MEAN, rel=1e-5)


def test_an_eager_call_reads_the_momentum_at_every_call():
    model, bn = bn_model()
    x, _ = one_batch()
    model(x, training=True)                  # eager, m = 0.99
    first = moving_mean(bn)
    assert first == pytest.approx(0.01 * MEAN, rel=1e-5)
    bn.momentum = 0.0                        # as reestimate_batchnorm does for batch 1
    model(x, training=True)
    assert moving_mean(bn) == pytest.approx(MEAN, rel=1e-6)
    bn.momentum = 1.0                        # as batchnorm_momentum(model, 1.0) does
    model(x * 3.0, training=True)
    assert moving_mean(bn) == pytest.approx(MEAN, rel=1e-6)
