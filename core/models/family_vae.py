"""The seed-001 variational autoencoder over one-hot alignment rows (paper section 2.2).

Seven layers: input (L x C flattened) -> dense 128 (ReLU) -> z_mean, z_log_sigma (30, linear)
-> z = z_mean + exp(z_log_sigma) * eps with eps ~ N(0, 0.1^2) -> dense 128 (ReLU) -> output
(L x C, sigmoid).

``decoder="softmax"`` is an option outside the paper: the same layers, but the output is a
softmax over the C channels of each position and the reconstruction term is the categorical
cross-entropy (one symbol per alignment position) instead of C independent sigmoids.
"""
from __future__ import annotations

import torch
from torch import nn

from core.config import check_choice

DECODERS = ("sigmoid", "softmax")


class FamilyVAE(nn.Module):
    def __init__(self, length: int, channels: int, *, hidden: int = 128, latent: int = 30,
                 epsilon_std: float = 0.1, decoder: str = "sigmoid"):
        super().__init__()
        check_choice("decoder", decoder, DECODERS)
        self.length, self.channels, self.epsilon_std = length, channels, epsilon_std
        self.decoder_kind = decoder
        dim = length * channels
        self.encoder = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU())
        self.z_mean = nn.Linear(hidden, latent)
        self.z_log_sigma = nn.Linear(hidden, latent)
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, dim))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(x.flatten(1))  # (B, hidden)
        return self.z_mean(h), self.z_log_sigma(h)  # (B, latent) each

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z).view(-1, self.length, self.channels)  # (B, L, C)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """x (B, L, C) one-hot -> logits/probabilities (B, L, C), z_mean, z_log_sigma, z."""
        mean, log_sigma = self.encode(x)
        z = mean
        if self.training:
            eps = torch.randn_like(mean) * self.epsilon_std
            z = mean + torch.exp(log_sigma) * eps
        logits = self.decode_logits(z)
        probs = (torch.sigmoid(logits) if self.decoder_kind == "sigmoid"
                 else torch.softmax(logits, -1))
        return {"logits": logits, "probs": probs, "z_mean": mean,
                "z_log_sigma": log_sigma, "z": z, "decoder": self.decoder_kind}


def vae_loss(out: dict[str, torch.Tensor], x: torch.Tensor, mask: torch.Tensor | None = None,
             *, kl_weight: float = 1.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Reconstruction (binary cross-entropy summed over L x C; categorical cross-entropy summed
    over L for the softmax decoder) + KL to N(0, I); batch means.

    ``mask`` (B, L) excludes padding positions from the reconstruction term.
    """
    if out.get("decoder", "sigmoid") == "softmax":
        err = -(torch.log_softmax(out["logits"], -1) * x).sum(-1)  # (B, L)
    else:
        err = nn.functional.binary_cross_entropy_with_logits(
            out["logits"], x, reduction="none").sum(-1)  # (B, L)
    if mask is not None:
        err = err * mask
    recon = err.sum(1).mean()
    mean, ls = out["z_mean"], out["z_log_sigma"]
    kl = (-0.5 * (1 + 2 * ls - mean.pow(2) - torch.exp(2 * ls)).sum(1)).mean()
    return recon + kl_weight * kl, recon, kl
