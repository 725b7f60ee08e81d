"""A cluster's sequence logo: its members aligned on a profile HMM (made in the SCAN job)."""
from __future__ import annotations

import streamlit as st

from core.hmm import column_occupancy
from core.io import to_fasta_bytes
from core.logos import figure_bytes, logo_figure, logo_matrix
from core.store import StoreError
from pages._shared.cache import run_table

WINDOW = 60


@st.cache_data(max_entries=32, show_spinner=False)
def _logo_png(rows: tuple[str, ...], start: int, stop: int, kind: str, title: str,
              fmt: str) -> bytes:
    matrix = logo_matrix(rows, kind=kind, start=start, stop=stop)
    return figure_bytes(logo_figure(matrix, title=title), fmt)


def cluster_logo(run, cluster: str) -> None:
    """Logo of ``cluster``'s aligned members with a column window, and downloads."""
    try:
        table = run_table(run.id, run.finished, "alignments")
    except StoreError:
        st.caption("This run predates per-cluster alignments; train again for logos.")
        return
    part = table[table["cluster"] == cluster].sort_values("rank")
    if part.empty:
        st.caption(f"Cluster {cluster} has no alignment (its members have no residues).")
        return
    rows = tuple(part["aligned"])
    width = len(rows[0])
    st.markdown(f"**Sequence logo of {cluster}** — {len(rows)} most central member(s) aligned "
                f"on a profile HMM grown from `{part['id'].iloc[0]}` (pyhmmer: hmmbuild-style "
                f"profile, hmmalign, one refinement); {width} match columns.")
    c1, c2 = st.columns([3, 1])
    start, stop = 0, width
    if width > WINDOW:
        start, stop = c1.slider("Columns", 1, width, (1, WINDOW), key=f"scan.w.logo_win.{cluster}")
        start -= 1
    kind = c2.radio("Letter height", ["information", "probability"], horizontal=True,
                    key="scan.w.logo_kind")
    title = f"{cluster}: columns {start + 1}–{stop} of {width}"
    png = _logo_png(rows, start, stop, kind, title, "png")
    st.image(png, width="stretch")
    occupancy = column_occupancy(list(rows))[start:stop]
    st.caption(f"Columns shown are occupied by {occupancy.mean():.0%} of members on average "
               "(gaps are ignored in letter heights).")
    d1, d2, d3 = st.columns(3)
    d1.download_button("Logo (PNG)", png, file_name=f"{run.id}_{cluster}_logo.png",
                       mime="image/png", key="scan.w.dl_logo_png", icon=":material/download:")
    d2.download_button("Logo (SVG)", _logo_png(rows, start, stop, kind, title, "svg"),
                       file_name=f"{run.id}_{cluster}_logo.svg", mime="image/svg+xml",
                       key="scan.w.dl_logo_svg", icon=":material/download:")
    d3.download_button("Alignment (aligned FASTA)",
                       to_fasta_bytes(part, sequence_column="aligned", line_width=None),
                       file_name=f"{run.id}_{cluster}_aligned.fasta", mime="text/plain",
                       key="scan.w.dl_logo_fa", icon=":material/download:")
