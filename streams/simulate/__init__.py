"""A traffic simulator calibrated to the published industry figures (``calibration.toml``)."""
