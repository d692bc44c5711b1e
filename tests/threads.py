"""Running the same work in several threads released at once, for concurrency tests."""

import threading
from collections.abc import Callable

WRITERS = 6


def run_together(work: Callable[[int], None]) -> list[BaseException | None]:
    """Run work(i) in WRITERS threads released at once; each outcome is None or the error."""
    barrier = threading.Barrier(WRITERS)
    outcomes: list[BaseException | None] = [None] * WRITERS

    def run(i: int) -> None:
        barrier.wait()
        try:
            work(i)
        except BaseException as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes
