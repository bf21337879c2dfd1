"""tuoyu-sim: capacity planning for community childcare for children under three (托育)."""

from __future__ import annotations

__version__ = "0.1.0"
