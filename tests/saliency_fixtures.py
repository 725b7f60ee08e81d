"""A tiny property run (absorption, one encoder, two epochs) for Saliency page tests."""
from __future__ import annotations

from pathlib import Path

TINY = {"n_models": 1, "gp_restarts": 0, "seed": 0, "train": {"epochs": 2, "min_epochs": 1}}


def train_tiny_absorption_run(home: Path) -> str:
    """Train and save a quick property run on the absorption set under ``home``; its id."""
    from core.datasets import load
    from core.jobs import run_inline
    from core.store import RunStore

    table = load("absorption", download=False)
    return run_inline("property.fit", {"table": table, "config": TINY, "dataset": "absorption"},
                      RunStore(home), method="property", name="peak on absorption (tiny)",
                      config=TINY, seed=0)
