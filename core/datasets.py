"""Built-in benchmark data: where each set lives, how it is checked, fetched and loaded.

A data set is resolved, in order, from ``$PROTLENS_DATA``, ``../shared/data`` beside the
checkout, the user cache (``~/.cache/protlens``) and, when the machine is online, a download
from its public source (verified by MD5). The project never ships copies of these files.

Every loader returns the project's one table type (see :mod:`core.io`): a DataFrame with
``id`` and ``sequence`` (no gaps), ``aligned`` where the source is aligned, and label columns.
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from core.config import PROJECT_ROOT, Settings

log = logging.getLogger(__name__)

MIRROR_ENV = "PROTLENS_DATA_MIRROR"
_FHALAB = "https://raw.githubusercontent.com/fhalab/embeddings_reproduction"


class DatasetNotFound(FileNotFoundError):
    """A built-in data set is neither on disk nor downloadable; the message says where to put it."""


class ChecksumMismatch(ValueError):
    """A file on disk or a download does not match the registry's MD5."""


@dataclass(frozen=True)
class DataFile:
    path: str  # relative to the data root, e.g. "property/absorption.csv"
    md5: str
    url: str | None = None  # public source of exactly these bytes, when one exists


@dataclass(frozen=True)
class DatasetSpec:
    """One built-in data set.

    ``kind`` says which method it serves (property, families, clustering, text); ``label`` is
    the default label column; ``files[0]`` is the main file.
    """

    name: str
    kind: str
    title: str
    files: tuple[DataFile, ...]
    source: str
    licence: str
    label: str | None
    loader: Callable[[DatasetSpec, Path], pd.DataFrame] = field(repr=False, compare=False)
    description: str = ""


# --------------------------------------------------------------------------- loaders


def _split_gaps(df: pd.DataFrame) -> pd.DataFrame:
    """Keep gapped rows in ``aligned`` and a gap-free ``sequence`` (T50 holds '-')."""
    if df["sequence"].str.contains("-", regex=False).any():
        df["aligned"] = df["sequence"]
        df["sequence"] = df["sequence"].str.replace("-", "", regex=False)
    return df


def _load_property(spec: DatasetSpec, root: Path) -> pd.DataFrame:
    raw = pd.read_csv(root / spec.files[0].path)
    df = raw.rename(columns={"name": "id"})
    df["id"] = df["id"].astype(str)
    df["sequence"] = df["sequence"].str.strip().str.upper()
    df["split"] = df["is_train"].map({True: "train", False: "test"})
    parents = df.loc[df["m"] == 0, "id"].tolist()
    # The parent is the unmutated row; chimera libraries (T50, localization) have several.
    df["parent"] = parents[0] if len(parents) == 1 else pd.NA
    df = _split_gaps(df)
    front = ["id", "sequence", spec.label, "split", "m", "parent"]
    return df[front + [c for c in df.columns if c not in front]]


def _load_pfam25(spec: DatasetSpec, root: Path) -> pd.DataFrame:
    raw = pd.read_csv(root / spec.files[0].path)
    df = pd.DataFrame({
        "id": raw["sequence_name"].astype(str),
        "sequence": raw["sequence"].str.upper(),
        # Pfam rows: upper case = match columns, lower case / '.' = inserts, '-' = deletion.
        "aligned": raw["aligned_sequence"].str.replace(".", "-", regex=False).str.upper(),
        "aligned_pfam": raw["aligned_sequence"],
        "family_id": raw["family_id"],
        "family_accession": raw["family_accession"],
        "split": raw["split"],
    })
    return df


def _load_scan10(spec: DatasetSpec, root: Path) -> pd.DataFrame:
    from Bio import SeqIO

    records = [(r.id, str(r.seq).upper()) for r in
               SeqIO.parse(str(root / spec.files[0].path), "fasta")]
    seqs = pd.DataFrame(records, columns=["id", "sequence"])
    labels = pd.read_csv(root / spec.files[1].path, sep="\t").rename(columns={"seq_id": "id"})
    df = seqs.merge(labels, on="id", how="left", validate="one_to_one")
    return df


def _load_protein_text(spec: DatasetSpec, root: Path) -> pd.DataFrame:
    df = pd.read_csv(root / spec.files[0].path, keep_default_na=False, na_values=[""])
    front = ["id", "sequence", "text", "split", "drug_class"]
    return df[front + [c for c in df.columns if c not in front]]


# --------------------------------------------------------------------------- registry

_PROPERTY_LICENCE = ("Caltech, academic and other non-commercial use with the copyright "
                     "notice retained (fhalab/embeddings_reproduction)")
