"""The `neuralnet` command: train, evaluate, predict, summarize and export models without writing
Python (`neuralnet --help`, or `python -m neuralnet`).

Every subcommand says what it does and shows an example in its `--help`. Bad arguments and bad
files end with one line on standard error and exit status 2 (usage) or 1 (anything else);
`--debug` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from typing import Any

EXIT_FAILURE, EXIT_USAGE = 1, 2

#: The settings of `neuralnet train`, their defaults, and what each means (also the TOML keys).
TRAIN_DEFAULTS: dict[str, Any] = {
    "target": None,
    "hidden": [64, 32],
    "activation": "relu",
    "optimizer": "adam",
    "lr": 0.001,
    "epochs": 20,
    "batch_size": 32,
    "dropout": 0.0,
    "l2": 0.0,
    "batch_norm": False,
    "val": 0.1,
    "test": 0.1,
    "seed": 0,
    "task": "auto",
    "out": "out",
}


class CommandError(Exception):
    """A problem to report in one line (a bad file, a missing column, ...)."""


# -- data ---------------------------------------------------------------------------------------------


def load_data(spec: str, target: str | None, need_targets: bool = True) -> tuple[Any, Any, str]:
    """(x, y, description) of a data set named on the command line: spiral, gaussian, digits,
    mnist:FOLDER, or a .csv / .npz file."""

    from neuralnet import datasets

    name = spec.lower()
    if name == "spiral":
        x, y = datasets.make_spiral(seed=0)
        return x, y, "the lecture's spiral (300 points, 3 classes)"
    if name == "gaussian":
        x, y = datasets.make_gaussian_classes(seed=0)
        return x, y, "two Gaussian classes (1,000 points)"
    if name == "digits":
        x, y = datasets.load_digits()
        return x, y, "scikit-learn's digits (1,797 images of 8x8)"
    if name.startswith("mnist:"):
        folder = spec.split(":", 1)[1]
        try:
            x, y = datasets.load_mnist(folder, split="test", normalize=True, flatten=True)
        except (FileNotFoundError, ValueError) as error:
            raise CommandError(str(error)) from None
        return x, y, f"MNIST test images from {folder} ({len(x):,})"
    if not os.path.exists(spec):
        raise CommandError(
            f"no data set or file named {spec!r}: give spiral, gaussian, digits, mnist:FOLDER, or "
            "the path of a .csv or .npz file."
        )
    if name.endswith(".npz"):
        try:
            x, y = datasets.load_npz(spec, y_key="y" if need_targets else None)
        except (KeyError, ValueError, OSError) as error:
            raise CommandError(f"{spec}: {error}") from None
        return x, y, f"{spec} ({len(x):,} rows)"
    if name.endswith(".csv"):
        return _load_csv(spec, target, need_targets) + (f"{spec}",)
    raise CommandError(f"{spec}: neuralnet reads .csv and .npz files (or a built-in data set).")


def _load_csv(path: str, target: str | None, need_targets: bool) -> tuple[Any, Any]:
    """Features and the target column (by name or index) of a CSV file with a header; a missing
    value, a word where a number belongs or an unknown column is one error naming the line."""
    from neuralnet import datasets

    if target is None and need_targets:
        raise CommandError(f"{path}: say which column to predict with --target COLUMN.")
    column: Any = target
    if isinstance(target, str) and target.lstrip("-").isdigit():
        column = int(target)
    try:
        return datasets.load_csv(path, target_column=column)
    except (ValueError, TypeError) as error:
        raise CommandError(str(error).removeprefix("load_csv: ")) from None


def _is_classification(y: Any, task: str) -> bool:
    import numpy as np

    if task != "auto":
        return task == "classification"
    return y.dtype.kind in "iu" and len(np.unique(y)) <= 100


# -- train --------------------------------------------------------------------------------------------


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    """The training settings: defaults, then the TOML file's, then the command line's."""
    settings = dict(TRAIN_DEFAULTS)
    if args.config:
        import tomllib

        try:
            with open(args.config, "rb") as handle:
                loaded = tomllib.load(handle)
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise CommandError(f"{args.config}: {error}") from None
        unknown = sorted(set(loaded) - set(TRAIN_DEFAULTS) - {"data"})
        if unknown:
            raise CommandError(
                f"{args.config}: unknown setting(s) {', '.join(unknown)}; the settings are "
                f"{', '.join(sorted(TRAIN_DEFAULTS))}, and data."
            )
        settings.update(loaded)
    for key in TRAIN_DEFAULTS:
        value = getattr(args, key, None)
        if value is not None:
            settings[key] = value
    data = args.data or settings.get("data")
    if not data:
        raise CommandError(
            "train: give the data (a data set name or a file), or `data` in --config."
        )
    settings["data"] = data
    for key in ("val", "test"):
        if not 0.0 <= float(settings[key]) < 1.0:
            raise CommandError(f"--{key} must be a fraction in [0, 1), received {settings[key]}.")
    if float(settings["val"]) + float(settings["test"]) >= 1.0:
        raise CommandError("--val and --test leave no data for training: their sum must be < 1.")
    return settings


def to_toml(settings: dict[str, Any]) -> str:
    """The settings as TOML (what `--config` reads), so that a run can be repeated."""
    lines = []
    for key, value in settings.items():
        if value is None:
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (int, float)):
            text = repr(value)
        elif isinstance(value, (list, tuple)):
            text = "[" + ", ".join(repr(v) for v in value) + "]"
        else:
            text = '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
        lines.append(f"{key} = {text}")
    return "\n".join(lines) + "\n"


def _split(x: Any, y: Any, val: float, test: float, seed: int, stratify: bool) -> tuple:
    """The training, validation and test parts (stratified by class for classification)."""
    from neuralnet import datasets

    sizes = (1.0 - val - test, val, test)
    try:
        parts = datasets.train_val_test_split(x, y, sizes=sizes, seed=seed,
                                              stratify=y if stratify else None)  # fmt: skip
    except ValueError as error:
        if not stratify:
            raise CommandError(str(error)) from None
        parts = datasets.train_val_test_split(x, y, sizes=sizes, seed=seed)  # rare classes
    x_train, x_val, x_test, y_train, y_val, y_test = parts
    return (x_train, y_train), (x_val, y_val), (x_test, y_test)


def build_model(settings: dict[str, Any], features: int, outputs: int, classification: bool) -> Any:
    """The network of the settings: the scaling, hidden Dense layers, the output layer."""
    import neuralnet as nn
    from neuralnet import layers, regularizers

    stack: list[Any] = [nn.Input((features,), name="features")]
    if hasattr(layers, "Normalization"):
        stack.append(layers.Normalization(name="scaling"))  # adapted on the training split
    l2 = float(settings["l2"])
    for units in settings["hidden"]:
        stack.append(layers.Dense(int(units), activation=settings["activation"],
                                  kernel_regularizer=regularizers.L2(l2) if l2 else None))  # fmt: skip
        if settings["batch_norm"]:
            stack.append(layers.BatchNormalization())
        if float(settings["dropout"]):
            stack.append(layers.Dropout(float(settings["dropout"])))
    stack.append(layers.Dense(outputs, activation="softmax" if classification else None,
                              name="prediction"))  # fmt: skip
    return nn.Sequential(stack, name="neuralnet_train")


def command_train(args: argparse.Namespace) -> int:
    import numpy as np

    import neuralnet as nn

    settings = _settings(args)
    x, y, description = load_data(settings["data"], settings["target"])
    print("# the settings of this run (neuralnet train --config config.toml repeats it)")
    print(to_toml(settings), end="")
    classification = _is_classification(y, settings["task"])
    nn.utils.set_random_seed(int(settings["seed"]))
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = _split(
        x, y, float(settings["val"]), float(settings["test"]), int(settings["seed"]), classification
    )
    if classification:
        classes = int(y.max()) + 1
        model = build_model(settings, x.shape[1], classes, True)
        loss, metrics = "sparse_categorical_crossentropy", ["accuracy"]
    else:
        y_train, y_val, y_test = (a.reshape(len(a), -1).astype(np.float32)
                                  for a in (y_train, y_val, y_test))  # fmt: skip
        model = build_model(settings, x.shape[1], y_train.shape[1], False)
        loss, metrics = "mse", ["mae"]
    scaling = next((layer for layer in model.layers if type(layer).__name__ == "Normalization"),
                   None)  # fmt: skip
    if scaling is not None:
        scaling.adapt(x_train)  # fitted on the training split only, saved with the model
    try:
        optimizer = nn.optimizers.get(settings["optimizer"])
    except ValueError as error:
        raise CommandError(f"--optimizer: {error}") from None
    optimizer.learning_rate = float(settings["lr"])
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    out = settings["out"]
    os.makedirs(out, exist_ok=True)
    print(f"data: {description}; {len(x_train):,} for training, {len(x_val):,} for validation, "
          f"{len(x_test):,} held out for the test")  # fmt: skip
    history = model.fit(
        x_train, y_train, batch_size=int(settings["batch_size"]), epochs=int(settings["epochs"]),
        validation_data=(x_val, y_val) if len(x_val) else None, verbose=1,
        callbacks=[nn.callbacks.CSVLogger(os.path.join(out, "history.csv"))],
    )  # fmt: skip
    for label, (xs, ys) in (("validation", (x_val, y_val)), ("test", (x_test, y_test))):
        if len(xs):
            logs = model.evaluate(xs, ys, verbose=0, return_dict=True)
            shown = ", ".join(f"{k} {v:.4f}" for k, v in logs.items())
            print(f"{label}: {shown}")
    model.save(os.path.join(out, "model.keras"))
    with open(os.path.join(out, "config.toml"), "w", encoding="utf-8") as handle:
        handle.write(to_toml(settings))
    written = ["model.keras", "history.csv", "config.toml"]
    try:
        from neuralnet import plotting

        plotting.plot_history(history, path=os.path.join(out, "history.png"))
        written.append("history.png")
        if x.shape[1] == 2 and classification:
            plotting.plot_decision_boundary(model, x, y, path=os.path.join(out, "boundary.png"))
            written.append("boundary.png")
    except ImportError:
        print("(no plots: pip install 'neuralnet[plot]' for them)")
    print(f"Wrote {', '.join(written)} into {out}.")
    return 0


# -- the other commands -------------------------------------------------------------------------------


def _load_model(path: str) -> Any:
    import neuralnet as nn

    if not os.path.exists(path):
        raise CommandError(f"no model file {path!r}.")
    try:
        return nn.models.load_model(path)
    except ValueError as error:  # ModelFileError is a ValueError
        raise CommandError(str(error)) from None


def _inputs_for(model: Any, args: argparse.Namespace, need_targets: bool) -> tuple[Any, Any]:
    x, y, _ = load_data(args.data, args.target, need_targets=need_targets)
    expected = model.input_shape[-1]
    if x.shape[1] != expected:
        raise CommandError(
            f"{args.data} has {x.shape[1]} feature columns, the model expects {expected}"
            + (" (is --target right?)" if args.data.endswith(".csv") else "")
            + "."
        )
    return x, y


def command_evaluate(args: argparse.Namespace) -> int:
    model = _load_model(args.model)
    x, y = _inputs_for(model, args, need_targets=True)
    if y is None:
        raise CommandError(f"{args.data} has no targets to evaluate against (give --target).")
    if model.output_shape[-1] == 1 and y.ndim == 1:
        y = y.reshape(-1, 1).astype("float32")
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    for name, value in logs.items():
        print(f"{name}: {value:.6g}")
    return 0


def command_predict(args: argparse.Namespace) -> int:
    import numpy as np

    model = _load_model(args.model)
    x, _ = _inputs_for(model, args, need_targets=False)
    outputs = model.predict(x, verbose=0)
    outputs = outputs.reshape(len(outputs), -1)
    classification = outputs.shape[1] > 1 and np.allclose(outputs.sum(axis=1), 1.0, atol=1e-4)
    with open(args.output, "w", encoding="utf-8") as handle:
        if classification:
            handle.write("prediction," + ",".join(f"p{k}" for k in range(outputs.shape[1])) + "\n")
            handle.writelines(
                f"{int(np.argmax(row))}," + ",".join(f"{v:.6g}" for v in row) + "\n"
                for row in outputs
            )
        else:
            handle.write(",".join(f"prediction{k}" if outputs.shape[1] > 1 else "prediction"
                                  for k in range(outputs.shape[1])) + "\n")  # fmt: skip
            handle.writelines(",".join(f"{v:.6g}" for v in row) + "\n" for row in outputs)
    print(f"Wrote {len(outputs):,} predictions to {args.output}.")
    return 0


def command_summary(args: argparse.Namespace) -> int:
    _load_model(args.model).summary()
    return 0


def command_export(args: argparse.Namespace) -> int:
    model = _load_model(args.model)
    try:
        model.export(args.output, format="onnx", opset=args.opset)
    except ImportError as error:
        raise CommandError(str(error)) from None
    print(f"Wrote {args.output} (ONNX, opset {args.opset}).")
    return 0


def command_demo(args: argparse.Namespace) -> int:
    """The lecture's tutorial in one command: the spiral, a 100-unit ReLU network, its boundary."""
    args.data, args.config, args.target = "spiral", None, None
    args.hidden, args.epochs, args.batch_size, args.lr = [100], args.epochs or 300, 64, 0.01
    args.val, args.test = 0.1, 0.1
    return command_train(args)


