"""``python -m schemas [DIR]``: validate the schema files (the package's own by default)."""

from __future__ import annotations

import sys

from hub.cli.schemas import app

__all__: list[str] = []

if __name__ == "__main__":
    app(args=["validate", *sys.argv[1:]], prog_name="python -m schemas")
