"""Judging a clustering, with or without labels; baselines; prototypes (NumPy, SciPy, sklearn).

With labels, clusters are matched to classes by the Hungarian algorithm
(:func:`match_clusters`): one-to-one when there are no more clusters than classes; with more
clusters (over-clustering) every class first gets one cluster by Hungarian matching and each
remaining cluster then joins the class it overlaps most (many-to-one). A class's soft score is
the summed probability of its clusters, which gives AUPR one-vs-rest (macro and micro).

Labels are integer codes 0..K-1 here; :func:`encode_labels` turns any label column into codes
and names (missing labels -> -1, left out of every labelled score).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def encode_labels(values: Sequence) -> tuple[np.ndarray, list[str]]:
    """Integer codes (missing -> -1) and the sorted class names."""
    codes, names = pd.factorize(pd.Series(values).astype("string"), sort=True)
    return codes.astype(np.int64), [str(n) for n in names]


def contingency(y_true: np.ndarray, clusters: np.ndarray, n_classes: int,
                n_clusters: int) -> np.ndarray:
    """Counts (n_classes, n_clusters)."""
    table = np.zeros((n_classes, n_clusters), dtype=np.int64)
    np.add.at(table, (y_true, clusters), 1)
    return table


def match_clusters(y_true: np.ndarray, clusters: np.ndarray, *, n_classes: int | None = None,
                   n_clusters: int | None = None) -> np.ndarray:
    """Class matched to each cluster (n_clusters,); -1 for a cluster left unmatched.

    Hungarian (``scipy.optimize.linear_sum_assignment``) on the contingency table maximises the
    matched count; clusters beyond the number of classes join their majority class.
    """
    from scipy.optimize import linear_sum_assignment

    y_true, clusters = np.asarray(y_true), np.asarray(clusters)
    k = int(n_classes if n_classes is not None else y_true.max() + 1)
    c = int(n_clusters if n_clusters is not None else clusters.max() + 1)
    table = contingency(y_true, clusters, k, c)
    rows, cols = linear_sum_assignment(-table)
    mapping = np.full(c, -1, dtype=np.int64)
    mapping[cols] = rows
    if c > k:  # over-clustering: the rest go to their majority class (empty ones stay -1)
        for j in np.flatnonzero(mapping < 0):
            if table[:, j].sum() > 0:
                mapping[j] = int(table[:, j].argmax())
    return mapping


def class_scores(probabilities: np.ndarray, mapping: np.ndarray, n_classes: int) -> np.ndarray:
    """Soft class scores (N, K): each class sums the probabilities of its matched clusters."""
    scores = np.zeros((len(probabilities), n_classes), dtype=np.float64)
    for j, cls in enumerate(mapping):
        if cls >= 0:
            scores[:, cls] += probabilities[:, j]
    return scores


def one_hot(assignments: np.ndarray, n_clusters: int) -> np.ndarray:
    out = np.zeros((len(assignments), n_clusters), dtype=np.float32)
    out[np.arange(len(assignments)), assignments] = 1.0
    return out


def clustering_scores(y_true: np.ndarray, assignments: np.ndarray,
                      probabilities: np.ndarray | None = None) -> dict[str, float]:
    """NMI, ARI, Hungarian accuracy and AUPR (macro, micro) of a clustering against labels.

    Parameters
    ----------
    y_true : (N,) int class codes; -1 rows are ignored.
    assignments : (N,) int cluster ids 0..C-1.
    probabilities : (N, C) soft assignments; one-hot of ``assignments`` when omitted (then
        AUPR is that of hard assignments).
    """
    from sklearn.metrics import (
        adjusted_rand_score,
        average_precision_score,
        normalized_mutual_info_score,
    )

    y_true, assignments = np.asarray(y_true), np.asarray(assignments)
    n_clusters = int(probabilities.shape[1] if probabilities is not None
                     else assignments.max() + 1)
    if probabilities is None:
        probabilities = one_hot(assignments, n_clusters)
    keep = y_true >= 0
    y, a, p = y_true[keep], assignments[keep], np.asarray(probabilities)[keep]
    k = int(y.max() + 1)
    mapping = match_clusters(y, a, n_classes=k, n_clusters=n_clusters)
    predicted = mapping[a]
    scores = class_scores(p, mapping, k)
    truth = np.eye(k, dtype=np.int64)[y]
    present = truth.sum(0) > 0
    return {
        "nmi": float(normalized_mutual_info_score(y, a)),
        "ari": float(adjusted_rand_score(y, a)),
        "acc": float((predicted == y).mean()),
        "aupr": float(average_precision_score(truth[:, present], scores[:, present],
                                              average="macro")),
        "aupr_micro": float(average_precision_score(truth.ravel(), scores.ravel())),
    }


def matched_confusion(y_true: np.ndarray, assignments: np.ndarray, *, class_names: Sequence[str],
                      n_clusters: int | None = None, normalize: bool = False) -> pd.DataFrame:
    """Confusion matrix: rows true classes, columns clusters reordered to the diagonal.

    Columns are named ``"c<id>"`` and sorted by matched class (then by size), so a good
    clustering shows as a block diagonal; unmatched clusters come last.
    ``normalize=True`` divides each row by its total.
    """
    y_true, assignments = np.asarray(y_true), np.asarray(assignments)
    keep = y_true >= 0
    y, a = y_true[keep], assignments[keep]
    k = len(class_names)
    c = int(n_clusters if n_clusters is not None else assignments.max() + 1)
    table = contingency(y, a, k, c)
    mapping = match_clusters(y, a, n_classes=k, n_clusters=c)
    order = sorted(range(c), key=lambda j: (mapping[j] if mapping[j] >= 0 else k,
                                            -table[:, j].sum()))
    frame = pd.DataFrame(table[:, order], index=pd.Index(list(class_names), name="class"),
                         columns=[f"c{j}" for j in order])
    if normalize:
        frame = frame.div(frame.sum(axis=1).replace(0, 1), axis=0)
    return frame


def per_class_table(y_true: np.ndarray, assignments: np.ndarray, probabilities: np.ndarray, *,
                    class_names: Sequence[str]) -> pd.DataFrame:
    """Per class: support, matched clusters, precision, recall, F1 and AUPR (matched scores)."""
    from sklearn.metrics import average_precision_score, precision_recall_fscore_support

    y_true, assignments = np.asarray(y_true), np.asarray(assignments)
    keep = y_true >= 0
    y, a, p = y_true[keep], assignments[keep], np.asarray(probabilities)[keep]
    k = len(class_names)
    mapping = match_clusters(y, a, n_classes=k, n_clusters=p.shape[1])
    pred = mapping[a]
    prec, rec, f1, support = precision_recall_fscore_support(
        y, pred, labels=np.arange(k), zero_division=0)
    scores = class_scores(p, mapping, k)
    aupr = [float(average_precision_score(y == i, scores[:, i])) if (y == i).any() else np.nan
            for i in range(k)]
    return pd.DataFrame({
        "class": list(class_names), "support": support.astype(int),
        "clusters": [" ".join(f"c{j}" for j in np.flatnonzero(mapping == i)) for i in range(k)],
        "precision": prec, "recall": rec, "f1": f1, "aupr": aupr})


def neighbour_purity(neighbours: np.ndarray, y_true: np.ndarray,
                     ks: Sequence[int] = (5, 20, 50)) -> dict[str, float]:
    """Share of each protein's k nearest neighbours with its own label, for every k.

    ``neighbours`` is (N, K) indices sorted by similarity, self excluded; rows with a missing
    label are skipped; a k beyond K is not reported.
    """
    y_true = np.asarray(y_true)
    keep = y_true >= 0
    out = {}
    for k in ks:
        if k > neighbours.shape[1]:
            continue
        same = y_true[neighbours[keep, :k]] == y_true[keep, None]
        out[f"purity_k{k}"] = float(same.mean())
    return out


def unsupervised_scores(features: np.ndarray, assignments: np.ndarray,
                        probabilities: np.ndarray | None = None, *, sample: int = 5000,
                        random_state: int = 0) -> dict[str, float]:
    """Label-free quality: cosine silhouette (on at most ``sample`` rows), clusters used,
    smallest/largest cluster share, mean confidence (max probability)."""
    from sklearn.metrics import silhouette_score

    assignments = np.asarray(assignments)
    sizes = np.bincount(assignments)
    used = int((sizes > 0).sum())
    out = {"clusters_used": float(used),
           "largest_share": float(sizes.max() / len(assignments)),
           "smallest_share": float(sizes[sizes > 0].min() / len(assignments))}
    if 1 < used < len(assignments):
        n = min(sample, len(assignments))
        out["silhouette"] = float(silhouette_score(features, assignments, metric="cosine",
                                                   sample_size=n, random_state=random_state))
    if probabilities is not None:
        out["confidence"] = float(np.asarray(probabilities).max(1).mean())
    return out


def cluster_table(assignments: np.ndarray, probabilities: np.ndarray,
                  y_true: np.ndarray | None = None,
                  class_names: Sequence[str] | None = None) -> pd.DataFrame:
    """Per cluster: size, mean and minimum confidence, and (with labels) majority class."""
    assignments = np.asarray(assignments)
    conf = np.asarray(probabilities).max(1)
    rows = []
    for j in range(probabilities.shape[1]):
        members = assignments == j
        row = {"cluster": f"c{j}", "size": int(members.sum()),
               "confidence": float(conf[members].mean()) if members.any() else np.nan,
               "min_confidence": float(conf[members].min()) if members.any() else np.nan}
        if y_true is not None and class_names is not None and members.any():
            labels = np.asarray(y_true)[members]
            labels = labels[labels >= 0]
            if len(labels):
                counts = np.bincount(labels, minlength=len(class_names))
                row["majority_class"] = class_names[int(counts.argmax())]
                row["majority_share"] = float(counts.max() / len(labels))
        rows.append(row)
    return pd.DataFrame(rows)


def confidence_histogram(probabilities: np.ndarray, *, bins: int = 20) -> pd.DataFrame:
    """Counts of max-probability values in ``bins`` equal bins over [1/C, 1]."""
    conf = np.asarray(probabilities).max(1)
    lo = 1.0 / probabilities.shape[1]
    counts, edges = np.histogram(conf, bins=bins, range=(lo, 1.0))
    return pd.DataFrame({"low": edges[:-1], "high": edges[1:], "count": counts})


def central_members(features: np.ndarray, assignments: np.ndarray
                    ) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per cluster: member indices, most central first, and their cosine to the cluster mean."""
    x = _l2(np.asarray(features, dtype=np.float64))
    order = {}
    for j in np.unique(assignments):
        idx = np.flatnonzero(assignments == j)
        centre = _l2(x[idx].mean(0, keepdims=True))[0]
        sim = x[idx] @ centre
        rank = np.argsort(-sim, kind="stable")
        order[int(j)] = (idx[rank], sim[rank])
    return order


