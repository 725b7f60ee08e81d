"""SCAN: cluster proteins without labels (seed 002: SeqSCAN, after Van Gansbeke et al. 2020).

Step 1 gives every protein a vector (:mod:`core.encoders`). Step 2, here:

1. mine each protein's K nearest neighbours by cosine similarity (exact, chunked);
2. train several clustering heads at once with the SCAN loss (an anchor and a random one of
   its neighbours should share a confident cluster; entropy of the mean prediction keeps the
   clusters in use) and keep the head with the lowest loss;
3. optionally self-label: confident predictions become targets for cross-entropy on
   augmented inputs.

Augmentation for self-labelling is done in feature space (Gaussian noise at ``noise`` times
each feature's spread plus feature dropout): re-encoding residue-masked copies through a
pretrained encoder every epoch would cost a full embedding pass per epoch on a CPU, while the
head sees only the pooled vector anyway.
"""
from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from core.config import check_choice
from core.progress import ProgressCallback, report

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScanConfig:
    """SCAN's settings (SCAN paper defaults where it gives them: K = 20, entropy weight 5,
    10 heads, self-labelling threshold 0.99). One set of defaults for every data set.

    Attributes
    ----------
    n_clusters : clusters to find (may exceed the expected number of classes).
    knn : neighbours mined per protein.
    n_heads : heads trained at once; the lowest-loss one is kept.
    epochs, min_steps : passes over the data, raised until there are at least ``min_steps``
        updates (small uploads would otherwise stop after a handful of steps).
    hidden : 0 = one linear layer per head (as in the slides), >0 = MLP width.
    normalize : features fed to mining, head and baselines: "center_l2" (subtract the mean
        protein, scale rows to unit length: cosine geometry, whatever the encoder's scale),
        "zscore" (per-feature), "l2" or "none".
    self_label : run the self-labelling step after SCAN.
    """

    n_clusters: int = 10
    knn: int = 20
    n_heads: int = 10
    hidden: int = 0
    entropy_weight: float = 5.0
    epochs: int = 60
    min_steps: int = 1000
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-4
    normalize: str = "center_l2"
    self_label: bool = False
    self_label_epochs: int = 20
    confidence: float = 0.99
    noise: float = 0.1
    feature_dropout: float = 0.1

    def __post_init__(self):
        if self.n_clusters < 2 or self.knn < 1 or self.n_heads < 1 or self.epochs < 1:
            raise ValueError("n_clusters >= 2, knn >= 1, n_heads >= 1 and epochs >= 1 please")
        check_choice("normalize", self.normalize, NORMALIZATIONS)
        if not 0.5 < self.confidence < 1 or self.batch_size < 2 or self.lr <= 0:
            raise ValueError("0.5 < confidence < 1, batch_size >= 2 and lr > 0 please")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ScanFit:
    """What :func:`fit_scan` returns."""

    head: Any  # SCANHead with one head, on the CPU
    probabilities: np.ndarray  # (N, C) float32
    assignments: np.ndarray  # (N,) int64
    neighbours: np.ndarray  # (N, K) int64
    head_losses: np.ndarray  # (H,) final SCAN loss per head
    best_head: int
    history: list[dict[str, float]] = field(default_factory=list)
    mean: np.ndarray | None = None  # preprocessing applied before the head (see preprocess)
    scale: np.ndarray | None = None
    gain: float = 1.0  # then rows times gain
    scan_probabilities: np.ndarray | None = None  # before self-labelling (None without it)


NORMALIZATIONS = ("center_l2", "zscore", "l2", "none")


