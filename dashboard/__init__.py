"""The executive dashboard (Streamlit + Altair)."""
