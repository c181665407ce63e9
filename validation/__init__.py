"""Validation scripts: calibration of the analysis by simulation."""
