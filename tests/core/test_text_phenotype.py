"""Session-6 options of the protein–text model: phenotype head, twin-aware InfoNCE batches,
note features (tiny data)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from core.tasks.text_data import twin_index
from core.tasks.text_phenotype import DrugLabels, note_of, phenotype_terms
from core.tasks.twins import TwinConfig, mine_twins
from tests.core.test_text import _train_setup

RESFINDER = ("Class D beta-lactamase; OXA-2-like. Antimicrobial resistance protein of the "
             "Beta-lactam class. Mechanism of resistance: enzymatic inactivation. Confers "
             "resistance to Ceftazidime, Amoxicillin+Clavulanic acid.")
GENERIC = ("Antimicrobial resistance protein of the Beta-lactam class. Mechanism of "
           "resistance: enzymatic inactivation. Confers resistance to Beta-lactam antibiotics "
           "(specific drugs not determined).")


def test_phenotype_terms_and_labels_from_training_texts():
    assert phenotype_terms(RESFINDER) == ["class:beta-lactam", "ceftazidime",
                                          "amoxicillin+clavulanic acid"]
    assert phenotype_terms(GENERIC) == ["class:beta-lactam", "(undetermined)"]
    assert phenotype_terms("a kinase") == []
    labels = DrugLabels().fit([RESFINDER])
    y = labels.transform([GENERIC, RESFINDER, "Confers resistance to Colistin."])
    assert len(labels) == 3 and y.shape == (3, 3)
    assert y[1].sum() == 3 and y[0].sum() == 1 and y[2].sum() == 0  # unseen terms ignored
    assert note_of(RESFINDER) == "Class D beta-lactamase; OXA-2-like."
    assert note_of(GENERIC) == ""


def test_twin_batches_hold_twins_and_keep_the_batch_size():
    from core.tasks.text_train import twin_batch, twin_partners

    triplets = np.array([[0, 5, 0], [5, 0, 1], [2, 7, 0], [7, 2, 1]])
    partners = twin_partners(triplets)
    assert set(partners) == {0, 5, 2, 7}
    rows = np.array([0, 1, 2, 3, 4, 6])
    batch = twin_batch(rows, partners, 1.0, np.random.default_rng(0))
    assert len(batch) == len(rows) and len(set(batch.tolist())) == len(rows)
    assert {0, 5, 2, 7} <= set(batch.tolist())
    assert np.array_equal(twin_batch(rows, partners, 0.0, np.random.default_rng(0)), rows)


def test_phenotype_head_and_twin_batches_train():
    from core.models.dual_encoder import DualEncoder
    from core.tasks.text_train import TextTrainConfig, fit_dual_encoder, triplets_from_twins

    table, data, model = _train_setup()
    data.drug_labels = (np.arange(data.text_features.shape[0])[:, None] % 2
                        == np.arange(2)[None, :]).astype(np.float32)
    torch.manual_seed(0)
    model = DualEncoder(replace(model.cfg, drug_labels=2))
    pairs, _ = mine_twins(table, TwinConfig(workers=1))
    triplets = triplets_from_twins(twin_index(table, pairs), np.arange(len(table)),
                                   data.text_ids)
    hist = fit_dual_encoder(model, data, np.arange(len(table)),
                            TextTrainConfig(loss="mixed", epochs=6, batch_size=16,
                                            triplet_batch=16, drug_weight=1.0,
                                            twin_fraction=0.5),
                            triplets=triplets)
    assert hist[-1]["drug"] < hist[0]["drug"] and hist[-1]["loss"] < hist[0]["loss"]
    assert model.drug_head.out_features == 2


def test_twin_fraction_auto_by_protocol_reaches_the_training_settings():
    from core.tasks.text_pipeline import TextExperimentConfig, companion_config, resolved_config

    paper = resolved_config(TextExperimentConfig(), "inner0")
    assert paper.twin_fraction == 0.5 and paper.stage("mixed").twin_fraction == 0.5
    assert companion_config(paper).train.twin_fraction == 0.5
    novel = resolved_config(TextExperimentConfig(), "novel_families")
    assert novel.train.twin_fraction == 0.0
    off = resolved_config(TextExperimentConfig.from_dict({"twin_fraction": 0}), "paper")
    assert off.stage("infonce").twin_fraction == 0.0


def test_triplet_relations_repeat_or_drop_pairs_by_phenotype_relation():
    import pandas as pd

    from core.tasks.text_train import triplets_from_twins

    twins = pd.DataFrame({"a": [0, 2, 4], "b": [1, 3, 5],
                          "phenotype_relation": ["different_phenotype", "same_phenotype",
                                                 "one_unknown"]})
    text_ids = np.array([0, 1, 2, 3, 4, 4])  # the last pair shares its text: no triplet
    rows = np.arange(6)
    plain = triplets_from_twins(twins, rows, text_ids)
    assert sorted(map(tuple, plain[:, :2].tolist())) == [(0, 1), (1, 0), (2, 3), (3, 2)]
    weighted = triplets_from_twins(twins, rows, text_ids,
                                   {"different_phenotype": 3, "same_phenotype": 0})
    pairs = list(map(tuple, weighted[:, :2].tolist()))
    assert pairs.count((0, 1)) == 3 and pairs.count((1, 0)) == 3
    assert (2, 3) not in pairs and len(pairs) == 6
    assert (weighted[:, 2] == text_ids[weighted[:, 0]]).all()  # the anchor's own text
