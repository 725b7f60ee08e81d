"""One protein–text experiment: features -> baseline (InfoNCE) -> fine-tunes -> evaluation.

Shared by the job (:mod:`core.tasks.text`) and the benchmark (:mod:`core.tasks.text_bench`).
Every model of an experiment sees the same split, vocabulary and text features; fine-tunes
start from the baseline's weights.
"""
from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass, field, fields, replace

import numpy as np
import pandas as pd

from core.progress import ProgressCallback
from core.tasks.text_train import TextTrainConfig

log = logging.getLogger(__name__)

BASELINE = "baseline_infonce"
#: tables up to this many proteins get one cached all-against-all identity matrix
ALL_AGAINST_ALL = 5000


@dataclass(frozen=True)
class TextExperimentConfig:
    """k-mer tower vocabulary, model size and the two training stages.

    ``train`` holds the training settings shared by both stages and those of the baseline
    (InfoNCE) stage; a fine-tune differs only in ``finetune_epochs`` and its learning rates
    (see :meth:`stage`). ``finetune`` lists the fine-tuning losses to run from the baseline
    ("triplet", "mixed"); the last one is the run's final model. ``text_lexical``: TF-IDF word
    features of the descriptions beside MiniLM at the text head
    (:class:`~core.tasks.text_features.TextLexicon`; chosen on validation twins, see the
    README). ``neighbour_texts``: the retrieval-augmented protein input of
    :mod:`core.tasks.text_neighbours` (off: no gain on validation twins);
    ``neighbour_stats``: how crowded each protein's neighbourhood among the reference proteins
    is, standardised, into the tower's dense branch; ``stats_measure`` ``identity`` counts
    relatives by sequence identity (:func:`~core.tasks.text_neighbours.identity_stats`),
    ``kmer`` by k-mer cosine (:func:`~core.tasks.text_neighbours.neighbour_stats`);
    ``identity_length`` adds the protein's length against its closest relatives';
    ``stats_reference`` ``train`` (the training proteins) or ``all`` (every protein's
    sequence, transductive: at search time the run's proteins and the library searched).
    ``auto`` takes :data:`AUTO_STATS` for the protocol: identity against the training
    proteins for the paper protocol (chosen on its inner designs,
    :func:`~core.tasks.text_data.inner_paper_protocols`), identity and length against all
    proteins for novel families (chosen on its validation split), see the README.
    ``ensemble_plain`` (w): when > 0 and "mixed" is among the fine-tunes, a companion model
    without lexical features and statistics (:func:`companion_config`) is trained too and the
    run's final model ``mixed_ensemble`` scores ``(1 - w) * s_mixed / sd + w * s_plain / sd``
    (each cosine over the spread of its training scores; :mod:`core.tasks.text_ensemble`).
    None (auto) takes :data:`AUTO_ENSEMBLE` for the protocol: 0.5 for the paper protocol,
    chosen on its inner designs jointly on hard, strict and easy accuracy; 0 for novel
    families, where the companion lowered all three on the validation split (see the README).
    ``protein_features``: the protein tower's input. ``kmer``: the trained k-mer bag (with
    the lexical features and identity statistics as configured); ``near``: frozen
    mean-pooled NEAR embeddings (:class:`core.encoders.NearEncoder`, cached) and the
    neighbourhood statistics through the dense branch, no k-mer bag, MiniLM head only, no
    companion (the recipe measured on the novel-families validation split); ``kmer+near``: NEAR added to the dense
    branch of the k-mer model; ``auto`` takes :data:`AUTO_PROTEIN_FEATURES` for the protocol
    (see :func:`resolved_config`). ``twin_fraction``: the share of every InfoNCE batch made
    of (protein, twin) pairs from the training twins, in both stages and in the companion
    (:func:`~core.tasks.text_train.twin_batch`), so the in-batch softmax itself sees the
    hard negatives; None (auto) takes :data:`AUTO_TWIN_FRACTION` for the protocol.
    ``triplet_relations``: (relation, times) pairs; each training twin pair's triplets enter
    as many times as its ``phenotype_relation`` says (0 drops it, unnamed relations once;
    measured on the inner designs in session 6, no gain, so empty by default).
    """

    k_min: int = 3
    k_max: int = 5
    min_df: int = 2
    n_buckets: int | None = 2 ** 15
    kmer_bag: bool = True
    dim: int = 64
    text_finetune: bool = False
    text_lexical: bool = True
    text_notes: bool = False
    neighbour_texts: bool = False
    neighbour_stats: bool = True
    stats_measure: str = "auto"
    stats_reference: str = "auto"
    neighbour_k: int = 10
    neighbour_temperature: float = 0.05
    train: TextTrainConfig = TextTrainConfig(epochs=12)
    finetune_epochs: int = 6
    finetune_lr: float = 3e-4
    finetune_lr_kmer: float = 1e-3
    finetune: tuple[str, ...] = ("triplet", "mixed")
    ensemble_plain: float | None = None
    protein_features: str = "auto"
    twin_fraction: float | None = None
    triplet_relations: tuple[tuple[str, int], ...] = ()

    def __post_init__(self):
        from core.config import check_choice

        check_choice("protein_features", self.protein_features, PROTEIN_FEATURES)
        check_choice("stats_measure", self.stats_measure, STATS_MEASURES)
        check_choice("stats_reference", self.stats_reference, STATS_REFERENCES)

    def stage(self, loss: str) -> TextTrainConfig:
        """The settings of one stage: ``infonce`` is the baseline, others fine-tune it."""
        if loss == "infonce":
            return replace(self.train, loss=loss)
        return replace(self.train, loss=loss, epochs=self.finetune_epochs, lr=self.finetune_lr,
                       lr_kmer=self.finetune_lr_kmer)

    @classmethod
    def from_dict(cls, values: dict | None) -> TextExperimentConfig:
        """From a JSON-like dict (unknown keys ignored; ``train`` a dict of
        :class:`~core.tasks.text_train.TextTrainConfig` fields over this class's default)."""
        known = {f.name for f in fields(cls)}
        over = {k: v for k, v in (values or {}).items() if k in known}
        if "finetune" in over:
            over["finetune"] = tuple(over["finetune"])
        if isinstance(over.get("triplet_relations"), dict):
            over["triplet_relations"] = tuple(sorted(over["triplet_relations"].items()))
        if isinstance(over.get("train"), dict):
            train_known = {f.name for f in fields(TextTrainConfig)}
            over["train"] = replace(cls.train, **{k: v for k, v in over["train"].items()
                                                  if k in train_known})
        return replace(cls(), **over)


