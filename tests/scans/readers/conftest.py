from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from smartcustoms.scans.model import BeamGeometry, EnergyChannel, Scan, ScanMetadata
from smartcustoms.scans.physics.calibration import geant4_calibration
from smartcustoms.scans.physics.spectra import Channel


@pytest.fixture
def small_scan() -> Scan:
    """A small dual-energy scan with per-row air levels and full metadata."""
    rng = np.random.default_rng(3)
    rows, cols = 40, 60
    channels = tuple(
        EnergyChannel(
            name,
            mev,
            rng.integers(200, 60000, (rows, cols)).astype(np.uint16),
            np.linspace(55000, 60000, rows).astype(np.float32),
            np.full(rows, 300.0 + i, dtype=np.float32),
        )
        for i, (name, mev) in enumerate(((Channel.HIGH, 9.0), (Channel.LOW, 6.0)))
    )
    meta = ScanMetadata(
        scanner_id="KE-MSA-01",
        container_number="CSQU3054383",
        container_type="45G1",
        declaration_ref="2025MSA000123",
        acquired_at=datetime(2025, 3, 1, 8, 30, tzinfo=UTC),
        calibration=geant4_calibration(),
        extra={"lane": 2},
    )
    return Scan(channels, 5.5, 6.0, meta, BeamGeometry(33.0, 6000.0))
