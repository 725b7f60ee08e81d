"""Protein–text retrieval: text validation, twin mining, dual encoder, losses, metrics, search."""
from __future__ import annotations

import difflib
import random

import numpy as np
import pandas as pd
import pytest
import torch

from core.tasks import text_eval
from core.tasks.text_data import paper_split, twin_index, validate_texts, with_text_ids
from core.tasks.twins import TwinConfig, difflib_ratio, mine_twins
from tests.conftest import shared_data_or_skip

AA = "ACDEFGHIKLMNPQRSTVWY"


def _mutate(seq: str, n: int, rng: random.Random) -> str:
    s = list(seq)
    for pos in rng.sample(range(len(s)), n):
        s[pos] = rng.choice([a for a in AA if a != s[pos]])
    return "".join(s)


def tiny_table(n_fam: int = 4, per: int = 8, seed: int = 0) -> pd.DataFrame:
    """Families of point mutants; within a family two texts, decided by one residue."""
    rng = random.Random(seed)
    rows = []
    for f in range(n_fam):
        parent = "".join(rng.choice(AA) for _ in range(220))
        for i in range(per):
            seq = _mutate(parent, 3, rng)
            kind = i % 2
            seq = seq[:100] + ("W" if kind else "G") + seq[101:]
            text = (f"Family {f} enzyme. Confers resistance to "
                    f"{['penicillins', 'carbapenems and cephalosporins'][kind]}.")
            rows.append({"id": f"p{f}_{i}", "sequence": seq, "text": text})
    return pd.DataFrame(rows)


def test_validate_texts_flags_empty_long_and_duplicate_pairs():
    table = pd.DataFrame({"id": ["a", "b", "c", "d"], "sequence": ["MKV", "MKV", "MKL", "MKI"],
                          "text": ["kinase", "kinase", "", "x" * 5000]})
    report = validate_texts(table)
    codes = {(p.code, p.record_id) for p in report.problems}
    assert ("duplicate_pair", "b") in codes
    assert ("empty_text", "c") in codes
    assert ("text_too_long", "d") in codes
    assert not validate_texts(table.iloc[:1]).problems
    assert validate_texts(table.drop(columns="text")).errors[0].code == "missing_text_column"


def test_autojunk_matters_and_rapidfuzz_bounds_difflib():
    from rapidfuzz import fuzz

    rng = random.Random(1)
    a = "".join(rng.choice(AA) for _ in range(400))
    b = _mutate(a, 60, rng)
    assert difflib_ratio(a, b) > 0.7
    assert difflib.SequenceMatcher(None, a, b).ratio() < 0.3  # autojunk's damage
    for _ in range(20):
        x = "".join(rng.choice(AA) for _ in range(rng.randint(50, 300)))
        y = _mutate(x, rng.randint(1, 40), rng)[rng.randint(0, 20):]
        assert fuzz.ratio(x, y) / 100 >= difflib_ratio(x, y) - 1e-9


def test_mine_twins_finds_point_mutants_with_other_texts(tmp_path):
    table = tiny_table()
    pairs, info = mine_twins(table, TwinConfig(workers=1), cache_dir=tmp_path)
    assert len(pairs) > 0 and info["pairs_total"] == len(table) * (len(table) - 1) // 2
    fam = pairs["id_a"].str[:2] == pairs["id_b"].str[:2]
    assert fam.all()  # only within a family are sequences similar enough
    texts = table.set_index("id")["text"]
    assert (texts[pairs["id_a"]].to_numpy() != texts[pairs["id_b"]].to_numpy()).all()
    again, info2 = mine_twins(table, TwinConfig(workers=1), cache_dir=tmp_path)
    assert info2["cached"] and again.equals(pairs)


def test_exact_ratio_matches_the_shipped_twins():
    shared_data_or_skip("protein_text")
    from core.datasets import load, load_file

    seqs = load("protein_text").set_index("id")["sequence"]
    shipped = load_file("protein_text", "resfinder_twins.csv").sample(40, random_state=0)
    ours = [difflib_ratio(seqs[a], seqs[b])
            for a, b in zip(shipped["id_a"], shipped["id_b"], strict=True)]
    assert np.allclose(ours, shipped["seq_ratio"], atol=6e-5)  # shipped: 4 decimals


def _train_setup(seed=0):
    from core.models.dual_encoder import DualEncoder, DualEncoderConfig
    from core.tasks.text_features import KmerVocabulary
    from core.tasks.text_train import TrainData

    table, texts = with_text_ids(tiny_table())
    vocab = KmerVocabulary(3, 5, 1).fit(table["sequence"].tolist())
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(len(texts), 384)).astype(np.float32)
    data = TrainData(vocab.transform(table["sequence"].tolist()), feats,
                     table["text_id"].to_numpy())
    torch.manual_seed(seed)
    return table, data, DualEncoder(DualEncoderConfig(vocab_size=len(vocab), dim=16))


