"""One protein–text experiment: features -> baseline (InfoNCE) -> fine-tunes -> evaluation.

Shared by the job (:mod:`core.tasks.text`) and the benchmark (:mod:`core.tasks.text_bench`).
Every model of an experiment sees the same split, vocabulary and text features; fine-tunes
start from the baseline's weights.
"""
from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from core.progress import ProgressCallback

log = logging.getLogger(__name__)

BASELINE = "baseline_infonce"


@dataclass(frozen=True)
class TextExperimentConfig:
    """k-mer tower vocabulary, model size and the two training stages.

    ``finetune`` lists the fine-tuning losses to run from the baseline ("triplet", "mixed");
    the last one is the run's final model. ``text_lexical``: TF-IDF word features of the
    descriptions beside MiniLM at the text head (:class:`~core.tasks.text_features.TextLexicon`;
    chosen on validation twins, see the README). ``neighbour_texts``: the retrieval-augmented
    protein input of :mod:`core.tasks.text_neighbours` (off: no gain on validation).
    """

    k_min: int = 3
    k_max: int = 5
    min_df: int = 2
    n_buckets: int | None = 2 ** 15
    kmer_bag: bool = True
    dim: int = 64
    text_finetune: bool = False
    text_lexical: bool = True
    neighbour_texts: bool = False
    neighbour_k: int = 10
    neighbour_temperature: float = 0.05
    base_epochs: int = 12
    finetune_epochs: int = 6
    lr: float = 1e-3
    lr_kmer: float = 3e-3
    finetune_lr: float = 3e-4
    finetune_lr_kmer: float = 1e-3
    batch_size: int = 256
    triplet_batch: int = 128
    margin: float = 0.2
    triplet_weight: float = 1.0
    grad_accum: int = 1
    finetune: tuple[str, ...] = ("triplet", "mixed")


@dataclass
class ModelResult:
    name: str
    state: dict
    history: list[dict]
    protein_emb: np.ndarray
    text_emb: np.ndarray
    metrics: dict
    cases: pd.DataFrame
    seconds: float


@dataclass
class Experiment:
    vocab: object
    model_cfg: object
    lexicon: object = None
    results: dict[str, ModelResult] = field(default_factory=dict)
    n_triplets: int = 0


def neighbours_from_training(bags, seqs: list[str], train_rows: np.ndarray,
                             text_ids: np.ndarray, text_features: np.ndarray,
                             cfg: TextExperimentConfig) -> np.ndarray:
    """Neighbour-text votes of every protein, the training proteins as reference."""
    from core.tasks.text_neighbours import NeighbourConfig, neighbour_text_features

    train_rows = np.asarray(train_rows)
    return neighbour_text_features(bags, seqs, bags.subset(train_rows),
                                   [seqs[i] for i in train_rows], text_ids[train_rows],
                                   text_features,
                                   NeighbourConfig(cfg.neighbour_k, cfg.neighbour_temperature))


def run_experiment(table: pd.DataFrame, text_features: np.ndarray, twins: pd.DataFrame,
                   protocol, cfg: TextExperimentConfig = TextExperimentConfig(), *,
                   texts: list[str] | None = None, dense: np.ndarray | None = None,
                   seed: int = 0, device=None,
                   on_progress: ProgressCallback | None = None) -> Experiment:
    """Train the baseline and each fine-tune on ``protocol.train``; evaluate on its test rows
    (thresholds fixed on its valid rows). ``text_features``: MiniLM (T, 384) of ``texts``.
    ``dense``: optional frozen protein features (N, F)
    for the tower's dense branch. ``table`` needs ``sequence`` and ``text_id``;
    ``twins`` has row indices ``a``, ``b`` (see :func:`core.tasks.text_data.twin_index`)."""
    import torch

    from core.models.dual_encoder import DualEncoder, DualEncoderConfig
    from core.tasks.text_eval import evaluate
    from core.tasks.text_features import KmerVocabulary, TextLexicon, with_lexicon
    from core.tasks.text_train import (
        TextTrainConfig,
        TrainData,
        embed_all,
        fit_dual_encoder,
        triplets_from_twins,
    )

    seqs = table["sequence"].astype(str).tolist()
    vocab = KmerVocabulary(cfg.k_min, cfg.k_max, cfg.min_df, cfg.n_buckets).fit(
        [seqs[i] for i in protocol.train])
    bags = vocab.transform(seqs)
    text_ids = table["text_id"].to_numpy(np.int64)
    lexicon = None
    if cfg.text_lexical:
        if texts is None:
            raise ValueError("lexical text features need the texts")
        lexicon = TextLexicon().fit([texts[t] for t in np.unique(text_ids[protocol.train])])
        text_features = with_lexicon(text_features, texts, lexicon)
    data = TrainData(bags, text_features, text_ids,
                     dense=None if dense is None else np.asarray(dense, np.float32), texts=texts,
                     neighbour=(neighbours_from_training(bags, seqs, protocol.train, text_ids,
                                                         text_features, cfg)
                                if cfg.neighbour_texts else None))
    mcfg = DualEncoderConfig(vocab_size=len(vocab), kmer_bag=cfg.kmer_bag, dim=cfg.dim,
                             dense_dim=0 if dense is None else int(dense.shape[1]),
                             text_finetune=cfg.text_finetune,
                             neighbour_texts=cfg.neighbour_texts,
                             text_dim=int(text_features.shape[1]))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = DualEncoder(mcfg)
    exp = Experiment(vocab=vocab, model_cfg=mcfg, lexicon=lexicon)

    def finish(name: str, history: list[dict], t0: float) -> None:
        P, Q = embed_all(model, data, device=device)
        metrics, cases = evaluate(P, Q, data.text_ids, twins, protocol.test, protocol.valid,
                                  seed=seed)
        state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        exp.results[name] = ModelResult(name, state, history, P, Q, metrics,
                                        cases.assign(model=name), time.perf_counter() - t0)
        log.info("%s: hard %.3f strict %.3f easy %.3f", name,
                 metrics.get("pairwise_acc_hard", np.nan),
                 metrics.get("pairwise_acc_strict", np.nan),
                 metrics.get("pairwise_acc_easy", np.nan))

    base = TextTrainConfig(loss="infonce", epochs=cfg.base_epochs, batch_size=cfg.batch_size,
                           lr=cfg.lr, lr_kmer=cfg.lr_kmer, grad_accum=cfg.grad_accum)
    t0 = time.perf_counter()
    history = fit_dual_encoder(model, data, protocol.train, base, seed=seed, device=device,
                               stage="base", on_progress=on_progress)
    finish(BASELINE, history, t0)
    triplets = triplets_from_twins(twins, protocol.train, data.text_ids)
    exp.n_triplets = len(triplets)
    base_state = copy.deepcopy(exp.results[BASELINE].state)
    for loss in cfg.finetune:
        if len(triplets) == 0:
            log.warning("no twin triplets among the training proteins: %s skipped", loss)
            continue
        model.load_state_dict(base_state)
        ft = replace(base, loss=loss, epochs=cfg.finetune_epochs, lr=cfg.finetune_lr,
                     lr_kmer=cfg.finetune_lr_kmer, margin=cfg.margin,
                     triplet_weight=cfg.triplet_weight, triplet_batch=cfg.triplet_batch)
        t0 = time.perf_counter()
        history = fit_dual_encoder(model, data, protocol.train, ft, triplets=triplets,
                                   seed=seed + 1, device=device, stage=loss,
                                   on_progress=on_progress)
        finish(loss, history, t0)
    return exp
