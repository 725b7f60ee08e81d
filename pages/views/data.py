"""Data: upload sequence files or pick a built-in set, read the validation report, keep it."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.config import Settings
from core.intake import drop_error_records, fingerprint, merge_parsed
from core.io import NONSTANDARD_POLICIES, ValidationError, read_sequences, validate
from pages._shared.cache import builtin_catalogue, get_store, load_builtin
from pages._shared.data import active_info, clear_active, set_active, show_flash
from pages._shared.views import show_overview, show_report

FORMATS = ["auto", "fasta", "aligned_fasta", "a2m", "stockholm", "csv", "tsv"]
EXTENSIONS = ["fasta", "fa", "faa", "fas", "fna", "txt", "csv", "tsv", "sto", "stk",
              "stockholm", "a2m", "aln", "afa"]
POLICY_HELP = {"keep": "keep B, Z, J, U, O, X as they are (counted, warned)",
               "to_x": "replace them by X (counted, warned)",
               "reject": "treat them as errors"}


@st.cache_data(show_spinner="Reading and validating…", max_entries=16)
def parse_upload(data: bytes, filename: str, fmt: str, policy: str, max_length: int,
                 max_bytes: int):
    return read_sequences(data, filename=filename, format=None if fmt == "auto" else fmt,
                          nonstandard=policy, max_length=max_length, max_bytes=max_bytes)


def keep_controls(parsed, *, default_name: str, source: str) -> None:
    """Name the data set and make it active; records with errors only leave on request."""
    name = st.text_input("Name of this data set", value=default_name, max_chars=80,
                         key=f"data.w.name.{source}")
    table, dropped = parsed.table, []
    n_bad = len(drop_error_records(parsed)[1])
    if n_bad:
        st.info(f"{n_bad} record(s) have errors. You may drop exactly those and keep the "
                f"other {len(table) - n_bad:,}; the report above stays with the data set.")
        if not st.checkbox(f"Drop the {n_bad} record(s) with errors", key=f"data.w.drop.{source}"):
            st.button("Use this data set", disabled=True, key=f"data.w.use.{source}",
                      help="Fix the errors in the file, or tick the box above.")
            return
        table, dropped = drop_error_records(parsed)
    if st.button("Use this data set", type="primary", key=f"data.w.use.{source}",
                 icon=":material/check:"):
        fp = fingerprint(table)
        key = get_store().save_dataset(table, name=name, fingerprint=fp, meta={
            "source": source, "report": parsed.report.to_dict(), "dropped": dropped})
        set_active(source="upload", name=name, n=len(table), fingerprint=fp, key=key,
                   message=f"**{name}** ({len(table):,} sequences) is the active data set, "
                           f"kept in the workspace as `{key}`.")


st.title("Data")
show_flash()
st.caption("Bring sequences in. Every file is validated; problems are listed with the record "
           "and line, and nothing is changed or dropped without your say.")

upload_tab, builtin_tab, kept_tab = st.tabs(["Upload files", "Built-in data sets",
                                             "Kept data sets"])
settings = Settings.from_env()

with upload_tab:
    c1, c2, c3 = st.columns(3)
    fmt = c1.selectbox("Format", FORMATS, key="data.w.format",
                       help="'auto' recognises the format from the name and content.")
    policy = c2.selectbox("Non-standard letters (B Z J U O X)", NONSTANDARD_POLICIES,
                          format_func=lambda p: f"{p}: {POLICY_HELP[p]}", key="data.w.policy")
    max_length = c3.number_input("Longest sequence allowed", 10, 100_000, 5000, step=100,
                                 key="data.w.max_length")
    files = st.file_uploader(
        "FASTA, CSV/TSV (id, sequence, labels…), Stockholm, A2M or aligned FASTA",
        type=EXTENSIONS, accept_multiple_files=True, key="data.w.upload",
        help=f"Up to {settings.max_upload_mb} MB per file. Several files become one data "
             "set with a `file` column.")
    if files:
        parsed, unreadable = {}, []
        for upload in files:
            try:
                parsed[upload.name] = parse_upload(upload.getvalue(), upload.name, fmt, policy,
                                                   int(max_length),
                                                   settings.max_upload_mb * 1024 * 1024)
            except ValidationError as exc:
                unreadable.append(f"**{upload.name}**: {exc}")
        for line in unreadable:
            st.error(line, icon=":material/block:")
        if parsed:
            merged = merge_parsed(parsed)
            show_report(merged.report, key="data.upload")
            show_overview(merged.table, key="data.upload")
            keep_controls(merged, default_name=Path(files[0].name).stem, source="upload")

with builtin_tab:
    catalogue = builtin_catalogue()
    st.dataframe(catalogue[["name", "kind", "title", "found", "where", "licence"]],
                 hide_index=True, width="stretch")
    found = catalogue.loc[catalogue["found"], "name"].tolist()
    if not found:
        st.warning("No built-in data set was found. Put the data folder beside the checkout "
                   "(../shared/data) or set $PROTLENS_DATA.")
    else:
        choice = st.selectbox("Built-in data set", found, key="data.w.builtin")
        table = load_builtin(choice)
        report = validate(table, aligned="aligned" in table.columns, source=choice,
                          group_by="family_id" if "family_id" in table.columns else None)
        show_report(report, key="data.builtin")
        show_overview(table, key="data.builtin")
        if st.button(f"Use {choice}", type="primary", key="data.w.use_builtin",
                     icon=":material/check:"):
            set_active(source="builtin", name=choice, n=len(table), fingerprint=fingerprint(table),
                       message=f"**{choice}** ({len(table):,} sequences) is the active data set.")

with kept_tab:
    kept = get_store().list_datasets()
    if not kept:
        st.info("No kept data sets yet: upload files and press 'Use this data set'.")
    for info in kept:
        with st.container(border=True):
            left, mid, right = st.columns([4, 1, 1])
            left.markdown(f"**{info['name']}** — {info['n']:,} sequences, saved {info['saved']}"
                          f" (`{info['key']}`)")
            if mid.button("Use", key=f"data.w.kept.use.{info['key']}"):
                set_active(source="upload", name=info["name"], n=info["n"],
                           fingerprint=info["fingerprint"], key=info["key"],
                           message=f"**{info['name']}** is the active data set.")
            confirm_key = f"data.w.kept.confirm.{info['key']}"
            if right.button("Delete", key=f"data.w.kept.del.{info['key']}"):
                st.session_state[confirm_key] = True
            if st.session_state.get(confirm_key):
                st.warning(f"Delete the kept data set **{info['name']}**? Runs trained on it "
                           "keep their own results.", icon=":material/delete:")
                yes, no, _ = st.columns([1, 1, 4])
                if yes.button("Yes, delete", key=f"data.w.kept.yes.{info['key']}"):
                    get_store().delete_dataset(info["key"])
                    if (active_info() or {}).get("key") == info["key"]:
                        clear_active()
                    st.session_state.pop(confirm_key, None)
                    st.rerun()
                if no.button("Keep it", key=f"data.w.kept.no.{info['key']}"):
                    st.session_state.pop(confirm_key, None)
                    st.rerun()

active = active_info()
if active:
    st.divider()
    st.markdown(f"Active data set: **{active['name']}** ({active['n']:,} sequences, "
                f"{active['source']}). Fingerprint `{active['fingerprint'][:12]}`.")