PROTEIN_FEATURES = ("auto", "kmer", "near", "kmer+near")
STATS_MEASURES = ("auto", "identity", "identity_length", "kmer")
STATS_REFERENCES = ("auto", "train", "all")
#: (measure, reference) of the neighbourhood statistics by protocol when "auto", chosen on
#: validation data (see the README). Paper protocol: identity against the training proteins
#: (6 inner designs, session 4). Novel families (session 7, validation split, NEAR mixed, 5
#: model seeds): no training protein lies near a novel family, so the relatives are counted
#: among *all* proteins' sequences (transductive: a library's proteins crowd each other as the
#: training proteins do) and the protein's length against its closest relatives is added:
#: hard / strict / easy 0.499 / 0.522 / 0.807 without statistics, 0.662 / 0.593 / 0.803 with
#: them (identity without length, 3 seeds, 0.636 / 0.580 / 0.762; length alone 0.537 / 0.564
#: / 0.817; against the training proteins, 3 seeds, 0.546 / 0.624 / 0.814). ResFinder's
#: curation follows this: the well-studied protein of a family is its hub, its close variants
#: carry the generic "drugs not determined" text and are often longer.
AUTO_STATS = {"paper": ("identity", "train"), "novel_families": ("identity_length", "all")}
#: the protein tower's input by protocol when ``protein_features`` is "auto", chosen on
#: validation data: on the novel-families validation split (3 model seeds) NEAR alone gave
#: hard / strict / easy 0.500 / 0.535 / 0.828 (mixed) against 0.429 / 0.582 / 0.719 for the
#: lexical k-mer model, and NEAR + k-mer bag or + lexical features and statistics were worse
#: (0.505 / 0.429 / 0.694, 0.362 / 0.482 / 0.715); on the paper protocol's 6 inner designs NEAR
#: mixed gave 0.731 / 0.823 / 0.981 against 0.842 / 0.910 / 0.982 for the lexical k-mer model:
#: twins differ by a few residues, which a mean-pooled embedding blurs (see the README)
AUTO_PROTEIN_FEATURES = {"paper": "kmer", "novel_families": "near"}
#: twin-aware InfoNCE batches by protocol when ``twin_fraction`` is None, chosen on validation
#: data (session 6, see the README): 0.5 for the paper protocol (6 inner designs, two model
#: initialisations: ensemble hard 0.838 -> 0.864 and 0.824 -> 0.854, strict and easy level;
#: 0.25 and 1.0 gained less); 0 for novel families (NEAR mixed on its validation split, 3 seeds:
#: 0.496 / 0.533 / 0.817 with 0.5 against 0.500 / 0.535 / 0.828 without)
AUTO_TWIN_FRACTION = {"paper": 0.5, "novel_families": 0.0}


