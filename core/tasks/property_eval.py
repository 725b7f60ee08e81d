"""Fit-and-score machinery shared by the job's comparison table and the benchmark.

Every model, ours or baseline, is a name in :data:`MODELS` and is trained on the same training
indices and scored on the same test indices by :func:`fit_predict`. Encoders are cached within
one call, so variants that read the same trained CNN (single model, seed ensemble, GP on extra
feature blocks) train it once; each variant's ``seconds`` still counts the training it needs.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.tasks.label_scale import (
    KERNELS,
    backward,
    choose_readout,
    fit_trend,
    forward,
    mutation_counts,
    parent_distance,
    parent_rows,
    trend_at,
)
from core.tasks.property_config import PropertyConfig
from core.tasks.property_model import mixture
from core.tasks.readouts import GPReadout, ridge_predict

log = logging.getLogger(__name__)

#: name -> (role, description)
MODELS: dict[str, tuple[str, str]] = {
    "triplet_cnn_gp": ("ours", "triplet CNN, GP on the final embedding (one seed)"),
    "triplet_cnn_gp_ens": ("ours", "seed ensemble of triplet CNN + GP (equal mixture)"),
    "triplet_cnn_gp_committee": ("ours", "equal mixture of the seed ensemble, the one-hot GP "
                                         "and the BLOSUM62 GP"),
    "triplet_cnn_gp_committee_lin": ("ours", "equal mixture of the seed ensemble and GPs with a "
                                             "linear + Matérn kernel on the one-hot and the "
                                             "BLOSUM62 columns that vary in training"),
    "triplet_cnn_gp_auto": ("ours", "triplet_cnn_gp_committee_lin with the GPs' label scale "
                                    "(none / log) and the one-hot GP's merging of identical "
                                    "training columns chosen by m-importance-weighted CV "
                                    "inside the training rows"),
    "triplet_cnn_gp_auto_wide": ("ours", "triplet_cnn_gp_auto whose inner CV also chooses the "
                                         "committee kernel (linear + Matérn or Matérn) and the "
                                         "GPs' mean (training mean or a line in the distance "
                                         "to the parent); not the default: it lost to "
                                         "triplet_cnn_gp_auto in nested CV inside the "
                                         "training rows on three of four sets"),
    "onehot_gp": ("baseline", "GP on one-hot rows"),
    "blosum_gp": ("baseline", "GP on BLOSUM62-profile rows"),
    "onehot_lin_gp": ("baseline", "GP, linear + Matérn kernel, one-hot columns varying in "
                                  "training"),
    "blosum_lin_gp": ("baseline", "GP, linear + Matérn kernel, BLOSUM62 columns varying in "
                                  "training"),
    "mse_cnn_gp": ("baseline", "the paper's non-triplet CNN (MSE), GP on its embedding"),
    "ridge_onehot": ("baseline", "ridge regression on one-hot rows (no std)"),
}
BASELINES = tuple(k for k, (role, _) in MODELS.items() if role == "baseline")


@dataclass
class PropertyData:
    """Encoded proteins of one table: tokens for the CNN, profile matrices for the GPs."""

    tokens: np.ndarray  # (N, L) int64
    onehot: np.ndarray  # (N, L' * 21)
    blosum: np.ndarray  # (N, L' * 20)
    y: np.ndarray  # (N,) float, NaN when unlabelled
    m: np.ndarray | None = None  # (N,) mutations from the parent, when the table has them

    @classmethod
    def from_table(cls, df: pd.DataFrame, label: str, *, cnn_col: str = "sequence",
                   profile_col: str = "sequence") -> PropertyData:
        from core.alphabet import blosum_profile, one_hot, tokenize

        rows = df[profile_col].astype(str).tolist()
        n = len(rows)
        return cls(tokens=tokenize(df[cnn_col].astype(str).tolist()),
                   onehot=one_hot(rows).reshape(n, -1), blosum=blosum_profile(rows).reshape(n, -1),
                   y=pd.to_numeric(df[label], errors="coerce").to_numpy(float),
                   m=mutation_counts(df))


@dataclass
class Prediction:
    mean: np.ndarray
    std: np.ndarray | None
    seconds: float
    scale: str = "none"  # label scale of the GP read-outs
    grouped: bool = False  # the one-hot GP merged identical training columns
    kernel: str = "linear+matern"  # the committee GPs' kernel (auto model)
    trend: bool = False  # the GPs modelled the labels around a trend on the parent distance


@dataclass
class _Cache:
    """Trained encoders' features and GP predictions within one fit_predict call."""

    encoders: dict = field(default_factory=dict)  # (objective, seed) -> (emb, seconds)
    gps: dict = field(default_factory=dict)  # key -> Prediction


