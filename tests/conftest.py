"""Shared fixtures: an isolated workspace per test, tiny synthetic protein sets."""
from __future__ import annotations

import random
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

AA = "ACDEFGHIKLMNPQRSTVWY"


@pytest.fixture
def workspace(tmp_path, monkeypatch) -> Path:
    """A fresh $PROTLENS_HOME for the test."""
    home = tmp_path / "workspace"
    monkeypatch.setenv("PROTLENS_HOME", str(home))
    return home


def _families(n_per: int = 10, seed: int = 0) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = []
    for fam in range(3):
        motif = "".join(rng.choice(AA) for _ in range(40))
        for i in range(n_per):
            seq = list(motif)
            for _ in range(6):
                seq[rng.randrange(len(seq))] = rng.choice(AA)
            rows.append({"id": f"fam{fam}_{i:02d}", "sequence": "".join(seq),
                         "family": f"F{fam}", "score": fam + rng.random()})
    return pd.DataFrame(rows)


@pytest.fixture(scope="session")
def _synthetic() -> pd.DataFrame:
    return _families()


@pytest.fixture
def synthetic(_synthetic) -> pd.DataFrame:
    """About 30 proteins in 3 families with a numeric score (fresh copy per test)."""
    return _synthetic.copy()


def shared_data_or_skip(name: str) -> None:
    """Skip a test that needs a built-in data set that is not on this machine."""
    from core.datasets import locate

    if locate(name) is None:
        pytest.skip(f"built-in data set {name!r} not found (../shared/data or $PROTLENS_DATA)")
