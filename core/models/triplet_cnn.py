"""The triplet-network encoder of "Deep Metric Learning for Proteomics" (seed 000, Fig. 2a).

Residue embedding (128) -> three parallel Conv1d (128 filters; kernels 3, 6, 9; "same" padding)
-> concatenation with the embedding itself -> global max pool over positions (4 x 128 = 512
features) -> one fully-connected layer -> L2 normalisation (as in FaceNet).

The paper does not give the activation after the convolutions, the size of the final layer or any
dropout; we use ReLU, 64 dimensions and no dropout by default (all in :class:`TripletCNNConfig`).

:meth:`TripletCNNEncoder.forward` is the plain computation. :meth:`TripletCNNEncoder.pool_plan`
gives the same numbers several times faster on mutant libraries and chimeras, whose sequences
share almost every 9-residue window (see :class:`WindowPlan`); training and embedding use it.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.alphabet import PAD_TOKEN, VOCAB_SIZE


@dataclass(frozen=True)
class TripletCNNConfig:
    """Architecture of :class:`TripletCNNEncoder` (paper defaults where the paper gives them).

    Attributes
    ----------
    vocab_size : token ids 0..vocab_size-1 (0 = padding); :data:`core.alphabet.VOCAB_SIZE`.
    embed_dim : width of the trainable residue embedding (paper: 128).
    n_filters : filters per convolution (paper: 128).
    kernel_sizes : one convolution per size, run in parallel (paper: 3, 6, 9).
    out_dim : width of the final, L2-normalised embedding (not given in the paper).
    dropout : dropout on the pooled features during training (0 = none).
    """

    vocab_size: int = VOCAB_SIZE
    embed_dim: int = 128
    n_filters: int = 128
    kernel_sizes: tuple[int, ...] = (3, 6, 9)
    out_dim: int = 64
    dropout: float = 0.0

    def __post_init__(self):
        # asdict() -> JSON -> back gives a list; keep the dataclass hashable.
        object.__setattr__(self, "kernel_sizes", tuple(int(k) for k in self.kernel_sizes))
        if self.vocab_size < 2 or self.embed_dim < 1 or self.n_filters < 1 or self.out_dim < 1:
            raise ValueError("vocab_size >= 2 and positive embed_dim, n_filters, out_dim please")
        if not self.kernel_sizes or min(self.kernel_sizes) < 1:
            raise ValueError(f"kernel_sizes must be positive, got {self.kernel_sizes}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {self.dropout}")

    @property
    def pooled_dim(self) -> int:
        """Width of the max-pooled features: the embedding plus every convolution."""
        return self.embed_dim + self.n_filters * len(self.kernel_sizes)

    @property
    def reach(self) -> tuple[int, int]:
        """How far the widest "same" convolution looks left and right of a position."""
        # PyTorch's padding="same" pads (k - 1) // 2 on the left and the rest on the right.
        return (max((k - 1) // 2 for k in self.kernel_sizes),
                max(k - 1 - (k - 1) // 2 for k in self.kernel_sizes))

    @property
    def window(self) -> int:
        """Width W of the receptive field of one position (9 for kernels 3, 6, 9)."""
        return sum(self.reach) + 1

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class WindowPlan:
    """A batch described by its distinct receptive fields (built by :func:`plan_batch`).

    Attributes
    ----------
    windows : int64 (U, W) distinct token windows (0 = beyond the sequence ends).
    chunks : int64 (R, S) distinct runs of S consecutive positions, as indices into ``windows``;
        the index U stands for "no residue" (padding).
    seq_chunks : int64 (B, K) the chunk index of each run of S positions of each sequence.
    """

    windows: torch.Tensor
    chunks: torch.Tensor
    seq_chunks: torch.Tensor

    def to(self, device) -> WindowPlan:
        return WindowPlan(self.windows.to(device), self.chunks.to(device),
                          self.seq_chunks.to(device))


def _unique_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of a 2-D int64 array and the inverse index, via a fast 1-D void sort."""
    rows = np.ascontiguousarray(rows)
    flat = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
    _, first, inverse = np.unique(flat, return_index=True, return_inverse=True)
    return rows[first], inverse.reshape(-1)


