"""Fit the difficulty model on the shared Lichess sample and write chesseval/mining/difficulty_model.json.

    python scripts/train_difficulty.py [--data ../shared/data/lichess_sample.csv] [--folds 5] [--seed 0]

Reproducible: a fixed seed drives the fold split and the row subsampling of the boosting. Prints
5-fold cross-validated Spearman and RMSE of the raw and of the calibrated (quantile-mapped)
predictions, plus a ridge-regression baseline, and stores those figures in the model's ``meta``.
The data itself is never written into the repository.

Model: gradient-boosted regression trees on quantile-binned features (squared loss, depth 4),
written here in NumPy so that chesseval needs no machine-learning library at run time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chesseval.mining.difficulty import FEATURES, MODEL_PATH, Model, feature_vector  # noqa: E402
from chesseval.core.puzzles import load_puzzles  # noqa: E402


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra = np.argsort(np.argsort(a, kind="stable"), kind="stable").astype(float)
    rb = np.argsort(np.argsort(b, kind="stable"), kind="stable").astype(float)
    return float(np.corrcoef(ra, rb)[0, 1])


def rmse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((a - b) ** 2)))


class GBM:
    def __init__(self, n_trees: int = 400, depth: int = 4, lr: float = 0.05, min_leaf: int = 40,
                 n_bins: int = 32, subsample: float = 0.8, l2: float = 10.0, seed: int = 0) -> None:
        self.n_trees, self.depth, self.lr, self.min_leaf = n_trees, depth, lr, min_leaf
        self.n_bins, self.subsample, self.l2, self.seed = n_bins, subsample, l2, seed

    def _bin(self, X: np.ndarray) -> np.ndarray:
        out = np.empty(X.shape, dtype=np.int32)
        for j, edges in enumerate(self.edges):
            out[:, j] = np.searchsorted(edges, X[:, j], side="left")
        return out

    def fit(self, X: np.ndarray, y: np.ndarray) -> GBM:
        rng = np.random.default_rng(self.seed)
        # Bin edges: unique quantiles; value <= edges[k] falls in bin k.
        self.edges = []
        for j in range(X.shape[1]):
            qs = np.unique(np.quantile(X[:, j], np.linspace(0, 1, self.n_bins + 1)[1:-1]))
            self.edges.append(qs)
        B = self._bin(X)
        self.base = float(y.mean())
        pred = np.full(len(y), self.base)
        self.trees: list[list[tuple[int, float, int, int, float]]] = []
        for _ in range(self.n_trees):
            resid = y - pred
            rows = np.flatnonzero(rng.random(len(y)) < self.subsample)
            tree: list[tuple[int, float, int, int, float]] = []
            self._grow(tree, B, resid, rows, 0)
            self.trees.append(tree)
            pred += self.lr * self._predict_tree(tree, X)
        return self

    def _grow(self, tree: list, B: np.ndarray, r: np.ndarray, rows: np.ndarray, depth: int) -> int:  # type: ignore[type-arg]
        idx = len(tree)
        tree.append((-1, 0.0, -1, -1, float(r[rows].sum() / (len(rows) + self.l2))))
        if depth >= self.depth or len(rows) < 2 * self.min_leaf:
            return idx
        rr = r[rows]
        total, n = rr.sum(), len(rows)
        best = (0.0, -1, -1)
        parent_score = total * total / (n + self.l2)
        for j in range(B.shape[1]):
            nb = len(self.edges[j]) + 1
            if nb < 2:
                continue
            b = B[rows, j]
            s = np.bincount(b, weights=rr, minlength=nb)
            c = np.bincount(b, minlength=nb)
            cs, cc = np.cumsum(s)[:-1], np.cumsum(c)[:-1]
            ok = (cc >= self.min_leaf) & (n - cc >= self.min_leaf)
            if not ok.any():
                continue
            gain = cs**2 / (cc + self.l2) + (total - cs) ** 2 / (n - cc + self.l2) - parent_score
            gain = np.where(ok, gain, -np.inf)
            k = int(np.argmax(gain))
            if gain[k] > best[0]:
                best = (float(gain[k]), j, k)
        if best[1] < 0:
            return idx
        _, j, k = best
        thr = float(self.edges[j][k])
        left_rows = rows[B[rows, j] <= k]
        right_rows = rows[B[rows, j] > k]
        left = self._grow(tree, B, r, left_rows, depth + 1)
        right = self._grow(tree, B, r, right_rows, depth + 1)
        tree[idx] = (j, thr, left, right, 0.0)
        return idx

    @staticmethod
    def _predict_tree(tree: list, X: np.ndarray) -> np.ndarray:  # type: ignore[type-arg]
        out = np.zeros(len(X))
        stack = [(0, np.arange(len(X)))]
        while stack:
            node, rows = stack.pop()
            feat, thr, left, right, value = tree[node]
            if feat < 0:
                out[rows] = value
                continue
            go_left = X[rows, feat] <= thr
            stack.append((left, rows[go_left]))
            stack.append((right, rows[~go_left]))
        return out

    def predict(self, X: np.ndarray) -> np.ndarray:
        pred = np.full(len(X), self.base)
        for tree in self.trees:
            pred += self.lr * self._predict_tree(tree, X)
        return pred


def ridge_fit_predict(Xtr: np.ndarray, ytr: np.ndarray, Xte: np.ndarray, alpha: float = 10.0) -> np.ndarray:
    mu, sd = Xtr.mean(0), Xtr.std(0) + 1e-9
    A = (Xtr - mu) / sd
    w = np.linalg.solve(A.T @ A + alpha * np.eye(A.shape[1]), A.T @ (ytr - ytr.mean()))
    return ((Xte - mu) / sd) @ w + ytr.mean()


def quantile_map(raw: np.ndarray, y: np.ndarray, points: int = 41) -> tuple[list[float], list[float]]:
    """Monotone map sending quantiles of the raw predictions to the same quantiles of the ratings."""
    qs = np.linspace(0.0, 1.0, points)
    xs = np.quantile(raw, qs)
    ys = np.quantile(y, qs)
    xs_u, keep = np.unique(np.round(xs, 6), return_index=True)
    return [float(v) for v in xs_u], [float(round(v, 1)) for v in ys[keep]]


def apply_map(raw: np.ndarray, cal: tuple[list[float], list[float]]) -> np.ndarray:
    return np.interp(raw, cal[0], cal[1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "lichess_sample.csv"))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--trees", type=int, default=400)
    ap.add_argument("--limit", type=int, default=None, help="use only the first N puzzles (quick trials)")
    ap.add_argument("--cache", default=None, help="feature cache (.npz) outside the repo, to skip recomputing")
    ap.add_argument("--out", default=str(MODEL_PATH))
    args = ap.parse_args()

    t0 = time.time()
    cache = Path(args.cache) if args.cache else None
    if cache and cache.exists():
        z = np.load(cache)
        X, y = z["X"], z["y"]
        assert X.shape[1] == len(FEATURES), "feature cache is stale; delete it"
    else:
        puzzles = load_puzzles(args.data, limit=args.limit)
        X = np.array([feature_vector(p) for p in puzzles], dtype=float)
        y = np.array([p.rating for p in puzzles], dtype=float)
        if cache:
            np.savez(cache, X=X, y=y)
    print(f"{len(y)} puzzles, {X.shape[1]} features ({time.time() - t0:.0f}s)")

    rng = np.random.default_rng(args.seed)
    fold = rng.permutation(len(y)) % args.folds
    oof = np.zeros(len(y))
    oof_ridge = np.zeros(len(y))
    for k in range(args.folds):
        tr, te = fold != k, fold == k
        m = GBM(n_trees=args.trees, seed=args.seed + k).fit(X[tr], y[tr])
        oof[te] = m.predict(X[te])
        oof_ridge[te] = ridge_fit_predict(X[tr], y[tr], X[te])
        print(f"fold {k}: spearman {spearman(oof[te], y[te]):.3f} rmse {rmse(oof[te], y[te]):.0f} ({time.time() - t0:.0f}s)", flush=True)
    # Calibration is fitted on out-of-fold predictions of the *other* folds for an honest CV figure.
    oof_cal = np.zeros(len(y))
    for k in range(args.folds):
        tr, te = fold != k, fold == k
        oof_cal[te] = apply_map(oof[te], quantile_map(oof[tr], y[tr]))
    results = {
        "n": int(len(y)),
        "folds": args.folds,
        "seed": args.seed,
        "cv_spearman_raw": round(spearman(oof, y), 4),
        "cv_rmse_raw": round(rmse(oof, y), 1),
        "cv_spearman_calibrated": round(spearman(oof_cal, y), 4),
        "cv_rmse_calibrated": round(rmse(oof_cal, y), 1),
        "cv_spearman_ridge": round(spearman(oof_ridge, y), 4),
        "cv_rmse_ridge": round(rmse(oof_ridge, y), 1),
        "rating_sd": round(float(y.std()), 1),
    }
    for k, v in results.items():
        print(f"{k}: {v}")
    final = GBM(n_trees=args.trees, seed=args.seed).fit(X, y)
    cal = quantile_map(oof, y)
    model = Model(
        features=FEATURES,
        base=final.base,
        learning_rate=final.lr,
        trees=tuple(tuple(tuple(n) for n in t) for t in final.trees),  # type: ignore[misc]
        calibration=(tuple(cal[0]), tuple(cal[1])),
        meta={"trained_on": Path(args.data).name, "model": f"GBM depth {final.depth}, {final.n_trees} trees, lr {final.lr}",
              **results},
    )
    Path(args.out).write_text(json.dumps(model.to_json(), separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"model -> {args.out} ({time.time() - t0:.0f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
