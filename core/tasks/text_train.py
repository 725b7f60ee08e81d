"""Training the dual encoder: CLIP InfoNCE (baseline), then triplet or mixed fine-tuning.

``loss`` of :class:`TextTrainConfig`:

* ``infonce``: symmetric InfoNCE with in-batch negatives (the baseline);
* ``triplet``: the seed's fine-tuning, triplet margin loss only, on (text, protein, twin)
  triplets mined from training twins, both directions;
* ``mixed``: every step adds InfoNCE on a random batch and ``triplet_weight`` x the triplet
  loss on a batch of twin triplets, so hard cases are learned without losing easy ones.

Mixed precision (bfloat16 autocast) on CUDA, gradient accumulation over ``grad_accum``
micro-batches; the history holds one row per epoch (the loss curve).
"""
from __future__ import annotations

import contextlib
import logging
from dataclasses import asdict, dataclass

import numpy as np

from core.config import check_choice
from core.progress import ProgressCallback, report

log = logging.getLogger(__name__)

LOSSES = ("infonce", "triplet", "mixed")


@dataclass(frozen=True)
class TextTrainConfig:
    """Training settings; ``margin`` = 0.2 is the seed's default."""

    loss: str = "infonce"
    epochs: int = 40
    batch_size: int = 256
    triplet_batch: int = 128
    lr: float = 1e-3
    lr_kmer: float = 3e-3
    weight_decay: float = 1e-4
    margin: float = 0.2
    triplet_weight: float = 1.0
    grad_accum: int = 1
    amp: bool = True
    drug_weight: float = 0.0
    twin_fraction: float = 0.0

    def __post_init__(self):
        check_choice("loss", self.loss, LOSSES)
        if self.epochs < 1 or self.batch_size < 2 or self.grad_accum < 1:
            raise ValueError("epochs >= 1, batch_size >= 2 and grad_accum >= 1 please")
        if self.margin < 0 or self.triplet_weight < 0 or self.drug_weight < 0:
            raise ValueError("margin, triplet_weight and drug_weight must be >= 0")
        if not 0 <= self.twin_fraction <= 1:
            raise ValueError("twin_fraction must be in [0, 1]")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainData:
    """What training needs, all indexed by table row.

    ``bags``: k-mer bags of every protein; ``text_features``: (T, 384) MiniLM embeddings of the
    distinct texts; ``text_ids``: (N,) text of each protein; ``dense``: optional (N, F) frozen
    protein features; ``texts``: the distinct texts (for a fine-tuned text tower);
    ``neighbour``: optional (N, 384) neighbour-text votes (:mod:`core.tasks.text_neighbours`);
    ``drug_labels``: optional (T, L) phenotype labels of the texts
    (:mod:`core.tasks.text_phenotype`) for the auxiliary head.
    """

    bags: object
    text_features: np.ndarray
    text_ids: np.ndarray
    dense: np.ndarray | None = None
    texts: list[str] | None = None
    neighbour: np.ndarray | None = None
    drug_labels: np.ndarray | None = None  # (T, L) multi-hot phenotype labels per text


def triplets_from_twins(twins, rows: np.ndarray, text_ids: np.ndarray,
                        relations: dict[str, int] | None = None) -> np.ndarray:
    """(M, 3) [anchor protein, its twin, anchor text] from twin pairs inside ``rows``, both
    directions; pairs with the same text are no triplet. ``relations``: how many times a
    pair of each ``phenotype_relation`` enters (0 drops it; relations not named: once)."""
    from core.tasks.text_data import pairs_within

    inside = pairs_within(twins, rows)
    a, b = inside["a"].to_numpy(), inside["b"].to_numpy()
    keep = text_ids[a] != text_ids[b]
    if relations and "phenotype_relation" in inside:
        times = inside["phenotype_relation"].map(relations).fillna(1).to_numpy(int)
        a, b = np.repeat(a[keep], times[keep]), np.repeat(b[keep], times[keep])
    else:
        a, b = a[keep], b[keep]
    return np.concatenate([np.stack([a, b, text_ids[a]], 1),
                           np.stack([b, a, text_ids[b]], 1)]).astype(np.int64)