def protocol_kind(protocol_name: str) -> str:
    """"novel_families" for the novel-families split and its validation design, else "paper"
    (the paper protocol and its inner designs)."""
    return "novel_families" if protocol_name.startswith("novel") else "paper"


def resolved_config(cfg: TextExperimentConfig, protocol_name: str) -> TextExperimentConfig:
    """``cfg`` with ``protein_features``, ``twin_fraction`` (copied into the training
    settings) and the statistics' measure and reference decided for the protocol; ``near``
    switches off the k-mer bag, the lexical features and (unless set) the companion."""
    feats = cfg.protein_features
    if feats == "auto":
        feats = AUTO_PROTEIN_FEATURES[protocol_kind(protocol_name)]
    twin = cfg.twin_fraction
    if twin is None:
        twin = AUTO_TWIN_FRACTION[protocol_kind(protocol_name)]
    measure, reference = AUTO_STATS[protocol_kind(protocol_name)]
    cfg = replace(cfg, protein_features=feats, twin_fraction=float(twin),
                  train=replace(cfg.train, twin_fraction=float(twin)),
                  stats_measure=measure if cfg.stats_measure == "auto" else cfg.stats_measure,
                  stats_reference=(reference if cfg.stats_reference == "auto"
                                   else cfg.stats_reference))
    if feats == "near":
        cfg = replace(cfg, kmer_bag=False, text_lexical=False, neighbour_texts=False,
                      ensemble_plain=0.0 if cfg.ensemble_plain is None else cfg.ensemble_plain)
    return cfg


def near_features(sequences: list[str], *, device=None,
                  on_progress: ProgressCallback | None = None) -> np.ndarray:
    """Mean-pooled NEAR embeddings (N, 256), cached per sequence list under the workspace."""
    from core.encoders import NearEncoder, embed_cached

    return embed_cached(NearEncoder(), sequences, device=device, on_progress=on_progress)


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
    stats_scale: tuple[np.ndarray, np.ndarray] | None = None
    results: dict[str, ModelResult] = field(default_factory=dict)
    n_triplets: int = 0
    companion: Experiment | None = None
    ensemble: dict | None = None  # member configs and coefficients of ``mixed_ensemble``
    config: TextExperimentConfig | None = None  # as run (``protein_features`` resolved)


ENSEMBLE = "mixed_ensemble"
#: the companion's weight by protocol when ``ensemble_plain`` is None (inner designs of the
#: paper protocol count as paper; the novel-families validation design as novel families)
AUTO_ENSEMBLE = {"paper": 0.5, "novel_families": 0.0}


def ensemble_weight(cfg: TextExperimentConfig, protocol_name: str) -> float:
    """The companion's weight in this experiment (0: no ensemble)."""
    if cfg.ensemble_plain is not None:
        return float(cfg.ensemble_plain)
    return AUTO_ENSEMBLE[protocol_kind(protocol_name)]


def companion_config(cfg: TextExperimentConfig) -> TextExperimentConfig:
    """The ensemble's plain companion: k-mer tower and MiniLM head, InfoNCE then mixed."""
    return replace(cfg, text_lexical=False, neighbour_stats=False, neighbour_texts=False,
                   text_notes=False,
                   finetune=("mixed",), ensemble_plain=0.0, protein_features="kmer",
                   kmer_bag=True)


