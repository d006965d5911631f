"""Calibrated dual-energy physics: XCOM cross-sections, materials, spectra, the attenuation model,
per-scanner calibration and the decomposition of (α_high, α_low) into areal density and Z_eff."""