def test_dual_encoder_shapes_determinism_and_checkpoint(tmp_path):
    from core.models.dual_encoder import DualEncoder
    from core.tasks.text_train import embed_all

    _, data, model = _train_setup()
    P, Q = embed_all(model, data)
    assert P.shape == (32, 16) and Q.shape == (8, 16)
    assert np.allclose(np.linalg.norm(P, axis=1), 1, atol=1e-5)
    _, _, again = _train_setup()
    assert np.allclose(embed_all(again, data)[0], P)
    torch.save(model.state_dict(), tmp_path / "m.pt")
    other = DualEncoder(model.cfg)
    other.load_state_dict(torch.load(tmp_path / "m.pt", weights_only=True))
    assert np.allclose(embed_all(other, data)[0], P)


def test_ensemble_encoder_scores_are_weighted_member_cosines():
    from core.models.dual_encoder import DualEncoder, EnsembleEncoder
    from core.tasks.text_train import embed_all

    _, data, one = _train_setup(seed=0)
    _, _, two = _train_setup(seed=1)
    P1, Q1 = embed_all(one, data)
    P2, Q2 = embed_all(two, data)
    both = EnsembleEncoder([one, two], [3.0, 1.0])
    P, Q = embed_all(both, data)
    assert P.shape == (32, 32) and np.allclose(np.linalg.norm(Q, axis=1), 1, atol=1e-5)
    assert np.allclose(P @ Q.T, 0.75 * P1 @ Q1.T + 0.25 * P2 @ Q2.T, atol=1e-5)
    again = EnsembleEncoder([DualEncoder(one.cfg), DualEncoder(two.cfg)], [1.0, 1.0])
    again.load_state_dict(both.state_dict())
    assert np.allclose(embed_all(again, data)[0], P, atol=1e-6)


@pytest.mark.parametrize("loss", ["infonce", "triplet", "mixed"])
def test_training_lowers_each_loss(loss):
    from core.tasks.text_train import TextTrainConfig, fit_dual_encoder, triplets_from_twins

    table, data, model = _train_setup()
    pairs, _ = mine_twins(table, TwinConfig(workers=1))
    triplets = triplets_from_twins(twin_index(table, pairs), np.arange(len(table)),
                                   data.text_ids)
    hist = fit_dual_encoder(model, data, np.arange(len(table)),
                            TextTrainConfig(loss=loss, epochs=6, batch_size=16,
                                            triplet_batch=16),
                            triplets=triplets)
    assert hist[-1]["loss"] < hist[0]["loss"]


def test_infonce_masks_repeated_texts_and_triplet_margin():
    from core.tasks.text_losses import clip_infonce, triplet_margin

    p = torch.nn.functional.normalize(torch.randn(4, 8), dim=-1)
    same = clip_infonce(p, p, torch.tensor([0, 0, 1, 2]), torch.tensor(10.0))
    assert torch.isfinite(same)
    t = torch.tensor([[1.0, 0.0]])
    assert triplet_margin(t, t, torch.tensor([[0.0, 1.0]]), 0.2).item() == 0.0
    assert triplet_margin(t, torch.tensor([[0.0, 1.0]]), t, 0.2).item() == pytest.approx(1.2)


def test_metrics_sweep_and_retrieval():
    sweep = text_eval.threshold_sweep(np.array([0.9, 0.8, 0.4]), np.array([0.5, 0.1, 0.2]))
    best = sweep.iloc[sweep["f1"].argmax()]
    assert best["f1"] == pytest.approx(6 / 7) and best["tau"] == pytest.approx(0.4)
    P = np.eye(3, dtype=np.float32)
    Q = np.eye(3, dtype=np.float32)[[0, 1]]
    r = text_eval.retrieval(P, Q, np.array([0, 1, 1]), np.arange(3))
    assert r["recall_at_1"] == 1.0 and r["p2t_recall_at_1"] == pytest.approx(2 / 3)


def test_paper_split_drops_training_copies_of_held_out_sequences():
    table = pd.DataFrame({"id": [f"p{i}" for i in range(50)],
                          "sequence": ["MKV" * (i % 25 + 1) for i in range(50)]})
    proto = paper_split(table, seed=3)
    held = set(table["sequence"].iloc[proto.test])
    used = table["sequence"].iloc[np.concatenate([proto.train, proto.valid])]
    assert not held & set(used)
    assert len(proto.test) == 5 and not set(proto.train) & set(proto.valid)


