"""Writers: tables to CSV / FASTA / Parquet bytes or files, embeddings, dataset fingerprints.

Import them from :mod:`core.io`.
"""
from __future__ import annotations

import hashlib
import io
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.io_formats import _fasta_id

# --------------------------------------------------------------------------- writers


def _write_bytes(path: str | Path, data: bytes) -> Path:
    """Write atomically (temporary file + rename), creating parent folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def to_csv_bytes(df: pd.DataFrame, *, drop: Iterable[str] = ("line",)) -> bytes:
    """UTF-8 CSV without the index. ``line`` (where a record was in its source file) is left
    out by default: it means nothing in the new file."""
    out = df.drop(columns=[c for c in drop if c in df.columns])
    return out.to_csv(index=False, lineterminator="\n").encode("utf-8")


def to_fasta_bytes(df: pd.DataFrame, *, line_width: int | None = 60,
                   header_column: str | None = None,
                   sequence_column: str = "sequence") -> bytes:
    """FASTA with sequences wrapped at ``line_width`` (``None``/0: one line per record).

    Headers come from ``header_column`` when given. Otherwise a ``header`` column is reused
    when it still names the row's id (keeps UniProt headers whole), else the header is the id
    plus ``description`` when there is one.
    """
    lines: list[str] = []
    for k, rec in enumerate(df.to_dict("records")):
        rid = str(rec.get("id", f"row{k + 1}"))
        if header_column is not None:
            header = str(rec[header_column])
        elif isinstance(rec.get("header"), str) and _fasta_id(rec["header"])[0] == rid:
            header = rec["header"]
        else:
            desc = rec.get("description")
            header = f"{rid} {desc}" if isinstance(desc, str) and desc else rid
        seq = "" if pd.isna(rec[sequence_column]) else str(rec[sequence_column])
        lines.append(f">{header}")
        step = line_width or max(len(seq), 1)
        lines.extend(seq[i:i + step] for i in range(0, len(seq), step))
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


def to_parquet_bytes(df: pd.DataFrame) -> bytes:
    """Parquet (pyarrow) without the index; dtypes round-trip through ``pd.read_parquet``."""
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def to_npy_bytes(array: np.ndarray) -> bytes:
    """``np.save`` bytes of a numeric array (``allow_pickle=False``: object arrays fail)."""
    buf = io.BytesIO()
    np.save(buf, np.asarray(array), allow_pickle=False)
    return buf.getvalue()


def write_csv(df: pd.DataFrame, path: str | Path, **kwargs: Any) -> Path:
    """Write :func:`to_csv_bytes` to ``path`` atomically; returns the path."""
    return _write_bytes(path, to_csv_bytes(df, **kwargs))


def write_fasta(df: pd.DataFrame, path: str | Path, **kwargs: Any) -> Path:
    """Write :func:`to_fasta_bytes` to ``path`` atomically; returns the path."""
    return _write_bytes(path, to_fasta_bytes(df, **kwargs))


def write_parquet(df: pd.DataFrame, path: str | Path) -> Path:
    """Write :func:`to_parquet_bytes` to ``path`` atomically; returns the path."""
    return _write_bytes(path, to_parquet_bytes(df))


def write_npy(array: np.ndarray, path: str | Path) -> Path:
    """Write :func:`to_npy_bytes` to ``path`` atomically; returns the path."""
    return _write_bytes(path, to_npy_bytes(array))


def _prefix(path_prefix: str | Path) -> Path:
    p = Path(path_prefix)
    return p.with_suffix("") if p.suffix == ".npy" else p


def write_embeddings(path_prefix: str | Path, ids: Sequence[str], array: np.ndarray
                     ) -> tuple[Path, Path]:
    """Save embeddings as ``<prefix>.npy`` (N, D) and their ids as ``<prefix>.ids.csv``.

    Returns the two paths. ``len(ids)`` must equal ``array.shape[0]``.
    """
    arr = np.asarray(array)
    ids = [str(i) for i in ids]
    if arr.ndim < 1 or arr.shape[0] != len(ids):
        raise ValueError(f"{len(ids)} ids for an array of shape {arr.shape}")
    prefix = _prefix(path_prefix)
    npy = write_npy(arr, prefix.parent / f"{prefix.name}.npy")
    ids_csv = _write_bytes(prefix.parent / f"{prefix.name}.ids.csv",
                           to_csv_bytes(pd.DataFrame({"id": ids})))
    return npy, ids_csv


def read_embeddings(path_prefix: str | Path) -> tuple[list[str], np.ndarray]:
    """Inverse of :func:`write_embeddings`: (ids, array of shape (N, D))."""
    prefix = _prefix(path_prefix)
    arr = np.load(prefix.parent / f"{prefix.name}.npy", allow_pickle=False)
    ids = pd.read_csv(prefix.parent / f"{prefix.name}.ids.csv", dtype=str,
                      keep_default_na=False)["id"].tolist()
    return ids, arr


def dataset_fingerprint(df: pd.DataFrame) -> str:
    """MD5 hex digest of the ids and sequences in row order (labels and other columns do not
    count). Stable across runs, platforms and pandas versions."""
    digest = hashlib.md5(usedforsecurity=False)
    for rid, seq in zip(df["id"], df["sequence"], strict=True):
        digest.update(f"{rid}\t{seq}\n".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()
