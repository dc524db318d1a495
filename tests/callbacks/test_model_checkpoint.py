"""ModelCheckpoint: Keras 3's arguments, file names, what is saved when, and the saved files."""

import numpy as np
import pytest

import neuralnet
from neuralnet import Input, Sequential, callbacks, layers, optimizers


def _model(seed=0):
    neuralnet.utils.set_random_seed(seed)
    model = Sequential(
        [
            Input((4,)),
            layers.Dense(8, activation="tanh"),
            layers.Dropout(0.2),
            layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=optimizers.Adam(0.05),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def _data(n=100, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype("float32")
    y = (x[:, 0] + 0.7 * rng.standard_normal(n) > 0).astype(int) + (x[:, 1] > 1).astype(int)
    return x, y


class PredictionRecorder(callbacks.Callback):
    """What the model predicts for `x` at each epoch end (before ModelCheckpoint saves)."""

    def __init__(self, x):
        super().__init__()
        self.x = x
        self.predictions = {}

    def on_epoch_end(self, epoch, logs=None):
        self.predictions[epoch] = self.model.predict(self.x, verbose=0)


def _fit(model, checkpoint, epochs=4, **kwargs):
    x, y = _data()
    recorder = PredictionRecorder(x)
    history = model.fit(
        x, y, batch_size=16, epochs=epochs, validation_split=0.25, verbose=0,
        callbacks=[recorder, checkpoint], **kwargs,
    )  # fmt: skip
    return history, recorder


def _improvements(values, better, start=None):
    """The indices where `values` beats every earlier value (and `start`)."""
    best, found = start, []
    for index, value in enumerate(values):
        if best is None or better(value, best):
            best = value
            found.append(index)
    return found


def test_filepath_template_is_filled_with_the_epoch_from_1_and_the_logs(tmp_path):
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "ckpt-{epoch:02d}-{val_loss:.3f}.keras"))
    history, _ = _fit(_model(), checkpoint, epochs=3)
    expected = {f"ckpt-{epoch + 1:02d}-{loss:.3f}.keras" for epoch, loss in
                enumerate(history.history["val_loss"])}  # fmt: skip
    assert {path.name for path in tmp_path.iterdir()} == expected


@pytest.mark.parametrize("suffix", [".keras", ".weights.h5", ".safetensors"])
def test_saved_files_load_and_predict_what_the_model_predicted_at_that_epoch(tmp_path, suffix):
    weights_only = suffix != ".keras"
    checkpoint = callbacks.ModelCheckpoint(
        str(tmp_path / f"epoch-{{epoch}}{suffix}"), save_weights_only=weights_only
    )
    _, recorder = _fit(_model(), checkpoint, epochs=3)
    x, _ = _data()
    for epoch, predicted in recorder.predictions.items():
        path = str(tmp_path / f"epoch-{epoch + 1}{suffix}")
        if weights_only:
            loaded = _model(seed=1)  # other initial weights
            loaded.load_weights(path)
        else:
            loaded = neuralnet.models.load_model(path)
        np.testing.assert_array_equal(loaded.predict(x, verbose=0), predicted)


@pytest.mark.parametrize(
    ("monitor", "mode", "better"),
    [
        ("val_loss", "auto", np.less),
        ("val_loss", "min", np.less),
        ("val_accuracy", "auto", np.greater),
        ("val_accuracy", "max", np.greater),
        ("loss", "max", np.greater),  # an odd choice, but the mode decides
    ],
)
def test_save_best_only_saves_when_the_monitored_value_improves(tmp_path, monitor, mode, better):
    checkpoint = callbacks.ModelCheckpoint(
        str(tmp_path / "best-{epoch}.keras"), monitor=monitor, mode=mode, save_best_only=True
    )
    history, _ = _fit(_model(), checkpoint, epochs=6)
    saved = sorted(int(path.stem.split("-")[1]) - 1 for path in tmp_path.iterdir())
    assert saved == _improvements(history.history[monitor], better)
    assert checkpoint.best == history.history[monitor][saved[-1]]


def test_save_best_only_keeps_the_best_model_in_one_file(tmp_path):
    path = tmp_path / "best.keras"
    checkpoint = callbacks.ModelCheckpoint(str(path), monitor="val_loss", save_best_only=True)
    history, recorder = _fit(_model(), checkpoint, epochs=6)
    best_epoch = int(np.argmin(history.history["val_loss"]))
    x, _ = _data()
    np.testing.assert_array_equal(
        neuralnet.models.load_model(str(path)).predict(x, verbose=0),
        recorder.predictions[best_epoch],
    )


def test_initial_value_threshold_must_be_beaten_before_the_first_save(tmp_path):
    history, _ = _fit(_model(), callbacks.History(), epochs=6)
    losses = history.history["val_loss"]
    threshold = sorted(losses)[len(losses) // 2]  # about half the epochs beat it
    checkpoint = callbacks.ModelCheckpoint(
        str(tmp_path / "best-{epoch}.keras"), save_best_only=True, initial_value_threshold=threshold
    )
    _fit(_model(), checkpoint, epochs=6)
    saved = sorted(int(path.stem.split("-")[1]) - 1 for path in tmp_path.iterdir())
    assert saved == _improvements(losses, np.less, start=threshold)
    assert saved[0] > 0


def test_initial_value_threshold_nothing_beats_saves_nothing(tmp_path):
    checkpoint = callbacks.ModelCheckpoint(
        str(tmp_path / "best.keras"), save_best_only=True, initial_value_threshold=0.0
    )
    _fit(_model(), checkpoint, epochs=2)
    assert list(tmp_path.iterdir()) == []


def test_integer_save_freq_saves_every_that_many_batches_across_epochs(tmp_path):
    checkpoint = callbacks.ModelCheckpoint(
        str(tmp_path / "e{epoch}-b{batch}.weights.h5"), save_weights_only=True, save_freq=4
    )
    _fit(_model(), checkpoint, epochs=3)  # 75 training samples: 5 batches per epoch
    expected = {
        f"e{step // 5 + 1}-b{step % 5 + 1}.weights.h5" for step in range(15) if (step + 1) % 4 == 0
    }
    assert {path.name for path in tmp_path.iterdir()} == expected


def test_integer_save_freq_files_hold_the_weights_after_that_batch(tmp_path):
    class WeightsRecorder(callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.weights = []

        def on_train_batch_end(self, batch, logs=None):
            self.weights.append(self.model.get_weights())

    recorder = WeightsRecorder()
    checkpoint = callbacks.ModelCheckpoint(
        str(tmp_path / "step.safetensors"), save_weights_only=True, save_freq=3
    )
    x, y = _data()
    model = _model()
    model.fit(x, y, batch_size=16, epochs=1, callbacks=[recorder, checkpoint], verbose=0)
    # 7 batches: the last save was after the 6th.
    loaded = _model(seed=1)
    loaded.load_weights(str(tmp_path / "step.safetensors"))
    for saved, recorded in zip(loaded.get_weights(), recorder.weights[5], strict=True):
        np.testing.assert_array_equal(saved, recorded)


def test_missing_monitor_with_save_best_only_warns_and_saves(tmp_path):
    checkpoint = callbacks.ModelCheckpoint(
        str(tmp_path / "m-{epoch}.keras"), monitor="val_f1", save_best_only=True
    )
    x, y = _data()
    with pytest.warns(UserWarning, match="Can save best model only with val_f1 available"):
        _model().fit(x, y, epochs=2, callbacks=[checkpoint], verbose=0)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["m-1.keras", "m-2.keras"]


def test_verbose_says_what_it_saves(tmp_path, capsys):
    path = tmp_path / "best.keras"
    checkpoint = callbacks.ModelCheckpoint(str(path), save_best_only=True, verbose=1)
    _fit(_model(), checkpoint, epochs=1)
    out = capsys.readouterr().out
    assert "Epoch 1: val_loss improved from None to " in out
    assert f"saving model to {path}" in out


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"filepath": "model.h5"}, r"must end in `\.keras` \(Keras model format\)\. Received: filepath=model\.h5"),
        ({"filepath": "model.weights.h5"}, r"must end in `\.keras`"),
        ({"filepath": "model.safetensors"}, r"must end in `\.keras`"),
        ({"filepath": "model.keras", "save_weights_only": True}, r"When using `save_weights_only=True` in `ModelCheckpoint`, the filepath provided must end in `\.weights\.h5`"),
        ({"filepath": "model.h5", "save_weights_only": True}, r"Received: filepath=model\.h5"),
        ({"filepath": "m.keras", "save_freq": "batch"}, "Unrecognized save_freq: batch. Expected save_freq are 'epoch' or integer values"),
        ({"filepath": "m.keras", "save_freq": 2.5}, "Unrecognized save_freq: 2.5"),
        ({"filepath": "m.keras", "save_freq": True}, "Unrecognized save_freq: True"),
        ({"filepath": "m.keras", "save_freq": 0}, "positive number of batches, received save_freq=0"),
    ],
)  # fmt: skip
def test_bad_arguments_raise_keras_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        callbacks.ModelCheckpoint(**kwargs)


