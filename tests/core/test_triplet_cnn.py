"""The triplet CNN encoder: shapes, seeding, learning, checkpoints, the fast pooling path."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from core.alphabet import tokenize
from core.models.triplet_cnn import RegressionHead, TripletCNNConfig, TripletCNNEncoder, plan_batch

SMALL = TripletCNNConfig(embed_dim=16, n_filters=8, out_dim=6)


@pytest.fixture
def tokens(synthetic) -> torch.Tensor:
    seqs = synthetic["sequence"].tolist()
    seqs[3] = seqs[3][:25]  # one shorter sequence: padding must not change its features
    return torch.from_numpy(tokenize(seqs))


def test_output_shapes_paper_defaults(tokens):
    cfg = TripletCNNConfig()
    assert cfg.pooled_dim == 512 and cfg.kernel_sizes == (3, 6, 9) and cfg.window == 9
    out = TripletCNNEncoder(cfg)(tokens[:4])
    assert out["pooled"].shape == (4, 512)
    assert out["embedding"].shape == (4, cfg.out_dim)
    assert torch.allclose(out["embedding"].norm(dim=1), torch.ones(4), atol=1e-5)


def test_padding_is_masked(tokens):
    torch.manual_seed(0)
    enc = TripletCNNEncoder(SMALL).eval()
    alone = enc(tokens[3:4, :25])["pooled"]
    batched = enc(tokens[:5])["pooled"][3:4]
    assert torch.allclose(alone, batched, atol=1e-6)


def test_same_seed_same_output(tokens):
    outs = []
    for _ in range(2):
        torch.manual_seed(7)
        outs.append(TripletCNNEncoder(SMALL)(tokens)["embedding"])
    assert torch.equal(outs[0], outs[1])
    torch.manual_seed(8)
    assert not torch.equal(outs[0], TripletCNNEncoder(SMALL)(tokens)["embedding"])


def test_plan_path_matches_plain_forward_and_gradient(tokens):
    torch.manual_seed(0)
    enc = TripletCNNEncoder(SMALL).double()
    weights = torch.randn(SMALL.pooled_dim, dtype=torch.float64)
    plain = enc.pool(tokens)
    (plain @ weights).sum().backward()
    grads = {n: p.grad.clone() for n, p in enc.named_parameters() if p.grad is not None}
    enc.zero_grad()
    fast = enc.pool_plan(plan_batch(tokens.numpy(), SMALL, chunk=4))
    (fast @ weights).sum().backward()
    assert torch.allclose(plain, fast, atol=1e-10)
    for name, grad in grads.items():
        assert torch.allclose(grad, dict(enc.named_parameters())[name].grad, atol=1e-9), name


def test_plan_deduplicates_windows(synthetic):
    tokens = tokenize(synthetic["sequence"].tolist())
    plan = plan_batch(tokens, SMALL)
    assert plan.windows.shape[1] == SMALL.window
    assert plan.windows.shape[0] <= tokens.size
    assert plan.seq_chunks.shape[0] == len(tokens)


def test_loss_drops_over_three_steps(tokens):
    torch.manual_seed(0)
    model = RegressionHead(SMALL)
    target = torch.linspace(-1, 1, len(tokens))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(4):
        loss = torch.nn.functional.mse_loss(model(tokens)["prediction"], target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_checkpoint_round_trip(tmp_path, tokens):
    from dataclasses import asdict

    torch.manual_seed(0)
    enc = TripletCNNEncoder(SMALL).eval()
    path = tmp_path / "enc.pt"
    torch.save({"model": enc.state_dict(), "config": asdict(SMALL)}, path)
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    again = TripletCNNEncoder(TripletCNNConfig(**ckpt["config"])).eval()
    again.load_state_dict(ckpt["model"])
    assert again.config == SMALL
    assert torch.equal(enc(tokens)["embedding"], again(tokens)["embedding"])


def test_config_validation():
    with pytest.raises(ValueError):
        TripletCNNConfig(kernel_sizes=())
    with pytest.raises(ValueError):
        TripletCNNConfig(dropout=1.0)
    assert TripletCNNConfig(kernel_sizes=[3, 6, 9]) == TripletCNNConfig()  # JSON lists come back


def test_all_padding_row_pools_to_zero():
    enc = TripletCNNEncoder(SMALL)
    tokens = np.zeros((2, 12), dtype=np.int64)
    tokens[0, :5] = 3
    plain = enc.pool(torch.from_numpy(tokens))
    fast = enc.pool_plan(plan_batch(tokens, SMALL))
    assert torch.equal(plain[1], torch.zeros(SMALL.pooled_dim))
    assert torch.allclose(plain, fast, atol=1e-6)
