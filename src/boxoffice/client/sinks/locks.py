"""A lock file held for the whole run, so that two syncs never write one copy at once."""

import fcntl
import os
from pathlib import Path

from boxoffice.client.errors import SinkBusy


class RunLock:
    """An exclusive flock on `path`; the kernel drops it when the process dies, however."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            raise SinkBusy(f"another sync is running on this target ({path} is locked)") from None

    def release(self) -> None:
        if self._fd >= 0:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = -1
