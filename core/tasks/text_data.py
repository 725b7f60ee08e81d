"""Protein–text pairs: loading, text validation, and the two evaluation protocols.

A protein–text table is the project's sequence table (``id``, ``sequence``) with a ``text``
column. Texts may repeat across proteins (ResFinder: 2,913 proteins, 599 texts), so
text -> protein retrieval has several right answers; ``text_id`` numbers the distinct texts.

Protocols (see :func:`paper_split` and :func:`novel_families_split`):

* *paper*: a seeded random 10 % of proteins is held out; every other protein with a sequence
  identical to a held-out one is dropped, and the rest is split into training and validation.
* *novel_families*: the shipped ``split`` column, which keeps sequence groups apart.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.io_types import Problem, ValidationReport

#: Texts longer than this are rejected (a description, not a paper).
MAX_TEXT_CHARS = 4000
#: MiniLM reads ~256 word pieces (~1,000 characters); longer texts are truncated (warning).
WARN_TEXT_CHARS = 1000


def validate_texts(table: pd.DataFrame, report: ValidationReport | None = None, *,
                   max_chars: int = MAX_TEXT_CHARS) -> ValidationReport:
    """Add text problems to ``report``: ``missing_text_column``, ``empty_text`` and
    ``text_too_long`` (errors), ``text_truncated`` and ``duplicate_pair`` (warnings: the
    same sequence with the same text twice). Repeated texts alone are normal and only counted.
    """
    report = report or ValidationReport(source="table", format="table", n_records=len(table))
    if "text" not in table.columns:
        report.problems.append(Problem("error", "missing_text_column",
                                       "the table needs a `text` column (one description "
                                       "per protein)"))
        return report
    ids = table["id"].astype(str).tolist() if "id" in table else [str(i) for i in table.index]
    lines = table["line"].tolist() if "line" in table else [None] * len(table)
    texts = table["text"]
    seen: dict[tuple[str, str], str] = {}
    for rid, line, text, seq in zip(ids, lines, texts, table["sequence"].astype(str),
                                    strict=True):
        line = int(line) if line is not None and not pd.isna(line) else None
        if text is None or pd.isna(text) or not str(text).strip():
            report.problems.append(Problem("error", "empty_text", "the text is empty",
                                           rid, line))
            continue
        text = str(text).strip()
        if len(text) > max_chars:
            report.problems.append(Problem("error", "text_too_long",
                                           f"the text has {len(text):,} characters (limit "
                                           f"{max_chars:,})", rid, line))
        elif len(text) > WARN_TEXT_CHARS:
            report.problems.append(Problem("warning", "text_truncated",
                                           f"{len(text):,} characters: the text encoder reads "
                                           f"about the first {WARN_TEXT_CHARS:,}", rid, line))
        key = (seq.upper(), text)
        if key in seen:
            report.problems.append(Problem("warning", "duplicate_pair",
                                           f"same sequence and text as {seen[key]}", rid, line))
        else:
            seen[key] = rid
    valid = texts.dropna().astype(str).str.strip()
    report.counts["distinct_texts"] = int(valid[valid != ""].nunique())
    report.counts["repeated_texts"] = int(valid[valid != ""].duplicated().sum())
    return report


def read_text_table(source, *, filename: str | None = None, max_length: int | None = 5000):
    """A CSV/TSV of sequence + text read with :func:`core.io.read_sequences`, texts validated.

    Returns the :class:`core.io_types.ParsedTable` (table and one report).
    """
    from core.io import read_sequences

    parsed = read_sequences(source, filename=filename, max_length=max_length)
    table = parsed.table
    if "text" not in table.columns:
        for alt in ("description", "Text", "function", "annotation"):
            if alt in table.columns:
                table["text"] = table[alt]
                break
    validate_texts(table, parsed.report)
    return parsed


def with_text_ids(table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The table with ``text`` stripped and ``text_id`` (index into the distinct texts,
    sorted), and those texts."""
    out = table.copy()
    out["text"] = out["text"].astype(str).str.strip()
    texts = sorted(out["text"].unique())
    index = {t: i for i, t in enumerate(texts)}
    out["text_id"] = out["text"].map(index).astype(np.int64)
    return out, texts


@dataclass(frozen=True)
class Protocol:
    """Row indices (into the table) of one evaluation protocol."""

    name: str
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray

    def split_of(self, n: int) -> np.ndarray:
        out = np.full(n, "unused", dtype=object)
        out[self.train], out[self.valid], out[self.test] = "train", "valid", "test"
        return out


def paper_split(table: pd.DataFrame, *, seed: int = 0, test_fraction: float = 0.1,
                valid_fraction: float = 0.1) -> Protocol:
    """The seed's setting: held-out proteins whose families are known from training.

    A seeded random ``test_fraction`` of proteins is held out; proteins whose sequence is
    identical to a held-out one are dropped from training and validation; of the rest, a
    seeded random ``valid_fraction`` validates (thresholds, early stopping) and the rest trains.
    """
    rng = np.random.default_rng(seed)
    n = len(table)
    test = np.sort(rng.choice(n, max(1, int(round(n * test_fraction))), replace=False))
    held = np.zeros(n, bool)
    held[test] = True
    seqs = table["sequence"].astype(str).to_numpy()
    clash = np.isin(seqs, seqs[test]) & ~held
    rest = np.flatnonzero(~held & ~clash)
    rest = rng.permutation(rest)
    n_valid = max(1, int(round(len(rest) * valid_fraction)))
    return Protocol("paper", np.sort(rest[n_valid:]), np.sort(rest[:n_valid]), test)


def inner_paper_protocols(table: pd.DataFrame, outer: Protocol, *, repeats: int = 3,
                          seed: int = 0, test_fraction: float = 0.1) -> list[Protocol]:
    """Validation designs that mirror the paper protocol inside ``outer``'s training pool.

    The pool is ``outer.train`` and ``outer.valid`` (the outer test proteins are never used).
    Each repeat holds out a seeded random ``test_fraction`` of *all* proteins from the pool (as
    many as the outer test), drops pool proteins identical to them, and splits the rest into
    training and validation exactly as :func:`paper_split` does; hard twins are then the shipped
    twins with both members in the inner test, as in the outer test. Several repeats make a
    model choice less dependent on the few families a single draw holds.
    """
    pool = np.sort(np.concatenate([outer.train, outer.valid]))
    sub = table.iloc[pool].reset_index(drop=True)
    n_test = max(1, int(round(len(table) * test_fraction)))
    out = []
    for r in range(repeats):
        inner = paper_split(sub, seed=1000 * (seed + 1) + r,
                            test_fraction=n_test / len(sub))
        out.append(Protocol(f"inner{r}", pool[inner.train], pool[inner.valid],
                            pool[inner.test]))
    return out


def novel_families_split(table: pd.DataFrame) -> Protocol:
    """The shipped ``split`` column (sequence groups never straddle train/valid/test)."""
    if "split" not in table.columns:
        raise KeyError("the novel-families protocol needs a `split` column "
                       "(train/valid/test by sequence group)")
    split = table["split"].astype(str).to_numpy()
    return Protocol("novel_families", np.flatnonzero(split == "train"),
                    np.flatnonzero(split == "valid"), np.flatnonzero(split == "test"))


def get_protocol(table: pd.DataFrame, name: str, *, seed: int = 0) -> Protocol:
    if name == "paper":
        return paper_split(table, seed=seed)
    if name == "novel_families":
        return novel_families_split(table)
    raise ValueError(f"unknown protocol {name!r}: paper or novel_families")


def twin_index(table: pd.DataFrame, twins: pd.DataFrame) -> pd.DataFrame:
    """Twin pairs as row indices ``a``, ``b`` (plus the twin table's other columns); pairs
    naming proteins not in the table are dropped."""
    pos = pd.Series(np.arange(len(table)), index=table["id"].astype(str))
    out = twins.copy()
    out["a"] = out["id_a"].astype(str).map(pos)
    out["b"] = out["id_b"].astype(str).map(pos)
    out = out.dropna(subset=["a", "b"])
    out[["a", "b"]] = out[["a", "b"]].astype(np.int64)
    return out.reset_index(drop=True)


def pairs_within(twins: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """Twin pairs (with ``a``, ``b``) whose two proteins are both in ``rows``."""
    inside = np.zeros(int(max(twins["a"].max(), twins["b"].max(), rows.max(initial=0))) + 1
                      if len(twins) else 1, bool)
    inside[rows[rows < len(inside)]] = True
    keep = inside[twins["a"].to_numpy()] & inside[twins["b"].to_numpy()] if len(twins) else []
    return twins[keep].reset_index(drop=True)


def load_builtin():
    """ResFinder proteins (with ``text_id``), the distinct texts and the shipped twins
    (with row indices)."""
    from core.datasets import load, load_file

    table, texts = with_text_ids(load("protein_text"))
    twins = twin_index(table, load_file("protein_text", "resfinder_twins.csv"))
    return table, texts, twins