_PROPERTY_SOURCE = ("Yang, Wu & Arnold, Bioinformatics 2018 (fhalab/embeddings_reproduction, "
                    "inputs/*.txt)")


def _property(name: str, label: str, md5: str, commit: str, title: str) -> DatasetSpec:
    return DatasetSpec(
        name=name, kind="property", title=title, label=label,
        files=(DataFile(f"property/{name}.csv", md5, f"{_FHALAB}/{commit}/inputs/{name}.txt"),),
        source=_PROPERTY_SOURCE, licence=_PROPERTY_LICENCE, loader=_load_property,
        description=f"{title}; official train/test split in `split`, `m` mutations from parent.",
    )


REGISTRY: dict[str, DatasetSpec] = {s.name: s for s in [
    _property("absorption", "peak", "ac768998842b8402f1f06f83454c19c0",
              "94090e6eaada0a92a4dcafaf66eb7f797aeabac2",
              "Rhodopsin peak absorption (nm), 81 variants"),
    _property("enantioselectivity", "e-value", "2d378e7e71f401e92ea06b6be7e40961",
              "94090e6eaada0a92a4dcafaf66eb7f797aeabac2",
              "Epoxide hydrolase enantioselectivity (E), 152 variants"),
    _property("localization", "log_GFP", "c4189ae701dd292104d5cbdcb9ee689a",
              "9e07e34de386401cc2c5c6217e779e98a34dde54",
              "Channelrhodopsin membrane localisation (log GFP), 254 chimeras"),
    _property("T50", "T50", "f8f7d8aaafd7d82f5f9775862c7c96e5",
              "9e07e34de386401cc2c5c6217e779e98a34dde54",
              "P450 chimera thermostability T50 (°C), 261 chimeras"),
    DatasetSpec(
        name="pfam25", kind="families", title="25 Pfam families, 8,325 seed-alignment rows",
        label="family_id",
        files=(DataFile("families/pfam25/labeled_all.csv", "a57edcb00e55de22b28d5484a4451b23"),
               DataFile("families/pfam25/families.tsv", "604a9d3ce3ad99e7a5f0c153e96b8a8f")),
        source="Pfam seed random split (Bileschi et al. 2022, Kaggle), from Pfam 32.0",
        licence="CC BY-SA 4.0 (Pfam data CC0)", loader=_load_pfam25,
        description="Aligned rows (`aligned`) and sequences of 25 families for the VAE method.",
    ),
    DatasetSpec(
        name="scan10", kind="clustering", title="10 Pfam families x 600 sequences",
        label="family_name",
        files=(DataFile("clustering/scan10/sequences.fasta", "22b1293973da848da0f9d6808d4c3bd7"),
               DataFile("clustering/scan10/labels.tsv", "99524eade4ad94214b40f7588cf50062")),
        source="Pfam-derived MSAs from public repositories (per-row origin in labels.tsv)",
        licence="MIT / Apache-2.0 / BSD-3-Clause per row; sequences from Pfam/UniProt "
                "(CC0 / CC BY 4.0)",
        loader=_load_scan10,
        description="Unaligned sequences of 10 families for clustering without labels.",
    ),
    DatasetSpec(
        name="protein_text", kind="text",
        title="ResFinder AMR proteins with descriptions (2,913)", label="drug_class",
        files=(DataFile("protein_text/resfinder_proteins.csv", "5caa469dc7fc7fd127feab7685fe10bb"),
               DataFile("protein_text/resfinder_twins.csv", "d3b9fe215afcba6abc194ce9559d9dba"),
               DataFile("protein_text/resfinder_dropped.csv", "3edee9fd0bad186c1ceaa2436cbd644e")),
        source="ResFinder database (Debian resfinder-db 0.0+git20220524), derived",
        licence="Apache-2.0", loader=_load_protein_text,
        description="Protein-text pairs with twin hard negatives (`resfinder_twins.csv`).",
    ),
]}


# --------------------------------------------------------------------------- resolution


def search_roots(settings: Settings | None = None) -> list[tuple[str, Path]]:
    """The folders searched for data, in order, each with a short name for reports."""
    settings = settings or Settings.from_env()
    roots = []
    if settings.data_dir is not None:
        roots.append(("$PROTLENS_DATA", settings.data_dir))
    roots.append(("shared", PROJECT_ROOT.parent / "shared" / "data"))
    roots.append(("cache", cache_dir()))
    return roots


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "protlens"


def md5sum(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=64)
def _md5_cached(path: str, size: int, mtime: float) -> str:
    return md5sum(Path(path))


