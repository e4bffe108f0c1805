"""A progress bar on stderr for long work, drawn only when stderr is a terminal and the work
is big enough to be worth watching (pipes and logs stay clean)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import IO, TypeVar

T = TypeVar("T")
THRESHOLD = 1000
WIDTH = 30


class Progress:
    """`update(done, total)` redraws at most ten times a second; `close()` ends the line."""

    def __init__(
        self, label: str, total: int = 0, *, stream: IO[str] | None = None, force: bool = False
    ) -> None:
        self.label = label
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.tty = force or self.stream.isatty()
        self.drawn = False
        self._last = 0.0

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, done: int, total: int | None = None) -> None:
        if total is not None:
            self.total = total
        if not self.tty or self.total <= THRESHOLD:
            return
        now = time.monotonic()
        if done < self.total and now - self._last < 0.1:
            return
        self._last = now
        share = min(1.0, done / self.total)
        filled = int(share * WIDTH)
        bar = "#" * filled + "." * (WIDTH - filled)
        self.stream.write(f"\r{self.label} [{bar}] {share:4.0%} {done}/{self.total}")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False

    def track(self, items: Iterable[T], every: int = 256) -> Iterator[T]:
        """Yield `items`, counting them on the bar."""
        done = 0
        for item in items:
            yield item
            done += 1
            if done % every == 0:
                self.update(done)
        self.update(done)
