"""The benchmark record format."""
from __future__ import annotations

import json

import pytest

from core.bench import check_row, load_bench, write_bench


def test_write_and_load(tmp_path):
    rows = [{"dataset": "absorption", "model": "onehot_gp", "role": "baseline", "split": "cv",
             "metric": "MAE", "value": 18.2, "se": 0.9, "n_seeds": 5, "seconds": 0.4},
            {"dataset": "absorption", "model": "triplet_cnn_gp", "role": "paper",
             "split": "official", "metric": "mae", "value": 17.14}]
    path = write_bench("property", rows, command="python -m core bench property",
                       out_dir=tmp_path / "bench")
    record = json.loads(path.read_text())
    assert record["method"] == "property" and record["machine"]["cores"] >= 1
    assert record["rows"][0]["metric"] == "mae"
    assert load_bench(tmp_path / "bench")["property"]["rows"][1]["value"] == 17.14
    summary = (tmp_path / "benchmarks.md").read_text()
    assert "## property" in summary and "17.14" in summary


@pytest.mark.parametrize("bad", [
    {"dataset": "a", "model": "m", "role": "mine", "split": "cv", "metric": "mae", "value": 1},
    {"dataset": "a", "model": "m", "role": "ours", "split": "x", "metric": "mae", "value": 1},
    {"dataset": "a", "model": "m", "role": "ours", "split": "cv", "metric": "mae",
     "value": float("nan")},
    {"dataset": "a", "model": "m", "role": "ours", "split": "cv", "metric": "mae"},
])
def test_bad_rows_are_refused(bad):
    with pytest.raises(ValueError):
        check_row(bad)