def prototypes(features: np.ndarray, assignments: np.ndarray, *, ids: Sequence[str],
               n: int = 5, order: dict | None = None) -> pd.DataFrame:
    """The ``n`` most central members of each cluster: highest cosine to the cluster mean
    (``order``: :func:`central_members` of the same data, when already computed)."""
    ids = np.asarray(ids)
    rows = []
    order = central_members(features, assignments) if order is None else order
    for j, (idx, sim) in order.items():
        for rank, (i, s) in enumerate(zip(idx[:n], sim[:n], strict=True)):
            rows.append({"cluster": f"c{j}", "rank": rank + 1, "index": int(i),
                         "id": str(ids[i]), "similarity": float(s)})
    return pd.DataFrame(rows)


def _l2(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


# --------------------------------------------------------------------------- baselines

BASELINES = ("pca_kmeans", "kmeans", "agglomerative")


def baseline_clustering(method: str, features: np.ndarray, n_clusters: int, *,
                        random_state: int = 0, pca_dim: int = 50) -> np.ndarray:
    """Cluster ids (N,) from a classical method on the given features.

    ``pca_kmeans``: PCA to ``pca_dim`` components, then K-means (10 restarts);
    ``kmeans``: K-means on the features as they are; ``agglomerative``: Ward linkage
    (deterministic; O(N^2) memory, so refused beyond 20,000 rows).
    """
    from sklearn.cluster import AgglomerativeClustering, KMeans
    from sklearn.decomposition import PCA

    x = np.asarray(features, dtype=np.float64)
    if method == "pca_kmeans":
        dim = max(1, min(pca_dim, x.shape[1], x.shape[0] - 1))
        x = PCA(dim, random_state=random_state).fit_transform(x)
        return KMeans(n_clusters, n_init=10, random_state=random_state).fit_predict(x)
    if method == "kmeans":
        return KMeans(n_clusters, n_init=10, random_state=random_state).fit_predict(x)
    if method == "agglomerative":
        if len(x) > 20_000:
            raise ValueError("agglomerative clustering needs O(N^2) memory: at most 20,000 rows")
        return AgglomerativeClustering(n_clusters, linkage="ward").fit_predict(x)
    raise KeyError(f"unknown baseline {method!r}; known: {', '.join(BASELINES)}")


def length_kmeans(sequences: Sequence[str], n_clusters: int, *,
                  random_state: int = 0) -> np.ndarray:
    """K-means on sequence length alone: the floor every feature-based result is read against."""
    from sklearn.cluster import KMeans

    lengths = np.array([[len(s)] for s in sequences], dtype=np.float64)
    n_clusters = min(n_clusters, len(np.unique(lengths)))  # K-means needs distinct points
    return KMeans(n_clusters, n_init=10, random_state=random_state).fit_predict(lengths)
