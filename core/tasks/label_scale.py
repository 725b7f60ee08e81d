"""The label scale the GP read-outs work on, chosen on training rows only.

Mutational effects are often additive on a log scale (an enantioselectivity E-value is
``exp(ΔΔG / RT)``, so free energies add and E-values multiply), while a GP with normalised
targets assumes additivity on the scale it is given. :func:`choose_scale` compares ``none``
and ``log`` (only when every training label is positive) by cross-validation *inside* the
training rows, and returns the scale with the lower MAE measured on the original scale.

The rows to be predicted may differ from the training rows in their number of mutations ``m``
(the built-in test sets do: absorption's test variants carry 3–4 mutations, its training
variants 1.2 on average). With ``m`` of both, the validation errors are importance-weighted by
the density ratio p_target(m) / p_train(m) (Sugiyama, Krauledat & Müller 2007, "Covariate
shift adaptation by importance weighted cross validation", JMLR 8): training rows that look
like the rows to be predicted count more. Only covariates of the target rows are read, never
their labels. Without ``m`` every row counts the same (ordinary CV).

The proxy model of the comparison is the one-hot GP with a linear + Matérn kernel on the
columns varying in training (cheap: no CNN is trained inside the folds). :func:`choose_readout`
chooses, the same way, whether that GP merges columns identical across the training rows
(chimera blocks; :class:`core.tasks.readouts.GPReadout` ``grouped``), whether the committee's
GPs use a linear + Matérn or a Matérn kernel, and whether they model the labels around an
explicit trend on the distance to the parent (:func:`parent_distance`, :func:`fit_trend`)
instead of around the training mean: a GP with a constant mean reverts rows far from the
training rows to the training mean, a trend extrapolates along the number of mutations.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

#: label scales a model may be configured with (``auto`` chooses between the other two)
SCALES = ("none", "log", "auto")
#: merging of columns identical across the training rows (``auto`` chooses by the same CV)
MERGES = ("no", "yes", "auto")
#: the GPs' mean: the training mean (``none``), or a linear trend on the distance to the
#: parent (``distance``); ``auto`` chooses by the same CV
TRENDS = ("none", "distance", "auto")
#: kernels of the committee GPs that the CV may choose between
KERNELS = ("linear+matern", "matern")


class ReadoutChoice(NamedTuple):
    """One candidate of the inner-CV choice: label scale, merged columns, kernel, trend."""

    scale: str = "none"
    grouped: bool = False
    kernel: str = "linear+matern"
    trend: bool = False

    @property
    def name(self) -> str:
        return self.scale + ("+grouped" if self.grouped else "") + \
            ("+matern" if self.kernel == "matern" else "") + ("+trend" if self.trend else "")


def mutation_counts(table) -> np.ndarray | None:
    """(N,) column ``m`` (mutations from the parent) of a table, or None when the table has no
    such column or any row lacks a number: the importance weights need every row's ``m``."""
    import pandas as pd

    if "m" not in table.columns:
        return None
    m = pd.to_numeric(table["m"], errors="coerce").to_numpy(float)
    return m if np.isfinite(m).all() else None


def forward(y: np.ndarray, scale: str) -> np.ndarray:
    """Labels on the read-out's scale."""
    y = np.asarray(y, dtype=np.float64)
    if scale == "log":
        if not (y > 0).all():
            raise ValueError("the log label scale needs positive labels")
        return np.log(y)
    return y


def backward(mean: np.ndarray, std: np.ndarray | None, scale: str
             ) -> tuple[np.ndarray, np.ndarray | None]:
    """Prediction back on the label scale: the median ``exp(mean)`` and, by the delta method,
    ``exp(mean) * std`` (a symmetric σ, as the coverage figures assume)."""
    if scale != "log":
        return mean, std
    centre = np.exp(mean)
    return centre, None if std is None else centre * std


def shift_weights(m_train, m_target, *, bandwidth: float = 0.5) -> np.ndarray:
    """Importance weights (mean 1) of training rows: Gaussian-kernel density of ``m`` among the
    target rows over that among the training rows (bandwidth in units of the pooled std of
    ``m``), capped at three times the 95th percentile so no single row decides."""
    m_train = np.asarray(m_train, dtype=np.float64)
    m_target = np.asarray(m_target, dtype=np.float64)
    if not len(m_target) or not np.isfinite(m_train).all() or not np.isfinite(m_target).all():
        return np.ones(len(m_train))
    h = bandwidth * (np.std(np.r_[m_train, m_target]) or 1.0)

    def density(points, at):
        return np.exp(-0.5 * ((at[:, None] - points[None, :]) / h) ** 2).mean(axis=1)

    w = density(m_target, m_train) / np.maximum(density(m_train, m_train), 1e-12)
    w = np.minimum(w, 3 * np.quantile(w, 0.95) + 1e-12)
    return w / w.mean() if w.sum() > 0 else np.ones(len(m_train))


