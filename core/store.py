"""The run store: every trained model with its config, metrics, history, weights and embeddings.

Layout under ``$PROTLENS_HOME`` (default ``./workspace``)::

    runs/<run id>/run.json        metadata (the :class:`Run` fields)
                  progress.json   the latest progress event of a running job
                  log.txt         the job's log
                  weights.pt      dict of state_dicts (tensors only; loaded with weights_only=True)
                  arrays.npz      named NumPy arrays (embeddings, predictions; no pickle)
                  tables/*.parquet named tables (predictions with ids, per-class metrics...)
    datasets/<key>.parquet + <key>.json   datasets kept from the Data page

Writes are atomic: a run is assembled in a hidden staging folder and renamed into place, and
single files are replaced with ``os.replace``. A write killed half-way leaves no visible run,
and finishing a run never leaves it half old, half new.
"""
from __future__ import annotations

import io
import json
import logging
import os
import re
import secrets
import shutil
import sys
import tempfile
import time
import zipfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd

from core.config import Settings

log = logging.getLogger(__name__)

STATUSES = ("queued", "running", "done", "failed", "cancelled")
ACTIVE = ("queued", "running")
_RUN_ID = re.compile(r"^[0-9]{8}-[0-9]{6}-[a-z0-9_]+-[0-9a-f]{6}$")
_DATASET_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,80}-[0-9a-f]{12}$")
# What a bundle may hold; anything else (a pickle, a script, a nested path) refuses the bundle.
_BUNDLE_FILES = re.compile(r"^(run\.json|progress\.json|log\.txt|weights\.pt|arrays\.npz|"
                           r"tables/[A-Za-z0-9_.-]{1,80}\.parquet)$")
MAX_BUNDLE_BYTES = 2 * 1024**3


class StoreError(Exception):
    """A run cannot be found, read or written; the message says which and why."""


class BundleRefused(StoreError):
    """An imported bundle holds something other than run data; nothing was written."""


def utcnow() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def versions() -> dict[str, str]:
    """Versions that decide whether a run can be reproduced (no heavy imports)."""
    out = {"python": sys.version.split()[0]}
    for pkg in ("protlens", "torch", "scikit-learn", "numpy", "biopython"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            continue
    from core import __version__

    out["protlens"] = __version__
    return out


@dataclass
class Run:
    """Metadata of one run. Large results live in files beside ``run.json``."""

    id: str
    method: str
    name: str
    status: str = "queued"
    task: str = ""
    dataset: dict[str, Any] = field(default_factory=dict)  # name, fingerprint, n, source
    config: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    metrics: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)  # small results a page shows at once
    created: str = field(default_factory=utcnow)
    started: str | None = None
    finished: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=versions)
    device: str | None = None
    error: str | None = None
    pid: int | None = None
    artifacts: list[str] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def duration_s(self) -> float | None:
        return self.timings.get("total_s")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Run:
        known = {f.name for f in fields(cls)}
        missing = {"id", "method", "name"} - set(data)
        if missing:
            raise StoreError(f"run.json lacks {', '.join(sorted(missing))}")
        run = cls(**{k: v for k, v in data.items() if k in known})
        if run.status not in STATUSES:
            raise StoreError(f"run {run.id}: unknown status {run.status!r}")
        return run


def _write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (temp file in the same folder + os.replace)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, default=_json_default, allow_nan=True)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


