"""Retrieval-augmented protein input: the texts of a protein's nearest reference proteins.

Twins differ by a few residues, and what those residues mean is best learned from the
*known* relatives of a protein: for every protein, the ``k`` reference proteins most similar
to it (cosine of the k-mer TF-IDF bags of :class:`core.tasks.text_features.KmerVocabulary`)
vote with their MiniLM text embeddings, weighted by ``softmax(similarity / temperature)``.
The dual encoder's protein tower adds that vote, passed through the text head, to its own
k-mer embedding (:class:`core.models.dual_encoder.DualEncoder`, ``neighbour_texts``).

The reference set is the training proteins only. A protein never counts as its own neighbour,
and neither does any reference protein with an identical sequence, so a training protein sees
exactly what a held-out protein sees (the paper protocol drops training copies of held-out
sequences).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class NeighbourConfig:
    """``k`` nearest reference proteins, softmax ``temperature`` over their cosines."""

    k: int = 10
    temperature: float = 0.05

    def __post_init__(self):
        if self.k < 1 or self.temperature <= 0:
            raise ValueError("k >= 1 and temperature > 0 please")


def _csr(bags):
    import scipy.sparse as sp

    return sp.csr_matrix((bags.weights, bags.indices, bags.indptr),
                         shape=(len(bags), bags.vocab_size))


def _skip_identical(sim: np.ndarray, sequences, ref_sequences: np.ndarray,
                    value: float) -> np.ndarray:
    """``sim`` (n, R) with ``value`` wherever query i and reference j have the same sequence
    (in place); ``ref_sequences`` an object array. A protein never counts as its own relative."""
    seq = np.asarray(sequences, dtype=object)
    sim[seq[:, None] == ref_sequences[None, :]] = value
    return sim


def _crowding(sim: np.ndarray, thresholds, tops) -> np.ndarray:
    """(n, len(thresholds) + len(tops)): log(1 + number of references above each threshold),
    then the mean of the best ``t`` similarities for each ``t`` of ``tops`` (1: the best)."""
    best = -np.sort(-sim, axis=1)[:, :max(tops)]
    counts = [np.log1p((sim > t).sum(1)) for t in thresholds]
    return np.stack(counts + [best[:, :t].mean(1) for t in tops], 1)


def neighbour_text_features(bags, sequences: list[str], ref_bags, ref_sequences: list[str],
                            ref_text_ids: np.ndarray, text_features: np.ndarray,
                            cfg: NeighbourConfig = NeighbourConfig(), *,
                            chunk: int = 512) -> np.ndarray:
    """(N, F) similarity-weighted mean text features of each protein's nearest references.

    ``bags``/``ref_bags``: :class:`~core.tasks.text_features.KmerBags` (rows L2-normalised) of
    the queries and the reference proteins; ``ref_text_ids`` index ``text_features`` (T, F).
    References with a sequence identical to the query are skipped (the query itself too).
    """
    X, R = _csr(bags), _csr(ref_bags)
    ref_seq = np.asarray(ref_sequences, dtype=object)
    ref_tf = text_features[np.asarray(ref_text_ids)]
    k = min(cfg.k, R.shape[0])
    out = np.zeros((X.shape[0], text_features.shape[1]), np.float32)
    if k == 0:
        return out
    for s in range(0, X.shape[0], chunk):
        sim = _skip_identical((X[s:s + chunk] @ R.T).toarray(), sequences[s:s + chunk],
                              ref_seq, -np.inf)
        top = np.argpartition(-sim, k - 1, axis=1)[:, :k]
        val = np.take_along_axis(sim, top, 1)
        val = np.where(np.isfinite(val), val, np.nan)
        w = np.exp((val - np.nanmax(val, 1, keepdims=True)) / cfg.temperature)
        w = np.nan_to_num(w)
        w /= np.maximum(w.sum(1, keepdims=True), 1e-12)
        out[s:s + chunk] = np.einsum("nk,nkf->nf", w, ref_tf[top])
    return out


#: cosine thresholds of :func:`neighbour_stats`
STAT_THRESHOLDS = (0.9, 0.95, 0.97, 0.98, 0.99)


def neighbour_stats(bags, sequences: list[str], ref_bags, ref_sequences: list[str], *,
                    chunk: int = 512) -> np.ndarray:
    """(N, 8) how crowded each protein's neighbourhood among the references is.

    Columns: log(1 + number of references above each cosine of :data:`STAT_THRESHOLDS`),
    the best cosine, the mean of the best 5 and of the best 10. References identical to the
    protein are skipped, as in :func:`neighbour_text_features`. Well-studied proteins with
    many close variants (TEM-1, CTX-M-15) carry names and notes in their descriptions where
    their variants carry a generic one; these numbers let the tower learn that.
    """
    X, R = _csr(bags), _csr(ref_bags)
    ref_seq = np.asarray(ref_sequences, dtype=object)
    out = np.zeros((X.shape[0], len(STAT_THRESHOLDS) + 3), np.float32)
    for s in range(0, X.shape[0], chunk):
        sim = _skip_identical((X[s:s + chunk] @ R.T).toarray(), sequences[s:s + chunk],
                              ref_seq, -1.0)
        out[s:s + chunk] = _crowding(sim, STAT_THRESHOLDS, (1, 5, 10))
    return out


#: sequence-identity thresholds of :func:`identity_stats` (RapidFuzz normalised Indel
#: similarity: 0.995 is about one residue change in 400)
IDENTITY_THRESHOLDS = (0.9, 0.95, 0.98, 0.99, 0.995, 0.998)


def identity_matrix(sequences: list[str], ref_sequences: list[str] | None = None, *,
                    workers: int = 1, cache: bool = True) -> np.ndarray:
    """(N, R) RapidFuzz ``fuzz.ratio`` / 100 of every sequence against every reference (all
    against all when ``ref_sequences`` is None), computed in C++ and cached as ``.npy`` under
    the workspace cache (ResFinder all against all: ~60 s once on one core)."""
    from rapidfuzz import fuzz, process

    from core.encoders import (
        cache_root,
        load_cached_array,
        save_cached_array,
        sequences_fingerprint,
    )

    seqs = [s.upper() for s in sequences]
    refs = seqs if ref_sequences is None else [s.upper() for s in ref_sequences]
    path = cache_root() / f"identity-{sequences_fingerprint(seqs)}-{sequences_fingerprint(refs)}.npy"
    out = load_cached_array(path, len(seqs)) if cache else None
    if out is not None and out.shape[1] == len(refs):
        return out
    out = process.cdist(seqs, refs, scorer=fuzz.ratio, dtype=np.float32, workers=workers) / 100
    if cache:
        save_cached_array(path, out)
    return out


#: above this many query x reference pairs :func:`identity_stats` computes identities only
#: for each query's :data:`IDENTITY_CANDIDATES` references of highest 3-mer cosine (a
#: 10,000-protein library against 13,000 references: 2.6 M RapidFuzz calls instead of 130 M)
IDENTITY_EXACT_PAIRS = 20_000_000
IDENTITY_CANDIDATES = 256


def candidate_identities(sequences: list[str], ref_sequences: list[str], *,
                         k: int = IDENTITY_CANDIDATES, chunk: int = 1024
                         ) -> tuple[np.ndarray, np.ndarray]:
    """(cols, sim), both (N, k'): for every query the ``k`` references with the highest
    cosine of 3-mer counts (k' = min(k, R)) and their RapidFuzz ``fuzz.ratio`` / 100. Proteins
    above 90 % identity share most of their 3-mers, so they are among the candidates unless a
    query has more than ``k`` such relatives (its counts are then capped at ``k``)."""
    from rapidfuzz import fuzz, process
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.preprocessing import normalize

    vec = CountVectorizer(analyzer="char", ngram_range=(3, 3), lowercase=False,
                          dtype=np.float32).fit(ref_sequences)
    R = normalize(vec.transform(ref_sequences)).T.tocsr()
    k = min(k, len(ref_sequences))
    cols = np.zeros((len(sequences), k), np.int64)
    for s in range(0, len(sequences), chunk):
        cos = (normalize(vec.transform(sequences[s:s + chunk])) @ R).toarray()
        cols[s:s + chunk] = np.argpartition(-cos, k - 1, axis=1)[:, :k]
    queries = [q for q in sequences for _ in range(k)]
    refs = [ref_sequences[j] for j in cols.ravel()]
    sim = process.cpdist(queries, refs, scorer=fuzz.ratio, dtype=np.float32, workers=-1) / 100
    return cols, sim.reshape(len(sequences), k).astype(np.float32)


def identity_stats(sequences: list[str], ref_sequences: list[str], *,
                   sim: np.ndarray | None = None, lengths: bool = False) -> np.ndarray:
    """(N, 8) how crowded each protein's neighbourhood among the references is, measured by
    sequence identity rather than k-mer cosine.

    Columns: log(1 + number of references whose RapidFuzz ``fuzz.ratio`` (normalised Indel
    similarity, 2 LCS / (l_i + l_j)) exceeds each of :data:`IDENTITY_THRESHOLDS`), the best
    ratio and the mean of the best 5. References identical to the protein are skipped. A k-mer
    cosine does not resolve one or two substitutions in 300 residues; this does, and the curated
    texts follow it: in ResFinder the well-studied proteins with many one-residue variants
    carry names and notes, their variants the generic "drugs not determined" text.
    ``sim``: the (N, R) ratios when already known (see :func:`identity_matrix`); else
    computed, all against all up to :data:`IDENTITY_EXACT_PAIRS` pairs and among each
    query's candidates beyond (:func:`candidate_identities`).
    ``lengths``: three more columns, the protein's log length minus the mean log length of
    its 5 most identical references, the share of those that are longer, and its log length.
    """
    out = np.zeros((len(sequences), len(IDENTITY_THRESHOLDS) + 2 + 3 * lengths), np.float32)
    if not len(ref_sequences):
        return out
    ref = np.asarray([s.upper() for s in ref_sequences], dtype=object)
    seq = [s.upper() for s in sequences]
    cols = None  # column j of row i is reference cols[i, j] (all references when None)
    if sim is None and len(seq) * len(ref) > IDENTITY_EXACT_PAIRS:
        cols, sim = candidate_identities(seq, list(ref))
    elif sim is None:
        sim = identity_matrix(seq, list(ref), cache=False)
    sim = np.array(sim, dtype=np.float32)
    for s in range(0, len(seq), 512):
        block = np.asarray(seq[s:s + 512], dtype=object)[:, None]
        copies = block == (ref[None, :] if cols is None else ref[cols[s:s + 512]])
        sim[s:s + 512][copies] = 0.0
    out[:, :len(IDENTITY_THRESHOLDS) + 2] = _crowding(sim, IDENTITY_THRESHOLDS, (1, 5))
    if lengths:
        own = np.log([max(len(s), 1) for s in seq])
        ref_len = np.log([max(len(s), 1) for s in ref])
        top = np.argsort(-sim, axis=1)[:, :5]
        near = ref_len[top if cols is None else np.take_along_axis(cols, top, 1)]
        out[:, -3] = own - near.mean(1)
        out[:, -2] = (near > own[:, None]).mean(1)
        out[:, -1] = own
    return out
