"""Losses for metric learning on proteins.

Triplet loss for *regression* labels (seed 000, Eq. 3): a triplet (a, p, n) is valid when the
positive's label is strictly closer to the anchor's than the negative's,
``|y_a - y_p| < |y_a - y_n|``, and costs ``0.5 * max(0, m + D(a, p) - D(a, n))`` with Euclidean D.
Triplets are mined online from each mini-batch (every valid triplet, or semi-hard ones), and the
margin ``m`` is either fixed or grows with how much farther the negative's label is.
"""
from __future__ import annotations

import torch

from core.config import check_choice

MINING = ("all", "semihard", "hard")


def pairwise_distances(emb: torch.Tensor, *, eps: float = 1e-12) -> torch.Tensor:
    """Euclidean distances (B, B) between rows of ``emb`` (B, D); differentiable at 0."""
    sq = (emb * emb).sum(1)  # (B,)
    d2 = (sq[:, None] - 2.0 * emb @ emb.T + sq[None, :]).clamp_min(0.0)  # (B, B)
    # sqrt has an infinite gradient at 0: take it where d2 > 0 only.
    zero = d2 <= eps
    return torch.where(zero, torch.zeros_like(d2), (d2 + zero.float() * eps).sqrt())


def valid_triplets(labels: torch.Tensor, *, min_gap: float = 0.0) -> torch.Tensor:
    """Mask (B, B, B) of valid triplets ``[a, p, n]`` for regression labels (B,).

    Valid: a, p, n distinct and ``|y_a - y_n| - |y_a - y_p| > min_gap``. ``min_gap`` keeps
    near-ties (within measurement noise) out of the ranking.
    """
    y = labels.reshape(-1).float()
    diff = (y[:, None] - y[None, :]).abs()  # (B, B): |y_a - y_j|
    gap = diff[:, None, :] - diff[:, :, None]  # (a, p, n): |y_a - y_n| - |y_a - y_p|
    n = y.shape[0]
    eye = torch.eye(n, dtype=torch.bool, device=y.device)
    distinct = ~eye[:, :, None] & ~eye[:, None, :] & ~eye[None, :, :]  # a!=p, a!=n, p!=n
    return distinct & (gap > min_gap)


def triplet_margin(labels: torch.Tensor, margin: float, *, scale: float | None = None
                   ) -> torch.Tensor | float:
    """The margin of every triplet: fixed, or scaled by the label gap.

    With ``scale`` (a label spread, e.g. the training std) the margin of (a, p, n) is
    ``margin * (|y_a - y_n| - |y_a - y_p|) / scale``, a tensor (B, B, B): proteins whose labels
    differ more are pushed farther apart, so distances keep the order *and* roughly the size of
    label differences. Without it the scalar ``margin`` is returned.
    """
    if scale is None:
        return margin
    y = labels.reshape(-1).float()
    diff = (y[:, None] - y[None, :]).abs()
    gap = (diff[:, None, :] - diff[:, :, None]).clamp_min(0.0)
    return margin * gap / max(float(scale), 1e-12)


def triplet_loss(emb: torch.Tensor, labels: torch.Tensor, *, margin: float = 0.2,
                 mining: str = "all", margin_scale: float | None = None,
                 min_gap: float = 0.0, reduction: str = "active"
                 ) -> tuple[torch.Tensor, dict[str, float]]:
    """Online-mined triplet loss for regression labels.

    Parameters
    ----------
    emb : torch.Tensor, shape (B, D)
        Embeddings (L2-normalised by the encoder).
    labels : torch.Tensor, shape (B,)
        Measured property of each protein.
    margin : float
        Fixed margin, or the factor of the label gap when ``margin_scale`` is given.
    mining : {"all", "semihard", "hard"}
        ``all``: mean over valid triplets with a positive loss (batch-all, Hermans et al. 2017).
        ``semihard``: for each (a, p) the closest negative that is still farther than p
        (FaceNet); when none is, the farthest-violating one. ``hard``: for each (a, p) the
        closest negative.
    margin_scale : float, optional
        Label spread that turns the margin into ``margin * label gap / margin_scale``.
    min_gap : float
        Label gap below which a triplet is not used (see :func:`valid_triplets`).
    reduction : {"active", "mean"}
        Average over the triplets with a positive loss (training: easy triplets do not dilute
        the gradient), or over every mined triplet (a validation loss that only falls as the
        embedding improves).

    Returns
    -------
    loss : torch.Tensor, scalar
    stats : dict
        ``n_valid`` triplets, ``frac_active`` (share with a positive loss).
    """
    check_choice("reduction", reduction, ("active", "mean"))
    check_choice("mining", mining, MINING)
    dist = pairwise_distances(emb)  # (B, B)
    valid = valid_triplets(labels, min_gap=min_gap)  # (B, B, B)
    m = triplet_margin(labels, margin, scale=margin_scale)
    raw = m + dist[:, :, None] - dist[:, None, :]  # (a, p, n): m + D(a,p) - D(a,n)
    n_valid = int(valid.sum())
    zero = emb.sum() * 0.0  # keeps the graph (and device) when nothing is mined
    if n_valid == 0:
        return zero, {"n_valid": 0.0, "frac_active": 0.0}
    if mining == "all":
        per = (0.5 * raw.clamp_min(0.0))[valid]
        active = per > 1e-12
        loss = _reduce(per, active, reduction, zero)
        return loss, {"n_valid": float(n_valid), "frac_active": float(active.float().mean())}
    # semihard / hard: choose one negative per (a, p) pair with at least one valid negative.
    big = torch.finfo(dist.dtype).max / 4
    d_an = dist[:, None, :].expand_as(raw)  # (a, p, n): D(a, n)
    d_ap = dist[:, :, None].expand_as(raw)
    if mining == "semihard":
        cand = valid & (d_an > d_ap)
        semi = torch.where(cand, d_an, torch.full_like(d_an, big)).amin(2)  # (a, p)
        fallback = torch.where(valid, d_an, torch.full_like(d_an, -big)).amax(2)
        has_semi = cand.any(2)
        chosen = torch.where(has_semi, semi, fallback)
    else:
        chosen = torch.where(valid, d_an, torch.full_like(d_an, big)).amin(2)
    pair_ok = valid.any(2)  # (a, p)
    # The margin of the chosen triplet: for a scaled margin use the mean over valid negatives
    # (the chosen index is not tracked to keep this simple and differentiable).
    if isinstance(m, torch.Tensor):
        m_pair = (m * valid).sum(2) / valid.sum(2).clamp_min(1)
    else:
        m_pair = m
    per = 0.5 * (m_pair + dist - chosen).clamp_min(0.0)  # (a, p)
    per = per[pair_ok]
    active = per > 1e-12
    loss = _reduce(per, active, reduction, zero)
    return loss, {"n_valid": float(n_valid), "frac_active": float(active.float().mean())}


def _reduce(per: torch.Tensor, active: torch.Tensor, reduction: str, zero: torch.Tensor
            ) -> torch.Tensor:
    if reduction == "mean":
        return per.mean()
    return per[active].mean() if bool(active.any()) else zero
