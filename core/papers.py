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

#: Seed 001 (VAE fingerprints + CNN family classifier), section 3 and Table 1 (48 UniProt
#: families, 500 sequences each; Table 1 averages over the families it lists).
FAMILIES_SEED_001 = {
    "recon_acc": 0.89,  # "the network can reconstruct 89% of the input amino acids correctly"
    "common_residue_agreement": 0.95,  # most common amino acid agrees in 95% of positions
    "kmeans_acc": 1.0,  # K-means on fingerprints, 10-fold CV
    "table1_average": {"f1": 0.9983, "precision": 0.9983, "recall": 0.9983, "accuracy": 0.9999},
    "table1_zhang": {"f1": 0.977, "precision": 0.976, "recall": 0.977},  # [27] in the paper
}