def test_weights_only_accepts_both_weights_formats():
    callbacks.ModelCheckpoint("w.weights.h5", save_weights_only=True)
    callbacks.ModelCheckpoint("w.safetensors", save_weights_only=True)


def test_a_field_missing_from_the_logs_is_a_key_error_naming_the_filepath(tmp_path):
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "{val_f1:.2f}.keras"))
    x, y = _data()
    with pytest.raises(KeyError, match="Failed to format this callback filepath"):
        _model().fit(x, y, epochs=1, callbacks=[checkpoint], verbose=0)


def test_a_folder_in_the_way_is_an_os_error(tmp_path):
    (tmp_path / "taken.keras").mkdir()
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "taken.keras"))
    x, y = _data()
    with pytest.raises(
        OSError, match="Please specify a non-directory filepath for ModelCheckpoint"
    ):
        _model().fit(x, y, epochs=1, callbacks=[checkpoint], verbose=0)


def test_missing_folders_are_created(tmp_path):
    path = tmp_path / "a" / "b" / "m.keras"
    _fit(_model(), callbacks.ModelCheckpoint(str(path)), epochs=1)
    assert path.is_file()


def test_model_checkpoint_is_registered():
    assert callbacks.CALLBACKS.lookup("ModelCheckpoint") is callbacks.ModelCheckpoint
