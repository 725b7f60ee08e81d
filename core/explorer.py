"""The embedding explorer's backend: maps that accept new points, sampling, aggregation,
neighbourhood scores and saved selections (NumPy + scikit-learn; umap/openTSNE lazily).

New sequences are placed onto an existing map with the fitted projection's own ``transform``:
PCA's linear map, UMAP's ``transform`` (umap-learn) and openTSNE's ``TSNEEmbedding.transform``
(openTSNE, BSD-3-Clause). The map's coordinates are never refitted, so old points cannot move.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.projection import ProjectionConfig

MAX_SELECTION_IDS = 2_000_000


@dataclass
class MapProjection:
    """A fitted 2-D projection: ``coords_`` (N, 2) of the fitted points, ``place`` for new ones."""

    config: ProjectionConfig
    coords_: np.ndarray
    model_: Any = field(repr=False, default=None)

    def place(self, x_new: np.ndarray) -> np.ndarray:
        """(M, 2) coordinates of new points on this map; the fitted points stay where they are."""
        x_new = np.asarray(x_new, dtype=np.float32)
        if len(x_new) == 0:
            return np.zeros((0, 2), dtype=np.float32)
        if self.config.method == "tsne":
            out = self.model_.transform(x_new.astype(np.float64))
        else:
            out = self.model_.transform(x_new)
        return np.asarray(out, dtype=np.float32)


def fit_map(x: np.ndarray, cfg: ProjectionConfig | None = None, *,
            n_jobs: int = 1) -> MapProjection:
    """Fit PCA, t-SNE (openTSNE) or UMAP on ``x`` (N, D); parameters from ``cfg``.

    Tiny inputs are accepted: t-SNE's perplexity is capped below N/3 and UMAP's neighbours
    below N. Deterministic for a fixed ``cfg.seed``.
    """
    cfg = cfg or ProjectionConfig()
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2 or len(x) < 3:
        raise ValueError(f"a map needs at least 3 points of shape (N, D), got {x.shape}")
    n = len(x)
    if cfg.method == "pca":
        from sklearn.decomposition import PCA

        k = min(2, x.shape[1])
        model = PCA(n_components=k, random_state=cfg.seed).fit(x)
        coords = np.zeros((n, 2), dtype=np.float32)
        coords[:, :k] = model.transform(x)
        return MapProjection(cfg, coords, _PaddedPCA(model))
    if cfg.method == "tsne":
        from openTSNE import TSNE

        perplexity = min(cfg.perplexity, max(1.0, (n - 1) / 3))
        model = TSNE(perplexity=perplexity, metric=cfg.metric, random_state=cfg.seed,
                     n_jobs=n_jobs, initialization="pca" if cfg.metric == "euclidean"
                     else "spectral").fit(x.astype(np.float64))
        return MapProjection(cfg, np.asarray(model, dtype=np.float32), model)
    import umap  # a cold import takes ~20 s: only here

    model = umap.UMAP(n_neighbors=min(cfg.n_neighbors, n - 1), min_dist=cfg.min_dist,
                      metric=cfg.metric, random_state=cfg.seed, n_jobs=1).fit(x)
    return MapProjection(cfg, model.embedding_.astype(np.float32), model)


class _PaddedPCA:
    """PCA whose ``transform`` always returns two columns (one-dimensional data pad a zero)."""

    def __init__(self, pca):
        self.pca = pca

    def transform(self, x: np.ndarray) -> np.ndarray:
        out = np.zeros((len(x), 2), dtype=np.float32)
        out[:, :self.pca.n_components_] = self.pca.transform(x)
        return out


# --------------------------------------------------------------------------- sampling


def stratified_sample(n: int, limit: int, *, strata: pd.Series | np.ndarray | None = None,
                      seed: int = 0) -> np.ndarray:
    """Sorted row indices of at most ``limit`` of ``n`` rows, every stratum kept in proportion
    (at least one row each while room allows); all rows when ``n <= limit``."""
    if n <= limit:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    if strata is None:
        return np.sort(rng.choice(n, size=limit, replace=False))
    codes, _ = pd.factorize(pd.Series(np.asarray(strata)).astype(str), sort=True)
    counts = np.bincount(codes)
    quota = np.floor(counts * limit / n).astype(int)
    quota = np.maximum(quota, np.minimum(counts, 1))
    while quota.sum() > limit:  # more strata than room: drop from the largest quotas
        quota[np.argmax(quota)] -= 1
    spare = limit - quota.sum()
    if spare > 0:  # hand the rounding remainder to the strata with most rows left
        room = counts - quota
        for j in np.argsort(-room, kind="stable")[:spare]:
            quota[j] += room[j] > 0
    picked = [rng.choice(np.flatnonzero(codes == j), size=q, replace=False)
              for j, q in enumerate(quota) if q > 0]
    return np.sort(np.concatenate(picked))


# --------------------------------------------------------------------------- aggregation


@dataclass
class DensityGrid:
    """A 2-D histogram of map coordinates (what is drawn instead of a million markers)."""

    counts: np.ndarray  # (ny, nx)
    x_edges: np.ndarray
    y_edges: np.ndarray

    @property
    def total(self) -> int:
        return int(self.counts.sum())


def density_grid(coords: np.ndarray, *, bins: int = 300,
                 extent: tuple[float, float, float, float] | None = None) -> DensityGrid:
    """Bin (N, 2) coordinates into a ``bins`` x ``bins`` grid (optionally inside an extent
    ``(x0, x1, y0, y1)``); O(N), about 0.1 s for a million points."""
    coords = np.asarray(coords)
    if extent is None:
        lo, hi = coords.min(0), coords.max(0)
        extent = (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))
    x0, x1, y0, y1 = extent
    counts, xe, ye = np.histogram2d(coords[:, 0], coords[:, 1], bins=bins,
                                    range=[[x0, x1 if x1 > x0 else x0 + 1],
                                           [y0, y1 if y1 > y0 else y0 + 1]])
    return DensityGrid(counts.T, xe, ye)


def in_box(coords: np.ndarray, x_range: tuple[float, float],
           y_range: tuple[float, float]) -> np.ndarray:
    """Boolean mask of the points inside an axis-aligned box (ends included)."""
    x0, x1 = sorted(x_range)
    y0, y1 = sorted(y_range)
    return ((coords[:, 0] >= x0) & (coords[:, 0] <= x1)
            & (coords[:, 1] >= y0) & (coords[:, 1] <= y1))


def in_polygon(coords: np.ndarray, xs, ys) -> np.ndarray:
    """Boolean mask of the points inside a closed polygon (a lasso), via matplotlib's Path."""
    from matplotlib.path import Path as MplPath

    poly = np.column_stack([np.asarray(xs, float), np.asarray(ys, float)])
    if len(poly) < 3:
        return np.zeros(len(coords), dtype=bool)
    return MplPath(poly).contains_points(np.asarray(coords, float))


