"""Read-outs that turn features into property predictions with uncertainty.

:class:`GPReadout` is the paper's Gaussian process (Matérn ν = 5/2, plus a white-noise term,
``normalize_y=True``, restarts of the optimiser). Features may come in *blocks* (e.g. the CNN
embedding and a one-hot encoding): each block gets its own Matérn kernel and amplitude, so the
marginal likelihood decides how much each block counts instead of an arbitrary scaling.

A fitted GP is not pickled into the run store: :meth:`GPReadout.state` is a small JSON-able dict
(block layout, scales, fitted log-hyper-parameters) and :meth:`GPReadout.from_state` rebuilds the
same GP from it and the training data, with no optimisation, so predictions are reproduced.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process.kernels import Hyperparameter, Kernel


class OnColumns(Kernel):
    """Apply ``kernel`` to the columns ``start:stop`` of the inputs only (an "active dims" kernel).

    Modelled on scikit-learn's ``Exponentiation``: the wrapped kernel's hyper-parameters are
    exposed as ``kernel__<name>`` so the GP optimiser sees and tunes them.
    """

    def __init__(self, kernel: Kernel, start: int, stop: int):
        self.kernel = kernel
        self.start = start
        self.stop = stop

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        params = {"kernel": self.kernel, "start": self.start, "stop": self.stop}
        if deep:
            params.update(("kernel__" + k, v) for k, v in self.kernel.get_params().items())
        return params

    @property
    def hyperparameters(self) -> list[Hyperparameter]:
        return [Hyperparameter("kernel__" + h.name, h.value_type, h.bounds, h.n_elements,
                               h.fixed) for h in self.kernel.hyperparameters]

    @property
    def theta(self) -> np.ndarray:
        return self.kernel.theta

    @theta.setter
    def theta(self, theta: np.ndarray) -> None:
        self.kernel.theta = theta

    @property
    def bounds(self) -> np.ndarray:
        return self.kernel.bounds

    def __call__(self, X, Y=None, eval_gradient=False):
        X = np.asarray(X)[:, self.start:self.stop]
        Y = None if Y is None else np.asarray(Y)[:, self.start:self.stop]
        return self.kernel(X, Y, eval_gradient=eval_gradient)

    def diag(self, X):
        return self.kernel.diag(np.asarray(X)[:, self.start:self.stop])

    def is_stationary(self) -> bool:
        return self.kernel.is_stationary()

    @property
    def requires_vector_input(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"{self.kernel!r}[:, {self.start}:{self.stop}]"


def _block_scale(X: np.ndarray) -> float:
    """A typical distance between rows (median over pairs), so length scales start near 1."""
    from scipy.spatial.distance import pdist

    d = pdist(X) if len(X) > 1 else np.zeros(1)
    d = d[d > 0]
    return float(np.median(d)) if d.size else 1.0


def _merge_identical(X: np.ndarray) -> np.ndarray:
    """(F, G) matrix averaging the columns of X (N, F) that are identical over its rows."""
    if X.shape[1] == 0:
        return np.eye(0)
    _, inverse = np.unique(X.T, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    merge = np.zeros((X.shape[1], int(inverse.max()) + 1))
    merge[np.arange(X.shape[1]), inverse] = 1.0
    return merge / merge.sum(axis=0, keepdims=True)


def _distance_preserving(X: np.ndarray) -> np.ndarray:
    """Rows of X (N, F), centred, in at most N - 1 columns with every pairwise distance (and
    every dot product of the centred rows) kept."""
    X = X[:, np.ptp(X, axis=0) > 0]  # constant columns add nothing to distances
    if X.shape[1] == 0:
        return np.zeros((len(X), 1))
    centred = X - X.mean(axis=0)
    if X.shape[1] < len(X):
        return centred
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    rank = int((s > s[0] * 1e-10).sum()) if s.size else 0
    return u[:, :max(rank, 1)] * s[:max(rank, 1)]


def _holdout_nll(kernel: Kernel, theta: np.ndarray, X: np.ndarray, y: np.ndarray,
                 hold: np.ndarray) -> float:
    """Negative log predictive density of rows ``hold`` given the others (normalised y)."""
    from scipy.linalg import cho_factor, cho_solve

    fit = ~hold
    mu0, sd0 = y[fit].mean(), y[fit].std() or 1.0
    yf, yv = (y[fit] - mu0) / sd0, (y[hold] - mu0) / sd0
    K = kernel.clone_with_theta(theta)(X)  # (N, N); the white-noise term sits on the diagonal
    try:
        factor = cho_factor(K[np.ix_(fit, fit)] + 1e-8 * np.eye(fit.sum()), lower=True)
    except np.linalg.LinAlgError:
        return np.inf
    kvf = K[np.ix_(hold, fit)]  # (V, F)
    mean = kvf @ cho_solve(factor, yf)
    var = np.diag(K)[hold] - np.einsum("vf,fv->v", kvf, cho_solve(factor, kvf.T))
    var = np.maximum(var, 1e-9)
    return float(0.5 * np.sum(np.log(2 * np.pi * var) + (yv - mean) ** 2 / var))


def _holdout_theta(kernel: Kernel, X: np.ndarray, y: np.ndarray, hold: np.ndarray
                   ) -> np.ndarray:
    """Log-hyper-parameters minimising the holdout NLL, from the likelihood optimum."""
    from scipy.optimize import minimize

    start = np.asarray(kernel.theta, dtype=np.float64)
    bounds = np.asarray(kernel.bounds, dtype=np.float64)
    best = _holdout_nll(kernel, start, X, y, hold)
    res = minimize(lambda t: _holdout_nll(kernel, t, X, y, hold), start, method="L-BFGS-B",
                   bounds=bounds, options={"maxiter": 60})
    return np.asarray(res.x) if np.isfinite(res.fun) and res.fun < best else start


def _kernel(widths: Sequence[int], *, nu: float, noise: float, linear: bool = False) -> Kernel:
    """Sum over blocks of amplitude x Matérn (and, with ``linear``, amplitude x dot product),
    plus white noise. The dot product is an additive per-column effect (Bayesian linear
    regression on the block, e.g. one effect per residue at each position); the Matérn term
    carries what is not additive."""
    from sklearn.gaussian_process.kernels import ConstantKernel, DotProduct, Matern, WhiteKernel

    parts, start = [], 0
    for width in widths:
        terms = [Matern(length_scale=1.0, length_scale_bounds=(1e-2, 1e3), nu=nu)]
        if linear:
            terms.append(DotProduct(sigma_0=0.0, sigma_0_bounds="fixed"))
        for term in terms:
            parts.append(ConstantKernel(1.0, (1e-3, 1e2)) * (
                term if len(widths) == 1 else OnColumns(term, start, start + width)))
        start += width
    kernel = parts[0]
    for part in parts[1:]:
        kernel = kernel + part
    return kernel + WhiteKernel(noise, (1e-5, 1e1))


class GPReadout:
    """Gaussian-process regression on one or more blocks of features.

    Parameters
    ----------
    n_restarts : int
        Extra random starts of the hyper-parameter optimiser (scikit-learn's
        ``n_restarts_optimizer``).
    nu : float
        Matérn smoothness (paper: 2.5).
    random_state : int
        Seeds the optimiser's restarts.
    linear : bool
        Add a linear (dot-product) kernel with its own amplitude to every block: additive
        effects of the columns plus a Matérn term for the rest. Blocks are then centred on
        their training mean (distances, hence the Matérn term, are unchanged).
    varying_only : bool
        Read only the columns that vary among the training rows (e.g. the mutated positions
        and residues seen in training). A residue no training protein has then adds nothing
        to a new protein's distances: its effect is unknown, so the prediction rests on the
        mutations that were seen.
    grouped : with ``varying_only``, columns identical across the training rows are read as
        one column (their mean). In a chimera library a block inherited from one parent flips
        all its differing positions together; merged, each block counts once in distances and
        in the linear term instead of once per differing position.

    Attributes
    ----------
    gp_ : sklearn GaussianProcessRegressor, fitted
    scales_ : list of float, the divisor of each block (median pairwise training distance)
    centres_ : list of (F_b,) arrays, the training mean of each scaled block (zeros without
        ``linear``)
    widths_ : list of int, columns read per block
    columns_ : list of int arrays, the columns read per block (all, or those varying in training)
    merges_ : list of (len(columns), G) arrays or None, the column averaging of ``grouped``
    """

    def __init__(self, *, n_restarts: int = 3, nu: float = 2.5, noise: float = 0.1,
                 random_state: int = 0, linear: bool = False, varying_only: bool = False,
                 grouped: bool = False):
        self.n_restarts = n_restarts
        self.nu = nu
        self.noise = noise
        self.random_state = random_state
        self.linear = linear
        self.varying_only = varying_only
        self.grouped = grouped

    def _choose_columns(self, blocks: Sequence[np.ndarray]) -> None:
        """The columns read per block: all, or (``varying_only``) those varying in training."""
        self.columns_ = []
        for b in blocks:
            cols = np.flatnonzero(np.ptp(b, axis=0) > 0) if self.varying_only and len(b) \
                else np.arange(b.shape[1])
            self.columns_.append(cols if cols.size else np.arange(min(1, b.shape[1])))
        self.merges_ = [_merge_identical(np.asarray(b, dtype=np.float64)[:, cols])
                        if self.grouped and self.varying_only else None
                        for b, cols in zip(blocks, self.columns_, strict=True)]

    def _select(self, blocks: Sequence[np.ndarray]) -> list[np.ndarray]:
        out = []
        for b, cols, merge in zip(blocks, self.columns_, self.merges_, strict=True):
            x = np.asarray(b, dtype=np.float64).reshape(len(b), -1)[:, cols]
            out.append(x if merge is None else x @ merge)
        return out

    def _stack(self, blocks: Sequence[np.ndarray]) -> np.ndarray:
        cols = [b / scale - centre for b, scale, centre in
                zip(self._select(blocks), self.scales_, self.centres_, strict=True)]
        return np.hstack(cols)

    def _centre(self, blocks: Sequence[np.ndarray]) -> None:
        """Training means of the scaled blocks (the dot product's origin); zeros unless linear."""
        self.centres_ = [(b / s).mean(axis=0) if self.linear else np.zeros(b.shape[1])
                         for b, s in zip(blocks, self.scales_, strict=True)]

    def fit(self, blocks: np.ndarray | Sequence[np.ndarray], y, *,
            holdout: np.ndarray | None = None) -> GPReadout:
        """Fit hyper-parameters, then the GP on all rows and columns.

        Parameters
        ----------
        blocks : array (N, F) or list of arrays (N, F_b)
            Training features; several arrays are several blocks.
        y : array (N,)
        holdout : bool array (N,), optional
            Rows whose features were *not* used to train the encoder that made them (its
            validation split). Features of the encoder's own training rows fit their labels
            better than any new protein's will, so the marginal likelihood over all rows trusts
            them too much (too little noise, too much weight against other blocks). With a
            holdout, the hyper-parameters are refined to predict the holdout rows from the
            others (predictive log-likelihood), starting from the marginal-likelihood optimum.
        """
        from sklearn.gaussian_process import GaussianProcessRegressor

        blocks = [blocks] if isinstance(blocks, np.ndarray) else list(blocks)
        blocks = [np.asarray(b, dtype=np.float64).reshape(len(b), -1) for b in blocks]
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        raw = blocks
        self._choose_columns(raw)
        blocks = self._select(raw)
        self.widths_ = [b.shape[1] for b in blocks]
        self.scales_ = [_block_scale(b) for b in blocks]
        self._centre(blocks)
        # Hyper-parameters are searched on a compact copy of the training features that keeps
        # every training distance; the found kernel is then refitted on the full columns, so new
        # sequences' own mutations still count at prediction (unless ``varying_only``).
        # Likewise a block wider than the number of rows is rotated onto its principal axes
        # (SVD of the centred block): pairwise distances, hence the likelihood, are unchanged
        # and each optimiser step is far cheaper. Its columns are centred, so dot products
        # (the linear term) are those of the centred full block too.
        compact = [_distance_preserving(b / scale) for b, scale in
                   zip(blocks, self.scales_, strict=True)]
        search = GaussianProcessRegressor(
            _kernel([c.shape[1] for c in compact], nu=self.nu, noise=self.noise,
                    linear=self.linear),
            normalize_y=True, n_restarts_optimizer=self.n_restarts,
            random_state=self.random_state)
        with warnings.catch_warnings():
            # A block the data do not need drives its length scale or amplitude to a bound;
            # that is an answer, not a failure, so scikit-learn's ConvergenceWarning is muted.
            warnings.simplefilter("ignore", ConvergenceWarning)
            search.fit(np.hstack(compact), y)
        self.theta_ = np.asarray(search.kernel_.theta, dtype=np.float64)
        self.log_marginal_likelihood_ = float(search.log_marginal_likelihood_value_)
        if holdout is not None and 5 <= int(np.sum(holdout)) <= len(y) - 5:
            self.theta_ = _holdout_theta(search.kernel_, np.hstack(compact), y,
                                         np.asarray(holdout, dtype=bool))
        self._refit(raw, y)
        return self

    def _refit(self, blocks: list[np.ndarray], y: np.ndarray) -> None:
        from sklearn.gaussian_process import GaussianProcessRegressor

        kernel = _kernel(self.widths_, nu=self.nu, noise=self.noise,
                         linear=self.linear).clone_with_theta(self.theta_)
        self.gp_ = GaussianProcessRegressor(kernel, normalize_y=True, optimizer=None)
        self.gp_.fit(self._stack(blocks), y)

    def predict(self, blocks: np.ndarray | Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Predictive mean and standard deviation (both (N,)) for new rows."""
        blocks = [blocks] if isinstance(blocks, np.ndarray) else list(blocks)
        mean, std = self.gp_.predict(self._stack(blocks), return_std=True)
        return mean, std

    def kernel_summary(self) -> dict[str, float]:
        """Fitted hyper-parameters by name (amplitudes, length scales, noise), for display."""
        params = self.gp_.kernel_.get_params()
        out = {}
        for key, value in params.items():
            if key.endswith(("constant_value", "length_scale", "noise_level")) and \
                    np.ndim(value) == 0:
                out[key] = float(value)
        return out

    def state(self) -> dict[str, Any]:
        """What :meth:`from_state` needs besides the training data (JSON-able)."""
        return {"nu": self.nu, "noise": self.noise, "linear": self.linear,
                "varying_only": self.varying_only, "grouped": self.grouped,
                "widths": list(self.widths_),
                "scales": list(self.scales_), "theta": self.theta_.tolist(),
                "log_marginal_likelihood": self.log_marginal_likelihood_}

    @classmethod
    def from_state(cls, state: dict[str, Any], blocks, y) -> GPReadout:
        """Rebuild a fitted read-out from :meth:`state` and its training data (no optimiser)."""
        self = cls(nu=state["nu"], noise=state["noise"], linear=bool(state.get("linear", False)),
                   varying_only=bool(state.get("varying_only", False)),
                   grouped=bool(state.get("grouped", False)))
        blocks = [blocks] if isinstance(blocks, np.ndarray) else list(blocks)
        blocks = [np.asarray(b, dtype=np.float64).reshape(len(b), -1) for b in blocks]
        self.widths_ = [int(w) for w in state["widths"]]
        self.scales_ = [float(s) for s in state["scales"]]
        self._choose_columns(blocks)
        self._centre(self._select(blocks))
        self.theta_ = np.asarray(state["theta"], dtype=np.float64)
        self.log_marginal_likelihood_ = float(state.get("log_marginal_likelihood", np.nan))
        self._refit(blocks, np.asarray(y, dtype=np.float64).reshape(-1))
        return self


def ridge_predict(X_train: np.ndarray, y_train, X_test: np.ndarray, *, seed: int = 0
                  ) -> np.ndarray:
    """Ridge regression with the penalty chosen by efficient leave-one-out CV (no std)."""
    from sklearn.linear_model import RidgeCV

    X_train = np.asarray(X_train, dtype=np.float64).reshape(len(X_train), -1)
    X_test = np.asarray(X_test, dtype=np.float64).reshape(len(X_test), -1)
    model = RidgeCV(alphas=np.logspace(-3, 3, 13)).fit(X_train, np.asarray(y_train, float))
    return model.predict(X_test)
