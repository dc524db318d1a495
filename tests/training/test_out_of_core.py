"""Data larger than memory (training/data_adapter.py, training/batch_sources.py): memory-mapped
arrays read and converted one batch at a time, `utils.PyDataset`, and Python generators."""

import tracemalloc

import numpy as np
import pytest

import neuralnet as nn
from neuralnet import layers
from neuralnet.training.batch_sources import SourceStream


def _model(seed=0, metrics=("accuracy",)):
    nn.utils.set_random_seed(seed)
    model = nn.Sequential([nn.Input((8,)), layers.Dense(6, activation="relu"),
                           layers.Dense(3, activation="softmax")])  # fmt: skip
    model.compile("adam", "sparse_categorical_crossentropy", metrics=list(metrics))
    return model


def _same_weights(a, b):
    return all(np.array_equal(u, v) for u, v in zip(a.get_weights(), b.get_weights()))


@pytest.fixture
def data(rng):
    x = rng.integers(0, 256, (600, 8), dtype=np.uint8)
    y = rng.integers(0, 3, 600)
    return x, y


@pytest.fixture
def mapped(tmp_path, data):
    x, y = data
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    return np.load(tmp_path / "x.npy", mmap_mode="r"), np.load(tmp_path / "y.npy", mmap_mode="r")


# -- memory-mapped arrays -------------------------------------------------------------------------


def test_a_uint8_memory_map_trains_exactly_as_the_same_data_in_memory(data, mapped):
    (x, y), (xm, ym) = data, mapped
    in_memory = _model()  # each made just before its fit: the shuffling draws from the seed too
    h1 = in_memory.fit(x.astype(np.float32), y, batch_size=64, epochs=2, verbose=0,
                       validation_split=0.2)  # fmt: skip
    from_file = _model()
    h2 = from_file.fit(xm, ym, batch_size=64, epochs=2, verbose=0, validation_split=0.2)
    assert h1.history == h2.history
    assert _same_weights(in_memory, from_file)
    assert in_memory.evaluate(x, y, verbose=0) == from_file.evaluate(xm, ym, verbose=0)
    np.testing.assert_array_equal(from_file.predict(xm, verbose=0), in_memory.predict(x, verbose=0))


def test_a_memory_map_is_never_converted_as_a_whole(tmp_path, rng):
    # 20,000 x 784 uint8 is 15.7 MB on disk; as float32 it would take 62.7 MB. NumPy reports its
    # allocations to tracemalloc: training, evaluation and prediction stay far below that.
    x = rng.integers(0, 256, (20_000, 784), dtype=np.uint8)
    np.save(tmp_path / "x.npy", x)
    del x
    xm = np.load(tmp_path / "x.npy", mmap_mode="r")
    y = rng.integers(0, 10, 20_000)
    nn.utils.set_random_seed(0)
    model = nn.Sequential([nn.Input((784,)), layers.Dense(16, activation="relu"),
                           layers.Dense(10, activation="softmax")])  # fmt: skip
    model.compile("sgd", "sparse_categorical_crossentropy")
    tracemalloc.start()
    try:
        model.fit(xm, y, batch_size=256, epochs=1, verbose=0)
        model.evaluate(xm, y, batch_size=256, verbose=0)
        _, peak_fit = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        predictions = model.predict(xm, batch_size=256, verbose=0)
        _, peak_predict = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak_fit < 8e6, peak_fit
    assert peak_predict < predictions.nbytes + 8e6, peak_predict


def test_non_finite_values_in_a_memory_map_are_found_batch_by_batch(tmp_path, rng):
    x = rng.standard_normal((100, 8)).astype(np.float32)
    x[70, 3] = np.nan
    np.save(tmp_path / "x.npy", x)
    xm = np.load(tmp_path / "x.npy", mmap_mode="r")
    with pytest.raises(ValueError, match=r"fit: `x` contains 1 NaN value"):
        _model().fit(xm, np.zeros(100, int), batch_size=32, epochs=1, shuffle=False, verbose=0)


def test_a_float64_model_reads_a_float32_memory_map_as_float64(tmp_path, rng):
    x = rng.standard_normal((50, 8)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    xm = np.load(tmp_path / "x.npy", mmap_mode="r")
    with nn.config.floatx_scope("float64"):
        model = _model()
        out = model.predict(xm, batch_size=16, verbose=0)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, model.predict(x.astype(np.float64), verbose=0))


# -- PyDataset ------------------------------------------------------------------------------------