def plan_batch(tokens: np.ndarray, config: TripletCNNConfig, *, chunk: int = 16) -> WindowPlan:
    """Describe token rows (B, L) by distinct windows and distinct chunks of windows.

    Mutants of one parent, or chimeras of a few parents, share most windows, and most runs of
    ``chunk`` consecutive windows; the plan lets :meth:`TripletCNNEncoder.pool_plan` convolve
    each distinct window once and take each distinct run's maximum once.
    """
    tokens = np.atleast_2d(np.asarray(tokens, dtype=np.int64))
    n, length = tokens.shape
    left, right = config.reach
    padded = np.pad(tokens, ((0, 0), (left, right)))
    win = np.lib.stride_tricks.sliding_window_view(padded, config.window, axis=1)  # (B, L, W)
    windows, inverse = _unique_rows(win.reshape(-1, config.window))
    inverse = inverse.reshape(n, length)
    none = len(windows)  # index of "no residue"
    inverse[tokens == PAD_TOKEN] = none
    k = max(1, -(-length // chunk))
    runs = np.full((n, k * chunk), none, dtype=np.int64)
    runs[:, :length] = inverse
    chunks, seq_chunks = _unique_rows(runs.reshape(n * k, chunk))
    return WindowPlan(torch.from_numpy(windows), torch.from_numpy(chunks),
                      torch.from_numpy(seq_chunks.reshape(n, k)))


class TripletCNNEncoder(nn.Module):
    """Encode token sequences into pooled CNN features and an L2-normalised embedding.

    Parameters
    ----------
    config : TripletCNNConfig
        Architecture; defaults follow the paper.

    Notes
    -----
    ``forward(tokens)`` takes an int64 tensor (B, L) with 0 = padding (see
    :func:`core.alphabet.tokenize`) and returns ``{"pooled": (B, 512), "embedding": (B, D)}``.
    Padding embeds to zeros (``padding_idx``), so the convolutions see zero padding at the end of
    short sequences just as at the borders; padded positions are masked to -inf before the max,
    so a sequence's features do not depend on how long the rest of its batch is.
    """

    def __init__(self, config: TripletCNNConfig | None = None):
        super().__init__()
        self.config = config or TripletCNNConfig()
        cfg = self.config
        self.embed = nn.Embedding(cfg.vocab_size, cfg.embed_dim, padding_idx=PAD_TOKEN)
        # "Same" padding is applied explicitly in pool(): (k - 1) // 2 zeros on the left and the
        # rest on the right, as PyTorch's padding="same" (which warns for the even kernel 6).
        self.convs = nn.ModuleList(
            nn.Conv1d(cfg.embed_dim, cfg.n_filters, k) for k in cfg.kernel_sizes)
        self.dropout = nn.Dropout(cfg.dropout)
        self.fc = nn.Linear(cfg.pooled_dim, cfg.out_dim)

    def pool(self, tokens: torch.Tensor) -> torch.Tensor:
        """Max-pooled features (B, pooled_dim) of tokens (B, L); the plain computation."""
        mask = tokens != PAD_TOKEN  # (B, L)
        x = self.embed(tokens).transpose(1, 2)  # (B, E, L)
        feats = [x]  # each (B, C_i, L)
        for conv, k in zip(self.convs, self.config.kernel_sizes, strict=True):
            left = (k - 1) // 2
            feats.append(F.relu(conv(F.pad(x, (left, k - 1 - left)))))
        h = torch.cat(feats, dim=1)  # (B, E + 3F, L)
        h = h.masked_fill(~mask[:, None, :], float("-inf"))
        pooled = h.amax(dim=2)  # (B, E + 3F)
        # An all-padding row would pool to -inf; make it zeros instead of NaN downstream.
        return torch.where(torch.isfinite(pooled), pooled, torch.zeros_like(pooled))

    def window_features(self, windows: torch.Tensor) -> torch.Tensor:
        """Features (U, pooled_dim) of the centre position of each window (U, W)."""
        left, _ = self.config.reach
        x = self.embed(windows).transpose(1, 2)  # (U, E, W)
        feats = [x[:, :, left]]  # (U, E): the centre residue's own embedding
        for conv, k in zip(self.convs, self.config.kernel_sizes, strict=True):
            start = left - (k - 1) // 2
            # One output position of a convolution is a linear map of the flattened window; as a
            # matmul its backward is several times faster than mkldnn's conv with length 1.
            flat = x[:, :, start:start + k].reshape(x.shape[0], -1)  # (U, E * k)
            feats.append(F.relu(F.linear(flat, conv.weight.reshape(conv.out_channels, -1),
                                         conv.bias)))  # (U, F)
        return torch.cat(feats, dim=1)

    def pool_plan(self, plan: WindowPlan) -> torch.Tensor:
        """Exactly :meth:`pool`, computed once per distinct window and chunk.

        Parameters
        ----------
        plan : WindowPlan
            From :func:`plan_batch` (moved to this module's device).

        Returns
        -------
        torch.Tensor, shape (B, pooled_dim)
        """
        per_window = self.window_features(plan.windows)  # (U, C)
        n_win, width = per_window.shape
        with torch.no_grad():
            # Locate each (sequence, channel) maximum without a differentiable (B, L, C) tensor,
            # whose backward would cost more than the convolutions saved: first within every
            # distinct chunk, then across each sequence's chunks. (C, ...) layout keeps the
            # reductions on contiguous memory.
            ext = torch.cat([per_window.detach(),
                             per_window.new_full((1, width), float("-inf"))]).T  # (C, U + 1)
            n_chunks, size = plan.chunks.shape
            vals = ext.index_select(1, plan.chunks.reshape(-1)).reshape(width, n_chunks, size)
            best = vals.argmax(dim=2, keepdim=True)  # (C, R, 1)
            chunk_max = vals.gather(2, best).squeeze(2)  # (C, R)
            chunk_win = plan.chunks.expand(width, -1, -1).gather(2, best).squeeze(2)  # (C, R)
            b, k = plan.seq_chunks.shape
            seq_vals = chunk_max.index_select(1, plan.seq_chunks.reshape(-1)).reshape(width, b, k)
            which = plan.seq_chunks.gather(1, seq_vals.argmax(dim=2).T)  # (B, C) chunk index
            win = chunk_win.T.gather(0, which)  # (B, C) window index; n_win = no residue
        # Gradient flows to the winning window of each maximum only, as under amax.
        padded = torch.cat([per_window, per_window.new_zeros((1, width))])  # (U + 1, C)
        return padded.gather(0, win)  # (B, C); an all-padding row pools to zeros

    def head(self, pooled: torch.Tensor) -> torch.Tensor:
        """Final layer + L2 normalisation: (B, pooled_dim) -> (B, out_dim)."""
        return F.normalize(self.fc(self.dropout(pooled)), dim=1)

    def forward(self, tokens: torch.Tensor) -> dict[str, torch.Tensor]:
        pooled = self.pool(tokens)  # (B, 512)
        return {"pooled": pooled, "embedding": self.head(pooled)}  # embedding (B, D)


class RegressionHead(nn.Module):
    """The paper's "non-triplet" baseline: the same encoder trained end-to-end with MSE.

    A linear layer on the encoder's (normalised) embedding predicts the standardised label;
    after training, the GP read-out uses the encoder's features exactly as for the triplet model.
    """

    def __init__(self, config: TripletCNNConfig | None = None):
        super().__init__()
        self.encoder = TripletCNNEncoder(config)
        self.head = nn.Linear(self.encoder.config.out_dim, 1)

    def predict_pooled(self, pooled: torch.Tensor) -> torch.Tensor:
        """Standardised prediction (B,) from pooled features (B, pooled_dim)."""
        return self.head(self.encoder.head(pooled)).squeeze(1)

    def forward(self, tokens: torch.Tensor) -> dict[str, torch.Tensor]:
        out = self.encoder(tokens)
        out["prediction"] = self.head(out["embedding"]).squeeze(1)  # (B,)
        return out
