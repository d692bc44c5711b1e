"""A lock file held for the whole run, so that two syncs never write one copy at once."""

import fcntl
import os
from pathlib import Path

from boxoffice.client.errors import SinkBusy


class RunLock:
    """An exclusive flock on `path`; the kernel drops it when the process dies, however.

    The file exists only while a run holds it: release() deletes it before unlocking. A run
    that opened the file just before it was deleted may then lock the deleted file, so a
    lock counts only while `path` is still that file; otherwise it is taken again.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise SinkBusy(
                    f"another sync is running on this target ({path} is locked)"
                ) from None
            if _same_file(fd, path):
                self._fd = fd
                return
            os.close(fd)

    def release(self) -> None:
        if self._fd >= 0:
            self._path.unlink(missing_ok=True)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = -1


def _same_file(fd: int, path: Path) -> bool:
    try:
        on_disk = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (on_disk.st_dev, on_disk.st_ino)
