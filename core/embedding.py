"""One interface for every embedding: ``embed(source, sequences) -> (N, D) array``.

A *source* is a short string:

=====================  ==============================================================
``kmer`` ``near``      built-in encoders of :mod:`core.encoders` (no training here)
``masked_lm`` ``esm2``
``onehot`` ``blosum``  flattened one-hot / BLOSUM62 profile of equal-length (aligned) rows
``run:<run id>``       the encoder a saved run learned (triplet CNN, SCAN features, ...)
=====================  ==============================================================

Saved runs serve embeddings through :data:`RUN_ENCODERS`, one entry per method: a function
``(store, run) -> RunEncoder`` named as ``"module:function"`` and imported only when used. A new
method makes its runs embeddable with **one line** at the end of this module::

    register_run_encoder("families", "core.tasks.families:run_encoder")

The function returns any object with ``name``, ``dim``, ``cache_key()`` and
``embed(sequences, *, batch_size, device, on_progress)`` (the :class:`core.encoders.Encoder`
protocol), and may add ``stored() -> (ids, features)`` — the embeddings the run saved for its
own proteins, which the explorer uses as they are instead of recomputing them.
"""
from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.config import check_choice
from core.progress import ProgressCallback, report

PROFILE_KINDS = ("onehot", "blosum")
BUILTIN = ("kmer", "near", "masked_lm", "esm2", *PROFILE_KINDS)
RUN_PREFIX = "run:"

#: method -> "module:function" building an encoder from a finished run of that method.
RUN_ENCODERS: dict[str, str] = {}


def register_run_encoder(method: str, target: str) -> None:
    """Make runs of ``method`` embeddable; ``target`` is ``"module:function(store, run)"``."""
    RUN_ENCODERS[method] = target


class ProfileEncoder:
    """One-hot (21 letters incl. gap) or BLOSUM62-profile rows, flattened: (N, width * A).

    Only meaningful for equal-length rows (an MSA, or point mutants of one parent); the width is
    fixed by :meth:`fit` (or the first call) so later rows are cut or padded to the same grid.
    """

    def __init__(self, kind: str = "blosum", width: int | None = None):
        check_choice("profile kind", kind, PROFILE_KINDS)
        self.kind = kind
        self.width = width

    @property
    def name(self) -> str:
        return self.kind

    @property
    def dim(self) -> int:
        return int(self.width or 0) * (21 if self.kind == "onehot" else 20)

    def cache_key(self) -> str:
        return f"profile-{self.kind}-w{self.width}"

    def fit(self, sequences: Sequence[str]) -> ProfileEncoder:
        lengths = {len(s) for s in sequences}
        if len(lengths) > 1:
            raise ValueError(f"the {self.kind} profile needs equal-length (aligned) rows; these "
                             f"have {len(lengths)} different lengths ({min(lengths)}-"
                             f"{max(lengths)}). Use the aligned column or another encoder.")
        self.width = lengths.pop() if lengths else 0
        return self

    def embed(self, sequences: list[str], *, batch_size: int = 4096, device=None,
              on_progress: ProgressCallback | None = None) -> np.ndarray:
        from core.tasks.property_model import profile_features

        if self.width is None:
            self.fit(sequences)
        report(on_progress, "embed", 0, len(sequences))
        out = np.zeros((len(sequences), self.dim), dtype=np.float32)
        for start in range(0, len(sequences), batch_size):
            part = list(sequences[start:start + batch_size])
            out[start:start + len(part)] = profile_features(part, self.kind, self.width)
            report(on_progress, "embed", start + len(part), len(sequences))
        return out


def is_run_source(source: str) -> bool:
    return source.startswith(RUN_PREFIX)


def get_source(source: str, *, store=None, sequences: Sequence[str] | None = None,
               seed: int = 0):
    """The encoder behind ``source`` (see the module docstring).

    ``sequences`` fit encoders that learn from the data (k-mer IDF, profile width); the masked
    LM trains on them (cached under the workspace).
    """
    if is_run_source(source):
        from core.store import RunStore

        store = store or RunStore()
        run = store.get(source[len(RUN_PREFIX):])
        if run.status != "done":
            raise RuntimeError(f"run {run.id} is {run.status}; only finished runs embed")
        if run.method not in RUN_ENCODERS:
            raise KeyError(f"runs of method {run.method!r} have no encoder; known: "
                           f"{', '.join(sorted(RUN_ENCODERS)) or 'none'}")
        return _load(RUN_ENCODERS[run.method])(store, run)
    if source in PROFILE_KINDS:
        enc = ProfileEncoder(source)
        return enc.fit(sequences) if sequences is not None else enc
    from core.encoders import cache_root, get_encoder

    kw: dict[str, Any] = {}
    if source == "masked_lm":
        kw = {"seed": seed, "cache_dir": cache_root().parent / "masked_lm"}
    enc = get_encoder(source, **kw)
    if source == "kmer" and sequences is not None:
        enc.fit(list(sequences))
    return enc


