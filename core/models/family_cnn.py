"""The seed-001 family classifier over stacked fingerprints (paper section 2.3).

Input (B, 1, F, 30): F fingerprints (residue, secondary structure, solvent accessibility)
stacked as a one-channel image. Two blocks of Conv2D 7x7 'same' (20 then 120 filters), batch
norm, dropout 0.3, ReLU; flatten; dense to the families. The paper ends in a sigmoid layer; we
return logits and train with softmax cross-entropy (the arg-max class is the same).
"""
from __future__ import annotations

import torch
from torch import nn


class FamilyCNN(nn.Module):
    def __init__(self, n_classes: int, *, rows: int = 3, latent: int = 30,
                 filters: tuple[int, int] = (20, 120), kernel: int = 7, dropout: float = 0.3):
        super().__init__()
        blocks, c_in = [], 1
        for c_out in filters:
            blocks += [nn.Conv2d(c_in, c_out, kernel, padding="same"), nn.BatchNorm2d(c_out),
                       nn.Dropout(dropout), nn.ReLU()]
            c_in = c_out
        self.features = nn.Sequential(*blocks)
        self.head = nn.Linear(c_in * rows * latent, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, F, 30) or (B, 1, F, 30) -> logits (B, n_classes)."""
        if x.dim() == 3:
            x = x.unsqueeze(1)
        return self.head(self.features(x).flatten(1))
