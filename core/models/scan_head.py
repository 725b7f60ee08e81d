"""SCAN's clustering head: features -> cluster probabilities, several heads trained at once."""
from __future__ import annotations

import copy

import torch
from torch import nn


class SCANHead(nn.Module):
    """``n_heads`` independent heads on the same features.

    ``hidden=0`` gives one linear layer per head (the slides' "single-layer model with softmax
    output"); ``hidden>0`` a small MLP (Linear -> ReLU -> Linear). ``forward`` returns logits
    (H, B, C); softmax is left to the loss.
    """

    def __init__(self, in_dim: int, n_clusters: int, *, n_heads: int = 10, hidden: int = 0):
        super().__init__()
        self.in_dim, self.n_clusters, self.hidden = in_dim, n_clusters, hidden

        def head() -> nn.Module:
            if hidden <= 0:
                return nn.Linear(in_dim, n_clusters)
            return nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(),
                                 nn.Linear(hidden, n_clusters))

        self.heads = nn.ModuleList(head() for _ in range(n_heads))

    @property
    def n_heads(self) -> int:
        return len(self.heads)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, D) -> (H, B, C)
        return torch.stack([h(x) for h in self.heads])

    def select(self, index: int) -> SCANHead:
        """A one-head copy keeping head ``index``."""
        out = copy.deepcopy(self)
        out.heads = nn.ModuleList([out.heads[index]])
        return out
