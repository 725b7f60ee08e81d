"""Reconstruction, classification and fingerprint-space measures of the family pipeline.

Reconstruction accuracy is reported two ways, both over a family's own alignment columns
(padding to the common width never counts; X residues, encoded as all-zero rows, are skipped):
``recon_acc`` over every position (residue or gap) and ``recon_acc_residues`` over positions
whose input is a residue. A position's reconstruction is the arg-max channel of the decoder.

Most-common-symbol agreement is read two ways: over the test rows of each family
(``common_residue_agreement``, the issue's test split) and over all members of each family
(:func:`mode_agreement`; the paper reconstructs "all the sequences" of a family, which
includes the rows the VAE was trained on).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from core.config import check_choice
from core.families.features import RESIDUES

GAP_INDEX = len(RESIDUES) - 1


def decode_rows(probs: np.ndarray, lengths: np.ndarray) -> list[str]:
    """Reconstructed alignment rows (arg-max letters), each cut to its family's width."""
    letters = np.array(list(RESIDUES))
    idx = probs.argmax(-1)
    return ["".join(letters[idx[i, :n]]) for i, n in enumerate(lengths)]


def reconstruction_accuracy(x: np.ndarray, probs: np.ndarray, mask: np.ndarray) -> dict:
    """Per-position accuracy over all positions and over residue positions only."""
    valid = (x.sum(-1) > 0) & (mask > 0)
    true, pred = x.argmax(-1), probs.argmax(-1)
    ok = pred == true
    res = valid & (true != GAP_INDEX)
    return {"recon_acc": float(ok[valid].mean()), "recon_acc_residues": float(ok[res].mean()),
            "recon_acc_gaps": float(ok[valid & ~res].mean()) if (valid & ~res).any()
            else float("nan")}


def reconstruction_references(table: pd.DataFrame, train: np.ndarray, test: np.ndarray) -> dict:
    """What a test row shares with its family's training rows (no model involved), scored like
    :func:`reconstruction_accuracy` over all positions: ``recon_acc_consensus`` copies the
    family's most common training symbol per column, ``recon_acc_nearest_train`` copies the
    family's training row with the highest identity (the best a decoder that only recalls
    training rows could do). X positions are skipped."""
    fam = table["family"].to_numpy()
    rows = table["aligned"].to_numpy()
    ok = {"consensus": 0, "nearest_train": 0}
    total = 0
    for f in np.unique(fam[test]):
        train_rows = list(rows[train[fam[train] == f]])
        tr = np.array([list(r) for r in train_rows])
        te = np.array([list(r) for r in rows[test[fam[test] == f]]])
        consensus = np.array(_most_common(train_rows, residues_only=False))
        for row in te:
            valid = row != "X"
            nearest = tr[(tr == row).sum(1).argmax()]
            ok["consensus"] += int(((row == consensus) & valid).sum())
            ok["nearest_train"] += int(((row == nearest) & valid).sum())
            total += int(valid.sum())
    return {f"recon_acc_{k}": v / total if total else float("nan") for k, v in ok.items()}


def _most_common(rows: list[str], *, residues_only: bool) -> list[str | None]:
    arr = np.array([list(r) for r in rows])
    out = []
    for col in arr.T:
        vals = col[col != "-"] if residues_only else col
        if len(vals) == 0:
            out.append(None)
            continue
        letters, counts = np.unique(vals, return_counts=True)
        out.append(str(letters[counts.argmax()]))
    return out


