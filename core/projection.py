"""2-D projections of embeddings: PCA, t-SNE, UMAP (NumPy + scikit-learn; umap imported lazily)."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from core.config import check_choice

METHODS = ("pca", "tsne", "umap")


@dataclass(frozen=True)
class ProjectionConfig:
    """Parameters of one projection; frozen so it can key a cache."""

    method: str = "pca"
    perplexity: float = 30.0  # t-SNE
    n_neighbors: int = 15  # UMAP
    min_dist: float = 0.1  # UMAP
    metric: str = "euclidean"  # t-SNE and UMAP
    seed: int = 0

    def __post_init__(self):
        check_choice("projection", self.method, METHODS)
        if self.perplexity <= 0 or self.n_neighbors < 2 or not 0 <= self.min_dist <= 1:
            raise ValueError("perplexity > 0, n_neighbors >= 2 and 0 <= min_dist <= 1 please")

    def to_dict(self) -> dict:
        return asdict(self)


def project(x: np.ndarray, cfg: ProjectionConfig = ProjectionConfig()) -> np.ndarray:
    """Project ``x`` (N, D) to (N, 2) float32.

    Tiny inputs are handled rather than refused: with fewer than 3 points the coordinates are
    padded PCA, t-SNE's perplexity is capped below N, and UMAP's neighbours below N.
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"embeddings must be 2-D (N, D), got shape {x.shape}")
    n = len(x)
    if n < 3 or cfg.method == "pca":
        return _pca(x)
    if cfg.method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = min(cfg.perplexity, max(1.0, (n - 1) / 3))
        init = "pca" if cfg.metric == "euclidean" else "random"
        coords = TSNE(n_components=2, perplexity=perplexity, metric=cfg.metric, init=init,
                      random_state=cfg.seed).fit_transform(x)
        return coords.astype(np.float32)
    import umap  # a cold import takes ~20 s: only here

    reducer = umap.UMAP(n_neighbors=min(cfg.n_neighbors, n - 1), min_dist=cfg.min_dist,
                        metric=cfg.metric, random_state=cfg.seed)
    return reducer.fit_transform(x).astype(np.float32)


def _pca(x: np.ndarray) -> np.ndarray:
    from sklearn.decomposition import PCA

    n, d = x.shape
    k = min(2, n, d)
    coords = np.zeros((n, 2), dtype=np.float32)
    if n >= 2 and k >= 1:
        coords[:, :k] = PCA(n_components=k).fit_transform(x)
    return coords