def test_inner_protocols_mirror_the_paper_split_inside_the_training_pool():
    from core.tasks.text_data import inner_paper_protocols

    table = pd.DataFrame({"id": [f"p{i}" for i in range(200)],
                          "sequence": ["MKV" * (i % 90 + 1) for i in range(200)]})
    outer = paper_split(table, seed=1)
    inner = inner_paper_protocols(table, outer, repeats=2, seed=1)
    pool = set(outer.train) | set(outer.valid)
    for proto in inner:
        assert len(proto.test) == len(outer.test)  # as many held out as the outer test
        parts = [set(proto.train), set(proto.valid), set(proto.test)]
        assert set().union(*parts) <= pool and not parts[0] & parts[2]
        held = set(table["sequence"].iloc[proto.test])
        assert not held & set(table["sequence"].iloc[np.concatenate([proto.train,
                                                                      proto.valid])])
    assert set(inner[0].test) != set(inner[1].test)


def test_identity_stats_count_close_relatives_and_skip_copies():
    from core.tasks.text_neighbours import identity_matrix, identity_stats

    rng = random.Random(1)
    parent = "".join(rng.choice(AA) for _ in range(300))
    ref = [parent, _mutate(parent, 1, rng), _mutate(parent, 20, rng)]
    stats = identity_stats([parent], ref)
    assert stats.shape == (1, 8)
    assert np.isclose(stats[0, 4], np.log(2))  # > 0.995: only the one-residue variant
    assert np.isclose(stats[0, 0], np.log(3))  # > 0.9: both variants, never the copy
    assert 0.99 < stats[0, 6] < 1
    sim = identity_matrix([parent], ref, cache=False)
    assert np.allclose(identity_stats([parent], ref, sim=sim), stats)
    longer = identity_stats([parent + "MKV"], ref, lengths=True)
    assert longer.shape == (1, 11) and longer[0, 8] > 0 and longer[0, 9] == 0
    assert np.isclose(longer[0, 10], np.log(303))


def test_identity_stats_of_large_inputs_use_kmer_candidates(monkeypatch):
    """Beyond IDENTITY_EXACT_PAIRS only each query's best 3-mer candidates are aligned; close
    relatives are always among them, so the counts and best identities do not change."""
    import core.tasks.text_neighbours as tn

    rng = random.Random(2)
    parents = ["".join(rng.choice(AA) for _ in range(200)) for _ in range(3)]
    ref = [_mutate(p, n, rng) for p in parents for n in (0, 1, 2, 5, 15)]
    queries = [_mutate(p, 1, rng) for p in parents] + [parents[0]]
    exact = tn.identity_stats(queries, ref, lengths=True)
    monkeypatch.setattr(tn, "IDENTITY_EXACT_PAIRS", 0)
    monkeypatch.setattr(tn, "IDENTITY_CANDIDATES", 6)
    approx = tn.identity_stats(queries, ref, lengths=True)
    assert np.allclose(approx, exact, atol=1e-6)
    assert np.isclose(approx[3, 0], np.log1p(4))  # the parent's copy is skipped among the candidates too


def test_vector_index_ivf_agrees_with_exact():
    from core.tasks.text_search import VectorIndex

    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 16)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    exact, ivf = VectorIndex(x), VectorIndex(x, exact_limit=100, n_probe=20)
    q = x[7] + 0.01
    assert exact.search(q, 1)[0][0] == 7 and ivf.search(q, 1)[0][0] == 7


def test_text_lexicon_keeps_drug_names_and_round_trips():
    from core.tasks.text_features import TextLexicon, with_lexicon

    texts = ["Confers resistance to Amoxicillin+Clavulanic acid, Ampicillin.",
             "Confers resistance to Ampicillin, Ceftazidime."]
    lex = TextLexicon().fit(texts)
    x = lex.transform(texts + ["nothing known here"])
    assert "amoxicillin+clavulanic" in set(lex.terms_)
    assert np.allclose(np.linalg.norm(x[:2], axis=1), 1) and not x[2].any()
    again = TextLexicon.from_arrays(lex.terms_, lex.idf_)
    assert np.allclose(again.transform(texts), x[:2])
    assert with_lexicon(np.ones((2, 384), np.float32), texts, lex).shape == (2, 384 + len(lex))


