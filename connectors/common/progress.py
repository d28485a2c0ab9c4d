"""A progress bar over the bytes of a file, shown only on a terminal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

__all__ = ["byte_progress"]


@contextmanager
def byte_progress(
    label: str, total_bytes: int, console: Console, *, enabled: bool | None = None
) -> Iterator[Callable[[int], None]]:
    """Yields ``update(bytes_read)``; a no-op when the console is not a terminal."""
    show = console.is_terminal if enabled is None else enabled
    if not show:
        yield lambda _done: None
        return
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )
    with progress:
        task = progress.add_task(label, total=total_bytes)

        def update(done: int) -> None:
            progress.update(task, completed=done)

        yield update
        progress.update(task, completed=total_bytes)