def parent_rows(X: np.ndarray, m) -> np.ndarray | None:
    """(P, F) rows with no mutation (``m == 0``, the parents) among X, or None without any."""
    if m is None:
        return None
    m = np.asarray(m, dtype=np.float64)
    return X[m == 0] if (m == 0).any() else None


def parent_distance(X: np.ndarray, parents: np.ndarray) -> np.ndarray:
    """(N,) Hamming distance of one-hot rows X (N, F) to the nearest parent row (P, F): the
    number of positions that differ (for aligned rows, the number of mutations ``m``)."""
    X = np.asarray(X, dtype=np.float64)
    d = np.stack([np.abs(X - p).sum(axis=1) / 2 for p in np.asarray(parents, np.float64)])
    return d.min(axis=0)


def fit_trend(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(2,) least-squares intercept and slope of ``y`` on ``z``."""
    A = np.c_[np.ones(len(z)), np.asarray(z, dtype=np.float64)]
    return np.linalg.lstsq(A, np.asarray(y, dtype=np.float64), rcond=None)[0]


def trend_at(coef, z: np.ndarray) -> np.ndarray:
    """The trend ``coef[0] + coef[1] * z`` (zeros for ``coef`` None)."""
    z = np.asarray(z, dtype=np.float64)
    return np.zeros(len(z)) if coef is None else coef[0] + coef[1] * z


def _proxy(X_fit, y_fit, X_val, c: ReadoutChoice, z_fit, z_val, *, seed: int) -> np.ndarray:
    from core.tasks.readouts import GPReadout

    coef = fit_trend(z_fit, y_fit) if c.trend else None
    lin = c.kernel == "linear+matern"
    gp = GPReadout(n_restarts=0, random_state=seed, linear=lin, varying_only=True,
                   grouped=c.grouped)
    pred = gp.fit([X_fit], y_fit - trend_at(coef, z_fit)).predict([X_val])[0]
    return pred + trend_at(coef, z_val)


def candidate_name(scale: str, grouped: bool) -> str:
    return ReadoutChoice(scale, grouped).name


def choose_readout(X: np.ndarray, y, *, scales=("none", "log"), grouped=(False,),
                   kernels=("linear+matern",), trends=(False,), parents=None,
                   m_train=None, m_target=None, folds: int = 5, repeats: int = 2,
                   seed: int = 0) -> tuple[ReadoutChoice, dict[str, float]]:
    """The candidate read-out with the lowest (importance-weighted) inner-CV MAE of the proxy
    GP (one-hot rows only, no restarts).

    Parameters
    ----------
    X : (N, F) one-hot rows of the training proteins.
    y : (N,) their labels.
    scales, grouped, kernels, trends : the candidates (``log`` is dropped unless every label
        is positive; merged columns only with the linear kernel; a trend only with
        ``parents``).
    parents : (P, F) one-hot rows of the parents (the trend's covariate is the distance to
        the nearest one).
    m_train, m_target : number of mutations of the training rows and of the rows to be
        predicted (optional; both are needed for the importance weights).

    Returns
    -------
    (the chosen ReadoutChoice, {candidate name: weighted inner-CV MAE on the label scale})
    """
    from sklearn.model_selection import KFold

    y = np.asarray(y, dtype=np.float64)
    scales = [s for s in scales if s != "log" or (y > 0).all()] or list(scales)
    trends = trends if parents is not None else (False,)
    candidates = [ReadoutChoice(s, g, k, t) for s in scales for k in kernels
                  for g in (grouped if k == "linear+matern" else (False,)) for t in trends]
    if len(candidates) == 1 or len(y) < 2 * folds:
        return candidates[0], {}
    z = parent_distance(X, parents) if parents is not None else np.zeros(len(y))
    w = np.ones(len(y)) if m_train is None or m_target is None else \
        shift_weights(m_train, m_target)
    errors = dict.fromkeys(candidates, 0.0)  # weighted absolute errors, pooled over folds
    for r in range(repeats):
        for fit, val in KFold(folds, shuffle=True, random_state=seed + r).split(X):
            for c in candidates:
                pred = _proxy(X[fit], forward(y[fit], c.scale), X[val], c, z[fit], z[val],
                              seed=seed)
                pred, _ = backward(pred, None, c.scale)
                errors[c] += float(np.sum(w[val] * np.abs(pred - y[val])))
    best = min(errors, key=errors.get)
    return best, {c.name: e / (repeats * w.sum()) for c, e in errors.items()}


def choose_scale(X: np.ndarray, y, **kwargs) -> tuple[str, dict[str, float]]:
    """The label scale (``none`` or ``log``) with the lower inner-CV MAE (see
    :func:`choose_readout`)."""
    choice, scores = choose_readout(X, y, **kwargs)
    return choice.scale, scores
