#!/usr/bin/env python3
"""Reference values for Canopy's metric and random-number tests (Tests/CanopyTrainTests).

Computed independently of the Swift code, with numpy only (scikit-learn is not a dependency):
  - macro-F1 from per-class precision and recall, averaged over the classes in labels or predictions,
    which is scikit-learn's f1_score(average="macro") with zero_division=0;
  - ROC AUC by counting every (positive, negative) pair, ties counting 1/2 -- not by ranks as Canopy does;
  - R² as 1 - SS_res/SS_tot in float64; SS_tot = 0 gives 1.0 (perfect) or 0.0, as r2_score(force_finite=True);
  - the first outputs of xoshiro256** seeded by SplitMix64, straight from the published C reference.

Run: python3 Scripts/metrics_reference.py   (prints the values pasted into the tests)
"""
import numpy as np

MASK64 = (1 << 64) - 1


def accuracy(pred, y):
    return float(np.mean(np.asarray(pred) == np.asarray(y)))


def macro_f1(pred, y):
    pred, y = np.asarray(pred), np.asarray(y)
    scores = []
    for c in np.union1d(pred, y):
        tp = np.sum((pred == c) & (y == c))
        fp = np.sum((pred == c) & (y != c))
        fn = np.sum((pred != c) & (y == c))
        precision = tp / (tp + fp) if tp + fp > 0 else 0.0
        recall = tp / (tp + fn) if tp + fn > 0 else 0.0
        scores.append(0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall))
    return float(np.mean(scores))


def roc_auc_pairs(scores, positive):
    scores, positive = np.asarray(scores, dtype=np.float64), np.asarray(positive, dtype=bool)
    pos, neg = scores[positive], scores[~positive]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(wins / (len(pos) * len(neg)))


def regression(pred, y):
    pred, y = np.asarray(pred, dtype=np.float32).astype(np.float64), np.asarray(y, dtype=np.float32).astype(np.float64)
    e = pred - y
    ss_res, ss_tot = float(np.sum(e * e)), float(np.sum((y - y.mean()) ** 2))
    r2 = (1.0 if ss_res == 0 else 0.0) if ss_tot == 0 else 1 - ss_res / ss_tot
    return float(np.mean(e * e)), float(np.mean(np.abs(e))), r2


def xoshiro256ss(seed, n):
    x = seed
    state = []
    for _ in range(4):
        x = (x + 0x9E3779B97F4A7C15) & MASK64
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        state.append(z ^ (z >> 31))
    s = state
    rotl = lambda v, k: ((v << k) | (v >> (64 - k))) & MASK64
    out = []
    for _ in range(n):
        out.append(rotl((s[1] * 5) & MASK64, 7) * 9 & MASK64)
        t = (s[1] << 17) & MASK64
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t
        s[3] = rotl(s[3], 45)
    return out


if __name__ == "__main__":
    # Classification case used in MetricsTests: 4 classes, class 3 only ever predicted.
    y = [0, 0, 0, 1, 1, 1, 1, 2, 2, 2]
    p = [0, 1, 0, 1, 1, 2, 3, 2, 2, 0]
    print("accuracy", repr(accuracy(p, y)))
    print("macro_f1", repr(macro_f1(p, y)))
    # AUC case with ties across classes.
    s = [0.1, 0.4, 0.35, 0.8, 0.4, 0.7, 0.2, 0.4]
    t = [0, 0, 1, 1, 1, 0, 0, 1]
    print("auc", repr(roc_auc_pairs(s, t)))
    # Regression case.
    pr = [2.5, 0.0, 2.0, 8.0, -1.5]
    tr = [3.0, -0.5, 2.0, 7.0, -1.0]
    print("mse mae r2", *map(repr, regression(pr, tr)))
    print("xoshiro256** seed 0", [hex(v) for v in xoshiro256ss(0, 3)])
    print("xoshiro256** seed 42", [hex(v) for v in xoshiro256ss(42, 3)])
