"""Clustering metrics: Hungarian matching (one-to-one and many-to-one), AUPR, tables."""
from __future__ import annotations

import numpy as np
import pytest

from core import cluster_metrics as cm

Y = np.repeat([0, 1, 2], 10)


def test_perfect_clustering_scores_one_under_any_permutation():
    clusters = np.array([2, 0, 1])[Y]  # cluster ids permuted
    scores = cm.clustering_scores(Y, clusters)
    assert scores == pytest.approx({"nmi": 1, "ari": 1, "acc": 1, "aupr": 1, "aupr_micro": 1})
    np.testing.assert_array_equal(cm.match_clusters(Y, clusters), [1, 2, 0])


def test_many_to_one_when_over_clustering():
    clusters = np.where(Y == 0, np.arange(30) % 2, Y + 1)  # class 0 split into clusters 0, 1
    mapping = cm.match_clusters(Y, clusters)
    assert mapping.tolist() == [0, 0, 1, 2]
    assert cm.clustering_scores(Y, clusters)["acc"] == 1.0


def test_fewer_clusters_than_classes_leave_a_class_unmatched():
    clusters = np.where(Y == 2, 1, Y)  # classes 1 and 2 merged
    scores = cm.clustering_scores(Y, clusters)
    assert scores["acc"] == pytest.approx(20 / 30)
    assert 0 < scores["nmi"] < 1


def test_soft_aupr_ranks_by_matched_probability():
    rng = np.random.default_rng(0)
    probs = np.full((30, 3), 0.1)
    probs[np.arange(30), Y] = 0.8 + 0.1 * rng.random(30)
    probs[0] = [0.45, 0.55, 0.0]  # one mistake, but with a high class-0 score
    scores = cm.clustering_scores(Y, probs.argmax(1), probs)
    assert scores["acc"] == pytest.approx(29 / 30)
    assert scores["aupr"] > 0.95


def test_missing_labels_are_ignored():
    codes, names = cm.encode_labels(["a", "b", None, "a"])
    assert names == ["a", "b"] and codes.tolist() == [0, 1, -1, 0]
    assert cm.clustering_scores(codes, np.array([1, 0, 0, 1]))["acc"] == 1.0


def test_confusion_is_reordered_to_the_diagonal():
    clusters = np.array([2, 0, 1])[Y]
    frame = cm.matched_confusion(Y, clusters, class_names=["A", "B", "C"])
    assert list(frame.columns) == ["c2", "c0", "c1"]
    np.testing.assert_array_equal(np.diag(frame.to_numpy()), [10, 10, 10])
    norm = cm.matched_confusion(Y, clusters, class_names=["A", "B", "C"], normalize=True)
    np.testing.assert_allclose(norm.sum(axis=1), 1.0)


def test_per_class_table_and_cluster_table():
    clusters = np.where(Y == 0, np.arange(30) % 2, Y + 1)
    probs = cm.one_hot(clusters, 4)
    table = cm.per_class_table(Y, clusters, probs, class_names=["A", "B", "C"])
    assert table["clusters"].tolist() == ["c0 c1", "c2", "c3"]
    assert table[["precision", "recall", "aupr"]].to_numpy().min() == 1.0
    summary = cm.cluster_table(clusters, probs, Y, ["A", "B", "C"])
    assert summary["size"].tolist() == [5, 5, 10, 10]
    assert summary["majority_class"].tolist() == ["A", "A", "B", "C"]


def test_neighbour_purity():
    labels = np.array([0, 0, 1, 1])
    neighbours = np.array([[1, 2], [0, 3], [3, 0], [2, 0]])
    assert cm.neighbour_purity(neighbours, labels, ks=(1, 2, 5)) == {"purity_k1": 1.0,
                                                                     "purity_k2": 0.5}


def _blobs(seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, 8)) * 5
    return centres[Y] + rng.normal(size=(30, 8))


def test_label_free_scores_prototypes_and_histogram():
    x = _blobs()
    probs = cm.one_hot(Y, 3) * 0.9 + 0.1 / 3
    scores = cm.unsupervised_scores(x, Y, probs)
    assert scores["silhouette"] > 0.5 and scores["clusters_used"] == 3
    assert scores["confidence"] == pytest.approx(0.9 + 0.1 / 3)
    protos = cm.prototypes(x, Y, ids=[f"p{i}" for i in range(30)], n=2)
    assert len(protos) == 6 and protos.groupby("cluster")["similarity"].is_monotonic_decreasing.all()
    assert cm.confidence_histogram(probs)["count"].sum() == 30


@pytest.mark.parametrize("method", cm.BASELINES)
def test_baselines_find_separated_blobs(method):
    pred = cm.baseline_clustering(method, _blobs(), 3, random_state=0)
    assert cm.clustering_scores(Y, pred)["nmi"] == pytest.approx(1.0)


def test_length_kmeans():
    seqs = ["A" * 10] * 5 + ["A" * 100] * 5
    pred = cm.length_kmeans(seqs, 2)
    assert len(set(pred[:5])) == 1 and pred[0] != pred[-1]
