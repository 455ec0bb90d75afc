"""The validation split keeps byte-identical copies on one side and every class represented."""

from __future__ import annotations

import numpy as np

from utils.data import duplicate_groups, train_val_split


def _images_with_copies(n: int = 120, seed: int = 0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 8, 8, 3), dtype=np.uint8)
    labels = np.repeat(np.arange(3), n // 3)
    for a, b in ((0, 1), (5, 30), (41, 42), (80, 119)):  # copies within a class
        images[b] = images[a]
    return images, labels


def test_duplicate_groups_find_every_copy():
    images, _ = _images_with_copies()
    groups = [g.tolist() for g in duplicate_groups(images) if len(g) > 1]
    assert groups == [[0, 1], [5, 30], [41, 42], [80, 119]]
    assert sum(len(g) for g in duplicate_groups(images)) == len(images)


def test_copies_stay_on_one_side_for_every_seed():
    images, labels = _images_with_copies()
    for seed in range(20):
        fit, val = train_val_split(images, labels, 0.25, seed=seed)
        assert sorted(np.concatenate([fit, val]).tolist()) == list(range(len(images)))
        fit_set = set(fit.tolist())
        for a, b in ((0, 1), (5, 30), (41, 42), (80, 119)):
            assert (a in fit_set) == (b in fit_set), (seed, a, b)
        counts = np.bincount(labels[val], minlength=3)
        assert all(10 <= c <= 11 for c in counts), counts  # 25 % of 40 per class, +1 for a pair


def test_split_depends_on_seed_only():
    images, labels = _images_with_copies()
    a = train_val_split(images, labels, 0.2, seed=3)
    b = train_val_split(images, labels, 0.2, seed=3)
    c = train_val_split(images, labels, 0.2, seed=4)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(np.sort(a[1]), np.sort(c[1]))