def common_residue_table(original: list[str], recon: list[str], family: str) -> pd.DataFrame:
    """Per column of one family: most common symbol (gap counted) of the input and of the
    reconstruction, the same for residues only, mean BLOSUM62 of original vs reconstructed
    residue (positions where both are residues) and BLOSUM62 of the two most common residues
    (the paper's Figure 4 A and B)."""
    from core.alphabet import _blosum62_cached

    blosum = _blosum62_cached()
    common_in = _most_common(original, residues_only=False)
    common_out = _most_common(recon, residues_only=False)
    res_in = _most_common(original, residues_only=True)
    res_out = _most_common(recon, residues_only=True)
    o, r = np.array([list(s) for s in original]), np.array([list(s) for s in recon])
    rows = []
    for j in range(o.shape[1]):
        both = (o[:, j] != "-") & (r[:, j] != "-") & (o[:, j] != "X")
        scores = [blosum.at[a, b] for a, b in zip(o[both, j], r[both, j], strict=True)]
        rows.append({
            "family": family, "position": j + 1,
            "common_original": common_in[j], "common_reconstructed": common_out[j],
            "agree": common_in[j] == common_out[j],
            "residue_original": res_in[j], "residue_reconstructed": res_out[j],
            "mean_blosum62": float(np.mean(scores)) if scores else np.nan,
            "n_pairs": int(both.sum()),
            "blosum62_common": (float(blosum.at[res_in[j], res_out[j]])
                                if res_in[j] and res_out[j] and "X" not in (res_in[j], res_out[j])
                                else np.nan),
            "gap_fraction": float((o[:, j] == "-").mean()),
        })
    return pd.DataFrame(rows)


def _by_family(table: pd.DataFrame, recon: list[str]):
    """(family, its input rows, their reconstructions) for each family of ``table`` in name
    order; ``recon`` has one entry per row of ``table``."""
    for fam, idx in table.groupby("family", sort=True).indices.items():
        yield fam, [table["aligned"].iloc[i] for i in idx], [recon[i] for i in idx]


def reconstruction_tables(table: pd.DataFrame, recon: list[str]) -> pd.DataFrame:
    """:func:`common_residue_table` for every family of ``table`` (rows aligned with recon)."""
    return pd.concat([common_residue_table(original, rec, fam)
                      for fam, original, rec in _by_family(table, recon)], ignore_index=True)


def mode_agreement(table: pd.DataFrame, recon: list[str]) -> float:
    """Share of all families' columns whose most common symbol (gap counted) is the same in
    the input rows of ``table`` and their reconstructions ``recon`` (one entry per row).
    The ``agree`` column of :func:`reconstruction_tables`, without its BLOSUM62 scoring."""
    agree, total = 0, 0
    for _, original, rec in _by_family(table, recon):
        common_in = _most_common(original, residues_only=False)
        common_out = _most_common(rec, residues_only=False)
        agree += sum(a == b for a, b in zip(common_in, common_out, strict=True))
        total += len(common_in)
    return agree / total if total else float("nan")


def common_agreement(columns: pd.DataFrame) -> dict:
    """Share of columns whose most common symbol agrees (gap counted), and over columns whose
    most common input symbol is a residue."""
    res = columns["common_original"] != "-"
    return {"common_residue_agreement": float(columns["agree"].mean()),
            "common_residue_agreement_residue_cols": float(columns.loc[res, "agree"].mean())
            if res.any() else float("nan")}


def per_family_table(y_true: np.ndarray, y_pred: np.ndarray, names: list[str]) -> pd.DataFrame:
    """The paper's Table 1: F1, precision, recall and one-vs-rest accuracy per family, with
    an "Average" row (macro means)."""
    from sklearn.metrics import precision_recall_fscore_support

    labels = np.arange(len(names))
    p, r, f, n = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    acc = [float(((y_true == k) == (y_pred == k)).mean()) for k in labels]
    frame = pd.DataFrame({"family": names, "f1": f, "precision": p, "recall": r,
                          "accuracy": acc, "n_test": n})
    avg = frame[["f1", "precision", "recall", "accuracy"]].mean()
    frame.loc[len(frame)] = {"family": "Average", **avg.to_dict(), "n_test": int(n.sum())}
    return frame


