"""rmt-hub: the consent-aware data-exchange hub of the regional mobility teams.

Importing this package has no side effects: no broker, no logging setup, no app.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
