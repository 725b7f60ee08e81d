"""Environment settings, read in one place.

Method configs (frozen dataclasses with the papers' defaults) live beside their tasks; this
module holds what the environment decides: where the workspace and data are, the device, limits.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else None


@dataclass(frozen=True)
class Settings:
    """Settings taken from the environment.

    Attributes
    ----------
    home : workspace root holding runs and saved datasets (``$PROTLENS_HOME``, default
        ``./workspace`` in the project root).
    data_dir : explicit benchmark-data folder (``$PROTLENS_DATA``), searched first.
    device : forced device name (``$PROTLENS_DEVICE``: cpu, cuda, cuda:1, mps) or None for auto.
    max_upload_mb : largest file a user may upload (``$PROTLENS_MAX_UPLOAD_MB``).
    job_workers : training jobs run at once (``$PROTLENS_JOB_WORKERS``, default 1).
    offline : never try a download (``$PROTLENS_OFFLINE=1``).
    """

    home: Path = field(default_factory=lambda: PROJECT_ROOT / "workspace")
    data_dir: Path | None = None
    device: str | None = None
    max_upload_mb: int = 50
    job_workers: int = 1
    offline: bool = False

    @classmethod
    def from_env(cls) -> Settings:
        home = _env_path("PROTLENS_HOME") or PROJECT_ROOT / "workspace"
        return cls(
            home=home.resolve(),
            data_dir=_env_path("PROTLENS_DATA"),
            device=os.environ.get("PROTLENS_DEVICE") or None,
            max_upload_mb=int(os.environ.get("PROTLENS_MAX_UPLOAD_MB", "50")),
            job_workers=max(1, int(os.environ.get("PROTLENS_JOB_WORKERS", "1"))),
            offline=os.environ.get("PROTLENS_OFFLINE", "") not in ("", "0", "false"),
        )


def check_choice(name: str, value, choices) -> None:
    """Raise ``ValueError`` naming the option and its allowed values unless ``value`` is one."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, not {value!r}")