def confusion(y_true: np.ndarray, y_pred: np.ndarray, names: list[str]) -> pd.DataFrame:
    from sklearn.metrics import confusion_matrix

    cm = confusion_matrix(y_true, y_pred, labels=np.arange(len(names)))
    return pd.DataFrame(cm, index=pd.Index(names, name="true"), columns=names)


KMEANS_SPACES = ("raw", "standardise", "l2", "standardise_l2", "whiten", "spectral")
#: kNN-graph size of the ``spectral`` space: chosen among 15, 30, 50, 100, 150 and 300 by
#: 10-fold CV on the train + validation fingerprints of pfam25 only (README, Families)
SPECTRAL_NEIGHBOURS = 150


def fingerprint_space(space: str, fit_on: np.ndarray, *, n_clusters: int | None = None):
    """A transform of fingerprints fitted on ``fit_on`` only (label-free): ``raw`` (identity),
    ``standardise`` (per-dimension z-scores), ``l2`` (rows scaled to unit length, i.e. K-means
    on directions), ``standardise_l2`` (both), ``whiten`` (PCA whitening) or ``spectral`` (see
    :class:`SpectralSpace`; ``n_clusters`` sets its dimension). Returns a function applied to
    any fingerprints."""
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler, normalize

    check_choice("kmeans_space", space, KMEANS_SPACES)
    if space == "raw":
        return lambda a: np.asarray(a, dtype=np.float64)
    if space == "l2":
        return lambda a: normalize(np.asarray(a, dtype=np.float64))
    if space == "whiten":
        pca = PCA(whiten=True, random_state=0).fit(fit_on)
        return pca.transform
    if space == "spectral":
        return SpectralSpace(fit_on, n_components=n_clusters or fit_on.shape[1])
    scaler = StandardScaler().fit(fit_on)
    if space == "standardise":
        return scaler.transform
    return lambda a: normalize(scaler.transform(a))