def add_ensemble(exp: Experiment, companion: Experiment, weight: float, text_ids: np.ndarray,
                 twins: pd.DataFrame, protocol, seed: int) -> None:
    """``exp.results["mixed_ensemble"]``: its mixed model with the companion's, weighted."""
    from core.models.dual_encoder import DualEncoder, EnsembleEncoder
    from core.tasks.text_ensemble import score_scale
    from core.tasks.text_eval import evaluate

    parts = [(exp.model_cfg, exp.results["mixed"], 1.0 - weight),
             (companion.model_cfg, companion.results["mixed"], weight)]
    members, coef = [], []
    for mcfg, res, w in parts:
        member = DualEncoder(mcfg)
        member.load_state_dict(res.state)
        members.append(member)
        coef.append(w / score_scale(res.protein_emb, res.text_emb, text_ids, protocol.train))
    model = EnsembleEncoder(members, coef)
    P = model.join([r.protein_emb for _, r, _ in parts])
    Q = model.join([r.text_emb for _, r, _ in parts])
    metrics, cases = evaluate(P, Q, text_ids, twins, protocol.test, protocol.valid, seed=seed)
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    exp.results[ENSEMBLE] = ModelResult(
        ENSEMBLE, state, [], P, Q, metrics, cases.assign(model=ENSEMBLE),
        sum(r.seconds for _, r, _ in parts) + companion.results[BASELINE].seconds)
    exp.companion = companion
    exp.ensemble = {"members": [m.to_dict() for m, _, _ in parts],
                    "coef": [float(c) for c in coef], "weight": weight}
    log.info("%s: hard %.3f strict %.3f easy %.3f", ENSEMBLE,
             metrics.get("pairwise_acc_hard", np.nan),
             metrics.get("pairwise_acc_strict", np.nan),
             metrics.get("pairwise_acc_easy", np.nan))


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


