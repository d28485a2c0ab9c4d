"""Documents generated from the code: the AsyncAPI description of the hub's topics."""

from __future__ import annotations

from hub.docs.asyncapi import ASYNCAPI_VERSION, build_asyncapi, render_asyncapi

__all__ = ["ASYNCAPI_VERSION", "build_asyncapi", "render_asyncapi"]