# -- the parser ---------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line and status 2, as argparse, but no usage dump
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _example(text: str) -> str:
    return "example:\n" + textwrap.indent(text, "  ")


def make_parser() -> argparse.ArgumentParser:
    from neuralnet import __version__

    parser = _Parser(
        prog="neuralnet",
        description="Train and use neural networks on your own data, without writing Python.",
        epilog=_example(
            "neuralnet train my.csv --target label --hidden 64 32 --epochs 30 --out run1\n"
            "neuralnet predict run1/model.keras new.csv -o predictions.csv"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"neuralnet {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    data_help = "spiral, gaussian, digits, mnist:FOLDER, or a .csv (with a header) or .npz file"

    train = commands.add_parser(
        "train", help="train a network on a data set or a file",
        description="Train a fully connected network: scaling fitted on the training split, hidden "
        "layers, softmax for classes (whole-number targets) or linear for regression. Writes the "
        "model (.keras), the history (CSV), plots (PNG) and the settings (config.toml) into --out.",
        epilog=_example("neuralnet train spiral --hidden 100 --epochs 300 --lr 0.01\n"
                        "neuralnet train stars.csv --target class --dropout 0.2 --out stars\n"
                        "neuralnet train --config stars/config.toml   # the same run again"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    train.add_argument("data", nargs="?", help=data_help)
    train.add_argument(
        "--config", help="a TOML file with the settings below (the command line wins)"
    )
    train.add_argument("--target", help="the CSV column to predict (name or index)")
    train.add_argument("--hidden", type=int, nargs="+", help="units of each hidden layer (64 32)")
    train.add_argument("--activation", help="activation of the hidden layers (relu)")
    train.add_argument("--optimizer", help="adam, sgd, rmsprop, ... (adam)")
    train.add_argument("--lr", type=float, help="learning rate (0.001)")
    train.add_argument("--epochs", type=int, help="passes over the training data (20)")
    train.add_argument("--batch-size", dest="batch_size", type=int, help="mini-batch size (32)")
    train.add_argument("--dropout", type=float, help="dropout rate after each hidden layer (0)")
    train.add_argument("--l2", type=float, help="L2 penalty on the hidden weights (0)")
    train.add_argument("--batch-norm", dest="batch_norm", action="store_const", const=True,
                       help="batch normalization after each hidden layer")  # fmt: skip
    train.add_argument("--val", type=float, help="fraction held out for validation (0.1)")
    train.add_argument("--test", type=float, help="fraction held out for the final test (0.1)")
    train.add_argument("--seed", type=int, help="seed of the split and the weights (0)")
    train.add_argument("--task", choices=["auto", "classification", "regression"],
                       help="auto: classes when the targets are whole numbers")  # fmt: skip
    train.add_argument("--out", help="the folder to write into (out)")
    train.set_defaults(handler=command_train)

    for name, handler, help_text, needs_data, example in (
        ("evaluate", command_evaluate, "the loss and metrics of a saved model on data", True,
         "neuralnet evaluate run1/model.keras test.csv --target label"),
        ("predict", command_predict, "a saved model's predictions, as a CSV file", True,
         "neuralnet predict run1/model.keras new.csv -o predictions.csv"),
        ("summary", command_summary, "the layers, shapes and parameter counts of a saved model",
         False, "neuralnet summary run1/model.keras"),
        ("export", command_export, "a saved model as an ONNX file (the [onnx] extra)", False,
         "neuralnet export run1/model.keras -o model.onnx"),
    ):  # fmt: skip
        sub = commands.add_parser(name, help=help_text, description=help_text[0].upper()
                                  + help_text[1:] + ".", epilog=_example(example),
                                  formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
        sub.add_argument("model", help="a .keras file (from neuralnet train, neuralnet or Keras 3)")
        if needs_data:
            sub.add_argument("data", help=data_help)
            sub.add_argument("--target", help="the CSV column of the targets (name or index)")
        if name == "predict":
            sub.add_argument("-o", "--output", default="predictions.csv", help="the CSV to write")
        if name == "export":
            sub.add_argument("-o", "--output", default="model.onnx", help="the ONNX file to write")
            sub.add_argument("--opset", type=int, default=17, help="ONNX opset (17)")
        sub.set_defaults(handler=handler)

    demo = commands.add_parser(
        "demo", help="the lecture's spiral tutorial (what `make demo` runs)",
        description="Train the lecture's 100-unit ReLU network on the spiral and draw its boundary.",
        epilog=_example("neuralnet demo --out out"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    demo.add_argument("--out", default="out", help="the folder to write into (out)")
    demo.add_argument("--epochs", type=int, default=300, help="passes over the data (300)")
    demo.set_defaults(handler=command_demo, **{k: None for k in TRAIN_DEFAULTS if k not in
                                                ("out", "epochs")})  # fmt: skip
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # one line, unless --debug
        if args.debug:
            raise
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        kind = "" if isinstance(error, CommandError) else f"{type(error).__name__}: "
        print(f"neuralnet {args.command}: error: {kind}{message}", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
