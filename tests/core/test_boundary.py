"""Layering: importing core stays light and never pulls Streamlit or UMAP."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_core_imports_no_streamlit_or_umap():
    code = ("import sys, core, core.io, core.datasets, core.store, core.jobs, core.plots, "
            "core.intake, core.bench, core.__main__; "
            "bad = [m for m in ('streamlit', 'umap') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_no_core_module_imports_streamlit():
    offenders = [p for p in (ROOT / "core").rglob("*.py")
                 if "import streamlit" in p.read_text() or "from streamlit" in p.read_text()]
    assert offenders == []
