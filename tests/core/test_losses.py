"""Triplet loss for regression labels: mining, margins, zero loss when well separated."""
from __future__ import annotations

import itertools

import pytest
import torch

from core.tasks.losses import pairwise_distances, triplet_loss, triplet_margin, valid_triplets


def test_valid_triplets_follow_label_distance():
    y = torch.tensor([0.0, 1.0, 5.0, 5.5])
    mask = valid_triplets(y)
    for a, p, n in itertools.product(range(4), repeat=3):
        expected = len({a, p, n}) == 3 and abs(y[a] - y[p]) < abs(y[a] - y[n])
        assert bool(mask[a, p, n]) == expected, (a, p, n)
    # ties are never valid; min_gap drops near-ties
    assert not valid_triplets(torch.tensor([0.0, 1.0, -1.0]))[0, 1, 2]
    assert not valid_triplets(y, min_gap=4.6)[0, 1, 2]


def test_pairwise_distances_match_cdist_and_have_finite_gradient():
    x = torch.randn(6, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64,
                    requires_grad=True)
    d = pairwise_distances(torch.cat([x, x[:1]]))
    assert torch.allclose(d[:6, :6], torch.cdist(x, x), atol=1e-9)
    d.sum().backward()
    assert torch.isfinite(x.grad).all()


@pytest.mark.parametrize("mining", ["all", "semihard", "hard"])
def test_zero_loss_when_well_separated(mining):
    y = torch.tensor([0.0, 1.0, 2.0, 3.0])
    emb = torch.stack([y * 10, torch.zeros(4)], dim=1)  # distances 10x the label gaps
    loss, stats = triplet_loss(emb, y, margin=1.0, mining=mining)
    assert loss.item() == 0.0 and stats["n_valid"] > 0


@pytest.mark.parametrize("mining", ["all", "semihard", "hard"])
def test_positive_loss_and_gradient_when_order_is_wrong(mining):
    y = torch.tensor([0.0, 1.0, 2.0, 3.0])
    pos = torch.tensor([0.0, 3.0, 1.0, 2.0])  # label order broken: 1 sits beyond 2 and 3
    emb = torch.stack([pos, torch.zeros(4)], dim=1).requires_grad_(True)
    loss, stats = triplet_loss(emb, y, margin=0.5, mining=mining)
    assert loss.item() > 0 and stats["frac_active"] > 0
    loss.backward()
    assert emb.grad.abs().sum() > 0


def test_scaled_margin_grows_with_label_gap():
    y = torch.tensor([0.0, 1.0, 4.0])
    m = triplet_margin(y, 0.1, scale=1.0)
    assert torch.isclose(m[0, 1, 2], torch.tensor(0.1 * (4.0 - 1.0)))
    assert triplet_margin(y, 0.2) == 0.2


def test_no_valid_triplet_gives_zero_with_graph():
    emb = torch.randn(3, 2, requires_grad=True)
    loss, stats = triplet_loss(emb, torch.zeros(3))
    assert loss.item() == 0.0 and stats["n_valid"] == 0
    loss.backward()  # still part of the graph


def test_mean_reduction_counts_easy_triplets():
    y = torch.tensor([0.0, 1.0, 2.0, 3.0])
    emb = torch.stack([y, torch.zeros(4)], dim=1) * 0.3
    active, _ = triplet_loss(emb, y, margin=0.5, reduction="active")
    mean, _ = triplet_loss(emb, y, margin=0.5, reduction="mean")
    assert 0 < float(mean) <= float(active)
    with pytest.raises(ValueError):
        triplet_loss(emb, y, mining="random")