def _encoder_features(data, train, key, config: PropertyConfig, device, cache: _Cache):
    from core.tasks.property_train import encode, train_encoder

    if key not in cache.encoders:
        objective, seed = key
        t0 = time.perf_counter()
        enc, _ = train_encoder(data.tokens[train], data.y[train], encoder_config=config.encoder,
                               train_config=config.with_train(objective=objective).train,
                               seed=seed, device=device)
        pooled, emb = encode(enc, data.tokens, device=device)
        feats = pooled if config.readout.startswith("pooled") else emb
        cache.encoders[key] = (feats, time.perf_counter() - t0)
    return cache.encoders[key]


#: committee model -> the GPs mixed with the seed ensemble
COMMITTEES = {"triplet_cnn_gp_committee": ("onehot_gp", "blosum_gp"),
              "triplet_cnn_gp_committee_lin": ("onehot_lin_gp", "blosum_lin_gp")}
#: profile GP -> (PropertyData block, linear term on the columns varying in training)
PROFILE_GPS = {"onehot_gp": ("onehot", False), "blosum_gp": ("blosum", False),
               "onehot_lin_gp": ("onehot", True), "blosum_lin_gp": ("blosum", True)}


def _gp(blocks, train, test, y, *, restarts: int, seed: int, linear: bool = False,
        scale: str = "none", grouped: bool = False, offset: np.ndarray | None = None
        ) -> tuple[np.ndarray, np.ndarray]:
    """GP fitted on ``y`` (label scale ``scale``) minus ``offset`` (N,) (a trend on that
    scale; none when None); prediction with the offset added back, on the label scale."""
    off = np.zeros(len(y)) if offset is None else offset
    gp = GPReadout(n_restarts=restarts, random_state=seed, linear=linear, varying_only=linear,
                   grouped=grouped)
    gp.fit([b[train] for b in blocks], forward(y[train], scale) - off[train])
    mean, std = gp.predict([b[test] for b in blocks])
    return backward(mean + off[test], std, scale)


def _cnn_gp(data, train, test, *, objective, seeds, extra, config, device, cache,
            scale: str = "none", offset: np.ndarray | None = None) -> Prediction:
    """GP on CNN features of each seed (plus an optional profile block), pooled as a mixture."""
    means, stds, seconds = [], [], 0.0
    for seed in seeds:
        feats, t_enc = _encoder_features(data, train, (objective, seed), config, device, cache)
        key = (objective, seed, extra, scale, offset is not None)
        if key not in cache.gps:  # the single model is the ensemble's first member
            t0 = time.perf_counter()
            blocks = [feats] + ([getattr(data, extra)] if extra else [])
            m, s = _gp(blocks, train, test, data.y, restarts=config.gp_restarts, seed=seed,
                       scale=scale, offset=offset)
            cache.gps[key] = Prediction(m, s, time.perf_counter() - t0)
        gp = cache.gps[key]
        means.append(gp.mean)
        stds.append(gp.std)
        seconds += t_enc + gp.seconds
    mean, std = mixture(means, stds)
    return Prediction(mean, std, seconds)


