"""Built-in data: registry, resolution order, checksums, download, clear offline errors."""
from __future__ import annotations

import http.server
import shutil
import threading
from functools import partial
from pathlib import Path

import pytest

from core import datasets
from core.config import Settings
from tests.conftest import shared_data_or_skip

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


def test_registry_has_the_seven_sets():
    assert set(datasets.REGISTRY) == {"absorption", "enantioselectivity", "localization", "T50",
                                      "pfam25", "scan10", "protein_text"}
    for spec in datasets.REGISTRY.values():
        assert spec.licence and spec.source and all(len(f.md5) == 32 for f in spec.files)


@pytest.mark.parametrize("name,n,label", [
    ("absorption", 81, "peak"), ("enantioselectivity", 152, "e-value"),
    ("localization", 254, "log_GFP"), ("T50", 261, "T50"), ("pfam25", 8325, "family_id"),
    ("scan10", 6000, "family_name"), ("protein_text", 2913, "drug_class")])
def test_load_gives_the_common_table(name, n, label):
    shared_data_or_skip(name)
    table = datasets.load(name)
    assert len(table) == n and table["id"].is_unique and label in table.columns
    assert not table["sequence"].str.contains("-", regex=False).any()


def test_property_sets_have_split_parent_and_gapped_rows():
    shared_data_or_skip("T50")
    absorption = datasets.load("absorption")
    assert absorption["parent"].iloc[0] == "parent"
    assert absorption["split"].value_counts().to_dict() == {"train": 62, "test": 19}
    t50 = datasets.load("T50")
    assert t50["aligned"].str.len().eq(466).all()
    assert (t50["aligned"].str.replace("-", "") == t50["sequence"]).all()


def _copy_set(name: str, root: Path) -> None:
    for f in datasets.get_spec(name).files:
        (root / f.path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SHARED / f.path, root / f.path)


def test_env_folder_comes_first_and_bad_checksums_are_skipped(tmp_path, monkeypatch):
    shared_data_or_skip("absorption")
    _copy_set("absorption", tmp_path)
    monkeypatch.setenv("PROTLENS_DATA", str(tmp_path))
    assert datasets.locate("absorption")[0] == "$PROTLENS_DATA"
    (tmp_path / "property/absorption.csv").write_text("name,sequence\nx,MKV\n")
    assert datasets.locate("absorption")[0] == "shared"  # corrupt copy skipped


def test_offline_and_missing_gives_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets, "search_roots", lambda settings=None: [("empty", tmp_path)])
    with pytest.raises(datasets.DatasetNotFound) as err:
        datasets.resolve("scan10", settings=Settings(offline=True))
    message = str(err.value)
    assert "scan10" in message and "clustering/scan10/sequences.fasta" in message
    assert "PROTLENS_DATA" in message and "offline" in message


def test_download_from_a_mirror_verifies_checksums(tmp_path, monkeypatch):
    shared_data_or_skip("absorption")
    served = tmp_path / "served"
    _copy_set("absorption", served)
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
        monkeypatch.setenv(datasets.MIRROR_ENV, f"http://127.0.0.1:{server.server_port}")
        root = datasets.fetch("absorption")
        assert datasets.md5sum(root / "property/absorption.csv") == \
            datasets.get_spec("absorption").files[0].md5
        (served / "property/absorption.csv").write_text("tampered")
        (root / "property/absorption.csv").unlink()
        with pytest.raises(datasets.ChecksumMismatch):
            datasets.fetch("absorption")
        assert not (root / "property/absorption.csv").exists()  # nothing corrupt left
    finally:
        server.shutdown()


def test_unreachable_source_fails_clearly(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv(datasets.MIRROR_ENV, "http://127.0.0.1:9")  # closed port, loopback
    with pytest.raises(datasets.DatasetNotFound, match="download from http://127.0.0.1:9"):
        datasets.fetch("absorption", timeout=2)


def test_list_datasets_reports_where(tmp_path):
    table = datasets.list_datasets()
    assert list(table["name"]) == list(datasets.REGISTRY)
    assert set(table.columns) >= {"found", "where", "licence"}
