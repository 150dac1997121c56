"""scikit-learn on data of the shapes benches/models.rs uses, for the README's comparison.

- LogisticRegression (lbfgs) fit on 1M x 30 rows; predict_proba on 10M x 30 rows;
- MLPClassifier(hidden 100, batch 200, 200 epochs) fit on digits (1797 x 64).

python3 benches/models_sklearn.py
"""
import time
from pathlib import Path

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

FEATURES = 30


def table(rows, seed):
    rng = np.random.default_rng(seed)
    centers = np.arange(FEATURES) / 10.0
    scales = 1.0 + np.arange(FEATURES) / 30.0
    x = centers + scales * rng.standard_normal((rows, FEATURES))
    weights = np.where(np.arange(FEATURES) % 3 == 0, 0.4, -0.1)
    logit = -0.5 + (x - centers) @ weights
    y = (rng.random(rows) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)
    return x, y


def best_of(runs, work):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def main():
    print(f"scikit-learn {sklearn.__version__}, numpy {np.__version__}")
    x_train, y_train = table(1_000_000, 7)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    start = time.perf_counter()
    model.fit(x_train, y_train)
    print(f"LogisticRegression (lbfgs) fit 1M x 30: {time.perf_counter() - start:.2f} s")
    x_scored, _ = table(10_000_000, 11)
    seconds = best_of(3, lambda: model.predict_proba(x_scored)[:, 1].sum())
    print(f"predict_proba 10M x 30: {seconds:.2f} s = {10_000_000 / seconds / 1e6:.1f} M rows/s")

    digits = np.loadtxt(Path(__file__).resolve().parents[1] / "tests" / "data" / "digits.csv",
                        delimiter=",", skiprows=1)
    x, y = digits[:, 1:-1], digits[:, -1].astype(int)
    mlp = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(100,), batch_size=200,
                                                        max_iter=200, n_iter_no_change=10_000,
                                                        random_state=0))
    start = time.perf_counter()
    mlp.fit(x, y)
    print(f"MLPClassifier fit digits (hidden 100, 200 epochs of batch 200): {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
