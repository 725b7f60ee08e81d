"""Numbers quoted from the seed papers (never measured here): the bars the benchmarks beat.

Benchmarks write them as rows with role ``paper``; pages show them beside our figures.
"""
from __future__ import annotations

#: Seed 000 (Deep Metric Learning for Proteomics), Table I: test MAE on the official split.
PROPERTY_TABLE_I = {
    "absorption": {"triplet": 17.14, "non_triplet": 25.28},
    "enantioselectivity": {"triplet": 5.93, "non_triplet": 8.01},
    "localization": {"triplet": 0.63, "non_triplet": 0.67},
    "T50": {"triplet": 2.58, "non_triplet": 3.32},
}
