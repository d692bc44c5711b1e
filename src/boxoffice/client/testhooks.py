"""Crash points for the crash-safety tests: BOXOFFICE_SYNC_TEST_CRASH=<point>:<n>.

With the variable set, the process kills itself with SIGKILL (no cleanup, no flush: like a
power cut for the process) the n-th time it reaches `point`. Points: before_commit (a
batch is written, its transaction not committed), after_commit, and in the Parquet sink
compacting (some tables replaced, the state not yet). Unset, this does nothing.
"""

import os
import signal
from collections import Counter

ENV = "BOXOFFICE_SYNC_TEST_CRASH"

_reached: Counter[str] = Counter()


def crash_point(point: str) -> None:
    spec = os.environ.get(ENV)
    if not spec:
        return
    name, _, count = spec.partition(":")
    if name != point:
        return
    _reached[point] += 1
    if _reached[point] >= int(count or "1"):
        os.kill(os.getpid(), signal.SIGKILL)