def _verified(path: Path, expected: str) -> bool:
    stat = path.stat()
    return _md5_cached(str(path), stat.st_size, stat.st_mtime) == expected


def get_spec(name: str) -> DatasetSpec:
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown data set {name!r}; built-in sets: {', '.join(REGISTRY)}") from None


def locate(name: str, *, settings: Settings | None = None) -> tuple[str, Path] | None:
    """Find the root holding every file of ``name`` (checksums verified), or None."""
    spec = get_spec(name)
    for where, root in search_roots(settings):
        if all((root / f.path).is_file() for f in spec.files):
            bad = [f.path for f in spec.files if not _verified(root / f.path, f.md5)]
            if bad:
                log.warning("%s in %s: checksum mismatch for %s", name, root, ", ".join(bad))
                continue
            return where, root
    return None


def resolve(name: str, *, settings: Settings | None = None, download: bool = True) -> Path:
    """The data root holding ``name``; downloads into the cache when allowed and online."""
    settings = settings or Settings.from_env()
    found = locate(name, settings=settings)
    if found is not None:
        return found[1]
    if download and not settings.offline:
        return fetch(name, settings=settings)
    raise DatasetNotFound(_not_found_message(get_spec(name), settings, reason="offline mode"))


def _not_found_message(spec: DatasetSpec, settings: Settings, reason: str) -> str:
    places = "; ".join(f"{w}: {r}" for w, r in search_roots(settings))
    files = ", ".join(f.path for f in spec.files)
    return (f"Built-in data set {spec.name!r} was not found ({reason}). Put {files} under one "
            f"of: {places}, or set $PROTLENS_DATA to the folder that holds them. "
            f"Source: {spec.source}. Licence: {spec.licence}.")


def fetch(name: str, *, settings: Settings | None = None, timeout: float = 30.0) -> Path:
    """Download every file of ``name`` into the user cache and verify its MD5.

    A file is taken from ``$PROTLENS_DATA_MIRROR/<path>`` when that mirror is set, else from
    its public source URL. Files are written to a temporary name and renamed only after the
    checksum matched, so a broken download never leaves a corrupt file behind.
    """
    settings = settings or Settings.from_env()
    spec = get_spec(name)
    root = cache_dir()
    mirror = os.environ.get(MIRROR_ENV, "").rstrip("/")
    for f in spec.files:
        target = root / f.path
        if target.is_file() and _verified(target, f.md5):
            continue
        url = f"{mirror}/{f.path}" if mirror else f.url
        if url is None:
            raise DatasetNotFound(_not_found_message(
                spec, settings, reason=f"no public copy of {f.path} to download; "
                f"set ${MIRROR_ENV} to a mirror of the data folder"))
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
                shutil.copyfileobj(resp, out)
            got = md5sum(Path(tmp))
            if got != f.md5:
                raise ChecksumMismatch(f"{url}: MD5 {got}, expected {f.md5}; file discarded")
            os.replace(tmp, target)
        except (urllib.error.URLError, OSError) as exc:
            raise DatasetNotFound(_not_found_message(
                spec, settings, reason=f"download from {url} failed: {exc}")) from exc
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return root


def load(name: str, *, settings: Settings | None = None, download: bool = True) -> pd.DataFrame:
    """Load a built-in set as the project's table (fresh copy; safe to modify)."""
    spec = get_spec(name)
    root = resolve(name, settings=settings, download=download)
    return spec.loader(spec, root)


def load_file(name: str, filename: str, *, settings: Settings | None = None) -> pd.DataFrame:
    """Read one auxiliary table of a set (e.g. ``load_file("protein_text", "resfinder_twins.csv")``)."""
    spec = get_spec(name)
    root = resolve(name, settings=settings)
    match = [f for f in spec.files if Path(f.path).name == filename]
    if not match:
        raise KeyError(f"{name} has no file {filename!r}")
    path = root / match[0].path
    return pd.read_csv(path, sep="\t" if path.suffix == ".tsv" else ",")


def list_datasets(*, settings: Settings | None = None) -> pd.DataFrame:
    """Every built-in set with where it was found (or "missing")."""
    rows = []
    for spec in REGISTRY.values():
        found = locate(spec.name, settings=settings)
        rows.append({
            "name": spec.name, "kind": spec.kind, "title": spec.title, "label": spec.label,
            "found": found is not None,
            "where": f"{found[0]}: {found[1]}" if found else "missing",
            "licence": spec.licence, "source": spec.source,
        })
    return pd.DataFrame(rows)


def by_kind(kind: str) -> list[str]:
    """Names of the built-in sets serving one method kind."""
    return [s.name for s in REGISTRY.values() if s.kind == kind]
