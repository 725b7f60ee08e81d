"""Streamlit-only helpers shared by the pages (the only non-page code importing streamlit)."""
