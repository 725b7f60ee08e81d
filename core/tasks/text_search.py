"""Search with a trained protein–text model: text -> proteins, sequence -> descriptions.

:class:`VectorIndex` searches unit vectors by cosine: exactly (chunked matrix products) up to
``exact_limit`` entries, and beyond that through an inverted-file index (k-means cells from
scikit-learn, the query probes the ``n_probe`` nearest cells), which keeps a query sub-linear
for large uploaded libraries.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

EXACT_LIMIT = 10_000


class VectorIndex:
    """Cosine top-k over fixed unit vectors (N, D)."""

    def __init__(self, vectors: np.ndarray, *, exact_limit: int = EXACT_LIMIT,
                 n_probe: int = 8, seed: int = 0):
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.exact = len(self.vectors) <= exact_limit
        self.n_probe = n_probe
        if not self.exact:
            from sklearn.cluster import MiniBatchKMeans

            n_cells = int(np.sqrt(len(self.vectors)) * 2)
            km = MiniBatchKMeans(n_cells, random_state=seed, n_init=1, batch_size=4096)
            self.cell_of_ = km.fit_predict(self.vectors)
            self.centroids_ = km.cluster_centers_.astype(np.float32)
            self.members_ = [np.flatnonzero(self.cell_of_ == c) for c in range(n_cells)]

    def __len__(self) -> int:
        return len(self.vectors)

    def search(self, query: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Indices and scores of the ``k`` best entries for one query vector, best first."""
        q = np.asarray(query, np.float32).ravel()
        if self.exact:
            cand = np.arange(len(self.vectors))
        else:
            cells = np.argsort(-(self.centroids_ @ q))[:self.n_probe]
            cand = np.concatenate([self.members_[c] for c in cells])
        scores = self.vectors[cand] @ q
        k = min(k, len(cand))
        top = np.argpartition(-scores, k - 1)[:k] if k < len(cand) else np.arange(len(cand))
        top = top[np.argsort(-scores[top], kind="stable")]
        return cand[top], scores[top]


@dataclass
class ProteinTower:
    """Sequences -> unit protein embeddings with a run's k-mer vocabulary and, when the model
    uses them, mean-pooled NEAR features (``near``; first in the dense input, as in training)
    and neighbourhood statistics against the reference proteins (``reference``: the run's
    training proteins, or every protein of the run and the library searched, see
    :func:`statistics_reference`)."""

    model: object
    vocab: object
    reference: list[str] | None = None
    stats_mean: np.ndarray | None = None
    stats_std: np.ndarray | None = None
    stats_measure: str = "kmer"
    near: bool = False

    def __post_init__(self):
        # the reference set is fixed: its bags are made once, not at every search
        self.reference_bags = (self.vocab.transform(self.reference)
                               if self.reference is not None else None)

    @cached_property
    def near_encoder(self):
        """The NEAR encoder, built on first use (its network is loaded once, then reused)."""
        from core.encoders import NearEncoder

        return NearEncoder()

    def near_features(self, sequences: list[str], cached: bool) -> np.ndarray:
        """NEAR embeddings of ``sequences``: kept in the feature cache for a library
        (``cached``), computed afresh for a query."""
        from core.encoders import embed_cached

        if cached:
            return embed_cached(self.near_encoder, sequences)
        return self.near_encoder.embed(sequences)

    def embed(self, sequences: list[str], batch: int = 1024, *, cached: bool = False
              ) -> np.ndarray:
        """(N, dim) unit vectors; ``cached``: keep the NEAR features of these sequences in
        the workspace cache (an uploaded library), not for a one-off query."""
        import torch

        from core.tasks.text_neighbours import identity_stats, neighbour_stats

        bags = self.vocab.transform(sequences)
        dense = None
        parts = [self.near_features(sequences, cached)] if self.near else []
        if self.reference is not None:
            stats = (identity_stats(sequences, self.reference,
                                    lengths=self.stats_measure == "identity_length")
                     if self.stats_measure.startswith("identity") else
                     neighbour_stats(bags, sequences, self.reference_bags, self.reference))
            parts.append((stats - self.stats_mean) / self.stats_std)
        if parts:
            dense = np.concatenate(parts, 1).astype(np.float32)
        out = []
        with torch.no_grad():
            for s in range(0, len(bags), batch):
                rows = np.arange(s, min(s + batch, len(bags)))
                d = torch.from_numpy(dense[rows]) if dense is not None else None
                out.append(self.model.encode_protein(bags.batch(rows), dense=d).numpy())
        return np.concatenate(out) if out else np.zeros((0, self.model.cfg.dim), np.float32)


@dataclass
class TextSearcher:
    """A trained model with a library of proteins and descriptions to search."""

    model: object
    tower: ProteinTower
    proteins: pd.DataFrame  # id, sequence, text (optional)
    protein_index: VectorIndex
    texts: list[str]
    text_index: VectorIndex
    device: object = None
    lexicon: object = None

    def search_text(self, query: str, k: int = 10) -> pd.DataFrame:
        """Proteins ranked for a free-text query: rank, id, score, text (if known)."""
        import torch

        from core.tasks.text_features import embed_query

        if not query or not query.strip():
            raise ValueError("the query is empty")
        query = query.strip()[:4000]
        feat = embed_query(query)[None]
        if self.lexicon is not None:
            feat = np.concatenate([feat, self.lexicon.transform([query])], 1)
        feat = torch.from_numpy(feat)
        with torch.no_grad():
            q = self.model.encode_text(feat).numpy()[0]
        idx, scores = self.protein_index.search(q, k)
        out = self.proteins.iloc[idx][[c for c in ("id", "text") if c in self.proteins]]
        return out.assign(score=scores).reset_index(drop=True).rename_axis("rank").reset_index()

    def search_sequence(self, sequence: str, k: int = 10) -> pd.DataFrame:
        """Descriptions ranked for one protein sequence: rank, text, score."""

        seq = "".join(sequence.split()).upper()
        if not seq:
            raise ValueError("the sequence is empty")
        p = self.tower.embed([seq])[0]
        idx, scores = self.text_index.search(p, k)
        return pd.DataFrame({"rank": np.arange(len(idx)), "text": [self.texts[i] for i in idx],
                             "score": scores})


