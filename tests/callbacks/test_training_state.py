"""The training-state file (JSON and arrays in one safetensors file) and the loop's resumable
parts: the batch order (`BatchStream`) and `FitState`."""

import math

import numpy as np
import pytest

from neuralnet import Input, Sequential, callbacks, layers
from neuralnet.callbacks import training_state
from neuralnet.training.trainer import BatchStream


def test_state_round_trips_through_the_file_exactly(tmp_path):
    state = {
        "floats": [0.1, 1e-300, -0.0, math.inf, -math.inf, 1 / 3],
        "big_int": 2**127 + 1,  # a PCG64 state
        "nested": {"a/b": [np.arange(3, dtype=np.uint32), {"deep": np.float32(0.1)}]},
        "scalar_array": np.asarray(2.5),
        "empty": np.zeros((0, 4), dtype=np.float32),
        "flags": np.array([True, False]),
        "tuple": (1, "two", None),
        "text": "é ✓",
    }
    path = str(tmp_path / "state.safetensors")
    training_state.write(path, state)
    back = training_state.read(path)
    assert back["floats"] == state["floats"]
    assert math.copysign(1, back["floats"][2]) == -1
    assert back["big_int"] == 2**127 + 1
    np.testing.assert_array_equal(back["nested"]["a/b"][0], np.arange(3, dtype=np.uint32))
    assert back["nested"]["a/b"][0].dtype == np.uint32
    deep = back["nested"]["a/b"][1]["deep"]
    assert type(deep) is np.float32 and deep == np.float32(0.1)
    assert back["scalar_array"].shape == () and back["scalar_array"] == 2.5
    assert back["empty"].shape == (0, 4) and back["empty"].dtype == np.float32
    assert back["flags"].tolist() == [True, False]
    assert back["tuple"] == [1, "two", None]
    assert back["text"] == "é ✓"


def test_nan_round_trips(tmp_path):
    path = str(tmp_path / "state.safetensors")
    training_state.write(path, {"loss": math.nan})
    assert math.isnan(training_state.read(path)["loss"])


def test_arrays_are_named_by_their_place_in_the_state(tmp_path):
    from safetensors import safe_open

    path = str(tmp_path / "state.safetensors")
    training_state.write(path, {"weights": {"dense/kernel": np.ones(2)}, "list": [np.ones(1)] * 2})
    with safe_open(path, framework="numpy") as file:
        assert set(file.keys()) == {"weights/dense/kernel", "list/0", "list/1"}


@pytest.mark.parametrize(
    ("state", "error", "message"),
    [
        ({"x": np.array(["a"])}, TypeError, "numeric and boolean arrays only; 'x' has dtype <U1"),
        ({"x": {1: 2}}, TypeError, "string keys; 'x' has the key 1"),
        ({"x": {1, 2}}, TypeError, "'x' is a set"),
    ],
)
def test_what_a_state_cannot_hold_is_a_type_error(tmp_path, state, error, message):
    with pytest.raises(error, match=message):
        training_state.write(str(tmp_path / "state.safetensors"), state)


@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("taken", [0, 1, 3, 4, 5, 9])  # 4 batches per pass: inside and at the ends
def test_batch_stream_set_state_continues_with_the_batches_of_an_uninterrupted_stream(
    shuffle, taken
):
    def stream(seed):
        return BatchStream(14, 4, shuffle, np.random.default_rng(seed))

    uninterrupted = stream(0)
    for _ in range(taken):
        next(uninterrupted)
    saved = uninterrupted.get_state()
    resumed = stream(99)  # another generator: its state is replaced
    resumed.set_state(saved)
    for _ in range(10):
        np.testing.assert_array_equal(
            np.arange(14)[next(resumed)], np.arange(14)[next(uninterrupted)]
        )
    if shuffle:
        assert resumed.rng.bit_generator.state == uninterrupted.rng.bit_generator.state


def test_batch_stream_refuses_a_position_past_the_end_of_a_pass():
    stream = BatchStream(14, 4, True, np.random.default_rng(0))
    next(stream)
    state = stream.get_state()
    state["given"] = 5
    with pytest.raises(ValueError, match="5 batches into a pass over the data, which has fewer"):
        BatchStream(14, 4, True, np.random.default_rng(0)).set_state(state)


def test_fit_state_is_there_during_fit_only_and_restores_only_before_the_first_epoch():
    seen = []

    class TriesToRestore(callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            state = self.model.trainer.fit_state
            seen.append((state.epoch, state.step))
            with pytest.raises(RuntimeError, match="only be restored in on_train_begin"):
                state.set_state(state.get_state())

        def on_train_batch_end(self, batch, logs=None):
            seen.append((self.model.trainer.fit_state.epoch, self.model.trainer.fit_state.step))

    model = Sequential([Input((2,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.zeros((4, 2)), np.zeros(4), batch_size=2, epochs=2, callbacks=[TriesToRestore()],
              verbose=0)  # fmt: skip
    assert seen == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    assert model.trainer.fit_state is None


def test_callbacks_have_no_state_unless_they_say_so():
    assert callbacks.Callback().get_state() is None
    assert callbacks.TerminateOnNaN().get_state() is None

    class Half(callbacks.Callback):
        def get_state(self):
            return {"n": 1}

    with pytest.raises(NotImplementedError, match="Half returns a state from get_state"):
        Half().set_state({"n": 1})


def test_callback_states_round_trip_through_the_file(tmp_path):
    """Every library callback with a state: what set_state receives from the file gives back the
    same get_state."""
    stop = callbacks.EarlyStopping(restore_best_weights=True)
    stop.wait, stop.best, stop.best_epoch = 2, 0.25, 3
    stop.best_weights = [np.ones((2, 2), np.float32), np.zeros(2, np.float32)]
    plateau = callbacks.ReduceLROnPlateau()
    plateau.wait, plateau.best, plateau.cooldown_counter = 1, 0.5, 2
    history = callbacks.History()
    history.epoch, history.history = [0, 1], {"loss": [1.0, 0.5], "f1": [np.ones(3), np.zeros(3)]}
    checkpoint = callbacks.ModelCheckpoint("m.keras", save_freq=3)
    checkpoint.best, checkpoint._current_epoch = 0.1, 4
    originals = [stop, plateau, history, checkpoint]
    path = str(tmp_path / "state.safetensors")
    training_state.write(path, {"states": [c.get_state() for c in originals]})
    fresh = [callbacks.EarlyStopping(), callbacks.ReduceLROnPlateau(), callbacks.History(),
             callbacks.ModelCheckpoint("m.keras", save_freq=3)]  # fmt: skip
    for callback, state in zip(fresh, training_state.read(path)["states"], strict=True):
        callback.set_state(state)
    for callback, original in zip(fresh, originals, strict=True):
        back, expected = callback.get_state(), original.get_state()
        assert back.keys() == expected.keys()
        np.testing.assert_equal(back, expected)
