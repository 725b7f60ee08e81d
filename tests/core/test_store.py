"""The run store: round trip, atomic writes, bundles, refusal of anything but data."""
from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
import time
import zipfile

import numpy as np
import pandas as pd
import pytest
import torch

from core.store import BundleRefused, RunStore, StoreError


@pytest.fixture
def store(tmp_path):
    return RunStore(tmp_path / "ws")


def finished_run(store):
    run = store.new_run("property", name="absorption triplet", config={"epochs": 3},
                        dataset={"name": "absorption", "fingerprint": "abc", "n": 81}, seed=7)
    store.update(run.id, status="running")
    store.append_log(run.id, "epoch 1 loss 0.5")
    return store.finish(
        run.id, metrics={"mae": 17.1}, history=[{"epoch": 1, "loss": 0.5}],
        summary={"key_metric": {"name": "mae", "value": 17.1}},
        weights={"encoder": {"w": torch.arange(6.0).reshape(2, 3)}},
        arrays={"ids": np.array(["p1", "p2"]), "embedding": np.ones((2, 4), np.float32)},
        tables={"predictions": pd.DataFrame({"id": ["p1", "p2"], "predicted": [1.0, 2.0]})})


def test_round_trip(store):
    run = finished_run(store)
    again = RunStore(store.root).get(run.id)
    assert again.status == "done" and again.metrics == {"mae": 17.1} and again.seed == 7
    assert again.config == {"epochs": 3} and again.dataset["fingerprint"] == "abc"
    assert again.versions["torch"].startswith("2.")
    assert torch.equal(store.load_weights(run.id)["encoder"]["w"],
                       torch.arange(6.0).reshape(2, 3))
    arrays = store.load_arrays(run.id)
    assert arrays["ids"].tolist() == ["p1", "p2"] and arrays["embedding"].shape == (2, 4)
    assert store.load_table(run.id, "predictions")["predicted"].tolist() == [1.0, 2.0]
    assert "epoch 1 loss 0.5" in store.read_log(run.id)  # the log survives finishing
    assert set(again.artifacts) >= {"weights.pt", "arrays.npz", "tables/predictions.parquet"}


def test_list_rename_delete(store):
    a = finished_run(store)
    b = store.new_run("scan", name="other")
    assert [r.id for r in store.list()][:2] in ([b.id, a.id], [a.id, b.id])
    assert [r.id for r in store.list(method="scan")] == [b.id]
    assert store.rename(a.id, "  renamed  ").name == "renamed"
    with pytest.raises(StoreError):
        store.rename(a.id, " ")
    store.delete(a.id)
    assert [r.id for r in store.list()] == [b.id]
    with pytest.raises(StoreError):
        store.get(a.id)


@pytest.mark.parametrize("bad", ["../etc", "x/../../y", "", "20260101-000000-a-zzzzzz"])
def test_run_ids_are_never_paths(store, bad):
    with pytest.raises(StoreError):
        store.get(bad)


def test_failed_finish_leaves_run_as_it_was(store, monkeypatch):
    run = store.new_run("property")
    store.update(run.id, status="running")

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", boom)
    with pytest.raises(OSError):
        store.finish(run.id, metrics={"mae": 1.0}, arrays={"x": np.zeros(3)})
    assert store.get(run.id).status == "running"
    assert not [p for p in store.runs_dir.iterdir() if p.name.startswith(".staging")]


@pytest.mark.slow
def test_write_killed_half_way_leaves_no_visible_run(store):
    run = store.new_run("property")
    store.update(run.id, status="running")
    script = textwrap.dedent(f"""
        import numpy as np
        from core.store import RunStore
        store = RunStore({str(store.root)!r})
        big = np.random.default_rng(0).random((6000, 6000))  # ~290 MB, seconds to compress
        print("writing", flush=True)
        store.finish({run.id!r}, metrics={{"mae": 1.0}}, arrays={{"big": big}})
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    time.sleep(1.0)
    proc.kill()
    proc.wait()
    assert [r.id for r in store.list()] == [run.id]
    assert store.get(run.id).status == "running"  # unchanged: the staged write never landed
    assert store.load_arrays(run.id) == {}
    assert store.clean(older_than_s=0) >= 1  # the leftover staging folder is removed


def test_new_run_killed_before_rename_is_invisible(store, monkeypatch):
    import os

    def no_rename(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "rename", no_rename)
    with pytest.raises(KeyboardInterrupt):
        store.new_run("property")
    monkeypatch.undo()
    assert store.list() == []


def test_bundle_round_trip(store, tmp_path):
    run = finished_run(store)
    other = RunStore(tmp_path / "other")
    imported = other.import_bundle(store.export_bundle(run.id))
    assert imported.id != run.id and imported.metrics == {"mae": 17.1}
    assert imported.summary["imported_from"] == run.id
    assert other.load_arrays(imported.id)["ids"].tolist() == ["p1", "p2"]


def _rezip(data: bytes, replace: dict[str, bytes]) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            if name not in replace:
                dst.writestr(name, src.read(name))
        for name, payload in replace.items():
            dst.writestr(name, payload)
    return out.getvalue()


class Payload:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_bundle_with_pickle_payload_is_refused(store, tmp_path):
    run = finished_run(store)
    bundle = store.export_bundle(run.id)
    evil = io.BytesIO()
    torch.save({"encoder": Payload()}, evil)
    target = RunStore(tmp_path / "target")
    with pytest.raises(BundleRefused, match="weights_only"):
        target.import_bundle(_rezip(bundle, {"weights.pt": evil.getvalue()}))
    with pytest.raises(BundleRefused, match="not run data"):
        target.import_bundle(_rezip(bundle, {"model.pkl": b"\x80\x04K\x01."}))
    with pytest.raises(BundleRefused, match="not run data"):
        target.import_bundle(_rezip(bundle, {"../escape.txt": b"x"}))
    objects = io.BytesIO()
    np.savez(objects, ids=np.array([{"a": 1}], dtype=object))
    with pytest.raises(BundleRefused, match="plain arrays"):
        target.import_bundle(_rezip(bundle, {"arrays.npz": objects.getvalue()}))
    with pytest.raises(BundleRefused, match="not a zip"):
        target.import_bundle(b"not a zip at all")
    with pytest.raises(BundleRefused, match="run.json"):
        target.import_bundle(_rezip(bundle, {"run.json": b"{broken"}))
    assert target.list() == []  # nothing was written by any refusal
    assert not list(target.runs_dir.iterdir())


def test_datasets_kept_and_listed(store):
    frame = pd.DataFrame({"id": ["a", "b"], "sequence": ["MKV", "MKL"], "y": [1.0, None]})
    key = store.save_dataset(frame, name="my set/../x", fingerprint="0123456789abcdef",
                             meta={"source": "upload"})
    assert "/" not in key and key.endswith("-0123456789ab")
    loaded, meta = store.load_dataset(key)
    pd.testing.assert_frame_equal(loaded, frame)
    assert meta["source"] == "upload" and meta["n"] == 2
    assert [d["key"] for d in store.list_datasets()] == [key]
    with pytest.raises(StoreError):
        store.load_dataset("../../etc/passwd")
    store.delete_dataset(key)
    assert store.list_datasets() == []


def test_run_json_is_plain_json(store):
    run = finished_run(store)
    data = json.loads((store.path(run.id) / "run.json").read_text())
    assert data["id"] == run.id and data["status"] == "done"