def fit_predict(data: PropertyData, train: np.ndarray, test: np.ndarray, models: list[str], *,
                config: PropertyConfig | None = None, seed: int = 0, device=None,
                n_ensemble: int = 3, scale: str = "none", offset: np.ndarray | None = None,
                _cache: _Cache | None = None) -> dict[str, Prediction]:
    """Train each named model on rows ``train`` and predict rows ``test``.

    Parameters
    ----------
    data : PropertyData
    train, test : integer indices into ``data`` (training rows must be labelled).
    models : names from :data:`MODELS`.
    config : the CNN and GP settings (``encoder``, ``train``, the CNN part of ``readout`` and
        ``gp_restarts`` are used; ensembles use ``n_ensemble`` seeds ``seed .. seed +
        n_ensemble - 1``, and the single model is the first of them, so both share training).
    seed : base seed of this fit.
    scale : label scale of every GP read-out (``none`` or ``log``, see
        :mod:`core.tasks.label_scale`); encoders always train on the labels as given.
    offset : (N,) over all rows of ``data``, a trend on that scale the GPs model the labels
        around (None: the training mean). Within one call (one cache) it is one trend.

    Returns
    -------
    dict name -> Prediction(mean (T,), std (T,) or None, seconds of training + prediction)
    """
    config = config or PropertyConfig()
    train, test = np.asarray(train), np.asarray(test)
    if not np.isfinite(data.y[train]).all():
        raise ValueError("training rows must be labelled")
    cache, out = _cache or _Cache(), {}
    ens = list(range(seed, seed + n_ensemble))
    common = dict(config=config, device=device, cache=cache, scale=scale, offset=offset)
    for name in models:
        t0 = time.perf_counter()
        if name in PROFILE_GPS:
            block, linear = PROFILE_GPS[name]
            m, s = _gp([getattr(data, block)], train, test, data.y,
                       restarts=config.gp_restarts, seed=seed, linear=linear, scale=scale,
                       offset=offset)
            out[name] = Prediction(m, s, time.perf_counter() - t0)
        elif name == "ridge_onehot":
            m = ridge_predict(data.onehot[train], data.y[train], data.onehot[test])
            out[name] = Prediction(m, None, time.perf_counter() - t0)
        elif name == "mse_cnn_gp":
            out[name] = _cnn_gp(data, train, test, objective="mse", seeds=[seed], extra=None,
                                **common)
        elif name == "triplet_cnn_gp":
            out[name] = _cnn_gp(data, train, test, objective=config.train.objective,
                                seeds=[seed], extra=None, **common)
        elif name == "triplet_cnn_gp_ens":
            out[name] = _cnn_gp(data, train, test, objective=config.train.objective, seeds=ens,
                                extra=None, **common)
        elif name in COMMITTEES:
            parts = []
            for part in ("triplet_cnn_gp_ens", *COMMITTEES[name]):
                if part not in out:
                    out.update(fit_predict(data, train, test, [part], config=config, seed=seed,
                                           device=device, n_ensemble=n_ensemble, scale=scale,
                                           offset=offset, _cache=cache))
                parts.append(out[part])
            mean, std = mixture([p.mean for p in parts], [p.std for p in parts])
            out[name] = Prediction(mean, std, sum(p.seconds for p in parts))
        elif name in ("triplet_cnn_gp_auto", "triplet_cnn_gp_auto_wide"):
            out[name] = _auto(data, train, test, config=config, seed=seed, device=device,
                              n_ensemble=n_ensemble, cache=cache, wide=name.endswith("wide"))
        else:
            raise KeyError(f"unknown model {name!r}; known: {', '.join(MODELS)}")
    return out


def _auto(data, train, test, *, config, seed, device, n_ensemble, cache, wide=False
          ) -> Prediction:
    """The linear committee on the label scale, with or without merging identical training
    columns, that inner CV on the training rows prefers; ``wide``: the CV also chooses the
    committee kernel (linear + Matérn or Matérn) and the GPs' mean (training mean or a trend
    on the distance to the parent)."""
    t0 = time.perf_counter()
    m = data.m
    parents = parent_rows(data.onehot[train], None if m is None else m[train]) if wide \
        else None
    choice, _ = choose_readout(
        data.onehot[train], data.y[train], grouped=(False, True),
        kernels=KERNELS if wide else ("linear+matern",), trends=(False, True), parents=parents,
        m_train=None if m is None else m[train], m_target=None if m is None else m[test],
        seed=seed)
    log.info("auto read-out: %s", choice.name)
    offset = None
    if choice.trend:
        z = parent_distance(data.onehot, parents)
        offset = trend_at(fit_trend(z[train], forward(data.y[train], choice.scale)), z)
    t_choose = time.perf_counter() - t0
    if choice.kernel == "matern":
        parts = ["triplet_cnn_gp_ens", "onehot_gp", "blosum_gp"]
    else:
        parts = ["triplet_cnn_gp_ens", "blosum_lin_gp"] + ([] if choice.grouped
                                                           else ["onehot_lin_gp"])
    out = fit_predict(data, train, test, parts, config=config, seed=seed, device=device,
                      n_ensemble=n_ensemble, scale=choice.scale, offset=offset, _cache=cache)
    preds = [out[p] for p in parts]
    if choice.grouped:
        t1 = time.perf_counter()
        mean, std = _gp([data.onehot], train, test, data.y, restarts=config.gp_restarts,
                        seed=seed, linear=True, scale=choice.scale, grouped=True, offset=offset)
        preds.append(Prediction(mean, std, time.perf_counter() - t1))
    mean, std = mixture([p.mean for p in preds], [p.std for p in preds])
    return Prediction(mean, std, sum(p.seconds for p in preds) + t_choose, scale=choice.scale,
                      grouped=choice.grouped, kernel=choice.kernel, trend=choice.trend)


def cv_folds(n_labelled: np.ndarray, *, k: int = 5, repeats: int = 2, seed: int = 0):
    """Seeded repeated k-fold over labelled row indices: yields (repeat, fold, train, test)."""
    from sklearn.model_selection import KFold

    idx = np.asarray(n_labelled)
    for r in range(repeats):
        splitter = KFold(n_splits=k, shuffle=True, random_state=seed + r)
        for f, (tr, te) in enumerate(splitter.split(idx)):
            yield r, f, idx[tr], idx[te]
