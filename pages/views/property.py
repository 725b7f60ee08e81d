"""Property models: triplet CNN + Gaussian-process read-out on a few labelled variants."""
from __future__ import annotations

import streamlit as st

from core import describe
from core.datasets import by_kind
from core.io import dataset_fingerprint
from pages._shared import state
from pages._shared.cache import get_jobs
from pages._shared.method import pick_data, pick_run
from pages._shared.property_views import show_results

RUN_KEY = "property.run_id"
COMMITTEES = ["none", "linear+matern", "matern", "auto"]
LABEL_SCALES = ["none", "auto", "log"]
MERGES = ["no", "auto", "yes"]
TRENDS = ["none", "auto", "distance"]
# The form opens on ProtLens's best measured model, triplet_cnn_gp_auto (README, item 3): three
# encoder seeds, the linear + Matérn committee, label scale and column merging by inner CV.
DEFAULT = {"n_models": 3, "committee": "linear+matern", "label_scale": "auto",
           "merge_columns": "auto", "trend": "none"}

st.title("Property models")
st.caption("A triplet-trained CNN embeds each variant; a Gaussian process reads the property "
           "off the embedding, with its uncertainty (seed 000: Deep Metric Learning for "
           "Proteomics). Baselines are fitted and scored the same way.")

# ---------------------------------------------------------------- data and label
choice = pick_data(by_kind("property"), key="property")
table, default_label, data_name = choice.table, choice.default_label, choice.name
labels = describe.numeric_labels(table)
if not labels:
    st.error(f"**{data_name}** has no numeric label column to learn from. Upload a CSV with "
             "id, sequence and at least one measured property.", icon=":material/error:")
    st.stop()
label = st.selectbox("Property to predict", labels, key="property.w.label",
                     index=labels.index(default_label) if default_label in labels else 0)
n_missing = int(table[label].isna().sum())
split_note = (f"official split: {int((table['split'] == 'train').sum())} train / "
              f"{int((table['split'] == 'test').sum())} test" if "split" in table
              else "no split column: every labelled row trains, nothing is scored")
st.caption(f"{len(table):,} sequences; {split_note}; {n_missing} without a value "
           "(embedded and predicted, never trained on).")

# ---------------------------------------------------------------- train
with st.form("property.w.form"):
    c1, c2, c3, c4 = st.columns(4)
    epochs = c1.number_input("Epochs (max)", 1, 500, 60, key="property.w.epochs",
                             help="Early stopping on 20 % of the training proteins decides "
                                  "the epoch actually kept.")
    n_models = c2.number_input("Seed ensemble", 1, 10, DEFAULT["n_models"], key="property.w.n_models",
                               help="Encoders trained with different seeds; their GP "
                                    "predictions are pooled.")
    readout = c3.selectbox("GP reads", ["embedding", "pooled", "embedding+blosum",
                                        "embedding+onehot"], key="property.w.readout",
                           help="The final embedding, the 512 max-pooled features, or the "
                                "embedding plus a BLOSUM62 / one-hot block.")
    baselines = c4.checkbox("Fit baselines", value=True, key="property.w.baselines",
                            help="One-hot GP, BLOSUM62 GP (Matérn; and with a linear term), "
                                 "ridge on one-hot and the MSE-trained CNN + GP, on the same "
                                 "split.")
    committee = c4.selectbox("Committee", COMMITTEES, key="property.w.committee",
                             index=COMMITTEES.index(DEFAULT["committee"]),
                             help="Mix the CNN ensemble's prediction with GPs on one-hot and "
                                  "BLOSUM62 rows: Matérn kernels, or linear + Matérn "
                                  "(additive per-residue effects plus the rest); auto: "
                                  "whichever cross-validation inside the training rows "
                                  "prefers.")
    label_scale = c3.selectbox("Label scale", LABEL_SCALES, key="property.w.label_scale",
                               index=LABEL_SCALES.index(DEFAULT["label_scale"]),
                               help="The scale the GPs fit the property on. auto: plain or "
                                    "log (positive values only), whichever cross-validation "
                                    "inside the training rows prefers, weighted towards "
                                    "training variants with as many mutations (column m) as "
                                    "the ones to predict. With the linear + Matérn committee "
                                    "and Merge columns on auto this is ProtLens's best "
                                    "model, triplet_cnn_gp_auto.")
    merge = c2.selectbox("Merge columns", MERGES, key="property.w.merge_columns",
                         index=MERGES.index(DEFAULT["merge_columns"]),
                         help="The committee's one-hot GP reads positions that always change "
                              "together in the training rows (a chimera block) as one. auto: "
                              "by the same cross-validation as the label scale.")
    trend = c1.selectbox("Trend", TRENDS, key="property.w.trend",
                         index=TRENDS.index(DEFAULT["trend"]),
                         help="The GPs' prior mean: the training mean (none), or a line in "
                              "the distance to the parent (the rows with m = 0), which "
                              "extrapolates to variants with more or fewer mutations than "
                              "the training ones. auto: by the same cross-validation.")
    submitted = st.form_submit_button("Train", type="primary", icon=":material/play_arrow:")
if submitted:
    config = {"train": {"epochs": int(epochs)}, "n_models": int(n_models), "readout": readout,
              "baselines": bool(baselines), "label_scale": label_scale,
              "merge_columns": merge, "label_trend": trend,
              "seed": int(st.session_state[state.SEED])}
    if committee != "none":
        config.update(committee=True, committee_kernel=committee)
    dataset = {"name": data_name, "n": len(table), "fingerprint": dataset_fingerprint(table),
               "source": "builtin" if choice.builtin else "upload"}
    st.session_state[RUN_KEY] = get_jobs().submit(
        "property.fit", {"table": table, "label": label, "config": config, "dataset": data_name},
        method="property", name=f"{label} on {data_name}", config=config, dataset=dataset,
        seed=config["seed"], device=st.session_state[state.DEVICE])

# ---------------------------------------------------------------- pick a run
run = pick_run("property", key="property",
               empty="No property model yet: press **Train**. On the absorption set the default "
                     "model took 3.5 minutes on a 2-core CPU; one encoder seed with "
                     "Committee none took 1 minute (test MAE 17.5 against 20.0).")
show_results(run)
