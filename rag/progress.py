"""A progress bar per stage on stderr, for the command line's long runs (indexing, the
evaluations). The library reports progress as `progress(stage, done, total)` calls and leaves
drawing to this; stdout stays free for `--json` output."""

from __future__ import annotations

import sys
from typing import Any


class ProgressBar:
    """A tqdm bar per stage on stderr."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._stage = ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        from tqdm import tqdm

        if stage != self._stage:
            self.close()
            self._stage = stage
            self._bar = tqdm(total=total, desc=f"{stage:>6}", unit=" chunks" if stage == "embed" else " docs",
                             file=sys.stderr, leave=True)
        self._bar.n = done
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
