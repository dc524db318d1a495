"""Build the lecture's Jupyter notebooks from the scripts in examples/.

Each `examples/lecture_*.py` script is written as cells separated by `# %%` lines; a
`# %% [markdown]` cell holds markdown as `# ` comment lines. This turns each script into a notebook
cell by cell. The older examples (spiral from scratch, vanishing gradients, autoencoder) are
modules with functions: their notebooks import them from examples/ and run them with small
settings. The notebooks are written without outputs; tests/test_notebooks.py checks that the
committed notebooks are exactly what this script generates, and executes them.

Run it from anywhere:  python notebooks/make_notebooks.py
"""

from __future__ import annotations

import ast
import pathlib
import sys

import nbformat

NOTEBOOKS = pathlib.Path(__file__).resolve().parent
EXAMPLES = NOTEBOOKS.parent / "examples"

# The notebooks run with notebooks/ as the working directory; the examples are one folder up.
_IMPORT_EXAMPLES = """\
import os
import sys

from IPython.display import Image, display

sys.path.insert(0, os.path.join("..", "examples"))
OUT = os.environ.get("NEURALNET_EXAMPLES_OUT", "out")  # where the figures are written"""


def _docstring_markdown(name: str, title: str) -> str:
    """The example's module docstring as a markdown cell, under `title`."""
    tree = ast.parse((EXAMPLES / f"{name}.py").read_text(encoding="utf-8"))
    return f"# {title}\n\n{ast.get_docstring(tree)}"


def _wrapped(name: str, title: str, cells: str) -> list[tuple[str, str]]:
    """A notebook that imports examples/<name>.py: its docstring, then `cells` (`# %%` format)."""
    return [
        ("markdown", _docstring_markdown(name, title)),
        ("code", _IMPORT_EXAMPLES),
        *parse_cells(cells, name),
    ]


def parse_cells(text: str, origin: str) -> list[tuple[str, str]]:
    """(cell type, source) for each `# %%` cell of `text`; empty cells are dropped."""
    cells: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("# %%"):
            cells.append(("markdown" if "[markdown]" in line else "code", []))
        elif cells:
            kind, lines = cells[-1]
            if kind == "markdown":
                if line and not line.startswith("#"):
                    raise ValueError(f"{origin}: a markdown cell holds a code line {line!r}")
                line = line[2:] if line.startswith("# ") else line[1:]
            lines.append(line)
        elif line.strip():
            raise ValueError(f"{origin}: text before the first `# %%` line: {line!r}")
    result = []
    for kind, lines in cells:
        source = "\n".join(lines).strip("\n")
        if source.strip():
            result.append((kind, source))
    return result


def script_cells(path: pathlib.Path) -> list[tuple[str, str]]:
    return parse_cells(path.read_text(encoding="utf-8"), path.name)


SPIRAL_FROM_SCRATCH = """\
# %%
import spiral_from_scratch as tutorial

results = tutorial.run(verbose=True)
print(f"linear classifier training accuracy: {results['linear']['accuracy']:.2f}")
print(f"two-layer network training accuracy: {results['two_layer']['accuracy']:.2f}")

# %% [markdown]
# The class regions of each classifier: a linear partition of the plane cannot follow the arms;
# one hidden layer of ReLU units can.

# %%
import numpy as np

from neuralnet import plotting

linear, two_layer = results["linear"], results["two_layer"]


def two_layer_scores(points):
    hidden = np.maximum(0, points @ two_layer["W"] + two_layer["b"])
    return hidden @ two_layer["W2"] + two_layer["b2"]


figure = plotting.new_figure((10, 4.4))
left, right = figure.subplots(1, 2)
plotting.plot_decision_boundary(lambda points: points @ linear["W"] + linear["b"],
                                results["X"], results["y"], ax=left, title="linear")
plotting.plot_decision_boundary(two_layer_scores, results["X"], results["y"], ax=right,
                                title="one hidden layer")
plotting.save_figure(figure, os.path.join(OUT, "spiral_from_scratch.png"))
display(Image(filename=os.path.join(OUT, "spiral_from_scratch.png")))
assert two_layer["accuracy"] > 0.95 > linear["accuracy"]
"""

VANISHING_GRADIENTS = """\
# %% [markdown]
# Two epochs are enough to see it (the script's default is 20).

# %%
import vanishing_gradients

vanishing_gradients.main(["--out", OUT, "--epochs", "2"])
display(Image(filename=os.path.join(OUT, "vanishing_gradients.png")))
"""

AUTOENCODER = """\
# %% [markdown]
# On scikit-learn's 8×8 digits, with 30 epochs instead of the script's 150 (so the errors are a
# little higher than in a full run).

# %%
import autoencoder

autoencoder.main(["--out", OUT, "--epochs", "30"])
display(Image(filename=os.path.join(OUT, "autoencoder_reconstructions.png")))
display(Image(filename=os.path.join(OUT, "autoencoder_codes.png")))
"""


def notebook_cells() -> dict[str, list[tuple[str, str]]]:
    """Each notebook's file name and its cells."""
    return {
        "01_perceptron_logistic.ipynb": script_cells(EXAMPLES / "lecture_perceptron_logistic.py"),
        "02_spiral_from_scratch.ipynb": _wrapped(
            "spiral_from_scratch", "Tutorial 1: a neural network from scratch", SPIRAL_FROM_SCRATCH
        ),
        "03_sequential_functional.ipynb": script_cells(
            EXAMPLES / "lecture_sequential_functional.py"
        ),
        "04_overfitting_regularization.ipynb": script_cells(
            EXAMPLES / "lecture_overfitting_regularization.py"
        ),
        "05_minibatch_learning_rate.ipynb": script_cells(
            EXAMPLES / "lecture_minibatch_learning_rate.py"
        ),
        "06_vanishing_gradients.ipynb": _wrapped(
            "vanishing_gradients", "Vanishing gradients: sigmoid against ReLU", VANISHING_GRADIENTS
        ),
        "07_autoencoder.ipynb": _wrapped("autoencoder", "Autoencoders", AUTOENCODER),
        "08_mnist_classifier.ipynb": script_cells(EXAMPLES / "lecture_mnist_classifier.py"),
    }


def build(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    """A notebook (nbformat 4, no outputs) with deterministic cell ids."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for index, (kind, source) in enumerate(cells):
        make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        notebook.cells.append(make(source, id=f"cell-{index:02d}"))
    nbformat.validate(notebook)
    return notebook


def render(notebook: nbformat.NotebookNode) -> str:
    return nbformat.writes(notebook) + "\n"


def generate() -> dict[str, str]:
    """Each notebook's file name and its text, as this script writes it."""
    return {name: render(build(cells)) for name, cells in notebook_cells().items()}


def main() -> int:
    for name, text in generate().items():
        (NOTEBOOKS / name).write_text(text, encoding="utf-8")
        print(f"Wrote notebooks/{name}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
