"""docs/api/ is generated from the registries and docstrings, and kept up to date: a public name
without an entry, or a page older than the code, fails here."""

import importlib.util
import inspect
from pathlib import Path

import neuralnet
from neuralnet import layers

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "make_api", ROOT / "docs" / "api" / "make_api_reference.py"
)
make_api = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_api)


def test_the_committed_reference_is_what_the_code_generates(tmp_path):
    make_api.write(tmp_path)
    for page in sorted(tmp_path.glob("*.md")):
        committed = ROOT / "docs" / "api" / page.name
        assert committed.exists(), f"docs/api/{page.name} is missing"
        assert committed.read_text() == page.read_text(), (
            f"docs/api/{page.name} is stale: run .venv/bin/python docs/api/make_api_reference.py"
        )


def test_every_public_layer_class_has_an_entry():
    text = (ROOT / "docs" / "api" / "layers.md").read_text()
    for name in layers.__all__:
        obj = getattr(layers, name)
        if inspect.isclass(obj) and issubclass(obj, layers.Layer) and obj is not layers.Layer:
            registered = layers.LAYERS.name_of(obj)
            assert registered is not None, f"layers.{name} is not registered"
            assert f"## `{registered}`" in text, f"layers.{name} has no entry in docs/api/layers.md"


def test_every_family_lists_every_registered_name():
    for stem, (_, registry, _) in make_api.families().items():
        text = (ROOT / "docs" / "api" / f"{stem}.md").read_text()
        for name, entry in registry.entries().items():
            if entry.__module__.startswith("neuralnet"):
                assert f"## `{name}`" in text, f"{name} is missing from docs/api/{stem}.md"
    assert neuralnet.__version__
