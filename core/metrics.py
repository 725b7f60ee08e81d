"""Scores shared by the pipelines (NumPy and scikit-learn only).

Regression: MAE, RMSE, Spearman, R² and the calibration of a predictive standard deviation
(the share of measured values inside ±1σ and ±2σ; a calibrated Gaussian gives 0.683 and 0.954).
"""
from __future__ import annotations

import numpy as np


def _finite(*arrays: np.ndarray) -> np.ndarray:
    ok = np.ones(len(arrays[0]), dtype=bool)
    for arr in arrays:
        ok &= np.isfinite(arr)
    return ok


def regression_metrics(y_true, y_pred, y_std=None) -> dict[str, float]:
    """Scores of predictions against measurements; rows with a missing value are left out.

    Parameters
    ----------
    y_true, y_pred : array-like, shape (N,)
    y_std : array-like, shape (N,), optional
        Predictive standard deviation; adds ``coverage_1sd``, ``coverage_2sd`` and
        ``mean_std``.

    Returns
    -------
    dict
        ``n``, ``mae``, ``rmse``, ``spearman``, ``r2`` (and the coverage figures). Spearman and
        R² are NaN with fewer than 3 rows or constant inputs.
    """
    from scipy.stats import spearmanr

    y_true = np.asarray(y_true, dtype=float).reshape(-1)
    y_pred = np.asarray(y_pred, dtype=float).reshape(-1)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} differ in shape")
    arrays = [y_true, y_pred]
    if y_std is not None:
        y_std = np.asarray(y_std, dtype=float).reshape(-1)
        arrays.append(y_std)
    ok = _finite(*arrays)
    t, p = y_true[ok], y_pred[ok]
    out: dict[str, float] = {"n": float(ok.sum())}
    if not ok.any():
        return out | {"mae": float("nan"), "rmse": float("nan"), "spearman": float("nan"),
                      "r2": float("nan")}
    err = p - t
    out["mae"] = float(np.abs(err).mean())
    out["rmse"] = float(np.sqrt((err**2).mean()))
    varying = len(t) >= 3 and np.ptp(t) > 0 and np.ptp(p) > 0
    out["spearman"] = float(spearmanr(t, p).statistic) if varying else float("nan")
    ss_tot = float(((t - t.mean()) ** 2).sum())
    out["r2"] = 1.0 - float((err**2).sum()) / ss_tot if len(t) >= 3 and ss_tot > 0 else float("nan")
    if y_std is not None:
        s = np.maximum(y_std[ok], 1e-12)
        z = np.abs(err) / s
        out["coverage_1sd"] = float((z <= 1.0).mean())
        out["coverage_2sd"] = float((z <= 2.0).mean())
        out["mean_std"] = float(s.mean())
    return out


def mean_se(values) -> tuple[float, float]:
    """Mean and standard error (sample std / sqrt(n)) of finite values; se NaN for n < 2."""
    arr = np.asarray(values, dtype=float).reshape(-1)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return float("nan"), float("nan")
    se = float(arr.std(ddof=1) / np.sqrt(arr.size)) if arr.size > 1 else float("nan")
    return float(arr.mean()), se


def paired_difference(a, b) -> tuple[float, float]:
    """Mean and standard error of ``a - b`` over matched folds or seeds (a paired comparison)."""
    a = np.asarray(a, dtype=float).reshape(-1)
    b = np.asarray(b, dtype=float).reshape(-1)
    if a.shape != b.shape:
        raise ValueError("paired values need the same shape")
    return mean_se(a - b)
