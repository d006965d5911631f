"""Writing scans the way a scanner would: 16-bit TIFF with a JSON sidecar, or NEMA DICOS."""

from smartcustoms.scans.writers.dicos import write_dicos
from smartcustoms.scans.writers.tiff import write_tiff

__all__ = ["write_dicos", "write_tiff"]
