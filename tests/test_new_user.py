"""As a new user would: from a fresh clone, `make demo`, then `neuralnet train` on a CSV of one's
own and `neuralnet predict` with the saved model (slow: it creates a virtual environment)."""

import csv
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_fresh_clone_make_demo_then_train_and_predict_on_my_csv(tmp_path):
    if shutil.which("git") is None or shutil.which("make") is None:
        pytest.skip("needs git and make")
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    clone = tmp_path / "neuralnet"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=120)
    shared = ROOT.parent / "shared"
    if shared.exists():  # the examples read ../shared/data, beside the checkout
        (tmp_path / "shared").symlink_to(shared)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}
    env["MPLBACKEND"] = "Agg"
    demo = subprocess.run(["make", "demo"], cwd=clone, capture_output=True, text=True, env=env,
                          timeout=900, check=False)  # fmt: skip
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]

    rng = np.random.default_rng(0)
    with open(tmp_path / "my.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["temperature", "pressure", "label"])
        for _ in range(400):
            t, p = rng.standard_normal(2)
            writer.writerow([f"{t:.4f}", f"{p:.4f}", int(t * p > 0)])
    command = clone / ".venv" / "bin" / "neuralnet"
    train = subprocess.run([str(command), "train", "my.csv", "--target", "label", "--epochs", "40"],
                           cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300,
                           check=False)  # fmt: skip
    assert train.returncode == 0, train.stderr[-2000:]
    assert (tmp_path / "out" / "model.keras").exists()
    predict = subprocess.run([str(command), "predict", "out/model.keras", "my.csv", "--target",
                              "label", "-o", "predictions.csv"], cwd=tmp_path, capture_output=True,
                             text=True, env=env, timeout=300, check=False)  # fmt: skip
    assert predict.returncode == 0, predict.stderr[-2000:]
    rows = (tmp_path / "predictions.csv").read_text().splitlines()
    assert rows[0].startswith("prediction") and len(rows) == 401