def twin_partners(triplets: np.ndarray) -> dict[int, np.ndarray]:
    """Each anchor protein of ``triplets`` -> its twins (other text) among the training rows."""
    out: dict[int, list[int]] = {}
    for a, b in triplets[:, :2].tolist():
        out.setdefault(a, []).append(b)
    return {a: np.unique(b) for a, b in out.items()}


def twin_batch(rows: np.ndarray, partners: dict[int, np.ndarray], fraction: float,
               rng: np.random.Generator) -> np.ndarray:
    """An InfoNCE batch of ``len(rows)`` proteins in which about ``fraction`` of the rows are
    (anchor, twin) pairs: the first ``fraction * len / 2`` anchors of ``rows`` that have twins
    bring a random twin each (replacing the batch's last rows), so the in-batch softmax sees
    the hard negatives; twins with the same text would not be negatives and are never mates."""
    k = int(round(fraction * len(rows) / 2))
    anchors = [r for r in rows.tolist() if r in partners][:k]
    mates = [int(rng.choice(partners[r])) for r in anchors]
    batch = list(dict.fromkeys(anchors + mates + rows.tolist()))
    return np.asarray(batch[:len(rows)], dtype=np.int64)


def phenotype_loss(model, data: TrainData, seen: list, device):
    """Mean binary cross-entropy of the phenotype head on the step's protein embeddings
    (``seen``: pairs of (B, dim) embeddings and the (B,) text ids whose labels they predict)."""
    import torch
    import torch.nn.functional as F

    z = torch.cat([e for e, _ in seen])
    y = torch.from_numpy(np.concatenate([data.drug_labels[t] for _, t in seen])).to(device)
    return F.binary_cross_entropy_with_logits(model.drug_logits(z).float(), y)


def _encode_proteins(model, data: TrainData, rows, device):
    import torch

    rows = np.asarray(rows)
    dense, near = (None if x is None else torch.from_numpy(x[rows]).to(device)
                   for x in (data.dense, data.neighbour))
    return model.encode_protein(data.bags.batch(rows, device), dense=dense, neighbour=near)


def _encode_texts(model, data: TrainData, tids, device):
    import torch

    tids = np.asarray(tids)
    if model.text_tower is not None and data.texts is not None:
        uniq, inv = np.unique(tids, return_inverse=True)
        out = model.encode_text(torch.from_numpy(data.text_features[uniq]).to(device),
                                texts=[data.texts[t] for t in uniq])
        return out[torch.from_numpy(inv).to(device)]
    return model.encode_text(torch.from_numpy(data.text_features[tids]).to(device))


