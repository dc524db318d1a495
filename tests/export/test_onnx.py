"""Export to ONNX (neuralnet/export): every registered layer and activation, run in ONNX Runtime
and compared with `predict` on two batch sizes; the files pass onnx's full checker."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import neuralnet as nn
from neuralnet import activations, layers
from neuralnet.export import DEFAULT_OPSET, ONNXExportError, register_onnx_rule, to_onnx
from neuralnet.layers import LAYERS

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

_spec = importlib.util.spec_from_file_location(
    "layer_cases", Path(__file__).parents[1] / "layers" / "test_layer.py"
)
_layer_cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_layer_cases)
LAYER_CASES = _layer_cases.LAYER_CASES


def _run(path, model, xs):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = {i.name: x for i, x in zip(session.get_inputs(), xs)}
    return session.run(None, feed)


def _check(model, input_shapes, tmp_path, dtype=np.float32, rtol=1e-5, atol=1e-5):
    path = tmp_path / "model.onnx"
    proto = to_onnx(model, path)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    assert proto.opset_import[0].version == DEFAULT_OPSET
    rng = np.random.default_rng(3)
    for batch in (1, 7):
        xs = [rng.standard_normal((batch, *s)).astype(dtype) for s in input_shapes]
        expected = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
        expected = expected if isinstance(expected, list) else [expected]
        got = _run(path, model, xs)
        for e, g in zip(expected, got):
            assert g.dtype == dtype
            np.testing.assert_allclose(g, e, rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", sorted(LAYERS.names()))
def test_every_layer_exports_and_runs_as_predict(name, tmp_path):
    if name == "InputLayer":
        pytest.skip("an Input is the graph's input, not a step")
    kwargs, input_shape = LAYER_CASES[name]
    shapes = input_shape if isinstance(input_shape, list) else [input_shape]
    inputs = [nn.Input(s[1:]) for s in shapes]
    layer = LAYERS.lookup(name)(**kwargs)
    output = layer(inputs if len(inputs) > 1 else inputs[0])
    model = nn.Model(inputs if len(inputs) > 1 else inputs[0], output)
    _check(model, [s[1:] for s in shapes], tmp_path)


@pytest.mark.parametrize("name", sorted(activations.ACTIVATIONS.names()))
def test_every_activation_exports_inside_dense(name, tmp_path):
    model = nn.Sequential([nn.Input((5,)), layers.Dense(4, activation=name,
                                                        bias_initializer="random_normal")])  # fmt: skip
    _check(model, [(5,)], tmp_path)


def test_float64_models_export_in_float64(tmp_path):
    with nn.config.floatx_scope("float64"):
        model = nn.Sequential([nn.Input((4,)), layers.Dense(3, activation="tanh"), layers.Dense(2)])
        _check(model, [(4,)], tmp_path, dtype=np.float64, rtol=1e-12, atol=1e-12)


def test_nested_models_and_several_inputs_and_outputs_keep_their_names(tmp_path):
    a, b = nn.Input((4,), name="spectrum"), nn.Input((3,), name="extras")
    encoder = nn.Sequential([nn.Input((4,)), layers.Dense(5, activation="relu")], name="encoder")
    h = layers.Concatenate()([encoder(a), b])
    kind = layers.Dense(3, activation="softmax", name="kind")(h)
    redshift = layers.Dense(1, name="redshift")(layers.Dropout(0.5)(h))
    model = nn.Model([a, b], [kind, redshift])
    _check(model, [(4,), (3,)], tmp_path)
    session = ort.InferenceSession(str(tmp_path / "model.onnx"))
    assert [i.name for i in session.get_inputs()] == ["spectrum", "extras"]
    assert [o.name for o in session.get_outputs()] == ["kind", "redshift"]
    assert session.get_inputs()[0].shape[0] == "batch"


def test_a_layer_without_a_rule_is_named_and_a_user_can_add_one(tmp_path):
    class Scale(layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def forward(self, x, *, training=False):
            return x * self.factor

        def backward(self, grad_y):
            return grad_y * self.factor

    model = nn.Sequential([nn.Input((3,)), Scale(3.0, name="triple"), layers.Dense(2)])
    with pytest.raises(ONNXExportError, match=r"Layer 'triple' \(Scale\) has no ONNX export rule"):
        to_onnx(model, tmp_path / "model.onnx")
    assert not (tmp_path / "model.onnx").exists()

    def scale_rule(builder, layer, inputs):
        factor = builder.const(layer.factor, f"{layer.name}/factor")
        return builder.op("Mul", [inputs[0], factor], layer.name)

    register_onnx_rule(Scale, scale_rule)
    _check(model, [(3,)], tmp_path)


def test_model_export_is_keras_3s_method(tmp_path):
    model = nn.Sequential([nn.Input((3,)), layers.Dense(2, activation="sigmoid")])
    model.export(tmp_path / "m.onnx", format="onnx")
    assert (tmp_path / "m.onnx").exists()
    with pytest.raises(ValueError, match=r"format='onnx' only, received format='tf_saved_model'"):
        model.export(tmp_path / "m", format="tf_saved_model")


def _keras_cases():
    """Every convolution configuration pinned against Keras (tests/layers/keras_values), with
    its input and weights: the ONNX file must compute the same."""
    import json

    folder = Path(__file__).parents[1] / "layers" / "keras_values"
    with np.load(folder / "convolution.npz") as data:
        cases = json.loads(str(data["cases"]))
        arrays = {key: data[key] for key in data.files if key.startswith("case_")}
    for case in cases:
        key = case["key"]
        weights = [arrays[f"{key}_w{i}"] for i in range(case["n_weights"])]
        yield pytest.param(case["layer"], case["config"], arrays[f"{key}_x"], weights,
                           id=case["id"])  # fmt: skip


@pytest.mark.parametrize(("name", "config", "x", "weights"), list(_keras_cases()))
def test_every_convolution_configuration_exports(name, config, x, weights, tmp_path):
    import json

    kwargs = json.loads(config) if isinstance(config, str) else config
    layer = getattr(layers, name)(**kwargs)
    inputs = nn.Input(x.shape[1:])
    model = nn.Model(inputs, layer(inputs))
    layer.set_weights(weights)
    path = tmp_path / "conv.onnx"
    to_onnx(model, path)
    (got,) = _run(path, model, [x])
    np.testing.assert_allclose(got, model.predict(x, verbose=0), rtol=1e-5, atol=1e-5)


def _pooling_and_resizing_cases():
    import json

    folder = Path(__file__).parents[1] / "layers" / "keras_values"
    with np.load(folder / "pooling.npz") as data:
        for i, config in enumerate(json.loads(str(data["configs"]))):
            x = data[f"x/{config['input']}"]
            yield pytest.param(config["class"], config["kwargs"], x, id=f"{config['class']}-{i}")
    with np.load(folder / "resizing.npz") as data:
        for i, case in enumerate(json.loads(str(data["cases"]))):
            yield pytest.param(
                case["layer"], case["args"], data[f"x_{i}"], id=f"{case['layer']}-{i}"
            )


@pytest.mark.parametrize(("name", "kwargs", "x"), list(_pooling_and_resizing_cases()))
def test_every_pooling_and_resizing_configuration_exports(name, kwargs, x, tmp_path):
    layer = getattr(layers, name)(**kwargs)
    inputs = nn.Input(x.shape[1:])
    model = nn.Model(inputs, layer(inputs))
    path = tmp_path / "layer.onnx"
    to_onnx(model, path)
    x = x.astype(np.float32)
    (got,) = _run(path, model, [x])
    np.testing.assert_allclose(got, model.predict(x, verbose=0), rtol=1e-5, atol=1e-5)


def test_the_spiral_example_classifies_with_onnxruntime_alone(tmp_path):
    import subprocess
    import sys

    example = Path(__file__).parents[2] / "examples" / "spiral_onnx.py"
    spec = importlib.util.spec_from_file_location("spiral_onnx", example)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--out", str(tmp_path), "--epochs", "40"]) == 0  # 0: the classes agree
    # The classifying half runs where neuralnet is not imported at all.
    code = (
        "import importlib.util, sys, numpy as np\n"
        f"spec = importlib.util.spec_from_file_location('e', {str(example)!r})\n"
        "e = importlib.util.module_from_spec(spec); spec.loader.exec_module(e)\n"
        f"print(e.classify_with_onnxruntime({str(tmp_path / 'spiral.onnx')!r}, [[0.0, 0.5], [0.3, -0.2]]))\n"
        "assert not any(m.startswith('neuralnet') for m in sys.modules), 'neuralnet was imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("[")
