"""A JSON configuration file read into a pydantic model, with one kind of error message.

Every data file a deployment may replace (the partner directory, the roll-out phases,
the selection weights) fails the same way: a :class:`~hub.errors.ConfigError` naming
what the file is, where it is, and the first fault (unreadable, the JSON's line and
column, or the field and why).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from hub.errors import ConfigError

__all__ = ["load_config"]

M = TypeVar("M", bound=BaseModel)


def load_config(model: type[M], what: str, source: str, read: Callable[[], str]) -> M:
    """``read()`` parsed as JSON into ``model``; ``what`` and ``source`` name the file in
    the ConfigError (``"partner directory"``, ``"/etc/rmt-hub/partners.json"``)."""
    try:
        return model.model_validate(json.loads(read()))
    except OSError as exc:
        raise ConfigError(f"{what} {source}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{what} {source}: invalid JSON at line {exc.lineno} column {exc.colno}"
        ) from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"{what} {source}: {where + ': ' if where else ''}{first['msg']}"
        ) from exc