def load_model(store, run_id: str):
    """The final model of a ``text.fit`` run (eval mode, CPU) and its k-mer vocabulary."""

    from core.models.dual_encoder import DualEncoder, DualEncoderConfig, EnsembleEncoder
    from core.tasks.text_features import KmerVocabulary

    run = store.get(run_id)
    if run.method != "text":
        raise ValueError(f"run {run_id} is a {run.method} run, not a text retrieval run")
    ensemble = run.summary.get("ensemble")
    configs = ensemble["members"] if ensemble else [run.summary["model_config"]]
    for option in ("text_finetune", "neighbour_texts"):
        if any(c.get(option) for c in configs):
            raise ValueError(f"searching with a model trained with {option} is not supported")
    members = [DualEncoder(DualEncoderConfig(**{**c, "text_finetune": False}))
               for c in configs]
    model = EnsembleEncoder(members, ensemble["coef"]) if ensemble else members[0]
    state = store.load_weights(run_id)["model"]
    state = {k: v.float() for k, v in state.items() if "text_tower." not in k}
    model.load_state_dict(state)
    arrays = store.load_arrays(run_id)
    voc = run.summary["vocab"]
    vocab = KmerVocabulary.from_arrays(arrays["kmers"], arrays["idf"], k_min=voc["k_min"],
                                       k_max=voc["k_max"], n_buckets=voc.get("n_buckets"))
    return model.eval(), vocab, arrays


def lexicon_of(arrays) -> object:
    """The run's :class:`~core.tasks.text_features.TextLexicon` (None if it used none)."""
    from core.tasks.text_features import TextLexicon

    if "lex_terms" not in arrays:
        return None
    return TextLexicon.from_arrays(arrays["lex_terms"], arrays["lex_idf"])


def statistics_reference(own: pd.DataFrame, library: pd.DataFrame | None,
                         reference: str) -> list[str]:
    """The sequences a searched protein's relatives are counted among, as in training:
    ``train``, the run's training proteins; ``all`` (transductive), every protein of the run
    and of the ``library`` searched (sequences only; a protein never counts itself, and a
    library protein that is also a run protein counts once)."""
    if reference == "train":
        return own.loc[own["split"] == "train", "sequence"].astype(str).tolist()
    seqs = own["sequence"].astype(str).str.upper().tolist()
    if library is not None:  # a library protein that is also a run protein counts once
        known = set(seqs)
        seqs += [s for s in library["sequence"].astype(str).str.upper() if s not in known]
    return seqs


def searcher_for_run(store, run_id: str, library: pd.DataFrame | None = None) -> TextSearcher:
    """Search the run's own proteins and texts, or ``library`` (id, sequence[, text]):
    its proteins are embedded with the run's protein tower, its texts with MiniLM + head."""
    import torch

    from core.tasks.text_features import embed_texts, with_lexicon

    model, vocab, arrays = load_model(store, run_id)
    lexicon = lexicon_of(arrays)
    own = store.load_table(run_id, "proteins")
    stats = {}  # the tower's neighbourhood statistics, when the model was trained with them
    if "stats_mean" in arrays:
        stats = {"reference": statistics_reference(own, library,
                                                   str(arrays.get("stats_reference", "train"))),
                 "stats_mean": arrays["stats_mean"], "stats_std": arrays["stats_std"],
                 "stats_measure": str(arrays.get("stats_measure", "kmer"))}
    near = "near" in str(arrays["protein_features"]) if "protein_features" in arrays else False
    tower = ProteinTower(model, vocab, **stats, near=near)
    if library is None:
        proteins = own
        texts = store.load_table(run_id, "texts")["text"].tolist()
        proteins["text"] = [texts[i] for i in proteins["text_id"]]
        return TextSearcher(model, tower, proteins, VectorIndex(arrays["protein_emb"]), texts,
                            VectorIndex(arrays["text_emb"]), lexicon=lexicon)
    proteins = library.reset_index(drop=True).copy()
    emb = tower.embed(proteins["sequence"].astype(str).str.upper().tolist(), cached=True)
    if "text" in proteins and proteins["text"].notna().any():
        texts = sorted(proteins["text"].dropna().astype(str).str.strip().unique())
    else:
        texts = store.load_table(run_id, "texts")["text"].tolist()
    feats = with_lexicon(embed_texts(texts), texts, lexicon)
    with torch.no_grad():
        text_emb = model.encode_text(torch.from_numpy(feats)).numpy()
    return TextSearcher(model, tower, proteins, VectorIndex(emb), texts, VectorIndex(text_emb),
                        lexicon=lexicon)


def search_cli(args) -> int:
    """``python -m core search "query" --run R [--sequence] [--library FILE]``."""
    from core.store import RunStore

    store = RunStore()
    library = None
    if args.library:
        from core.io import read_sequences

        parsed = read_sequences(args.library)
        if parsed.report.errors:
            print(parsed.report.summary())
            return 2
        library = parsed.table
    searcher = searcher_for_run(store, args.run, library)
    hits = (searcher.search_sequence(args.query, args.k) if args.sequence
            else searcher.search_text(args.query, args.k))
    if args.json:
        print(hits.to_json(orient="records", indent=1))
    else:
        print(hits.round(4).to_string(index=False, max_colwidth=100))
    return 0
