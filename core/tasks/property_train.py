"""Training loops of the property encoder: triplet (the paper's method) and MSE (its baseline).

Both loops are seeded (a ``torch.Generator`` draws every batch), device-agnostic, use bfloat16
autocast only on CUDA, hold a validation split cut from the *training* proteins for early
stopping, and return the best encoder (by validation loss) with its per-epoch history.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch

from core.config import check_choice
from core.models.triplet_cnn import RegressionHead, TripletCNNConfig, TripletCNNEncoder, plan_batch
from core.progress import ProgressEvent, report
from core.tasks.losses import MINING, triplet_loss


@dataclass(frozen=True)
class TrainConfig:
    """How the encoder is trained (the paper gives none of these numbers but the 80/20 split).

    Attributes
    ----------
    objective : "triplet" (the paper's model) or "mse" (its "non-triplet" baseline).
    epochs, batch_size, lr, weight_decay : Adam optimisation.
    margin : triplet margin; with ``margin_mode="scaled"`` the factor of the label gap in
        training-label standard deviations (see :func:`core.tasks.losses.triplet_margin`).
    margin_mode : "fixed" or "scaled".
    mining : "all" (batch-all), "semihard" or "hard".
    val_fraction : share of the training proteins held out for early stopping (paper: 0.2).
    patience : epochs without a better validation loss before stopping.
    min_epochs : never stop before this many epochs.
    """

    objective: str = "triplet"
    epochs: int = 60
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-4
    margin: float = 0.2
    margin_mode: str = "fixed"
    mining: str = "all"
    val_fraction: float = 0.2
    patience: int = 10
    min_epochs: int = 5

    def __post_init__(self):
        check_choice("objective", self.objective, ("triplet", "mse"))
        check_choice("margin_mode", self.margin_mode, ("fixed", "scaled"))
        check_choice("mining", self.mining, MINING)
        if self.epochs < 1 or self.batch_size < 3 or self.lr <= 0 or self.margin < 0:
            raise ValueError("epochs >= 1, batch_size >= 3, lr > 0 and margin >= 0 please")
        if not 0.0 <= self.val_fraction < 0.9:
            raise ValueError(f"val_fraction must lie in [0, 0.9), got {self.val_fraction}")


def split_validation(n: int, fraction: float, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded split of ``n`` training rows into (fit, validation) indices."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    n_val = int(round(n * fraction)) if n >= 10 else 0
    n_val = min(n_val, n - 3)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def _batches(n: int, size: int, generator: torch.Generator) -> list[np.ndarray]:
    """A seeded permutation in batches; a short last batch is merged into the one before it
    (a batch of 1 or 2 proteins holds no triplet)."""
    order = torch.randperm(n, generator=generator).numpy()
    batches = [order[i:i + size] for i in range(0, n, size)]
    if len(batches) > 1 and len(batches[-1]) < max(3, size // 2):
        last = batches.pop()
        batches[-1] = np.concatenate([batches[-1], last])
    return batches


@torch.no_grad()
def encode(encoder: TripletCNNEncoder, tokens: np.ndarray, *, device=None, batch_size: int = 128
           ) -> tuple[np.ndarray, np.ndarray]:
    """Pooled features (N, 512) and embeddings (N, D) of token rows (N, L), in eval mode."""
    device = device or next(encoder.parameters()).device
    was_training = encoder.training
    encoder.eval()
    pooled, emb = [], []
    for start in range(0, len(tokens), batch_size):
        chunk = tokens[start:start + batch_size]
        chunk = chunk[:, : max(1, int((chunk != 0).sum(1).max()))]  # trim shared padding
        p = encoder.pool_plan(plan_batch(chunk, encoder.config).to(device)).float()
        pooled.append(p.cpu().numpy())
        emb.append(encoder.head(p).float().cpu().numpy())
    encoder.train(was_training)
    width = encoder.config.pooled_dim
    if not pooled:
        return np.zeros((0, width), np.float32), np.zeros((0, encoder.config.out_dim), np.float32)
    return np.concatenate(pooled), np.concatenate(emb)


def _loss(model, plan, y, cfg: TrainConfig, *, reduction: str = "active"):
    """Loss of one batch; ``y`` is the standardised label (B,)."""
    if cfg.objective == "mse":
        pooled = model.encoder.pool_plan(plan)
        return torch.nn.functional.mse_loss(model.predict_pooled(pooled).float(), y)
    emb = model.head(model.pool_plan(plan)).float()
    # Labels are standardised, so a "scaled" margin counts label gaps in training std units.
    scale = 1.0 if cfg.margin_mode == "scaled" else None
    loss, _ = triplet_loss(emb, y, margin=cfg.margin, mining=cfg.mining, margin_scale=scale,
                           reduction=reduction)
    return loss


def train_encoder(tokens: np.ndarray, y: np.ndarray, *, encoder_config: TripletCNNConfig,
                  train_config: TrainConfig, seed: int = 0, device=None,
                  on_progress: Callable[[ProgressEvent], None] | None = None,
                  stage: str = "train") -> tuple[TripletCNNEncoder, list[dict]]:
    """Train an encoder on labelled proteins; returns (best encoder in eval mode, history).

    Parameters
    ----------
    tokens : np.ndarray of int64, shape (N, L)
        Tokenised training proteins (0 = padding).
    y : np.ndarray, shape (N,)
        Their labels (finite).
    encoder_config, train_config : the architecture and the training recipe.
    seed : int
        Seeds the weights, the validation split and every batch.
    device : torch.device, optional
    on_progress : callback receiving ``ProgressEvent(stage, epoch, epochs, {loss, val_loss})``.

    Returns
    -------
    encoder : TripletCNNEncoder
        The weights of the epoch with the lowest validation loss (the last epoch when there is
        no validation split).
    history : list of dict
        One dict per epoch: ``epoch``, ``loss`` (mean training loss), ``val_loss``.
    """
    cfg = train_config
    device = torch.device(device or "cpu")
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    tokens = np.asarray(tokens, dtype=np.int64)
    # Standardise labels: the MSE head and a scaled margin then work in any unit.
    mean, std = float(y.mean()), float(y.std()) or 1.0
    ys = torch.tensor((y - mean) / std, dtype=torch.float32)
    fit_idx, val_idx = split_validation(len(y), cfg.val_fraction, seed=seed)

    torch.manual_seed(seed)  # weight initialisation (callers seed nothing globally for us)
    model = (RegressionHead(encoder_config) if cfg.objective == "mse"
             else TripletCNNEncoder(encoder_config)).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    gen = torch.Generator().manual_seed(seed)
    amp = device.type == "cuda"  # mixed precision only where it is safe and pays
    val_plan = plan_batch(tokens[val_idx], encoder_config).to(device) if len(val_idx) >= 3 \
        else None
    best, best_state, history, bad = math.inf, None, [], 0
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        losses = []
        for batch in _batches(len(fit_idx), cfg.batch_size, gen):
            idx = fit_idx[batch]
            plan = plan_batch(tokens[idx], encoder_config).to(device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                loss = _loss(model, plan, ys[idx].to(device), cfg)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
        row = {"epoch": epoch, "loss": float(np.mean(losses)) if losses else float("nan")}
        if val_plan is not None:
            model.eval()
            with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                row["val_loss"] = float(_loss(model, val_plan, ys[val_idx].to(device), cfg,
                                              reduction="mean"))
        history.append(row)
        report(on_progress, stage, epoch, cfg.epochs, **{k: v for k, v in row.items()
                                                          if k != "epoch"})
        monitor = row.get("val_loss", row["loss"])
        if monitor < best - 1e-6:
            best, bad = monitor, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            bad += 1
            if val_plan is not None and epoch >= cfg.min_epochs and bad >= cfg.patience:
                break
    if best_state is not None and val_plan is not None:
        model.load_state_dict(best_state)
    encoder = model.encoder if cfg.objective == "mse" else model
    return encoder.eval(), history


def train_config_dict(cfg: TrainConfig) -> dict:
    return asdict(cfg)


def holdout_mask(n: int, train_config: TrainConfig, *, seed: int) -> np.ndarray:
    """Bool (n,): the validation rows :func:`train_encoder` held out with this seed."""
    mask = np.zeros(n, dtype=bool)
    mask[split_validation(n, train_config.val_fraction, seed=seed)[1]] = True
    return mask
