"""The analyses of a scan, and :func:`analyze`, which runs the ones that apply."""

from smartcustoms.scans.analyses.pipeline import ANALYSIS_VERSION, analyze

__all__ = ["ANALYSIS_VERSION", "analyze"]
