"""Encoders: shapes, determinism, length batching, caching, clear errors."""
from __future__ import annotations

import numpy as np
import pytest

from core.encoders import ENCODERS, Encoder, Esm2Encoder, embed_cached, get_encoder, length_batches


def test_length_batches_cover_everything_once_under_the_budget():
    lengths = [5, 300, 40, 41, 7, 299, 120]
    batches = list(length_batches(lengths, batch_size=3, max_tokens=600))
    seen = np.concatenate(batches)
    assert sorted(seen.tolist()) == list(range(len(lengths)))
    for b in batches:
        assert len(b) <= 3 and max(lengths[i] for i in b) * len(b) <= 600


def test_registry_and_unknown_name():
    assert set(ENCODERS) == {"kmer", "near", "masked_lm", "esm2"}
    for name in ("kmer", "near", "masked_lm", "esm2"):
        assert isinstance(get_encoder(name), Encoder)
    with pytest.raises(KeyError, match="unknown encoder"):
        get_encoder("word2vec")


def test_kmer_shapes_determinism_and_unit_rows(synthetic):
    seqs = synthetic["sequence"].tolist()
    a = get_encoder("kmer").embed(seqs)
    b = get_encoder("kmer").embed(seqs)
    assert a.dtype == np.float32 and a.shape == (len(seqs), len(seqs) - 1)  # LSA capped at N-1
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    full = get_encoder("kmer", svd_dim=None).embed(seqs[:3])
    assert full.shape == (3, 20 + 400 + 8000)


def test_near_shapes_order_and_determinism(synthetic):
    seqs = synthetic["sequence"].tolist()[:6] + ["MKV", "W" * 90]
    enc = get_encoder("near")
    progress = []
    a = enc.embed(seqs, batch_size=3, device="cpu", on_progress=progress.append)
    b = enc.embed(seqs[::-1], batch_size=5, device="cpu")[::-1]
    assert a.shape == (len(seqs), 256) and a.dtype == np.float32
    np.testing.assert_allclose(a, b, atol=1e-5)  # batching and order do not matter
    assert progress[-1].step == progress[-1].total == len(seqs)


def test_masked_lm_trains_embeds_and_is_seeded(synthetic):
    seqs = synthetic["sequence"].tolist()
    cfg = {"steps": 4, "batch_size": 8, "width": 16, "dilations": (1, 2)}
    a = get_encoder("masked_lm", config=cfg, seed=3)
    xa = a.embed(seqs, device="cpu")
    xb = get_encoder("masked_lm", config=cfg, seed=3).embed(seqs, device="cpu")
    assert xa.shape == (len(seqs), 16)
    np.testing.assert_allclose(xa, xb, atol=1e-6)
    assert [h["step"] for h in a.history_] == [1, 2, 3, 4]
    assert all(np.isfinite(h["loss"]) for h in a.history_)


def test_masked_lm_loss_drops_on_a_fixed_task():
    # 40 steps on one repeated motif: the masked residues become predictable.
    enc = get_encoder("masked_lm", config={"steps": 40, "batch_size": 8, "width": 32,
                                            "dilations": (1, 2), "lr": 1e-2}, seed=0)
    enc.fit(["ACDEFGHIKL" * 6] * 20, device="cpu")
    losses = [h["loss"] for h in enc.history_]
    assert losses[-1] < losses[0] * 0.7


def test_esm2_says_clearly_what_is_missing(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # never download in tests
    enc = Esm2Encoder("facebook/esm2_t6_8M_UR50D")
    assert enc.dim == 320
    try:
        enc.load()
    except RuntimeError as exc:
        assert "transformers" in str(exc) or "cache" in str(exc)
    else:  # transformers installed and the weights cached: it must work
        assert enc.embed(["MKV", "ACDE"], device="cpu").shape == (2, 320)


def test_embed_cached_reuses_the_file(tmp_path, synthetic):
    seqs = synthetic["sequence"].tolist()
    enc = get_encoder("kmer")
    first = embed_cached(enc, seqs, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.npy"))) == 1

    def boom(*a, **k):
        raise AssertionError("should have been read from the cache")

    enc.embed = boom
    np.testing.assert_array_equal(embed_cached(enc, seqs, cache_dir=tmp_path), first)