def test_neighbours_skip_identical_sequences_and_count_close_ones():
    from core.tasks.text_features import KmerVocabulary
    from core.tasks.text_neighbours import (
        NeighbourConfig,
        neighbour_stats,
        neighbour_text_features,
    )

    table = tiny_table(n_fam=2, per=4)
    seqs = table["sequence"].tolist()
    bags = KmerVocabulary(3, 4, 1, None).fit(seqs).transform(seqs)
    ref = np.arange(1, len(seqs))  # protein 0 is held out; 1 is a copy of 0 in the reference
    ref_seqs = [seqs[0]] + seqs[2:]
    ref_bags = KmerVocabulary(3, 4, 1, None).fit(seqs).transform(ref_seqs)
    feats = np.eye(len(seqs), dtype=np.float32)  # text i = protein i
    out = neighbour_text_features(bags, seqs, ref_bags, ref_seqs, ref, feats,
                                  NeighbourConfig(k=3, temperature=0.05))
    assert out[0, 1] == 0  # the identical reference never votes
    assert np.isclose(out[0].sum(), 1) and out[0, 1:4].sum() > 0.99  # own family votes
    stats = neighbour_stats(bags, seqs, ref_bags, ref_seqs)
    assert stats.shape == (len(seqs), 8) and stats[0, 5] < 1  # best cosine is not the copy


def test_protein_tower_feeds_standardised_neighbourhood_statistics():
    import torch

    from core.models.dual_encoder import DualEncoder, DualEncoderConfig
    from core.tasks.text_features import KmerVocabulary
    from core.tasks.text_neighbours import neighbour_stats
    from core.tasks.text_search import ProteinTower

    seqs = tiny_table(n_fam=2, per=4)["sequence"].tolist()
    vocab = KmerVocabulary(3, 4, 1, None).fit(seqs)
    torch.manual_seed(0)
    model = DualEncoder(DualEncoderConfig(vocab_size=len(vocab), dim=8, dense_dim=8)).eval()
    ref, mean, std = seqs[2:], np.full(8, 0.5, np.float32), np.full(8, 2.0, np.float32)
    tower = ProteinTower(model, vocab, ref, mean, std)
    got = tower.embed(seqs[:3])
    bags = vocab.transform(seqs[:3])
    dense = (neighbour_stats(bags, seqs[:3], vocab.transform(ref), ref) - mean) / std
    with torch.no_grad():
        want = model.encode_protein(bags.batch(np.arange(3)),
                                    dense=torch.from_numpy(dense.astype(np.float32))).numpy()
    assert np.allclose(got, want, atol=1e-6)
    assert np.allclose(tower.embed(seqs[:3]), got)  # a second call reuses the reference bags


def test_protein_tower_uses_identity_statistics_when_the_run_did():
    import torch

    from core.models.dual_encoder import DualEncoder, DualEncoderConfig
    from core.tasks.text_features import KmerVocabulary
    from core.tasks.text_neighbours import identity_stats
    from core.tasks.text_search import ProteinTower

    seqs = tiny_table(n_fam=2, per=4)["sequence"].tolist()
    vocab = KmerVocabulary(3, 4, 1, None).fit(seqs)
    torch.manual_seed(0)
    model = DualEncoder(DualEncoderConfig(vocab_size=len(vocab), dim=8, dense_dim=8)).eval()
    ref, mean, std = seqs[2:], np.zeros(8, np.float32), np.ones(8, np.float32)
    got = ProteinTower(model, vocab, ref, mean, std, "identity").embed(seqs[:3])
    dense = torch.from_numpy(identity_stats(seqs[:3], ref))
    with torch.no_grad():
        want = model.encode_protein(vocab.transform(seqs[:3]).batch(np.arange(3)),
                                    dense=dense).numpy()
    assert np.allclose(got, want, atol=1e-6)


def test_compare_variants_scores_inner_designs_only():
    from core.tasks.text_select import compare_variants

    table, texts = with_text_ids(tiny_table(n_fam=3, per=10))
    pairs, _ = mine_twins(table, TwinConfig(workers=1))
    feats = np.random.default_rng(0).normal(size=(len(texts), 384)).astype(np.float32)
    cfg = {"train": {"epochs": 2, "batch_size": 8}, "finetune_epochs": 1, "dim": 8,
           "n_buckets": 256}
    out = compare_variants(table, feats, twin_index(table, pairs),
                           {"plain": cfg | {"text_lexical": False, "neighbour_stats": False},
                            "identity": cfg | {"text_lexical": False}},
                           seeds=1, repeats=1)
    assert set(out["variant"]) == {"plain", "identity"}
    assert set(out["model"]) == {"baseline_infonce", "mixed", "mixed_ensemble"}
    assert out["pairwise_acc_easy"].between(0, 1).all()
