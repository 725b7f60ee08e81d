"""ProtLens backend: data in, models, metrics and the run store. Never imports streamlit.

Importing ``core`` stays cheap: torch, umap and other heavy libraries are imported by the
modules and functions that need them.
"""

__version__ = "0.1.0"
