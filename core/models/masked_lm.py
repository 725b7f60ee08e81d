"""A small dilated residual CNN trained here as a masked-residue language model.

Why a dilated CNN rather than a small transformer: the model is trained on the user's own few
thousand sequences on a CPU in a minute or two. A CNN's locality prior suits protein motifs, its
cost is linear in length (a 350-residue domain costs no more per residue than a 50-residue one),
it needs no positional encoding, and doubling dilations (1, 2, 4, 8 with kernel 5) still give
every residue a ~60-residue receptive field, the scale of Pfam motifs and small domains. Small transformers
need far more data and steps before attention beats that prior (ESM-2 8M saw 65 M sequences).

Tokens follow :mod:`core.alphabet` (0 pad, 1..20 residues, 21 X, 22 gap) plus :data:`MASK_TOKEN`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from core.alphabet import VOCAB_SIZE

MASK_TOKEN = VOCAB_SIZE  # 23
N_TARGETS = 22  # predicted classes: token ids 0..21 (0 never a target)


@dataclass(frozen=True)
class MaskedLMConfig:
    """Architecture and training budget of the masked-residue model.

    Attributes
    ----------
    width : channels of every layer.
    dilations : one residual block per dilation.
    kernel_size : width of the dilated convolutions.
    steps, batch_size, lr : optimisation budget (AdamW, linear warm-up then cosine decay).
    crop : longest window trained on (random crop of longer sequences).
    mask_prob : fraction of residues chosen for prediction (BERT's 80/10/10 replacement).
    """

    width: int = 64
    dilations: tuple[int, ...] = (1, 2, 4, 8)
    kernel_size: int = 5
    steps: int = 400
    batch_size: int = 32
    lr: float = 3e-3
    weight_decay: float = 0.01
    crop: int = 192
    mask_prob: float = 0.15

    def __post_init__(self):
        object.__setattr__(self, "dilations", tuple(int(d) for d in self.dilations))
        if self.width < 1 or not self.dilations or self.kernel_size < 1 or self.kernel_size % 2 == 0:
            raise ValueError("positive width, some dilations and an odd kernel_size please")
        if self.steps < 0 or self.batch_size < 1 or self.crop < 8 or not 0 < self.mask_prob < 1:
            raise ValueError("steps >= 0, batch_size >= 1, crop >= 8, 0 < mask_prob < 1 please")

    def to_dict(self) -> dict:
        return asdict(self)


class _Block(nn.Module):
    def __init__(self, width: int, kernel_size: int, dilation: int):
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.conv = nn.Conv1d(width, width, kernel_size, dilation=dilation,
                              padding=dilation * (kernel_size // 2))
        self.mix = nn.Conv1d(width, width, 1)

    def forward(self, x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        # x: (B, C, L); m: (B, 1, L). Masking after each conv keeps padding out of residues.
        h = self.norm(x.transpose(1, 2)).transpose(1, 2)
        h = self.conv(F.gelu(h)) * m
        h = self.mix(F.gelu(h)) * m
        return x + h


class MaskedResidueCNN(nn.Module):
    """Dilated residual CNN with a masked-residue prediction head."""

    def __init__(self, cfg: MaskedLMConfig = MaskedLMConfig()):
        super().__init__()
        self.cfg = cfg
        self.embedding = nn.Embedding(VOCAB_SIZE + 1, cfg.width, padding_idx=0)
        self.blocks = nn.ModuleList(_Block(cfg.width, cfg.kernel_size, d) for d in cfg.dilations)
        self.norm = nn.LayerNorm(cfg.width)
        self.head = nn.Linear(cfg.width, N_TARGETS)

    def hidden(self, tokens: torch.Tensor) -> torch.Tensor:
        """Residue representations (B, L, C); padding (token 0) rows are zero."""
        mask = (tokens != 0).unsqueeze(1).to(self.embedding.weight.dtype)  # (B, 1, L)
        x = self.embedding(tokens).transpose(1, 2) * mask  # (B, C, L)
        for block in self.blocks:
            x = block(x, mask)
        return self.norm(x.transpose(1, 2)) * mask.transpose(1, 2)  # (B, L, C)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Logits over residue classes (B, L, 22)."""
        return self.head(self.hidden(tokens))

    def pool(self, tokens: torch.Tensor) -> torch.Tensor:
        """Mean over real residues (B, C)."""
        h = self.hidden(tokens)
        n = (tokens != 0).sum(1, keepdim=True).clamp(min=1).to(h.dtype)
        return h.sum(1) / n


def mask_tokens(tokens: torch.Tensor, prob: float, generator: torch.Generator
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT masking: returns (inputs, targets) with targets -100 where nothing is predicted."""
    real = (tokens > 0) & (tokens <= 21)
    pick = (torch.rand(tokens.shape, generator=generator) < prob) & real
    targets = torch.where(pick, tokens, torch.full_like(tokens, -100))
    roll = torch.rand(tokens.shape, generator=generator)
    inputs = tokens.clone()
    inputs[pick & (roll < 0.8)] = MASK_TOKEN
    swap = pick & (roll >= 0.8) & (roll < 0.9)
    inputs[swap] = torch.randint(1, 21, tokens.shape, generator=generator)[swap]
    return inputs, targets
