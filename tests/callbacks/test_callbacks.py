"""Callbacks: Keras's hooks and logs, and the behaviour of each callback."""

import csv
import math

import numpy as np
import pytest

import neuralnet
from neuralnet import Input, Sequential, callbacks, layers, optimizers


def _model(learning_rate=0.1):
    model = Sequential(
        [Input((4,)), layers.Dense(8, activation="tanh"), layers.Dense(3, activation="softmax")]
    )
    model.compile(
        optimizer=optimizers.SGD(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def _data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype("float32")
    return x, (x[:, 0] > 0).astype(int) + (x[:, 1] > 1).astype(int)


class Recorder(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def on_train_begin(self, logs=None):
        self.calls.append(("train_begin", None))

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(("epoch_begin", epoch))

    def on_train_batch_end(self, batch, logs=None):
        self.calls.append(("batch_end", batch, sorted(logs)))

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(("epoch_end", epoch, sorted(logs)))

    def on_train_end(self, logs=None):
        self.calls.append(("train_end", sorted(logs)))


def test_hooks_are_called_in_keras_order_with_keras_log_keys():
    x, y = _data(n=20)
    recorder = Recorder()
    _model().fit(
        x, y, batch_size=10, epochs=2, validation_split=0.5, callbacks=[recorder], verbose=0
    )
    kinds = [call[0] for call in recorder.calls]
    assert kinds == ["train_begin", "epoch_begin", "batch_end", "epoch_end",
                     "epoch_begin", "batch_end", "epoch_end", "train_end"]  # fmt: skip
    assert recorder.calls[2][2] == ["accuracy", "loss"]
    assert recorder.calls[3][2] == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert (
        recorder.model is not None
        and recorder.params["epochs"] == 2
        and recorder.params["steps"] == 1
    )


def test_callbacks_must_be_callback_instances():
    x, y = _data()
    with pytest.raises(TypeError, match="instances of neuralnet.callbacks.Callback"):
        _model().fit(x, y, callbacks=[lambda: None], verbose=0)


def test_early_stopping_stops_after_patience_epochs_without_improvement():
    x, y = _data()
    model = _model(learning_rate=0.0)  # nothing changes, so nothing improves after the first epoch
    stop = callbacks.EarlyStopping(monitor="loss", patience=2)
    history = model.fit(x, y, epochs=20, callbacks=[stop], verbose=0)
    assert len(history.history["loss"]) == 3 and stop.stopped_epoch == 2


def test_early_stopping_restores_the_best_weights_even_without_stopping():
    x, y = _data()
    model = _model(learning_rate=0.5)
    stop = callbacks.EarlyStopping(monitor="val_loss", patience=100, restore_best_weights=True)
    history = model.fit(x, y, epochs=8, validation_split=0.3, callbacks=[stop], verbose=0)
    best = int(np.argmin(history.history["val_loss"]))
    assert stop.best_epoch == best
    assert model.evaluate(x[42:], y[42:], verbose=0)[0] == pytest.approx(
        history.history["val_loss"][best], rel=1e-5
    )


def test_early_stopping_mode_auto_maximizes_accuracy_and_honours_min_delta_and_baseline():
    x, y = _data()
    stop = callbacks.EarlyStopping(monitor="accuracy", patience=1)
    _model().fit(x, y, epochs=3, callbacks=[stop], verbose=0)
    assert stop._sign == 1.0
    stop = callbacks.EarlyStopping(monitor="loss", min_delta=10.0, patience=1)
    history = _model().fit(x, y, epochs=10, callbacks=[stop], verbose=0)
    assert len(history.history["loss"]) == 2  # no change is ever 10 better
    # A flat loss that never beats the baseline stops after `patience` epochs (Keras 3 counts the
    # first epoch too; a loss that keeps improving is never stopped, as in Keras).
    stop = callbacks.EarlyStopping(monitor="loss", baseline=0.0, patience=3)
    history = _model(learning_rate=0.0).fit(x, y, epochs=10, callbacks=[stop], verbose=0)
    assert len(history.history["loss"]) == 3


def test_early_stopping_start_from_epoch_waits():
    x, y = _data()
    stop = callbacks.EarlyStopping(monitor="loss", patience=0, start_from_epoch=4)
    history = _model(learning_rate=0.0).fit(x, y, epochs=10, callbacks=[stop], verbose=0)
    assert len(history.history["loss"]) == 6


def test_monitoring_a_missing_metric_warns_with_the_available_keys():
    x, y = _data()
    stop = callbacks.EarlyStopping(monitor="val_los", mode="min")
    with pytest.warns(
        UserWarning, match="`val_los` which is not available. Available metrics are: accuracy,loss"
    ):
        _model().fit(x, y, epochs=1, callbacks=[stop], verbose=0)


def test_unknown_direction_in_auto_mode_is_an_error():
    x, y = _data()
    stop = callbacks.EarlyStopping(monitor="my_quantity")
    with pytest.raises(ValueError, match="mode='max' or mode='min'"):
        _model().fit(x, y, epochs=1, callbacks=[stop], verbose=0)


def test_reduce_lr_on_plateau_multiplies_the_rate_and_logs_it():
    x, y = _data()
    model = _model(learning_rate=0.0)
    model.optimizer.learning_rate = 0.0
    plateau = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_lr=0.0)
    model.optimizer.learning_rate = 1e-9  # tiny: the loss stays flat
    history = model.fit(x, y, epochs=4, callbacks=[plateau], verbose=0)
    rates = history.history["learning_rate"]
    assert rates[0] == pytest.approx(1e-9)
    assert rates[-1] < rates[0]
    assert (
        model.optimizer.learning_rate == pytest.approx(rates[-1] * 0.5)
        or model.optimizer.learning_rate <= rates[-1]
    )
    with pytest.raises(ValueError, match="factor >= 1.0"):
        callbacks.ReduceLROnPlateau(factor=2.0)


def test_learning_rate_scheduler_sets_the_rate_each_epoch():
    x, y = _data()
    model = _model()
    scheduler = callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
    history = model.fit(x, y, epochs=3, callbacks=[scheduler], verbose=0)
    np.testing.assert_allclose(history.history["learning_rate"], [0.1, 0.05, 0.1 / 3], rtol=1e-6)
    one_argument = callbacks.LearningRateScheduler(lambda epoch: 0.01 * epoch)
    model.fit(x, y, epochs=2, callbacks=[one_argument], verbose=0)
    assert model.optimizer.learning_rate == pytest.approx(0.01)


def test_terminate_on_nan_stops_at_the_first_bad_batch(capsys):
    x, _y = _data()
    model = Sequential([Input((4,)), layers.Dense(1)])
    model.compile(optimizer=optimizers.SGD(1e6), loss="mse")  # diverges
    with pytest.warns(
        neuralnet.models.model.DivergenceWarning, match="the loss became NaN or infinite"
    ):
        history = model.fit(x, np.full((60, 1), 1e10, dtype="float32"), batch_size=4, epochs=50,
                            callbacks=[callbacks.TerminateOnNaN()], verbose=0)  # fmt: skip
    assert len(history.history["loss"]) < 50
    assert not math.isfinite(history.history["loss"][-1])
    assert "Invalid loss, terminating training" in capsys.readouterr().out


def test_csv_logger_writes_and_appends(tmp_path):
    x, y = _data()
    path = tmp_path / "log.csv"
    model = _model()
    history = model.fit(x, y, epochs=2, callbacks=[callbacks.CSVLogger(path)], verbose=0)
    rows = list(csv.reader(path.open()))
    # Keras 3 adds the val_ columns (as NA) to a run without validation data.
    assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert [row[0] for row in rows[1:]] == ["0", "1"]
    assert float(rows[2][2]) == pytest.approx(history.history["loss"][1])
    assert [row[3:] for row in rows[1:]] == [["NA", "NA"], ["NA", "NA"]]
    history = model.fit(
        x,
        y,
        epochs=4,
        initial_epoch=2,
        validation_data=(x, y),
        callbacks=[callbacks.CSVLogger(path, append=True)],
        verbose=0,
    )
    rows = list(csv.reader(path.open()))
    assert [row[0] for row in rows] == ["epoch", "0", "1", "2", "3"]
    assert len({len(row) for row in rows}) == 1  # one header for both runs
    assert float(rows[4][4]) == pytest.approx(history.history["val_loss"][1])


def test_lambda_callback_calls_the_given_functions():
    x, y = _data()
    seen = []
    hook = callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append((epoch, round(logs["loss"], 6)))
    )
    history = _model().fit(x, y, epochs=2, callbacks=[hook], verbose=0)
    assert seen == [(e, round(v, 6)) for e, v in zip([0, 1], history.history["loss"])]
    with pytest.raises(TypeError, match="not a callback hook"):
        callbacks.LambdaCallback(on_epoch_finish=print)


def test_gradient_monitor_shows_vanishing_gradients_with_sigmoid_and_not_with_relu():
    x, y = neuralnet.datasets.make_spiral(seed=0)

    def first_to_last_ratio(activation):
        neuralnet.utils.set_random_seed(0)
        hidden = [layers.Dense(16, activation=activation) for _ in range(8)]
        model = Sequential([Input((2,)), *hidden, layers.Dense(3, activation="softmax")])
        model.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy")
        monitor = callbacks.GradientMonitor()
        model.fit(x, y, batch_size=50, epochs=2, callbacks=[monitor], verbose=0)
        norms = list(monitor.gradient_norms.values())
        assert len(norms) == 9 and all(len(n) == 2 for n in norms)
        assert monitor.epochs == [0, 1]
        assert all(len(v) == 2 and v[0] > 0 for v in monitor.activation_rms.values())
        return norms[0][0] / norms[-2][0]

    assert first_to_last_ratio("sigmoid") < 1e-3  # σ' ≤ 1/4 per layer
    assert first_to_last_ratio("relu") > 1e-2


def test_gradient_monitor_records_the_true_gradient_norms():
    x, y = _data(n=8)
    model = _model(learning_rate=0.0)
    monitor = callbacks.GradientMonitor()
    model.fit(x, y, batch_size=8, epochs=1, callbacks=[monitor], verbose=0)
    model.compute_gradients([x], [y])
    expected = np.linalg.norm(model.layers[0].grads["kernel"])
    assert monitor.gradient_norms["dense"][0] == pytest.approx(expected, rel=1e-5)


def test_verbose_auto_is_two_off_a_terminal():
    assert callbacks.resolve_verbose("auto") == 2  # pytest captures stdout: not a TTY
    with pytest.raises(ValueError, match="`verbose` must be 0, 1, 2 or 'auto'"):
        callbacks.resolve_verbose(3)


def test_callbacks_by_name_and_unknown_names():
    assert isinstance(callbacks.get("History"), callbacks.History)
    with pytest.raises(
        ValueError, match="Unknown callback 'EarlyStoping'. Did you mean 'EarlyStopping'"
    ):
        callbacks.get("EarlyStoping")


def test_learning_rate_callbacks_refuse_an_optimizer_with_a_schedule():
    x, y = _data()
    model = _model()
    model.compile(optimizer=optimizers.SGD(neuralnet.schedules.ExponentialDecay(0.1, 10, 0.5)),
                  loss="sparse_categorical_crossentropy")  # fmt: skip
    with pytest.raises(TypeError, match="follows the schedule ExponentialDecay"):
        model.fit(
            x, y, epochs=1, callbacks=[callbacks.ReduceLROnPlateau(monitor="loss")], verbose=0
        )
    with pytest.raises(TypeError, match="LearningRateScheduler sets the learning rate"):
        model.fit(
            x, y, epochs=1, callbacks=[callbacks.LearningRateScheduler(lambda e: 0.1)], verbose=0
        )
