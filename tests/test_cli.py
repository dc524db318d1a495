"""The `neuralnet` command (neuralnet/cli.py), run through its real entry point in a subprocess."""

import csv
import os
import shutil
import subprocess
import sys
import tomllib

import numpy as np
import pytest

COMMAND = shutil.which("neuralnet", path=os.path.dirname(sys.executable))
ENTRY = [COMMAND] if COMMAND else [sys.executable, "-m", "neuralnet"]


def run(*args, cwd=None, timeout=120):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run([*ENTRY, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, env=env, check=False)  # fmt: skip


def write_csv(path, rows=300, seed=0):
    rng = np.random.default_rng(seed)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["flux", "color", "size", "label"])
        for _ in range(rows):
            a, b, c = rng.standard_normal(3)
            writer.writerow([f"{a:.5f}", f"{b:.5f}", f"{c:.5f}", int(a + b > 0)])


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "summary", "export", "demo"])
def test_every_command_has_complete_help_with_an_example(command):
    done = run(command, "--help")
    assert done.returncode == 0
    assert "example:" in done.stdout and f"neuralnet {command}" in done.stdout


def test_a_new_user_trains_on_a_csv_then_predicts_and_evaluates(tmp_path):
    data = tmp_path / "my.csv"
    write_csv(data)
    done = run("train", data, "--target", "label", "--epochs", "15", "--hidden", "16",
               "--out", tmp_path / "run")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "test: accuracy" in done.stdout and "validation: accuracy" in done.stdout
    for name in ("model.keras", "history.csv", "config.toml"):
        assert (tmp_path / "run" / name).exists()
    settings = tomllib.loads((tmp_path / "run" / "config.toml").read_text())
    assert settings["hidden"] == [16] and settings["target"] == "label"

    done = run("predict", tmp_path / "run" / "model.keras", data, "--target", "label",
               "-o", tmp_path / "predictions.csv")  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader((tmp_path / "predictions.csv").read_text().splitlines()))
    assert rows[0] == ["prediction", "p0", "p1"] and len(rows) == 301
    labels = [int(r[3]) for r in list(csv.reader(data.read_text().splitlines()))[1:]]
    accuracy = np.mean([int(r[0]) == label for r, label in zip(rows[1:], labels)])
    assert accuracy > 0.9  # a + b > 0 is easy to learn

    done = run("evaluate", tmp_path / "run" / "model.keras", data, "--target", "label")
    assert done.returncode == 0 and "accuracy:" in done.stdout


def test_a_run_repeats_from_its_config(tmp_path):
    first = run("train", "gaussian", "--epochs", "3", "--hidden", "8", "--seed", "5",
                "--out", tmp_path / "a")  # fmt: skip
    assert first.returncode == 0, first.stderr
    config = tmp_path / "a" / "config.toml"
    second = run("train", "--config", config, "--out", tmp_path / "b")
    assert second.returncode == 0, second.stderr
    last = [line for line in first.stdout.splitlines() if line.startswith("test:")]
    assert last == [line for line in second.stdout.splitlines() if line.startswith("test:")]


def test_summary_and_export(tmp_path):
    run("train", "spiral", "--epochs", "2", "--hidden", "8", "--out", tmp_path)
    done = run("summary", tmp_path / "model.keras")
    assert done.returncode == 0 and "Total params" in done.stdout
    pytest.importorskip("onnx")
    done = run("export", tmp_path / "model.keras", "-o", tmp_path / "m.onnx")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "m.onnx").read_bytes()[:2]


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["train", "DATA.csv", "--target", "lable"], 1, r"has no column 'lable'.*Did you mean 'label'\?"),
        (["train", "nothing.csv"], 1, r"no data set or file named 'nothing.csv'"),
        (["train", "spiral", "--epochs", "x"], 2, r"argument --epochs: invalid int value: 'x'"),
        (["train", "spiral", "--val", "0.6", "--test", "0.5"], 1, r"leave no data for training"),
        (["predict", "missing.keras", "DATA.csv"], 1, r"no model file 'missing.keras'"),
        (["frobnicate"], 2, r"invalid choice: 'frobnicate'"),
    ],
)  # fmt: skip
def test_bad_arguments_and_files_are_one_line_and_a_non_zero_status(
    tmp_path, args, status, message
):
    import re

    write_csv(tmp_path / "DATA.csv", rows=20)
    done = run(*args, cwd=tmp_path)
    assert done.returncode == status
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert re.search(message, done.stderr), done.stderr


def test_csv_problems_name_the_column_and_the_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("flux,kind,label\n1.0,2,0\n2.0,galaxy,1\n")
    done = run("train", path, "--target", "label", cwd=tmp_path)
    assert done.returncode == 1
    assert "column 'kind' is not numeric: 'galaxy' on line 3" in done.stderr
    path.write_text("flux,kind,label\n1.0,,0\n")
    done = run("train", path, "--target", "label", cwd=tmp_path)
    assert "column 'kind' has a missing value on line 2" in done.stderr


def test_debug_shows_the_traceback(tmp_path):
    done = run("--debug", "predict", "missing.keras", "x.csv", cwd=tmp_path)
    assert done.returncode != 0 and "Traceback" in done.stderr