# --------------------------------------------------------------------------- scores


def knn_indices(x: np.ndarray, k: int) -> np.ndarray:
    """(N, k) indices of each row's k nearest other rows (Euclidean, exact)."""
    from sklearn.neighbors import NearestNeighbors

    k = min(k, len(x) - 1)
    return NearestNeighbors(n_neighbors=k + 1).fit(x).kneighbors(x, return_distance=False)[:, 1:]


def knn_overlap(a: np.ndarray, b: np.ndarray, *, k: int = 10) -> float:
    """Mean share of each point's k nearest neighbours that two spaces have in common (0..1)."""
    na, nb = knn_indices(np.asarray(a, np.float32), k), knn_indices(np.asarray(b, np.float32), k)
    shared = [len(np.intersect1d(ra, rb, assume_unique=True)) for ra, rb in zip(na, nb,
                                                                                 strict=True)]
    return float(np.mean(shared) / na.shape[1])


def neighbourhood_scores(x: np.ndarray, coords: np.ndarray, *, k: int = 10,
                         max_points: int = 3000, seed: int = 0) -> dict[str, float]:
    """How well a map keeps the embedding's neighbourhoods: trustworthiness (scikit-learn) and
    kNN overlap, on a random subset of ``max_points`` rows (both are O(N^2))."""
    from sklearn.manifold import trustworthiness

    idx = stratified_sample(len(x), max_points, seed=seed)
    xs, cs = np.asarray(x, np.float32)[idx], np.asarray(coords, np.float32)[idx]
    k = max(1, min(k, len(xs) // 2 - 1))
    return {"trustworthiness": float(trustworthiness(xs, cs, n_neighbors=k)),
            "knn_overlap": knn_overlap(xs, cs, k=k), "k": k, "n": int(len(idx))}


# --------------------------------------------------------------------------- hover details


def mutations_vs_parent(table: pd.DataFrame) -> pd.Series | None:
    """Compact substitutions of each row against its ``parent`` (an id in the table or a
    sequence); ``None`` when the table has no parent column. Unalignable rows get ``""``."""
    from core.mutations import diff_mutations, format_mutations

    if "parent" not in table or table["parent"].isna().all():
        return None
    by_id = dict(zip(table["id"].astype(str), table["sequence"].astype(str), strict=False))
    out = []
    for seq, parent in zip(table["sequence"].astype(str), table["parent"], strict=True):
        ref = by_id.get(str(parent), str(parent)) if pd.notna(parent) else None
        try:
            out.append(format_mutations(diff_mutations(seq, ref)) if ref else "")
        except ValueError:
            out.append("")
    return pd.Series(out, index=table.index, name="mutations")


# --------------------------------------------------------------------------- selections


@dataclass
class Selection:
    """A saved lasso/box selection: the ids, the shape drawn and the map it was drawn on."""

    name: str = "selection"
    ids: list[str] = field(default_factory=list)
    source: str = ""
    dataset: dict[str, Any] = field(default_factory=dict)
    projection: dict[str, Any] = field(default_factory=dict)
    lasso: list[dict[str, list[float]]] = field(default_factory=list)  # [{"x": [...], "y": [...]}]
    box: list[dict[str, list[float]]] = field(default_factory=list)
    created: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str | bytes) -> Selection:
        """Parse a selection file; refuses anything but the fields above with plain values."""
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"not a selection file: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("ids"), list):
            raise ValueError("a selection file is a JSON object with an 'ids' list")
        if len(data["ids"]) > MAX_SELECTION_IDS:
            raise ValueError(f"a selection holds at most {MAX_SELECTION_IDS:,} ids")
        known = set(cls.__dataclass_fields__)
        try:
            sel = cls(**{k: v for k, v in data.items() if k in known and k != "ids"},
                      ids=[str(i) for i in data["ids"]])
        except TypeError as exc:
            raise ValueError(f"not a selection file: {exc}") from exc
        if not isinstance(sel.lasso, list) or not isinstance(sel.box, list):
            raise ValueError("lasso and box are lists of shapes")
        for shape in sel.lasso + sel.box:
            if not isinstance(shape, dict) or not all(
                    isinstance(shape.get(a), list) for a in ("x", "y")):
                raise ValueError("lasso/box entries need 'x' and 'y' lists")
        return sel


def _selection_dir(root: str | Path | None = None) -> Path:
    from core.config import Settings

    base = Path(root) if root is not None else Settings.from_env().home
    return base / "selections"


def save_selection(sel: Selection, *, root: str | Path | None = None) -> Path:
    """Keep a selection under ``<workspace>/selections/<slug>.json`` (name made file-safe)."""
    from core.store import _write_json, utcnow

    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", sel.name).strip("._")[:80] or "selection"
    sel.created = sel.created or utcnow()
    folder = _selection_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{slug}.json"
    _write_json(path, asdict(sel))
    return path


def list_selections(*, root: str | Path | None = None) -> list[Selection]:
    folder = _selection_dir(root)
    out = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            out.append(Selection.from_json(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return sorted(out, key=lambda s: s.created, reverse=True)
