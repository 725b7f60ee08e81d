"""The command line: datasets, validate, runs."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from core.__main__ import main
from tests.conftest import shared_data_or_skip

ROOT = Path(__file__).resolve().parents[2]


def test_datasets_lists_all_seven(capsys):
    shared_data_or_skip("absorption")
    code = main(["datasets"])
    out = capsys.readouterr().out
    assert code == 0
    assert "7 of 7 built-in data sets found" in out
    for name in ("absorption", "enantioselectivity", "localization", "T50", "pfam25", "scan10",
                 "protein_text"):
        assert name in out


def test_validate_reports_the_bad_record(tmp_path, capsys):
    fasta = tmp_path / "x.fasta"
    fasta.write_text(">ok\nMKVLA\n>bad one\nMKV1LA\n>ok\nMKV\n")
    assert main(["validate", str(fasta)]) == 1
    out = capsys.readouterr().out
    assert "bad" in out and "duplicate" in out.lower()
    assert main(["validate", "--json", str(fasta)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert any(p["record_id"] == "bad" for p in report["problems"])


def test_validate_clean_file_exits_zero(tmp_path, capsys):
    fasta = tmp_path / "ok.fasta"
    fasta.write_text(">a\nMKVLA\n>b\nMKVLW\n")
    assert main(["validate", str(fasta)]) == 0


def test_module_entry_point_runs():
    out = subprocess.run([sys.executable, "-m", "core", "--help"], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert "datasets" in out.stdout and "validate" in out.stdout
