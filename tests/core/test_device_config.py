"""Device choice, seeding and settings."""
from __future__ import annotations

import random

import numpy as np
import torch

from core.config import Settings
from core.device import available_devices, describe_device, get_device, seed_everything


def test_device_defaults_to_cpu_without_accelerators(monkeypatch):
    monkeypatch.delenv("PROTLENS_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert get_device().type in (expected, "mps")
    assert "cpu" in available_devices()


def test_device_override_and_fallback(monkeypatch):
    monkeypatch.setenv("PROTLENS_DEVICE", "cpu")
    assert get_device().type == "cpu"
    if not torch.cuda.is_available():
        assert get_device("cuda:0").type == "cpu"  # asked for, absent: CPU with a warning
    assert describe_device("cpu").startswith("cpu (")


def test_seed_everything_repeats():
    seed_everything(3)
    a = (random.random(), np.random.rand(), torch.rand(1).item())
    seed_everything(3)
    assert a == (random.random(), np.random.rand(), torch.rand(1).item())


def test_settings_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv("PROTLENS_HOME", str(tmp_path))
    monkeypatch.setenv("PROTLENS_MAX_UPLOAD_MB", "7")
    monkeypatch.setenv("PROTLENS_OFFLINE", "1")
    settings = Settings.from_env()
    assert settings.home == tmp_path.resolve() and settings.max_upload_mb == 7
    assert settings.offline
