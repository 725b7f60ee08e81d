"""Losses of SCAN (Van Gansbeke et al. 2020): neighbour consistency + entropy, self-labelling.

Every function takes logits of several heads at once, shaped (H, B, C), and returns one value
per head, so a multi-head fit can sum them for the gradient and compare them to pick a head.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

EPS = 1e-8


def scan_loss(anchor_logits: torch.Tensor, neighbour_logits: torch.Tensor, *,
              entropy_weight: float = 5.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """SCAN's clustering loss per head.

    ``-mean_i log <p_i, p_j>`` (an anchor and one of its mined neighbours should get the same,
    confident cluster) minus ``entropy_weight * H(mean_i p_i)`` (spread the data over the
    clusters instead of putting everything in one).

    Parameters
    ----------
    anchor_logits, neighbour_logits : (H, B, C) or (B, C)
    entropy_weight : weight of the entropy of the mean prediction (SCAN's default is 5).

    Returns
    -------
    total, consistency, entropy : each (H,) (or scalars for 2-D input)
    """
    p_a = F.softmax(anchor_logits, dim=-1)
    p_n = F.softmax(neighbour_logits, dim=-1)
    similarity = (p_a * p_n).sum(-1)  # (H, B)
    consistency = -torch.log(similarity.clamp_min(EPS)).mean(-1)
    mean_p = p_a.mean(-2)  # (H, C)
    entropy = -(mean_p * torch.log(mean_p.clamp_min(EPS))).sum(-1)
    return consistency - entropy_weight * entropy, consistency, entropy


def self_label_loss(weak_logits: torch.Tensor, strong_logits: torch.Tensor, *,
                    threshold: float = 0.99) -> tuple[torch.Tensor, int]:
    """SCAN's self-labelling: cross-entropy on confident samples, class-balanced.

    Targets are the argmax of the (detached) prediction on the clean input where its
    probability exceeds ``threshold``; the loss is taken on the augmented input, each class
    weighted by the inverse of its share among the confident targets.

    Parameters
    ----------
    weak_logits, strong_logits : (B, C)

    Returns
    -------
    loss : scalar (0 with no confident sample), n_confident : int
    """
    with torch.no_grad():
        prob = F.softmax(weak_logits, dim=-1)
        conf, target = prob.max(-1)
        keep = conf > threshold
    n = int(keep.sum())
    if n == 0:
        return strong_logits.sum() * 0.0, 0
    target = target[keep]
    counts = torch.bincount(target, minlength=strong_logits.shape[-1]).to(strong_logits.dtype)
    weight = torch.where(counts > 0, counts.sum() / counts.clamp_min(1.0),
                         torch.zeros_like(counts))
    weight = weight / weight[counts > 0].mean()
    loss = F.cross_entropy(strong_logits[keep], target, weight=weight)
    return loss, n
