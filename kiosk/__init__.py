"""Giliran: queue software for Indonesian public-service halls (the kiosk room owns the truth)."""

__version__ = "0.1.0"
