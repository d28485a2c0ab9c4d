"""``python -m hub.router``: one router worker, configured by the environment.

Settings come from ``HUB_*`` (:class:`~hub.config.HubSettings`), worker options as JSON
in ``HUB_ROUTER_OPTIONS`` (:class:`~hub.router.options.RouterOptions`); this is how
:class:`~hub.router.runtime.RouterProcess` starts workers.
"""

from __future__ import annotations

import os

from hub.config import load_settings
from hub.router.options import OPTIONS_ENV, RouterOptions
from hub.router.runtime import run_worker

__all__: list[str] = []

if __name__ == "__main__":
    raw = os.environ.get(OPTIONS_ENV)
    options = RouterOptions.model_validate_json(raw) if raw else RouterOptions()
    run_worker(load_settings(), options)