def fit_dual_encoder(model, data: TrainData, train_rows: np.ndarray, cfg: TextTrainConfig, *,
                     triplets: np.ndarray | None = None, seed: int = 0, device=None,
                     stage: str = "train", on_progress: ProgressCallback | None = None,
                     valid_fn=None) -> list[dict]:
    """Train ``model`` in place; returns the per-epoch history (loss parts, ``valid_fn``'s
    numbers when given). ``triplets``: (M, 3) from :func:`triplets_from_twins`."""
    import torch

    from core.tasks.text_losses import clip_infonce, triplet_margin

    device = torch.device(device) if device is not None else torch.device("cpu")
    model.to(device).train()
    rng = np.random.default_rng(seed)
    use_nce = cfg.loss in ("infonce", "mixed")
    use_tri = cfg.loss in ("triplet", "mixed")
    if use_tri and (triplets is None or len(triplets) == 0):
        raise ValueError(f"loss {cfg.loss!r} needs twin triplets in the training rows")
    use_drug = (cfg.drug_weight > 0 and getattr(model, "drug_head", None) is not None
                and data.drug_labels is not None)
    partners = (twin_partners(triplets) if use_nce and cfg.twin_fraction > 0
                and triplets is not None else {})
    groups = [{"params": model.other_parameters(), "lr": cfg.lr}]
    if model.kmer_parameters():
        groups.append({"params": model.kmer_parameters(), "lr": cfg.lr_kmer})
    opt = torch.optim.AdamW(groups, weight_decay=cfg.weight_decay)
    amp = cfg.amp and device.type == "cuda"
    autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if amp else \
        contextlib.nullcontext
    text_ids = data.text_ids
    # One epoch = one pass over the training proteins; a triplet-only epoch takes as many
    # steps, so the fine-tunes are comparable however many twins there are.
    n_steps = max(1, -(-len(train_rows) // cfg.batch_size))
    history: list[dict] = []
    for epoch in range(1, cfg.epochs + 1):
        perm = rng.permutation(train_rows)
        tri_perm = rng.permutation(len(triplets)) if use_tri else None
        sums = {"loss": 0.0, "infonce": 0.0, "triplet": 0.0, "drug": 0.0}
        for step in range(n_steps):
            with autocast():
                loss = torch.zeros((), device=device)
                seen = []  # (protein embeddings, their text ids) for the phenotype head
                if use_nce:
                    rows = perm[step * cfg.batch_size:(step + 1) * cfg.batch_size]
                    if len(rows) < 2:
                        rows = perm[:cfg.batch_size]
                    if partners:
                        rows = twin_batch(rows, partners, cfg.twin_fraction, rng)
                    z = _encode_proteins(model, data, rows, device)
                    nce = clip_infonce(z, _encode_texts(model, data, text_ids[rows], device),
                                       torch.from_numpy(text_ids[rows]).to(device),
                                       model.scale())
                    loss = loss + nce
                    sums["infonce"] += nce.item()
                    seen.append((z, text_ids[rows]))
                if use_tri:
                    k = (step * cfg.triplet_batch) % len(triplets)
                    pick = triplets[tri_perm[np.arange(k, k + cfg.triplet_batch) % len(triplets)]]
                    z_pos = _encode_proteins(model, data, pick[:, 0], device)
                    z_neg = _encode_proteins(model, data, pick[:, 1], device)
                    tri = triplet_margin(_encode_texts(model, data, pick[:, 2], device),
                                         z_pos, z_neg, cfg.margin)
                    loss = loss + (cfg.triplet_weight if use_nce else 1.0) * tri
                    sums["triplet"] += tri.item()
                    seen += [(z_pos, pick[:, 2]), (z_neg, text_ids[pick[:, 1]])]
                if use_drug:
                    drug = phenotype_loss(model, data, seen, device)
                    loss = loss + cfg.drug_weight * drug
                    sums["drug"] += drug.item()
            (loss.float() / cfg.grad_accum).backward()
            sums["loss"] += loss.item()
            if (step + 1) % cfg.grad_accum == 0 or step + 1 == n_steps:
                torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
                opt.step()
                opt.zero_grad(set_to_none=True)
        row = {"stage": stage, "epoch": epoch, "loss": sums["loss"] / n_steps,
               "temperature": float(1 / model.scale().item())}
        if use_nce:
            row["infonce"] = sums["infonce"] / n_steps
        if use_tri:
            row["triplet"] = sums["triplet"] / n_steps
        if use_drug:
            row["drug"] = sums["drug"] / n_steps
        if valid_fn is not None:
            model.eval()
            row.update(valid_fn(model))
            model.train()
        history.append(row)
        report(on_progress, stage, epoch, cfg.epochs,
               **{k: v for k, v in row.items() if isinstance(v, float)})
    model.eval()
    return history


def embed_all(model, data: TrainData, *, device=None, batch: int = 1024
              ) -> tuple[np.ndarray, np.ndarray]:
    """Unit embeddings of every protein (N, D) and every distinct text (T, D)."""
    import torch

    device = torch.device(device) if device is not None else torch.device("cpu")
    model.to(device).eval()
    with torch.no_grad():
        prot = [(_encode_proteins(model, data, np.arange(s, min(s + batch, len(data.bags))),
                                  device)).float().cpu().numpy()
                for s in range(0, len(data.bags), batch)]
        n_text = len(data.text_features)
        text = [_encode_texts(model, data, np.arange(s, min(s + batch, n_text)),
                              device).float().cpu().numpy() for s in range(0, n_text, batch)]
    return np.concatenate(prot), np.concatenate(text)
