"""The one place that looks at hardware: device choice and seeding."""
from __future__ import annotations

import os
import platform
import random

import numpy as np

DEVICE_ENV = "PROTLENS_DEVICE"


def get_device(prefer: str | None = None):
    """Pick the torch device: an explicit choice or ``$PROTLENS_DEVICE``, else cuda, mps, cpu.

    An explicit request for an accelerator that is not there falls back to the CPU with a
    logged warning rather than failing later inside a fit.
    """
    import logging

    import torch

    choice = (prefer or os.environ.get(DEVICE_ENV) or "auto").strip().lower()
    if choice not in ("", "auto"):
        if choice.startswith("cuda") and not torch.cuda.is_available():
            logging.getLogger(__name__).warning("%s requested but CUDA is absent: using cpu", choice)
            return torch.device("cpu")
        if choice == "mps" and not _mps_available():
            logging.getLogger(__name__).warning("mps requested but absent: using cpu")
            return torch.device("cpu")
        return torch.device(choice)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def _mps_available() -> bool:
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def available_devices() -> list[str]:
    """Devices a user may pick, "auto" first."""
    import torch

    names = ["auto", "cpu"]
    names += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if _mps_available():
        names.append("mps")
    return names


def describe_device(device=None) -> str:
    """A short human description: "cuda:0 (NVIDIA H100 80GB)" or "cpu (2 cores)"."""
    import torch

    device = torch.device(device) if device is not None else get_device()
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        return f"cpu ({os.cpu_count()} cores, {platform.machine()})"
    return str(device)


def seed_everything(seed: int) -> None:
    """Seed python's ``random``, NumPy's global generator and torch (all devices)."""
    import torch

    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def machine_info() -> dict:
    """What a benchmark records about the machine it ran on."""
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "gpu": gpu,
            "torch": torch.__version__.split("+")[0]}
