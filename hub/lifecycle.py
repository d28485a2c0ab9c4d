"""One shape for what the hub starts and stops: ``with thing:`` starts it, leaving stops it."""

from __future__ import annotations

from types import TracebackType
from typing import Self

__all__ = ["Startable"]


class Startable:
    """A context manager over :meth:`start` and :meth:`stop`, which subclasses define."""

    def start(self) -> object:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
