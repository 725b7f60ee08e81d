"""Benchmark records: one long JSON format for every method (see DESIGN.md, "Benchmarks").

``python -m core bench <method>`` runs a method's benchmark, which returns rows; this module
checks the rows and writes ``assets/bench/<method>.json`` and the summary
``assets/benchmarks.md`` that the README and the Home page show.
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from core.config import PROJECT_ROOT

BENCH_DIR = PROJECT_ROOT / "assets" / "bench"
ROLES = ("ours", "baseline", "paper")
SPLITS = ("official", "cv", "test", "all", "paper", "novel_families", "train")
REQUIRED = ("dataset", "model", "role", "split", "metric", "value")

#: method -> "module:function"; the function takes keyword options and returns rows.
BENCHES: dict[str, str] = {}


def check_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Validate one row; returns a clean copy (NaN-free, lower-case metric)."""
    missing = [k for k in REQUIRED if k not in row]
    if missing:
        raise ValueError(f"bench row lacks {missing}: {row}")
    out = dict(row)
    out["metric"] = str(out["metric"]).lower()
    if out["role"] not in ROLES:
        raise ValueError(f"role must be one of {ROLES}: {row}")
    if out["split"] not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}: {row}")
    for key in ("value", "se", "seconds"):
        if key in out and out[key] is not None:
            value = float(out[key])
            if math.isnan(value):
                raise ValueError(f"{key} is NaN (a figure not measured is not written): {row}")
            out[key] = value
    return out


def write_bench(method: str, rows: Iterable[Mapping[str, Any]], *, command: str,
                out_dir: Path | None = None) -> Path:
    """Write ``<out_dir>/<method>.json`` and refresh the markdown summary beside it."""
    from core.device import machine_info

    out_dir = Path(out_dir) if out_dir is not None else BENCH_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    record = {"method": method,
              "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
              "command": command, "machine": machine_info(),
              "rows": [check_row(r) for r in rows]}
    path = out_dir / f"{method}.json"
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    write_summary(out_dir)
    return path


def load_bench(out_dir: Path | None = None) -> dict[str, dict[str, Any]]:
    """Every committed bench record, by method."""
    out_dir = Path(out_dir) if out_dir is not None else BENCH_DIR
    records = {}
    for path in sorted(out_dir.glob("*.json")):
        try:
            records[path.stem] = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            continue
    return records


def bench_frame(record: Mapping[str, Any]) -> pd.DataFrame:
    """Rows of one record as a table."""
    return pd.DataFrame(record.get("rows", []))


def write_summary(out_dir: Path) -> Path:
    """``assets/benchmarks.md``: one table per method, pivoted dataset x model."""
    lines = ["# ProtLens benchmarks", "",
             "Generated from `assets/bench/*.json` by `python -m core bench ...`; "
             "rows with role `paper` are quoted from the seed papers, never measured.", ""]
    for method, record in load_bench(out_dir).items():
        frame = bench_frame(record)
        lines += [f"## {method}", "",
                  f"`{record.get('command', '')}` — {record.get('created', '')}, "
                  f"{record.get('machine', {}).get('cpu', '?')}, "
                  f"GPU: {record.get('machine', {}).get('gpu') or 'none'}", ""]
        if frame.empty:
            lines += ["(no rows)", ""]
            continue
        frame["figure"] = frame.apply(_fmt_value, axis=1)
        table = frame.pivot_table(index=["metric", "split", "model", "role"], columns="dataset",
                                  values="figure", aggfunc="first").reset_index()
        lines += [_markdown(table), ""]
    path = out_dir.parent / "benchmarks.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _fmt_value(row: pd.Series) -> str:
    value = f"{row['value']:.4g}"
    se = row.get("se")
    if se is not None and not pd.isna(se):
        value += f" ± {se:.2g}"
    return value


def _markdown(frame: pd.DataFrame) -> str:
    cols = [str(c) for c in frame.columns]
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in frame.iterrows():
        out.append("| " + " | ".join("" if pd.isna(v) else str(v) for v in row) + " |")
    return "\n".join(out)
BENCHES["scan"] = "core.tasks.scan_bench:run"
BENCHES["property"] = "core.tasks.property_bench:run"
BENCHES["saliency"] = "core.saliency_bench:run"
BENCHES["families"] = "core.tasks.families_bench:run"
BENCHES["text"] = "core.tasks.text_bench:run"
BENCHES["explorer"] = "core.explorer_bench:run"