class RunStore:
    """Runs and kept datasets in one workspace folder (see the module docstring)."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else Settings.from_env().home
        self.runs_dir = self.root / "runs"
        self.datasets_dir = self.root / "datasets"
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.datasets_dir.mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------ paths
    def path(self, run_id: str) -> Path:
        if not _RUN_ID.match(run_id or ""):
            raise StoreError(f"{run_id!r} is not a run id")
        return self.runs_dir / run_id

    @staticmethod
    def _new_id(method: str) -> str:
        method_slug = re.sub(r"[^a-z0-9_]", "_", method.lower()) or "run"
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        return f"{stamp}-{method_slug}-{secrets.token_hex(3)}"

    def _staging(self, run_id: str) -> Path:
        return Path(tempfile.mkdtemp(dir=self.runs_dir, prefix=f".staging-{run_id}-"))

    # ------------------------------------------------------------------ create / update
    def new_run(self, method: str, *, name: str | None = None, task: str = "",
                config: Mapping[str, Any] | None = None,
                dataset: Mapping[str, Any] | None = None, seed: int = 0,
                status: str = "queued") -> Run:
        """Create a run folder (atomically) and return its metadata."""
        run_id = self._new_id(method)
        run = Run(id=run_id, method=method, task=task,
                  name=name or f"{method} on {(dataset or {}).get('name', 'data')}",
                  status=status, config=dict(config or {}), dataset=dict(dataset or {}),
                  seed=int(seed))
        staging = self._staging(run_id)
        _write_json(staging / "run.json", run.to_dict())
        os.rename(staging, self.path(run_id))
        return run

    def get(self, run_id: str) -> Run:
        path = self.path(run_id) / "run.json"
        for attempt in range(3):  # a finishing run is swapped by two renames: retry briefly
            try:
                with open(path, encoding="utf-8") as fh:
                    run = Run.from_dict(json.load(fh))
                run.artifacts = self._artifacts(run_id)
                return run
            except FileNotFoundError:
                if attempt == 2:
                    raise StoreError(f"no run {run_id} in {self.runs_dir}") from None
                time.sleep(0.05)
            except (json.JSONDecodeError, TypeError) as exc:
                raise StoreError(f"run {run_id}: unreadable run.json ({exc})") from exc
        raise StoreError(f"no run {run_id}")

    def exists(self, run_id: str) -> bool:
        return _RUN_ID.match(run_id or "") is not None and (self.path(run_id) / "run.json").is_file()

    def update(self, run_id: str, **changes: Any) -> Run:
        """Change metadata fields of a run (run.json replaced atomically)."""
        run = self.get(run_id)
        for key, value in changes.items():
            if not hasattr(run, key):
                raise StoreError(f"runs have no field {key!r}")
            setattr(run, key, value)
        _write_json(self.path(run_id) / "run.json", run.to_dict())
        return run

    def rename(self, run_id: str, name: str) -> Run:
        name = name.strip()
        if not name or len(name) > 200:
            raise StoreError("a run name needs 1 to 200 characters")
        return self.update(run_id, name=name)

    def write_progress(self, run_id: str, progress: Mapping[str, Any]) -> None:
        _write_json(self.path(run_id) / "progress.json", dict(progress, time=time.time()))

    def read_progress(self, run_id: str) -> dict[str, Any] | None:
        try:
            with open(self.path(run_id) / "progress.json", encoding="utf-8") as fh:
                return json.load(fh)
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def append_log(self, run_id: str, line: str) -> None:
        with open(self.path(run_id) / "log.txt", "a", encoding="utf-8") as fh:
            fh.write(line.rstrip("\n") + "\n")

    def read_log(self, run_id: str, *, tail: int = 200) -> str:
        try:
            lines = (self.path(run_id) / "log.txt").read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return ""
        return "\n".join(lines[-tail:])

    def finish(self, run_id: str, *, metrics: Mapping[str, Any] | None = None,
               history: list[dict[str, Any]] | None = None,
               summary: Mapping[str, Any] | None = None,
               weights: Mapping[str, Any] | None = None,
               arrays: Mapping[str, np.ndarray] | None = None,
               tables: Mapping[str, pd.DataFrame] | None = None,
               status: str = "done", **changes: Any) -> Run:
        """Write a run's results and mark it done, atomically (staged copy + swap).

        ``weights`` is a (nested) dict of tensors, e.g. ``{"encoder": model.state_dict()}``.
        """
        run = self.get(run_id)
        run.status = status
        run.finished = utcnow()
        run.metrics = dict(metrics or run.metrics)
        run.history = list(history if history is not None else run.history)
        run.summary = dict(summary or run.summary)
        for key, value in changes.items():
            setattr(run, key, value)
        live = self.path(run_id)
        staging = self._staging(run_id)
        try:
            for keep in ("log.txt", "progress.json"):
                if (live / keep).is_file():
                    shutil.copy2(live / keep, staging / keep)
            if weights:
                import torch

                torch.save(dict(weights), staging / "weights.pt")
            if arrays:
                np.savez_compressed(staging / "arrays.npz",
                                    **{k: np.asarray(v) for k, v in arrays.items()})
            for table_name, frame in (tables or {}).items():
                if not re.fullmatch(r"[A-Za-z0-9_.-]{1,80}", table_name):
                    raise StoreError(f"bad table name {table_name!r}")
                (staging / "tables").mkdir(exist_ok=True)
                frame.to_parquet(staging / "tables" / f"{table_name}.parquet", index=False)
            _write_json(staging / "run.json", run.to_dict())
            trash = self.runs_dir / f".trash-{run_id}-{secrets.token_hex(3)}"
            os.rename(live, trash)
            os.rename(staging, live)
            shutil.rmtree(trash, ignore_errors=True)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return self.get(run_id)

    def fail(self, run_id: str, error: str, *, status: str = "failed") -> Run:
        return self.update(run_id, status=status, error=error, finished=utcnow())

    # ------------------------------------------------------------------ read results
    def _artifacts(self, run_id: str) -> list[str]:
        base = self.path(run_id)
        return sorted(str(p.relative_to(base)) for p in base.rglob("*") if p.is_file()
                      and p.name != "run.json" and not p.name.startswith("."))

    def load_weights(self, run_id: str) -> dict[str, Any]:
        import torch

        path = self.path(run_id) / "weights.pt"
        if not path.is_file():
            raise StoreError(f"run {run_id} has no weights")
        return torch.load(path, map_location="cpu", weights_only=True)

    def load_arrays(self, run_id: str) -> dict[str, np.ndarray]:
        path = self.path(run_id) / "arrays.npz"
        if not path.is_file():
            return {}
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}

    def load_table(self, run_id: str, name: str) -> pd.DataFrame:
        path = self.path(run_id) / "tables" / f"{name}.parquet"
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,80}", name) or not path.is_file():
            raise StoreError(f"run {run_id} has no table {name!r}")
        return pd.read_parquet(path)

    def list(self, *, method: str | None = None) -> list[Run]:
        """Every readable run, newest first (staging and trash folders are invisible)."""
        runs = []
        for path in self.runs_dir.iterdir():
            if path.name.startswith(".") or not _RUN_ID.match(path.name):
                continue
            try:
                run = self.get(path.name)
            except StoreError as exc:
                log.warning("skipping %s: %s", path.name, exc)
                continue
            if method is None or run.method == method:
                runs.append(run)
        return sorted(runs, key=lambda r: r.created + r.id, reverse=True)

    def delete(self, run_id: str) -> None:
        path = self.path(run_id)
        if not path.is_dir():
            raise StoreError(f"no run {run_id}")
        trash = self.runs_dir / f".trash-{run_id}-{secrets.token_hex(3)}"
        os.rename(path, trash)  # invisible at once, even if the removal below is slow
        shutil.rmtree(trash, ignore_errors=True)

    def clean(self, *, older_than_s: float = 3600) -> int:
        """Remove leftovers of interrupted writes; returns how many folders went."""
        removed, now = 0, time.time()
        for path in self.runs_dir.iterdir():
            if path.name.startswith((".staging-", ".trash-")) and \
                    now - path.stat().st_mtime > older_than_s:
                shutil.rmtree(path, ignore_errors=True)
                removed += 1
        return removed

    # ------------------------------------------------------------------ bundles
    def export_bundle(self, run_id: str) -> bytes:
        """The run as a zip (run.json, weights, arrays, tables, log)."""
        base = self.path(run_id)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for rel in ["run.json", *self._artifacts(run_id)]:
                zf.write(base / rel, arcname=rel)
        return buf.getvalue()

    def import_bundle(self, data: bytes, *, max_bytes: int = MAX_BUNDLE_BYTES) -> Run:
        """Import a zip made by :meth:`export_bundle` as a new run (fresh id).

        The bundle is refused, and nothing written, if it holds any file other than run data,
        if the weights do not load with ``weights_only=True``, or an array needs pickle.
        """
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile as exc:
            raise BundleRefused(f"not a zip bundle: {exc}") from exc
        with zf:
            infos = zf.infolist()
            names = [i.filename for i in infos if not i.is_dir()]
            bad = [n for n in names if not _BUNDLE_FILES.match(n)
                   or PurePosixPath(n).is_absolute() or ".." in PurePosixPath(n).parts]
            if bad:
                raise BundleRefused(f"bundle holds files that are not run data: {', '.join(bad)}")
            if "run.json" not in names:
                raise BundleRefused("bundle has no run.json")
            if sum(i.file_size for i in infos) > max_bytes:
                raise BundleRefused(f"bundle unpacks to more than {max_bytes / 1e6:.0f} MB")
            try:
                meta = Run.from_dict(json.loads(zf.read("run.json")))
            except (json.JSONDecodeError, UnicodeDecodeError, StoreError, TypeError) as exc:
                raise BundleRefused(f"run.json is not valid: {exc}") from exc
            if meta.status in ACTIVE:
                raise BundleRefused(f"run {meta.id} was still {meta.status} when exported")
            original_id = meta.id
            new_id = self._new_id(meta.method)
            staging = self._staging(new_id)
            try:
                for name in names:
                    if name == "run.json":
                        continue
                    target = staging / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(name) as src, open(target, "wb") as dst:
                        shutil.copyfileobj(src, dst)
                _check_payload(staging)
                meta.id, meta.pid = new_id, None
                meta.summary = dict(meta.summary, imported_from=original_id)
                _write_json(staging / "run.json", meta.to_dict())
                os.rename(staging, self.path(new_id))
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
        return self.get(new_id)

    # ------------------------------------------------------------------ datasets
    def save_dataset(self, table: pd.DataFrame, *, name: str, fingerprint: str,
                     meta: Mapping[str, Any] | None = None) -> str:
        """Keep a dataset (parquet + json metadata); returns its key. Idempotent per content."""
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._")[:60] or "dataset"
        key = f"{slug}-{fingerprint[:12]}"
        target = self.datasets_dir / f"{key}.parquet"
        if not target.is_file():
            fd, tmp = tempfile.mkstemp(dir=self.datasets_dir, prefix=".part-")
            os.close(fd)
            try:
                table.to_parquet(tmp, index=False)
                os.replace(tmp, target)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        info = {"key": key, "name": name, "fingerprint": fingerprint, "n": int(len(table)),
                "saved": utcnow(), **dict(meta or {})}
        _write_json(self.datasets_dir / f"{key}.json", info)
        return key

    def list_datasets(self) -> list[dict[str, Any]]:
        out = []
        for path in sorted(self.datasets_dir.glob("*.json")):
            try:
                info = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                continue
            if (self.datasets_dir / f"{path.stem}.parquet").is_file():
                out.append(info)
        return sorted(out, key=lambda d: d.get("saved", ""), reverse=True)

    def load_dataset(self, key: str) -> tuple[pd.DataFrame, dict[str, Any]]:
        if not _DATASET_KEY.match(key or ""):
            raise StoreError(f"{key!r} is not a dataset key")
        try:
            meta = json.loads((self.datasets_dir / f"{key}.json").read_text(encoding="utf-8"))
            return pd.read_parquet(self.datasets_dir / f"{key}.parquet"), meta
        except FileNotFoundError:
            raise StoreError(f"no kept dataset {key}") from None

    def delete_dataset(self, key: str) -> None:
        if not _DATASET_KEY.match(key or ""):
            raise StoreError(f"{key!r} is not a dataset key")
        for suffix in (".parquet", ".json"):
            (self.datasets_dir / f"{key}{suffix}").unlink(missing_ok=True)


def _check_payload(folder: Path) -> None:
    """Load every payload file the safe way; refuse the bundle if one needs more than data."""
    weights = folder / "weights.pt"
    if weights.is_file():
        import pickle

        import torch

        try:
            torch.load(weights, map_location="cpu", weights_only=True)
        except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError,
                zipfile.BadZipFile) as exc:
            raise BundleRefused(f"weights.pt is not plain tensors (weights_only load failed: "
                                f"{str(exc).splitlines()[0]})") from exc
    arrays = folder / "arrays.npz"
    if arrays.is_file():
        try:
            with np.load(arrays, allow_pickle=False) as npz:
                for key in npz.files:
                    npz[key]
        except (ValueError, OSError, zipfile.BadZipFile) as exc:
            raise BundleRefused(f"arrays.npz is not plain arrays: {exc}") from exc
    for table in (folder / "tables").glob("*.parquet") if (folder / "tables").is_dir() else []:
        try:
            pd.read_parquet(table)
        except Exception as exc:  # pyarrow raises several types for corrupt files
            raise BundleRefused(f"{table.name} is not a readable Parquet table: {exc}") from exc
    for text in ("log.txt", "progress.json"):
        path = folder / text
        if path.is_file():
            try:
                path.read_text(encoding="utf-8")
            except UnicodeDecodeError as exc:
                raise BundleRefused(f"{text} is not UTF-8 text") from exc