class SpectralSpace:
    """K-means on this space is spectral clustering of the fingerprints' directions.

    Fitted rows: the spectral embedding (scikit-learn's ``spectral_embedding``, one coordinate
    per cluster) of the symmetrised k-nearest-neighbour graph of the L2-normalised
    fingerprints, each row scaled to unit length (``fitted``). Any other rows: the mean
    embedding of their k nearest fitted rows, unit length (an out-of-sample extension, so a
    held-out fold is placed without refitting). k = :data:`SPECTRAL_NEIGHBOURS`, at most a
    third of the fitted rows.
    """

    def __init__(self, fit_on: np.ndarray, *, n_components: int):
        from sklearn.manifold import spectral_embedding
        from sklearn.neighbors import NearestNeighbors
        from sklearn.preprocessing import normalize

        x = normalize(np.asarray(fit_on, dtype=np.float64))
        self.nn = NearestNeighbors(n_neighbors=min(SPECTRAL_NEIGHBOURS, len(x) // 3)).fit(x)
        graph = self.nn.kneighbors_graph(x, mode="connectivity")
        graph = ((graph + graph.T) > 0).astype(np.float64)
        self.fitted = normalize(spectral_embedding(graph, n_components=n_components,
                                                   random_state=0))

    def __call__(self, a: np.ndarray) -> np.ndarray:
        from sklearn.preprocessing import normalize

        idx = self.nn.kneighbors(normalize(np.asarray(a, dtype=np.float64)),
                                 return_distance=False)
        return normalize(self.fitted[idx].mean(1))


def _fit_space(space: str, fit_on: np.ndarray, n_clusters: int):
    """(coordinates of ``fit_on``, transform for other rows) of a fingerprint space."""
    to_space = fingerprint_space(space, fit_on, n_clusters=n_clusters)
    fitted = getattr(to_space, "fitted", None)
    return (to_space(fit_on) if fitted is None else fitted), to_space


def kmeans_cv(fp: np.ndarray, y: np.ndarray, *, folds: int = 10, seed: int = 0,
              n_init: int = 100, space: str = "raw") -> dict:
    """K-means (K = number of families) with K-fold cross-validation.

    Per fold: fit the fingerprint ``space`` (:func:`fingerprint_space`) and K-means on the
    other folds, match clusters to families with the Hungarian method on those training
    folds, then score the held-out fold with that transform and matching.
    ``n_init`` restarts, the lowest within-cluster sum of squares kept: with 23 families,
    10 restarts often stop in a local optimum (a label-free choice: more restarts only
    optimise K-means' own objective better).
    """
    from sklearn.cluster import KMeans
    from sklearn.model_selection import StratifiedKFold

    from core.cluster_metrics import match_clusters

    k = int(y.max()) + 1
    accs = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for tr, te in splitter.split(fp, y):
        train_x, to_space = _fit_space(space, fp[tr], k)
        km = KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(train_x)
        mapping = match_clusters(y[tr], km.labels_, n_classes=k, n_clusters=k)
        accs.append(float((mapping[km.predict(to_space(fp[te]))] == y[te]).mean()))
    accs = np.array(accs)
    return {"kmeans_acc": float(accs.mean()),
            "kmeans_acc_se": float(accs.std(ddof=1) / np.sqrt(len(accs))), "folds": accs.tolist()}


def kmeans_objective_check(fp: np.ndarray, y: np.ndarray, *, seed: int = 0,
                           n_init: int = 100, space: str = "raw") -> dict:
    """Is a K-means miss a local optimum or the objective itself?

    ``kmeans_sse_ratio`` = within-cluster sum of squares of the true family partition divided
    by that of K-means' best solution (``n_init`` restarts) on all fingerprints (in ``space``):
    above 1, K-means' own objective prefers a partition other than the families, so more
    restarts cannot recover them; below 1, the restarts missed the families' (better) optimum.
    ``kmeans_from_family_centroids_acc``: accuracy of K-means started at the family centroids
    (a diagnostic that uses the labels, not a clustering result).
    """
    from sklearn.cluster import KMeans

    from core.cluster_metrics import match_clusters

    k = int(y.max()) + 1
    fp, _ = _fit_space(space, fp, k)
    centroids = np.stack([fp[y == c].mean(0) for c in range(k)])
    true_sse = float(((fp - centroids[y]) ** 2).sum())
    found = KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(fp)
    seeded = KMeans(n_clusters=k, init=centroids, n_init=1).fit(fp)
    mapping = match_clusters(y, seeded.labels_, n_classes=k, n_clusters=k)
    return {"kmeans_sse_ratio": true_sse / float(found.inertia_),
            "kmeans_from_family_centroids_acc": float((mapping[seeded.labels_] == y).mean())}


def minkowski_rank(query: np.ndarray, family_fp: np.ndarray, names: list[str], *, p: float = 2.0,
                   weights: np.ndarray | None = None) -> pd.DataFrame:
    """Families ranked by (weighted) Minkowski distance of ``query`` (D,) to each family's
    fingerprint (K, D). ``weights`` (D,) multiply |difference|^p (scipy's convention)."""
    from scipy.spatial.distance import cdist

    if p <= 0:
        raise ValueError("Minkowski p must be > 0")
    kw = {"p": p} if weights is None else {"p": p, "w": np.asarray(weights, dtype=float)}
    dist = cdist(np.asarray(query, float)[None, :], np.asarray(family_fp, float),
                 metric="minkowski", **kw)[0]
    order = np.argsort(dist, kind="stable")
    return pd.DataFrame({"rank": np.arange(1, len(order) + 1),
                         "family": [names[i] for i in order], "distance": dist[order]})


def inverse_variance_weights(fp: np.ndarray) -> np.ndarray:
    """Per-dimension weights 1 / variance over members (the 'weighted' search default)."""
    var = np.var(fp, axis=0)
    return 1.0 / np.maximum(var, 1e-8)