def embed(source: str, sequences: Sequence[str], *, store=None, seed: int = 0, device=None,
          cache: bool = True, on_progress: ProgressCallback | None = None) -> np.ndarray:
    """(N, D) float32 embeddings of ``sequences`` by ``source``; cached on disk by default."""
    from core.encoders import embed_cached

    seqs = [str(s) for s in sequences]
    enc = get_source(source, store=store, sequences=seqs, seed=seed)
    if not cache:
        return enc.embed(seqs, device=device, on_progress=on_progress)
    return embed_cached(enc, seqs, device=device, on_progress=on_progress)


@dataclass
class TableEmbedding:
    """Embeddings of a table's proteins (row order kept), how they were obtained, and the
    encoder that made them (fitted on the table where it learns from data), for new rows."""

    features: np.ndarray
    how: str
    encoder: Any
    column: str = "sequence"

    def embed_new(self, sequences: Sequence[str], *, device=None,
                  on_progress: ProgressCallback | None = None) -> np.ndarray:
        """New sequences by the same (already fitted) encoder: comparable with ``features``."""
        return np.asarray(self.encoder.embed([str(s) for s in sequences], device=device,
                                             on_progress=on_progress), dtype=np.float32)


def embed_table(source: str, table, *, store=None, seed: int = 0, device=None,
                on_progress: ProgressCallback | None = None) -> TableEmbedding:
    """Embed a table's proteins by ``source``.

    A run's own proteins (every id of ``table`` among the ids it saved) are served from its
    stored features; everything else is computed (and cached on disk). The column read is
    ``aligned`` for profile encoders when the table has one, else ``sequence``.
    """
    from core.encoders import embed_cached

    column = "aligned" if source in PROFILE_KINDS and "aligned" in table else "sequence"
    seqs = table[column].astype(str).tolist()
    if is_run_source(source):
        enc = get_source(source, store=store)
        stored = getattr(enc, "stored", None)
        if stored is not None:
            ids, feats = stored()
            index = {str(i): k for k, i in enumerate(ids)}
            wanted = [index.get(str(i)) for i in table["id"]]
            if len(wanted) and all(w is not None for w in wanted):
                report(on_progress, "embed", len(wanted), len(wanted), message="stored")
                return TableEmbedding(np.asarray(feats, dtype=np.float32)[wanted],
                                      "stored by the run", enc, column)
    else:
        enc = get_source(source, store=store, sequences=seqs, seed=seed)
    out = embed_cached(enc, seqs, device=device, on_progress=on_progress)
    return TableEmbedding(out, f"computed from `{column}`", enc, column)


def source_status(store=None, *, equal_length: bool = False) -> list[dict[str, Any]]:
    """Every source that could embed here: ``source``, ``label``, ``available``, ``reason``."""
    from core.encoders import encoder_status

    rows = [{"source": r["name"], "label": r["name"], "available": r["available"],
             "reason": r["reason"]} for r in encoder_status()]
    for kind in PROFILE_KINDS:
        rows.append({"source": kind, "label": f"{kind} profile", "available": equal_length,
                     "reason": "" if equal_length else "needs equal-length or aligned rows"})
    if store is not None:
        for run in store.list():
            if run.status == "done" and run.method in RUN_ENCODERS:
                rows.append({"source": RUN_PREFIX + run.id, "label": f"run: {run.name}",
                             "available": True, "reason": run.method})
    return rows


def _load(target: str):
    module, _, func = target.partition(":")
    return getattr(importlib.import_module(module), func)


# Methods whose runs embed; one line each (see the module docstring).
register_run_encoder("property", "core.run_encoders:property_encoder")
register_run_encoder("scan", "core.run_encoders:scan_encoder")
