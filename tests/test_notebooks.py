"""The lecture's notebooks (notebooks/*.ipynb): generated from the scripts in examples/ without
drift, committed without outputs, and each one runs from start to end in a fresh kernel."""

import importlib.util
import json
import pathlib
import sys
import time

import pytest

nbformat = pytest.importorskip("nbformat")

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
MNIST = ROOT.parent / "shared" / "data" / "mnist"
NEEDS_MNIST = {"08_mnist_classifier.ipynb"}
NAMES = sorted(path.name for path in NOTEBOOKS.glob("*.ipynb"))
TIME_LIMIT_S = 30.0  # each notebook, on a 2-core machine


def _make_notebooks():
    spec = importlib.util.spec_from_file_location("make_notebooks", NOTEBOOKS / "make_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _has_mnist() -> bool:
    return any(MNIST.glob("t10k-images-idx3-ubyte*")) and any(MNIST.glob("t10k-labels-idx1-ubyte*"))


def test_committed_notebooks_are_what_make_notebooks_generates():
    generated = _make_notebooks().generate()
    assert NAMES == sorted(generated), "run `python notebooks/make_notebooks.py`"
    for name, text in generated.items():
        committed = (NOTEBOOKS / name).read_text(encoding="utf-8")
        assert committed == text, f"{name} differs from its script: run notebooks/make_notebooks.py"


def test_committed_notebooks_have_no_outputs():
    assert len(NAMES) == 8
    for name in NAMES:
        notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
        nbformat.validate(notebook)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, name


def _use_this_interpreter(folder: pathlib.Path, monkeypatch) -> None:
    """A `python3` kernel spec that starts this interpreter, found before any other (JUPYTER_PATH
    comes first in Jupyter's search path), so that no kernel spec needs installing."""
    spec = folder / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "Python 3", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel), encoding="utf-8")
    monkeypatch.setenv("JUPYTER_PATH", str(folder))


@pytest.mark.parametrize("name", NAMES)
def test_notebook_executes(name, tmp_path, monkeypatch, record_property):
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    if name in NEEDS_MNIST and not _has_mnist():
        pytest.skip(f"the MNIST test images are not in {MNIST}")
    _use_this_interpreter(tmp_path / "jupyter", monkeypatch)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("NEURALNET_EXAMPLES_OUT", str(tmp_path / "out"))
    monkeypatch.setenv("NEURALNET_MNIST", str(MNIST))
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    record_property("seconds", round(seconds, 1))
    print(f"{name}: {seconds:.1f} s")
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    assert seconds < TIME_LIMIT_S * 2, (
        f"{name} took {seconds:.0f} s (aim: under {TIME_LIMIT_S:.0f} s)"
    )