def preprocess(features: np.ndarray, how: str = "center_l2"
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features as the head sees them (float32), with the per-feature mean and scale used
    (rows are L2-normalised afterwards for "center_l2" and "l2")."""
    x = np.asarray(features, dtype=np.float32)
    mean = x.mean(0) if how in ("center_l2", "zscore") else np.zeros(x.shape[1], np.float32)
    scale = np.ones(x.shape[1], np.float32)
    if how == "zscore":
        scale = x.std(0)
        scale[scale < 1e-8] = 1.0
    x = (x - mean) / scale
    if how in ("center_l2", "l2"):
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return x.astype(np.float32), mean, scale


def mine_neighbours(features: np.ndarray, k: int, *, chunk: int = 2048) -> np.ndarray:
    """Exact cosine k nearest neighbours (N, k), most similar first, self excluded.

    Chunked matrix products keep memory at ``chunk x N``; exact search is quadratic in N, which
    is fine to ~10^5 proteins on a CPU (beyond, an approximate index such as FAISS is the tool).
    """
    x = np.asarray(features, dtype=np.float32)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    n = len(x)
    k = min(k, n - 1)
    out = np.empty((n, k), dtype=np.int64)
    for start in range(0, n, chunk):
        sim = x[start:start + chunk] @ x.T  # (b, N)
        rows = np.arange(sim.shape[0])
        sim[rows, start + rows] = -np.inf  # never your own neighbour
        top = np.argpartition(-sim, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(sim, top, 1), axis=1, kind="stable")
        top = np.take_along_axis(top, order, 1)
        out[start:start + sim.shape[0]] = top
    return out


def fit_scan(features: np.ndarray, cfg: ScanConfig = ScanConfig(), *, seed: int = 0,
             device=None, labels: np.ndarray | None = None,
             neighbours: np.ndarray | None = None,
             on_progress: ProgressCallback | None = None) -> ScanFit:
    """Train SCAN heads on fixed features (N, D); see the module docstring.

    ``labels`` (int codes, -1 = missing) only add NMI/accuracy to the history per epoch; they
    never influence training. ``neighbours`` (N, >= K), mined by :func:`mine_neighbours` on
    the same preprocessed features, skips the mining (a sweep mines once for every fit).
    Reproducible for a given seed on a given device; global random state is left untouched.
    """
    import torch
    from sklearn.metrics import normalized_mutual_info_score

    from core.cluster_metrics import match_clusters
    from core.models.scan_head import SCANHead
    from core.tasks.scan_losses import scan_loss, self_label_loss

    device = torch.device(device) if device is not None else torch.device("cpu")
    x_np, mean, scale = preprocess(features, cfg.normalize)
    neighbours = (mine_neighbours(x_np, cfg.knn) if neighbours is None
                  else np.ascontiguousarray(neighbours[:, :cfg.knn]))
    n, k = neighbours.shape
    # Unit-length rows have features of size ~1/sqrt(D): rescale to unit RMS per feature so the
    # head's learning rate means the same for every encoder width and normalisation.
    gain = float(np.sqrt(x_np.shape[1])) if cfg.normalize in ("center_l2", "l2") else 1.0
    x = torch.from_numpy(x_np * gain).to(device)
    nb = torch.from_numpy(neighbours).to(device)
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = SCANHead(x.shape[1], cfg.n_clusters, n_heads=cfg.n_heads,
                         hidden=cfg.hidden).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    bs = min(cfg.batch_size, n)
    labels = np.asarray(labels) if labels is not None else None
    has_labels = labels is not None and (labels >= 0).sum() > 1
    history: list[dict[str, float]] = []

    def evaluate() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Full-data SCAN loss, consistency and entropy per head (all K neighbours), and the
        probabilities (N, C) of the lowest-loss head."""
        model.eval()
        with torch.no_grad():
            logits = torch.cat([model(x[i:i + 4096]) for i in range(0, n, 4096)], 1)  # (H,N,C)
            parts = torch.zeros(3, model.n_heads, device=device)
            for j in range(k):
                parts += torch.stack(scan_loss(logits, logits[:, nb[:, j]],
                                               entropy_weight=cfg.entropy_weight)) / k
            probs = torch.softmax(logits[int(parts[0].argmin())], -1).cpu().numpy()
        model.train()
        total, cons, ent = parts.cpu().numpy()
        return total, cons, ent, probs

    def log_epoch(stage: str, epoch: int, total: int, row: dict, probs: np.ndarray) -> None:
        if has_labels:
            known = labels >= 0
            pred = probs.argmax(1)[known]
            mapping = match_clusters(labels[known], pred, n_clusters=probs.shape[1])
            row.update(nmi=float(normalized_mutual_info_score(labels[known], pred)),
                       acc=float((mapping[pred] == labels[known]).mean()))
        history.append({"stage": stage, "epoch": epoch, **row})
        report(on_progress, stage, epoch, total, **{k_: v for k_, v in row.items()
                                                    if isinstance(v, float)})

    model.train()
    epochs = max(cfg.epochs, -(-cfg.min_steps // max(1, n // bs)))
    every = max(1, epochs // 50)  # at most ~50 evaluations in the history
    for epoch in range(1, epochs + 1):
        perm = torch.randperm(n, generator=gen)
        pick = torch.randint(0, k, (n,), generator=gen)
        for start in range(0, n - bs + 1, bs):  # drop the last partial batch: stable entropy
            idx = perm[start:start + bs].to(device)
            partner = nb[idx, pick[start:start + bs].to(device)]
            total = scan_loss(model(x[idx]), model(x[partner]),
                              entropy_weight=cfg.entropy_weight)[0]
            opt.zero_grad(set_to_none=True)
            total.sum().backward()
            opt.step()
        if epoch % every == 0 or epoch == epochs:
            losses, cons, ent, probs = evaluate()
            best = int(losses.argmin())
            log_epoch("scan", epoch, epochs, {"loss": float(losses[best]),
                                              "consistency": float(cons[best]),
                                              "entropy": float(ent[best]), "head": float(best)},
                      probs)

    losses, _, _, probs = evaluate()
    best = int(losses.argmin())
    head = model.select(best)
    scan_probs = None
    if cfg.self_label:
        scan_probs = probs.astype(np.float32)
        head, probs = _self_label(head, x, cfg, gen=gen, seed=seed,
                                  log_epoch=log_epoch, loss_fn=self_label_loss)
    return ScanFit(head=head.cpu().eval(), probabilities=probs.astype(np.float32),
                   assignments=probs.argmax(1).astype(np.int64), neighbours=neighbours,
                   head_losses=losses, best_head=best, history=history, mean=mean, scale=scale,
                   gain=gain, scan_probabilities=scan_probs)


def _self_label(head, x, cfg: ScanConfig, *, gen, seed: int, log_epoch, loss_fn):
    """Cross-entropy on confident predictions with feature-space augmentation."""
    import torch

    n = len(x)
    bs = min(cfg.batch_size, n)
    spread = x.std(0, keepdim=True)
    opt = torch.optim.Adam(head.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    head.train()
    for epoch in range(1, cfg.self_label_epochs + 1):
        perm = torch.randperm(n, generator=gen)
        tot, confident = 0.0, 0
        for start in range(0, n - bs + 1, bs):
            idx = perm[start:start + bs].to(x.device)
            clean = x[idx]
            noise = torch.randn(clean.shape, generator=gen).to(x.device) * spread * cfg.noise
            keep = (torch.rand(clean.shape, generator=gen) >= cfg.feature_dropout).to(x.device)
            strong = (clean + noise) * keep / (1 - cfg.feature_dropout)
            with torch.no_grad():
                weak = head(clean)[0]
            loss, n_conf = loss_fn(weak, head(strong)[0], threshold=cfg.confidence)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            tot, confident = tot + loss.item(), confident + n_conf
        head.eval()
        with torch.no_grad():
            probs = torch.softmax(torch.cat([head(x[i:i + 4096])[0]
                                             for i in range(0, n, 4096)]), -1).cpu().numpy()
        head.train()
        log_epoch("selflabel", epoch, cfg.self_label_epochs,
                  {"loss": tot / max(1, n // bs), "confident": confident / n}, probs)
    head.eval()
    return head, probs


# --------------------------------------------------------------------------- job and CLI

DEFAULT_BASELINES = ("pca_kmeans", "kmeans", "length_kmeans")


def encode_table(table, encoder: str, *, encoder_kw: dict | None = None, seed: int = 0,
                 device=None, on_progress: ProgressCallback | None = None
                 ) -> tuple[np.ndarray, dict[str, Any]]:
    """Features (N, D) of ``table.sequence`` with a cache, and what the encoder left behind:
    ``{"seconds", "cached", "history", "weights"}`` (masked LM: its loss curve and weights)."""
    from core.encoders import cache_root, cached_seconds, embed_cached, get_encoder

    seqs = table["sequence"].astype(str).tolist()
    kw = dict(encoder_kw or {})
    if encoder == "masked_lm":
        kw.setdefault("seed", seed)
        kw.setdefault("cache_dir", cache_root().parent / "masked_lm")
    enc = get_encoder(encoder, **kw)
    info: dict[str, Any] = {"history": [], "weights": None}
    t0 = time.perf_counter()
    if encoder == "masked_lm":
        enc.fit(kw.get("train_sequences") or seqs, device=device, on_progress=on_progress)
        info["history"] = enc.history_
        info["weights"] = {"masked_lm": enc.model_.state_dict()}
    known = cached_seconds(enc, seqs)
    features = embed_cached(enc, seqs, device=device, on_progress=on_progress)
    info["cached"] = known is not None
    info["seconds"] = known if known is not None else time.perf_counter() - t0
    return features, info


def evaluate_fit(fit: ScanFit, features: np.ndarray, *, labels: np.ndarray | None,
                 class_names: list[str] | None, ids, sequences, seed: int = 0,
                 baselines=DEFAULT_BASELINES, normalize: str = "center_l2",
                 profiles: bool = True) -> dict[str, Any]:
    """Metrics, tables and baseline scores of a fit (what :func:`fit_job` stores); with
    ``profiles``, each cluster's members aligned on a profile HMM (for its sequence logo)."""
    import pandas as pd

    from core import cluster_metrics as cm

    probs, assign = fit.probabilities, fit.assignments
    x = preprocess(features, normalize)[0]
    metrics = cm.unsupervised_scores(x, assign, probs, random_state=seed)
    tables: dict[str, pd.DataFrame] = {}
    base_rows = []
    for method in baselines:
        t0 = time.perf_counter()
        if method == "length_kmeans":
            pred = cm.length_kmeans(sequences, fit.probabilities.shape[1], random_state=seed)
        else:
            pred = cm.baseline_clustering(method, x, fit.probabilities.shape[1],
                                          random_state=seed)
        row = {"method": method, "seconds": time.perf_counter() - t0}
        if labels is not None:
            row.update(cm.clustering_scores(labels, pred))
        base_rows.append(row)
    tables["baselines"] = pd.DataFrame(base_rows)
    if labels is not None:
        metrics.update(cm.clustering_scores(labels, assign, probs))
        # Purity at K = 5, 20, 50 whatever K the fit mined (exact search, chunked).
        metrics.update(cm.neighbour_purity(mine_neighbours(x, min(50, len(x) - 1)), labels))
        tables["confusion"] = cm.matched_confusion(
            labels, assign, class_names=class_names,
            n_clusters=probs.shape[1]).reset_index()
        tables["per_class"] = cm.per_class_table(labels, assign, probs, class_names=class_names)
        for row in base_rows:
            if "nmi" in row:
                metrics[f"{row['method']}_nmi"] = row["nmi"]
    tables["clusters"] = cm.cluster_table(assign, probs, labels, class_names)
    order = cm.central_members(x, assign)
    tables["prototypes"] = cm.prototypes(x, assign, ids=ids, order=order)
    if profiles:
        from core.tasks.scan_profiles import cluster_alignments

        tables["alignments"] = cluster_alignments(x, assign, ids=ids, sequences=sequences,
                                                  order=order)
    tables["confidence_hist"] = cm.confidence_histogram(probs)
    return {"metrics": metrics, "tables": tables}


def assignments_table(ids, probs: np.ndarray, *, labels_raw=None):
    """id, cluster, confidence, [label], p_c0..p_cC: the downloadable assignments."""
    import pandas as pd

    frame = pd.DataFrame({"id": [str(i) for i in ids],
                          "cluster": [f"c{j}" for j in probs.argmax(1)],
                          "confidence": probs.max(1)})
    if labels_raw is not None:
        frame["label"] = pd.Series(labels_raw).astype("string").to_numpy()
    for j in range(probs.shape[1]):
        frame[f"p_c{j}"] = probs[:, j]
    return frame


def fit_job(payload: dict, ctx) -> Any:
    """Job ``scan.fit``: encode, mine, train SCAN, evaluate, compare with baselines.

    Payload: ``table`` (DataFrame with id, sequence), ``label`` (column or None), ``encoder``
    (name in :data:`core.encoders.ENCODERS`, default "near"), ``encoder_kw`` (dict),
    ``config`` (dict of :class:`ScanConfig` fields), ``baselines`` (names), ``coords`` (bool).
    """
    from core.cluster_metrics import encode_labels
    from core.jobs import RunResult
    from core.projection import project

    table = payload["table"].reset_index(drop=True)
    label = payload.get("label")
    cfg = replace(ScanConfig(), **payload.get("config", {}))
    encoder = payload.get("encoder", "near")
    if label is not None and label not in table.columns:
        raise KeyError(f"the data have no label column {label!r}")
    labels = class_names = None
    if label is not None:
        labels, class_names = encode_labels(table[label])
    ids = table["id"].astype(str).to_numpy()
    features, info = encode_table(table, encoder, encoder_kw=payload.get("encoder_kw"),
                                  seed=ctx.seed, device=ctx.device, on_progress=ctx.on_progress)
    t0 = time.perf_counter()
    fit = fit_scan(features, cfg, seed=ctx.seed, device=ctx.device, labels=labels,
                   on_progress=ctx.on_progress)
    scan_s = time.perf_counter() - t0
    out = evaluate_fit(fit, features, labels=labels, class_names=class_names, ids=ids,
                       sequences=table["sequence"].astype(str).tolist(), seed=ctx.seed,
                       baselines=payload.get("baselines", DEFAULT_BASELINES),
                       normalize=cfg.normalize)
    tables = out["tables"]
    tables["assignments"] = assignments_table(
        ids, fit.probabilities, labels_raw=table[label] if label is not None else None)
    arrays = {"ids": ids.astype(str), "features": features.astype(np.float32),
              "probabilities": fit.probabilities, "assignments": fit.assignments,
              "neighbours": fit.neighbours}
    if payload.get("coords", True):
        arrays["coords"] = project(features)
    if labels is not None:
        arrays["labels"] = labels
    metrics = out["metrics"]
    key = ({"name": "nmi", "value": metrics["nmi"]} if labels is not None
           else {"name": "silhouette", "value": metrics.get("silhouette", float("nan"))})
    weights = {"head": {k: v.detach().cpu() for k, v in fit.head.state_dict().items()}}
    import torch

    weights["head"]["_best_head"] = torch.tensor(fit.best_head)
    weights["head"]["_mean"] = torch.from_numpy(fit.mean)
    weights["head"]["_scale"] = torch.from_numpy(fit.scale)
    weights["head"]["_gain"] = torch.tensor(fit.gain)
    if info["weights"]:
        weights.update(info["weights"])
    summary = {"key_metric": key, "encoder": encoder, "n": len(table),
               "n_clusters": cfg.n_clusters, "label": label, "class_names": class_names,
               "best_head": fit.best_head, "feature_cached": info["cached"],
               "timings": {"features_s": round(info["seconds"], 3), "scan_s": round(scan_s, 3)}}
    for name in ("pca_kmeans_nmi", "length_kmeans_nmi"):
        if name in metrics:
            summary[name] = metrics[name]
    return RunResult(metrics=metrics, history=info["history"] + fit.history, summary=summary,
                     weights=weights, arrays=arrays, tables=tables)


def add_arguments(parser) -> None:
    """Options of ``python -m core train scan``."""
    parser.add_argument("--dataset", default="scan10", help="built-in data set (default scan10)")
    parser.add_argument("--input", default=None, help="FASTA/CSV file instead of --dataset")
    parser.add_argument("--label", default=None,
                        help="label column for evaluation only (default: the data set's)")
    parser.add_argument("--no-label", action="store_true", help="evaluate without labels")
    parser.add_argument("--encoder", default="near", choices=["kmer", "near", "masked_lm", "esm2"])
    parser.add_argument("--clusters", type=int, default=None,
                        help="number of clusters (default: number of label classes, else 10)")
    parser.add_argument("--epochs", type=int, default=ScanConfig.epochs)
    parser.add_argument("--min-steps", type=int, default=ScanConfig.min_steps,
                        help="at least this many updates (small data sets get more epochs)")
    parser.add_argument("--knn", type=int, default=ScanConfig.knn)
    parser.add_argument("--heads", type=int, default=ScanConfig.n_heads)
    parser.add_argument("--hidden", type=int, default=0, help="MLP head width (0 = linear)")
    parser.add_argument("--self-label", action="store_true")
    parser.add_argument("--sweep", default=None, metavar="K,K,...",
                        help="instead of training: sweep these numbers of clusters and print "
                             "the silhouette's suggestion ('auto' = the default candidates)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default=None)


def cli_train(args) -> int:
    """Run ``scan.fit`` in this process and print the metrics; exit code 0 on success."""

    from core import datasets
    from core.jobs import print_outcome, run_inline
    from core.store import RunStore

    if args.input:
        from core.io import read_sequences

        table = read_sequences(args.input).table
        name = args.input
        label = None if args.no_label else args.label
    else:
        table = datasets.load(args.dataset)
        name = args.dataset
        label = None if args.no_label else (args.label or datasets.get_spec(args.dataset).label)
    n_clusters = args.clusters or (int(table[label].nunique()) if label else 10)
    config = {"n_clusters": n_clusters, "epochs": args.epochs, "min_steps": args.min_steps,
              "knn": args.knn,
              "n_heads": args.heads, "hidden": args.hidden, "self_label": args.self_label}
    store = RunStore()
    if args.sweep:
        ks = [] if args.sweep == "auto" else [int(k) for k in args.sweep.split(",")]
        run_id = run_inline("scan.sweep", {"table": table, "label": label, "encoder": args.encoder,
                                           "ks": ks, "config": {"knn": args.knn}},
                            store, method="scan_sweep", name=f"{args.encoder} sweep on {name}",
                            config={"encoder": args.encoder, "ks": ks},
                            dataset={"name": name, "n": len(table)}, seed=args.seed,
                            device=args.device)
        return print_outcome(store, run_id, show=lambda run: store.load_table(
            run.id, "sweep").round(3).to_string(index=False)
            + f"\nsuggested number of clusters: {int(run.metrics['suggested_k'])}")
    run_id = run_inline("scan.fit", {"table": table, "label": label, "encoder": args.encoder,
                                     "config": config},
                        store, method="scan", name=f"SCAN ({args.encoder}) on {name}",
                        config=config | {"encoder": args.encoder},
                        dataset={"name": name, "n": len(table)}, seed=args.seed,
                        device=args.device)
    return print_outcome(store, run_id)
