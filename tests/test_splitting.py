import numpy as np
import pytest

from neuralnet.datasets.splitting import train_val_test_split


def test_integer_sizes_are_exact_and_leftover_samples_are_in_no_part():
    x = np.arange(100)
    train, val, test = train_val_test_split(x, sizes=(70, 20, 5), seed=0)
    assert (len(train), len(val), len(test)) == (70, 20, 5)
    assert len(np.intersect1d(np.concatenate([train, val, test]), x)) == 95


def test_fraction_sizes_use_the_largest_remainder_rule():
    x = np.arange(7)
    # 0.5·7 = 3.5, 0.25·7 = 1.75, 0.25·7 = 1.75: floors 3, 1, 1, the 2 left over go to the
    # largest remainders (0.75, 0.75: validation and test); ties go to the earlier part.
    assert [len(p) for p in train_val_test_split(x, sizes=(0.5, 0.25, 0.25), seed=0)] == [3, 2, 2]
    assert [len(p) for p in train_val_test_split(x, sizes=(0.5, 0.5, 0.0), seed=0)] == [4, 3, 0]
    assert [len(p) for p in train_val_test_split(np.arange(1000), seed=0)] == [800, 100, 100]
    assert [len(p) for p in train_val_test_split(np.arange(10), sizes=(0.7, 0.3, 0.0))] == [7, 3, 0]


def test_parts_are_a_permutation_of_all_indices_and_rows_stay_aligned():
    x = np.arange(53)
    y = x * 10
    x_train, x_val, x_test, y_train, y_val, y_test = train_val_test_split(x, y, seed=3)
    assert sorted(np.concatenate([x_train, x_val, x_test]).tolist()) == list(range(53))
    np.testing.assert_array_equal(y_train, x_train * 10)
    np.testing.assert_array_equal(y_val, x_val * 10)
    np.testing.assert_array_equal(y_test, x_test * 10)


def test_same_seed_same_split_other_seed_other_split():
    x = np.arange(200)
    first = train_val_test_split(x, seed=1)
    again = train_val_test_split(x, seed=1)
    other = train_val_test_split(x, seed=2)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[0], other[0])


def test_without_shuffle_the_parts_are_consecutive_views():
    x = np.arange(10)
    train, val, test = train_val_test_split(x, shuffle=False)
    assert train.tolist() == list(range(8)) and val.tolist() == [8] and test.tolist() == [9]
    assert np.shares_memory(train, x)


def test_stratified_parts_keep_each_class_share_within_one():
    rng = np.random.default_rng(0)
    y = rng.choice(4, size=997, p=[0.55, 0.25, 0.15, 0.05])
    x = np.arange(997)
    parts = train_val_test_split(x, y, sizes=(0.8, 0.1, 0.1), stratify=y, seed=0)
    counts = np.bincount(y)
    assert [len(p) for p in parts[:3]] == [797, 100, 100]  # 797.6, 99.7, 99.7
    for part in parts[3:]:
        exact = counts * len(part) / len(y)
        assert np.all(np.abs(np.bincount(part, minlength=4) - exact) < 1)
    assert sorted(np.concatenate(parts[:3]).tolist()) == list(range(997))
    again = train_val_test_split(x, y, sizes=(0.8, 0.1, 0.1), stratify=y, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip(parts, again, strict=True))


def test_stratify_accepts_one_hot_rows_and_keeps_small_classes_in_every_part():
    y = np.array([0] * 90 + [1] * 7 + [2] * 3)
    one_hot = np.eye(3)[y]
    y_train, y_val, y_test = train_val_test_split(y, stratify=one_hot, seed=0)
    for part in (y_train, y_val, y_test):
        assert set(part.tolist()) == {0, 1, 2}
    assert (len(y_train), len(y_val), len(y_test)) == (80, 10, 10)


def test_memmap_input(tmp_path):
    data = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=np.float32, shape=(50, 3))
    data[:] = np.arange(150, dtype=np.float32).reshape(50, 3)
    data.flush()
    x = np.load(tmp_path / "x.npy", mmap_mode="r")
    train, val, test = train_val_test_split(x, sizes=(40, 5, 5), seed=0)
    assert train.shape == (40, 3) and val.shape == (5, 3) and test.shape == (5, 3)
    np.testing.assert_array_equal(train[:, 1], train[:, 0] + 1)


@pytest.mark.parametrize(
    ("arrays", "kwargs", "match"),
    [
        ((), {}, "at least one array, received none"),
        (
            (np.zeros(5), np.zeros(4)),
            {},
            r"same first dimension, received lengths 5 \(arrays\[0\]\), 4",
        ),
        ((np.zeros(10),), {"sizes": (0.8, 0.2)}, r"`sizes` must be 3 entries .*sizes=\(0.8, 0.2\)"),
        ((np.zeros(10),), {"sizes": (0.8, -0.1, 0.3)}, "`sizes` must be non-negative"),
        ((np.zeros(10),), {"sizes": (0.8, 0.1, 0.2)}, r"must sum to 1, received .*sum 1.1"),
        ((np.zeros(10),), {"sizes": (8, 0.1, 0.1)}, "three fractions or three integers"),
        ((np.zeros(10),), {"sizes": (8, 2, 1)}, "asks for 11 samples but the arrays have 10"),
        (
            (np.zeros(5),),
            {},
            "the test part would be empty: 0.1 of 5 samples is 0.5, rounded to 0.*at least 7 samples",
        ),
        (
            (np.zeros(10),),
            {"stratify": np.zeros(9)},
            r"`stratify` must have one label.*shape \(9,\)",
        ),
        (
            (np.zeros(40),),
            {"stratify": np.array([0] * 38 + [7] * 2)},
            "class 7 has 2 sample\\(s\\), but the 3 parts",
        ),
        (
            (np.zeros(40),),
            {"stratify": np.arange(40) % 5},
            "5 classes but the validation part has 4 samples",
        ),
        ((np.float64(3.0),), {}, "arrays\\[0\\] must have a first dimension"),
    ],
)
def test_errors_name_the_argument_and_the_value(arrays, kwargs, match):
    with pytest.raises(ValueError, match=match):
        train_val_test_split(*arrays, seed=0, **kwargs)