class Batches(nn.utils.PyDataset):
    def __init__(self, x, y, batch_size=64, weights=None, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size, self.weights = x, y, batch_size, weights
        self.events = []

    def __len__(self):
        return (len(self.x) + self.batch_size - 1) // self.batch_size

    def __getitem__(self, index):
        part = slice(index * self.batch_size, (index + 1) * self.batch_size)
        if self.weights is not None:
            return self.x[part], self.y[part], self.weights[part]
        return self.x[part], self.y[part]

    def on_epoch_begin(self):
        self.events.append("begin")

    def on_epoch_end(self):
        self.events.append("end")


@pytest.mark.parametrize("workers", [1, 3])
def test_a_pydataset_trains_as_its_arrays_in_order(data, workers):
    x, y = data
    weights = np.linspace(0.5, 1.5, len(y))
    dataset = Batches(x, y, weights=weights, workers=workers, max_queue_size=4)
    from_dataset, from_arrays = _model(), _model()
    h1 = from_dataset.fit(dataset, epochs=3, verbose=0, validation_data=Batches(x, y, 200))
    h2 = from_arrays.fit(x, y, sample_weight=weights, batch_size=64, epochs=3, shuffle=False,
                         verbose=0, validation_data=(x, y), validation_batch_size=200)  # fmt: skip
    assert h1.history == h2.history
    assert _same_weights(from_dataset, from_arrays)
    assert dataset.events == ["begin", "end"] * 3
    assert from_dataset.evaluate(Batches(x, y), verbose=0) == from_arrays.evaluate(
        x, y, batch_size=64, verbose=0
    )
    # predict reads x from (x, y) batches and ignores y
    np.testing.assert_array_equal(from_dataset.predict(Batches(x, y), verbose=0),
                                  from_arrays.predict(x, batch_size=64, verbose=0))  # fmt: skip


def test_steps_per_epoch_beyond_a_pydatasets_length_wraps_around(data):
    x, y = data
    model = _model()
    history = model.fit(Batches(x, y, batch_size=200), steps_per_epoch=5, epochs=1, verbose=0)
    assert len(history.history["loss"]) == 1


def test_pydataset_arguments_are_keras_3s():
    dataset = Batches(np.zeros((10, 8)), np.zeros(10), workers=2, use_multiprocessing=True,
                      max_queue_size=3)  # fmt: skip
    assert (dataset.workers, dataset.use_multiprocessing, dataset.max_queue_size) == (2, True, 3)
    assert dataset.num_batches == 1
    with pytest.raises(ValueError, match=r"`workers` must be a positive integer"):
        Batches(np.zeros((10, 8)), np.zeros(10), workers=0)


# -- generators -----------------------------------------------------------------------------------


def _forever(x, y, batch_size=64):
    while True:
        for start in range(0, len(x), batch_size):
            yield x[start : start + batch_size], y[start : start + batch_size]


def test_a_generator_with_steps_per_epoch_trains_as_its_arrays(data):
    x, y = data
    from_generator, from_arrays = _model(), _model()
    h1 = from_generator.fit(_forever(x, y), steps_per_epoch=10, epochs=2, verbose=0)
    h2 = from_arrays.fit(x, y, batch_size=64, epochs=2, shuffle=False, verbose=0)
    assert h1.history == h2.history
    assert _same_weights(from_generator, from_arrays)
    logs = from_generator.evaluate(_forever(x, y), steps=10, verbose=0, return_dict=True)
    assert logs == from_arrays.evaluate(x, y, batch_size=64, verbose=0, return_dict=True)


def test_a_finite_generator_runs_out_with_a_warning_and_training_stops(data):
    x, y = data

    def once():
        yield from ((x[i : i + 100], y[i : i + 100]) for i in range(0, 600, 100))

    model = _model()
    with pytest.warns(UserWarning, match=r"ran out of data at epoch 2, batch 1"):
        history = model.fit(once(), epochs=3, verbose=0)
    assert len(history.history["loss"]) == 1  # the empty second epoch is not logged


def test_a_generator_of_inconsistent_batches_is_a_clear_error(data):
    x, y = data

    def ragged():
        yield x[:32], y[:32]
        yield x[:32, :7], y[:32]

    with pytest.raises(ValueError, match=r"batch 2 of the generator has x of shapes \(7,\).*"
                                         r"first batch had \(8,\)"):  # fmt: skip
        _model().fit(ragged(), epochs=1, verbose=0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"y": np.zeros(10)}, r"`x` is a generator, whose batches hold the targets"),
        ({"validation_split": 0.2}, r"validation_split needs arrays"),
        ({"class_weight": {0: 1.0}}, r"`class_weight` must not be given"),
    ],
)
def test_arguments_that_do_not_go_with_a_generator(data, kwargs, message):
    x, y = data
    with pytest.raises(ValueError, match=message):
        _model().fit(_forever(x, y), steps_per_epoch=2, verbose=0, **kwargs)


def test_batches_without_targets_cannot_train(data):
    x, _ = data
    with pytest.raises(ValueError, match=r"hold no targets"):
        _model().fit(iter([x[:10]]), epochs=1, verbose=0)


def test_a_generator_cannot_resume_in_the_middle_of_an_epoch(data):
    x, y = data
    stream = SourceStream(_forever(x, y), "fit")
    with pytest.raises(ValueError, match=r"cannot be rewound.*PyDataset"):
        stream.set_state({"source": "generator", "given": 3})
    indexed = SourceStream(Batches(x, y), "fit")
    indexed.set_state({"source": "pydataset", "given": 3})
    batch = indexed.next_batch()
    np.testing.assert_array_equal(batch[0], x[192:256])


def test_unpack_x_y_sample_weight_is_keras_3s():
    unpack = nn.utils.unpack_x_y_sample_weight
    assert unpack((1, 2, 3)) == (1, 2, 3)
    assert unpack([1, 2]) == (1, 2, None)
    assert unpack((1,)) == (1, None, None)
    array = np.zeros(3)
    assert unpack(array)[0] is array
    with pytest.raises(ValueError, match=r"tuple of 4 entries"):
        unpack((1, 2, 3, 4))


def test_fit_on_arrays_without_targets_says_how_to_give_batches(data):
    x, _ = data
    with pytest.raises(ValueError, match=r"`y` \(the targets\) is required with arrays; or give "
                                         r"`x` as a PyDataset or a generator"):  # fmt: skip
        _model().fit(x, verbose=0)
