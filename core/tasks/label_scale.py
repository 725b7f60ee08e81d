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
(chimera blocks; :class:`core.tasks.readouts.GPReadout` ``grouped``).
"""
from __future__ import annotations

import numpy as np

#: label scales a model may be configured with (``auto`` chooses between the other two)
SCALES = ("none", "log", "auto")
#: merging of columns identical across the training rows (``auto`` chooses by the same CV)
MERGES = ("no", "yes", "auto")


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


def _proxy(X_fit, y_fit, X_val, *, grouped: bool, seed: int) -> np.ndarray:
    from core.tasks.readouts import GPReadout

    gp = GPReadout(n_restarts=0, random_state=seed, linear=True, varying_only=True,
                   grouped=grouped)
    return gp.fit([X_fit], y_fit).predict([X_val])[0]


def candidate_name(scale: str, grouped: bool) -> str:
    return scale + ("+grouped" if grouped else "")


def choose_readout(X: np.ndarray, y, *, scales=("none", "log"), grouped=(False,),
                   m_train=None, m_target=None, folds: int = 5, repeats: int = 2,
                   seed: int = 0) -> tuple[tuple[str, bool], dict[str, float]]:
    """The (label scale, merge identical columns) pair with the lowest (importance-weighted)
    inner-CV MAE of the proxy GP.

    Parameters
    ----------
    X : (N, F) one-hot rows of the training proteins.
    y : (N,) their labels.
    scales, grouped : the candidates (``log`` is dropped unless every label is positive).
    m_train, m_target : number of mutations of the training rows and of the rows to be
        predicted (optional; both are needed for the importance weights).

    Returns
    -------
    ((scale, grouped), {candidate name: weighted inner-CV MAE on the label scale})
    """
    from sklearn.model_selection import KFold

    y = np.asarray(y, dtype=np.float64)
    scales = [s for s in scales if s != "log" or (y > 0).all()] or list(scales)
    candidates = [(s, g) for s in scales for g in grouped]
    if len(candidates) == 1 or len(y) < 2 * folds:
        return candidates[0], {}
    w = np.ones(len(y)) if m_train is None or m_target is None else \
        shift_weights(m_train, m_target)
    errors = dict.fromkeys(candidates, 0.0)  # weighted absolute errors, pooled over folds
    for r in range(repeats):
        for fit, val in KFold(folds, shuffle=True, random_state=seed + r).split(X):
            for s, g in candidates:
                pred = _proxy(X[fit], forward(y[fit], s), X[val], grouped=g, seed=seed)
                pred, _ = backward(pred, None, s)
                errors[(s, g)] += float(np.sum(w[val] * np.abs(pred - y[val])))
    best = min(errors, key=errors.get)
    return best, {candidate_name(*c): e / (repeats * w.sum()) for c, e in errors.items()}


def choose_scale(X: np.ndarray, y, **kwargs) -> tuple[str, dict[str, float]]:
    """The label scale (``none`` or ``log``) with the lower inner-CV MAE (see
    :func:`choose_readout`)."""
    (scale, _), scores = choose_readout(X, y, **kwargs)
    return scale, scores