def training_neighbour_stats(bags, seqs: list[str], train_rows: np.ndarray,
                             measure: str = "kmer", reference: str = "train"
                             ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Neighbourhood statistics of every protein against the training proteins, standardised
    by the training rows' mean and standard deviation (returned for use at search time).
    ``measure``: ``kmer`` (cosine of the k-mer bags) or ``identity`` (sequence identity,
    :func:`~core.tasks.text_neighbours.identity_stats`). ``reference``: ``train`` counts
    relatives among the training proteins only; ``all`` among every protein of the table
    (their sequences only, never their texts: at search time the library searched)."""
    from core.tasks.text_neighbours import identity_matrix, identity_stats, neighbour_stats

    train_rows = np.asarray(train_rows)
    ref_rows = train_rows if reference == "train" else np.arange(len(seqs))
    ref = [seqs[i] for i in ref_rows]
    if measure.startswith("identity"):
        # a table of up to ALL_AGAINST_ALL proteins: all against all once (cached), whatever
        # the split; larger ones against the reference only
        sim = (identity_matrix(seqs)[:, ref_rows] if len(seqs) <= ALL_AGAINST_ALL
               else identity_matrix(seqs, ref))
        stats = identity_stats(seqs, ref, sim=sim, lengths=measure == "identity_length")
    else:
        stats = neighbour_stats(bags, seqs, bags.subset(ref_rows), ref)
    mean, std = stats[train_rows].mean(0), stats[train_rows].std(0) + 1e-6
    return ((stats - mean) / std).astype(np.float32), (mean, std)


def run_experiment(table: pd.DataFrame, text_features: np.ndarray, twins: pd.DataFrame,
                   protocol, cfg: TextExperimentConfig = TextExperimentConfig(), *,
                   texts: list[str] | None = None, dense: np.ndarray | None = None,
                   seed: int = 0, device=None, companion: Experiment | None = None,
                   on_progress: ProgressCallback | None = None) -> Experiment:
    """Train the baseline and each fine-tune on ``protocol.train``; evaluate on its test rows
    (thresholds fixed on its valid rows). ``text_features``: MiniLM (T, 384) of ``texts``.
    ``dense``: optional frozen protein features (N, F)
    for the tower's dense branch (after the NEAR features when ``cfg`` uses them; those
    are computed here, cached). ``cfg.protein_features`` "auto" is decided for the protocol
    (:func:`resolved_config`). ``table`` needs ``sequence`` and ``text_id``;
    ``twins`` has row indices ``a``, ``b`` (see :func:`core.tasks.text_data.twin_index`).
    ``companion``: the ensemble's plain model trained already on this protocol and seed
    (:func:`companion_config`); trained here when needed and not given."""
    import torch

    from core.models.dual_encoder import DualEncoder, DualEncoderConfig
    from core.tasks.text_eval import evaluate
    from core.tasks.text_features import KmerVocabulary, TextLexicon, with_lexicon
    from core.tasks.text_train import (
        TrainData,
        embed_all,
        fit_dual_encoder,
        triplets_from_twins,
    )

    raw_text_features = text_features
    seqs = table["sequence"].astype(str).tolist()
    cfg = resolved_config(cfg, protocol.name)
    if "near" in cfg.protein_features:
        near = near_features(seqs, device=device, on_progress=on_progress)
        dense = near if dense is None else np.concatenate([near, dense], 1)
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
    if cfg.text_notes and texts is not None:
        from core.tasks.text_phenotype import note_features

        text_features = np.concatenate([text_features, note_features(texts, device=device)],
                                       1).astype(np.float32)
    stats_scale = None
    if cfg.neighbour_stats:
        stats, stats_scale = training_neighbour_stats(bags, seqs, protocol.train,
                                                      cfg.stats_measure, cfg.stats_reference)
        dense = stats if dense is None else np.concatenate([dense, stats], 1)
    drug_labels = None
    if cfg.train.drug_weight > 0 and texts is not None:
        from core.tasks.text_phenotype import DrugLabels

        labels = DrugLabels().fit([texts[t] for t in np.unique(text_ids[protocol.train])])
        drug_labels = labels.transform(texts) if len(labels) else None
    data = TrainData(bags, text_features, text_ids, drug_labels=drug_labels,
                     dense=None if dense is None else np.asarray(dense, np.float32), texts=texts,
                     neighbour=(neighbours_from_training(bags, seqs, protocol.train, text_ids,
                                                         text_features, cfg)
                                if cfg.neighbour_texts else None))
    mcfg = DualEncoderConfig(vocab_size=len(vocab), kmer_bag=cfg.kmer_bag, dim=cfg.dim,
                             dense_dim=0 if dense is None else int(dense.shape[1]),
                             text_finetune=cfg.text_finetune,
                             neighbour_texts=cfg.neighbour_texts,
                             text_dim=int(text_features.shape[1]),
                             drug_labels=0 if drug_labels is None else drug_labels.shape[1])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = DualEncoder(mcfg)
    exp = Experiment(vocab=vocab, model_cfg=mcfg, lexicon=lexicon, stats_scale=stats_scale,
                     config=cfg)

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

    base = cfg.stage("infonce")
    triplets = triplets_from_twins(twins, protocol.train, data.text_ids,
                                   dict(cfg.triplet_relations))
    exp.n_triplets = len(triplets)
    t0 = time.perf_counter()
    history = fit_dual_encoder(model, data, protocol.train, base, seed=seed, device=device,
                               triplets=triplets if len(triplets) else None, stage="base",
                               on_progress=on_progress)
    finish(BASELINE, history, t0)
    base_state = copy.deepcopy(exp.results[BASELINE].state)
    for loss in cfg.finetune:
        if len(triplets) == 0:
            log.warning("no twin triplets among the training proteins: %s skipped", loss)
            continue
        model.load_state_dict(base_state)
        ft = cfg.stage(loss)
        t0 = time.perf_counter()
        history = fit_dual_encoder(model, data, protocol.train, ft, triplets=triplets,
                                   seed=seed + 1, device=device, stage=loss,
                                   on_progress=on_progress)
        finish(loss, history, t0)
    weight = ensemble_weight(cfg, protocol.name)
    if weight > 0 and "mixed" in exp.results:
        if companion is None:
            companion = run_experiment(table, raw_text_features, twins, protocol,
                                       companion_config(cfg), texts=texts, seed=seed,
                                       device=device, on_progress=on_progress)
        add_ensemble(exp, companion, weight, data.text_ids, twins, protocol, seed)
    return exp
