"""utils.no_autotune: same elements, same order, autotuner off."""

import numpy as np
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
