"""Plots: figures with the right content, written as PNG files."""

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from neuralnet import Input, Sequential, callbacks, layers, plotting


def _fitted(validation=True):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 2)).astype("float32")
    y = (x[:, 0] * x[:, 1] > 0).astype(int)
    model = Sequential(
        [Input((2,)), layers.Dense(8, activation="relu"), layers.Dense(2, activation="softmax")]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    monitor = callbacks.GradientMonitor()
    history = model.fit(
        x, y, epochs=3, validation_split=0.25 if validation else 0.0, callbacks=[monitor], verbose=0
    )
    return model, history, monitor, x, y


def test_plot_history_draws_training_against_validation(tmp_path):
    _, history, _, _, _ = _fitted()
    path = tmp_path / "curves" / "history.png"
    figure = plotting.plot_history(history, path=path)
    axes = figure.get_axes()
    assert [ax.get_ylabel() for ax in axes] == ["loss", "accuracy"]
    assert [line.get_label() for line in axes[0].get_lines()] == ["training", "validation"]
    np.testing.assert_allclose(axes[0].get_lines()[0].get_ydata(), history.history["loss"])
    np.testing.assert_allclose(axes[0].get_lines()[1].get_ydata(), history.history["val_loss"])
    assert path.read_bytes().startswith(b"\x89PNG")
    assert not list(path.parent.glob("*.tmp-*"))  # written atomically, no leftovers


def test_plot_history_rejects_empty_or_unknown_metrics():
    with pytest.raises(ValueError, match="at least one epoch"):
        plotting.plot_history({})
    _, history, _, _, _ = _fitted(validation=False)
    with pytest.raises(ValueError, match=r"\['auc'\] not in the history"):
        plotting.plot_history(history, metrics=["auc"])


def test_plot_decision_boundary_colours_the_predicted_classes(tmp_path):
    model, _, _, x, y = _fitted()
    figure = plotting.plot_decision_boundary(
        model, x, y, path=tmp_path / "boundary.png", resolution=50
    )
    assert len(figure.get_axes()) == 1
    assert (tmp_path / "boundary.png").stat().st_size > 5000
    with pytest.raises(ValueError, match=r"shape \(n, 2\), received shape \(40, 3\)"):
        plotting.plot_decision_boundary(model, np.ones((40, 3)), y)


def test_plot_gradient_norms_draws_one_point_per_layer(tmp_path):
    _, _, monitor, _, _ = _fitted()
    figure = plotting.plot_gradient_norms(monitor, path=tmp_path / "norms.png")
    depth_axis = figure.get_axes()[0]
    first_epoch = depth_axis.get_lines()[0]
    np.testing.assert_allclose(
        first_epoch.get_ydata(), [norms[0] for norms in monitor.gradient_norms.values()]
    )
    assert depth_axis.get_yscale() == "log"
    with pytest.raises(ValueError, match="recorded at least one epoch"):
        plotting.plot_gradient_norms(callbacks.GradientMonitor())
