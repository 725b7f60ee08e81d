"""The property predictor a user trains: triplet CNN encoder(s) + Gaussian-process read-out.

:class:`PropertyModel` is a scikit-learn-style estimator (``fit`` returns ``self``; learned state
ends in ``_``). :func:`PropertyModel.to_state` / :func:`PropertyModel.from_state` move it in and out
of the run store without pickle: encoder weights as tensors, the GP as its fitted
hyper-parameters plus the training features it conditions on.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from core.progress import ProgressEvent, report
from core.tasks.label_scale import (
    KERNELS,
    backward,
    choose_readout,
    fit_trend,
    forward,
    parent_distance,
    parent_rows,
    trend_at,
)
from core.tasks.property_config import PropertyConfig
from core.tasks.readouts import GPReadout

log = logging.getLogger(__name__)

def profile_features(rows: Sequence[str], kind: str, width: int) -> np.ndarray:
    """Flattened one-hot (A = 21) or BLOSUM62-profile (20) features, (N, width * A).

    Rows longer than ``width`` (the training width) are cut: a position the model never saw
    carries no learned information.
    """
    from core.alphabet import blosum_profile, one_hot

    rows = [r[:width] for r in rows]
    enc = one_hot(rows, length=width) if kind == "onehot" else blosum_profile(rows, length=width)
    return enc.reshape(len(rows), -1)


def mixture(means: Sequence[np.ndarray], stds: Sequence[np.ndarray]) -> tuple[np.ndarray,
                                                                             np.ndarray]:
    """Mean and std of an equal mixture of Gaussians (N,) each: pooled seed-ensemble output."""
    m = np.stack(means)  # (K, N)
    v = np.stack(stds) ** 2
    mean = m.mean(0)
    return mean, np.sqrt(v.mean(0) + m.var(0))


class PropertyModel:
    """Triplet-trained CNN encoder(s) with a GP read-out on their features.

    Parameters
    ----------
    config : PropertyConfig
    device : torch device (or name) used for training and embedding; CPU when None.

    Attributes
    ----------
    encoders_ : list of TripletCNNEncoder (eval mode)
    readouts_ : list of GPReadout, one per encoder
    history_ : list of dict, per-epoch ``epoch, loss, val_loss`` of the first encoder
    histories_ : list of such lists, one per encoder
    width_ : int, training width of the profile rows (one-hot / BLOSUM block)
    train_features_ : list of (N_train, F) arrays, the GP training inputs per encoder
    train_y_ : (N_train,) training labels
    committee_ : dict kind -> GPReadout on one-hot / BLOSUM rows (empty without committee)
    scale_ : str, the label scale the GPs were fitted on (``none`` or ``log``)
    merged_ : bool, whether the committee's one-hot GP merges identical training columns
    kernel_ : str, the committee GPs' kernel (``linear+matern`` or ``matern``)
    trend_ : (2,) array or None, intercept and slope of the GPs' trend in the parent distance
    parents_ : list of str or None, the parents' profile rows (the trend's reference)
    scale_scores_ : dict candidate -> inner-CV MAE behind an ``auto`` choice (else empty)
    """

    def __init__(self, config: PropertyConfig | None = None, *, device=None):
        self.config = config
        self.device = device

    # ------------------------------------------------------------------ fit
    def fit(self, sequences: Sequence[str], y, *, aligned: Sequence[str] | None = None,
            m=None, target_m=None,
            on_progress: Callable[[ProgressEvent], None] | None = None) -> PropertyModel:
        """Train the encoder(s) and the GP on labelled proteins.

        Parameters
        ----------
        sequences : N strings the CNN reads (gap-free, or aligned rows with ``input="aligned"``).
        y : (N,) finite labels.
        aligned : N equal-width rows for the one-hot / BLOSUM block (default: ``sequences``).
        m, target_m : number of mutations of the training rows and of the rows the model will
            predict (optional; with ``label_scale="auto"`` they weight the inner CV).
        on_progress : receives ``train`` events per epoch (stage ``train`` for the first encoder,
            ``train_2``... for the others) and a ``gp`` event per read-out.
        """
        import torch

        from core.alphabet import tokenize
        from core.tasks.property_train import encode, holdout_mask, train_encoder

        cfg = self.config or PropertyConfig()
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        if len(y) != len(sequences) or len(y) < 5:
            raise ValueError(f"need at least 5 labelled sequences with one label each "
                             f"(got {len(sequences)} sequences, {len(y)} labels)")
        if not np.isfinite(y).all():
            raise ValueError("labels must be finite; leave unlabelled rows out of fit")
        device = torch.device(self.device or "cpu")
        tokens = tokenize(list(sequences))
        profile_rows = list(aligned if aligned is not None else sequences)
        self.width_ = max(len(r) for r in profile_rows)
        profile = self._profile(profile_rows)
        self._choose_scale(profile_rows, y, m, target_m)
        y_gp = forward(y, self.scale_)
        self.trend_ = None
        distance = self._trend_offset(profile_rows)  # parent distance (zeros without a trend)
        self.trend_ = fit_trend(distance, y_gp) if self.parents_ is not None else None
        y_gp = y_gp - trend_at(self.trend_, distance)
        self.encoders_, self.readouts_, self.histories_, self.train_features_ = [], [], [], []
        for i in range(cfg.n_models):
            stage = "train" if i == 0 else f"train_{i + 1}"
            encoder, history = train_encoder(tokens, y, encoder_config=cfg.encoder,
                                             train_config=cfg.train, seed=cfg.seed + i,
                                             device=device, on_progress=on_progress, stage=stage)
            pooled, emb = encode(encoder, tokens, device=device)
            feats = self._cnn(pooled, emb)
            hold = holdout_mask(len(y), cfg.train, seed=cfg.seed + i) if cfg.gp_holdout else None
            gp = GPReadout(n_restarts=cfg.gp_restarts, random_state=cfg.seed + i).fit(
                [feats, *profile], y_gp, holdout=hold)
            report(on_progress, "gp", i + 1, cfg.n_models,
                   log_marginal_likelihood=gp.log_marginal_likelihood_)
            self.encoders_.append(encoder)
            self.readouts_.append(gp)
            self.histories_.append(history)
            self.train_features_.append(feats.astype(np.float32))
        self.history_ = self.histories_[0]
        self.train_y_ = y
        self.committee_ = {}
        if cfg.committee:
            for kind in ("onehot", "blosum"):
                block = profile_features(profile_rows, kind, self.width_)
                lin = self.kernel_ == "linear+matern"
                self.committee_[kind] = GPReadout(
                    n_restarts=cfg.gp_restarts, random_state=cfg.seed, linear=lin,
                    varying_only=lin, grouped=lin and kind == "onehot" and self.merged_
                ).fit(block, y_gp)
            report(on_progress, "gp", cfg.n_models, cfg.n_models, message="committee GPs")
        return self

    def _choose_scale(self, rows: Sequence[str], y: np.ndarray, m, target_m) -> None:
        cfg = self.config or PropertyConfig()
        scales = ("none", "log") if cfg.label_scale == "auto" else (cfg.label_scale,)
        kernels = KERNELS if cfg.committee_kernel == "auto" else (cfg.committee_kernel,)
        kernels = kernels if cfg.committee else ("linear+matern",)
        merged = (False, True) if cfg.merge_columns == "auto" else (cfg.merge_columns == "yes",)
        merged = merged if cfg.committee and kernels != ("matern",) else (False,)
        trends = (False, True) if cfg.label_trend == "auto" else (cfg.label_trend == "distance",)
        onehot = profile_features(rows, "onehot", self.width_)
        parents = parent_rows(onehot, m) if any(trends) else None
        if any(trends) and parents is None:
            log.info("no parent (m == 0) among the training rows: no trend")
        choice, self.scale_scores_ = choose_readout(
            onehot, y, scales=scales, grouped=merged, kernels=kernels, trends=trends,
            parents=parents, m_train=m, m_target=target_m, seed=cfg.seed)
        self.scale_, self.merged_, self.kernel_ = choice.scale, choice.grouped, choice.kernel
        self.parents_ = None
        if choice.trend and parents is not None:
            self.parents_ = [r for r, is_parent in zip(rows, np.asarray(m) == 0, strict=True)
                             if is_parent]
        if self.scale_scores_:
            log.info("read-out %s (inner-CV MAE %s)", choice.name, self.scale_scores_)

    def _trend_offset(self, rows: Sequence[str]) -> np.ndarray:
        """(N,) the trend of the GPs at ``rows`` (zeros without one); before :attr:`trend_`
        is fitted, the parent distance itself."""
        if getattr(self, "parents_", None) is None:
            return np.zeros(len(rows))
        z = parent_distance(profile_features(rows, "onehot", self.width_),
                            profile_features(self.parents_, "onehot", self.width_))
        return z if getattr(self, "trend_", None) is None else trend_at(self.trend_, z)

    def _profile(self, rows: Sequence[str] | None) -> list[np.ndarray]:
        """The one-hot / BLOSUM blocks the read-out asks for (empty list for none)."""
        cfg = self.config or PropertyConfig()
        kinds = cfg.readout.split("+")[1:]
        if kinds and rows is None:
            raise ValueError(f"readout {cfg.readout!r} needs the (aligned) profile rows")
        return [profile_features(rows, kind, self.width_) for kind in kinds]

    def _cnn(self, pooled: np.ndarray, emb: np.ndarray) -> np.ndarray:
        cfg = self.config or PropertyConfig()
        return pooled if cfg.readout.startswith("pooled") else emb

    # ------------------------------------------------------------------ use
    def _check(self) -> None:
        if not hasattr(self, "encoders_"):
            raise RuntimeError("PropertyModel is not fitted: call fit() or load a saved run")

    def features(self, sequences: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """(pooled (N, 512), embedding (N, D)) of every encoder."""
        import torch

        from core.alphabet import tokenize
        from core.tasks.property_train import encode

        self._check()
        tokens = tokenize(list(sequences))
        device = torch.device(self.device or "cpu")
        return [encode(enc, tokens, device=device) for enc in self.encoders_]

    def embed(self, sequences: Sequence[str], *, kind: str = "embedding") -> np.ndarray:
        """Features of the first encoder: ``embedding`` (N, D) or ``pooled`` (N, 512)."""
        pooled, emb = self.features(sequences)[0]
        return pooled if kind == "pooled" else emb

    def predict(self, sequences: Sequence[str], *, aligned: Sequence[str] | None = None,
                features: list[tuple[np.ndarray, np.ndarray]] | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
        """Predicted property and its GP standard deviation, both (N,).

        ``features``: the encoders' (pooled, embedding) of ``sequences`` when the caller has
        already computed them (e.g. :func:`core.mutagenesis.mutant_pooled`).
        """
        feats = self.features(sequences) if features is None else features
        rows = list(aligned if aligned is not None else sequences)
        profile = self._profile(rows)
        offset = self._trend_offset(rows)

        def back(mean_std):
            return backward(mean_std[0] + offset, mean_std[1], self.scale_)

        means, stds = [], []
        for (pooled, emb), gp in zip(feats, self.readouts_, strict=True):
            m, s = back(gp.predict([self._cnn(pooled, emb), *profile]))
            means.append(m)
            stds.append(s)
        mean, std = mixture(means, stds)
        if getattr(self, "committee_", None):
            parts = [(mean, std)] + [
                back(gp.predict(profile_features(rows, kind, self.width_)))
                for kind, gp in self.committee_.items()]
            mean, std = mixture([p[0] for p in parts], [p[1] for p in parts])
        return mean, std

    # ------------------------------------------------------------------ save / load
    def to_state(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, np.ndarray]]:
        """(weights, summary entry, arrays) that :meth:`from_state` rebuilds the model from."""
        self._check()
        weights = {("encoder" if i == 0 else f"encoder_{i + 1}"): enc.state_dict()
                   for i, enc in enumerate(self.encoders_)}
        meta = {"width": self.width_, "gp": [gp.state() for gp in self.readouts_],
                "committee": {k: gp.state() for k, gp in self.committee_.items()},
                "label_scale": self.scale_, "merged_columns": self.merged_,
                "committee_kernel": self.kernel_, "label_scale_scores": self.scale_scores_,
                "trend": None if self.trend_ is None else [float(c) for c in self.trend_],
                "parents": self.parents_}
        arrays = {f"gp_features_{i}": f for i, f in enumerate(self.train_features_)}
        arrays["gp_y"] = self.train_y_
        return weights, meta, arrays

    @classmethod
    def from_state(cls, config: PropertyConfig, weights: dict[str, Any], meta: dict[str, Any],
                   arrays: dict[str, np.ndarray], *, profile_rows: Sequence[str] | None = None,
                   device=None) -> PropertyModel:
        """Rebuild a fitted model without training (the GP is refitted with fixed kernels).

        ``profile_rows`` are the training rows of the one-hot / BLOSUM block (needed only when
        the read-out has one).
        """
        import torch

        from core.models.triplet_cnn import TripletCNNEncoder

        self = cls(config, device=device)
        self.width_ = int(meta["width"])
        self.encoders_, self.readouts_, self.train_features_ = [], [], []
        y = np.asarray(arrays["gp_y"], dtype=np.float64)
        self.scale_ = meta.get("label_scale", "none")
        self.scale_scores_ = dict(meta.get("label_scale_scores") or {})
        self.merged_ = bool(meta.get("merged_columns", False))
        self.kernel_ = meta.get("committee_kernel", config.committee_kernel)
        self.parents_ = meta.get("parents")
        self.trend_ = None if meta.get("trend") is None else np.asarray(meta["trend"], float)
        y_gp = forward(y, self.scale_)
        if self.trend_ is not None:
            if profile_rows is None:
                raise ValueError("a model with a trend needs the training rows of its profiles")
            y_gp = y_gp - self._trend_offset(profile_rows)
        profile = self._profile(profile_rows)
        for i, state in enumerate(meta["gp"]):
            enc = TripletCNNEncoder(config.encoder)
            enc.load_state_dict(weights["encoder" if i == 0 else f"encoder_{i + 1}"])
            self.encoders_.append(enc.to(torch.device(device or "cpu")).eval())
            feats = np.asarray(arrays[f"gp_features_{i}"], dtype=np.float64)
            self.readouts_.append(GPReadout.from_state(state, [feats, *profile], y_gp))
            self.train_features_.append(feats.astype(np.float32))
        self.train_y_ = y
        self.histories_, self.history_ = [], []
        self.committee_ = {}
        for kind, state in (meta.get("committee") or {}).items():
            if profile_rows is None:
                raise ValueError("a committee model needs the training rows of its profiles")
            block = profile_features(profile_rows, kind, self.width_)
            self.committee_[kind] = GPReadout.from_state(state, block, y_gp)
        return self

