"""Losses of the protein–text dual encoder: CLIP InfoNCE and the seed's triplet margin loss."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def clip_infonce(protein: torch.Tensor, text: torch.Tensor, text_ids: torch.Tensor,
                 scale: torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE with in-batch negatives.

    ``protein``, ``text``: (B, D) unit vectors, row i a true pair; ``text_ids``: (B,) ids of
    the texts. Texts repeat across proteins, so another row with the same text is not a
    negative: those off-diagonal logits are masked out in both directions.
    """
    logits = scale * protein @ text.T  # (B, B)
    same = (text_ids[:, None] == text_ids[None, :]) & ~torch.eye(
        len(text_ids), dtype=torch.bool, device=logits.device)
    logits = logits.masked_fill(same, torch.finfo(logits.dtype).min / 2)
    target = torch.arange(len(text_ids), device=logits.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


def triplet_margin(text: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor,
                   margin: float = 0.2) -> torch.Tensor:
    """The seed's loss: mean of max(0, s_neg - s_pos + margin), s = cosine (unit vectors).

    ``text`` the anchor text (T, D), ``positive`` its protein, ``negative`` the twin.
    """
    s_pos = (text * positive).sum(-1)
    s_neg = (text * negative).sum(-1)
    return F.relu(s_neg - s_pos + margin).mean()
