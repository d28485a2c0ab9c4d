"""``python -m hub`` is the ``rmt-hub`` command."""

from __future__ import annotations

from hub.cli import main

__all__: list[str] = []

if __name__ == "__main__":
    main()
