"""Thread scheduling priority: answer work yields the CPU to the event loop that acks events.

Why: acknowledging a platform event (Slack's 3 s, Discord's interaction deadline) takes well under
a millisecond of CPU, but it runs on the event loop, and under a burst the answer threads (the
embedding, retrieval, composition) keep both cores busy. Linux schedules threads, not processes,
and a thread may lower its own priority without privileges; a lower-priority answer thread still
gets all the CPU the loop does not want, so throughput stays, while the loop is run first.
"""

from __future__ import annotations

import logging
import os
import threading

__all__ = ["lower_current_thread_priority"]

_log = logging.getLogger("careerbot.priority")


def lower_current_thread_priority(by: int) -> bool:
    """Raise the calling thread's nice value by `by` (0 does nothing); False where unsupported.

    Threads this thread starts later inherit the value (Linux copies it at thread creation).
    """
    if by <= 0:
        return False
    if not hasattr(os, "setpriority") or not hasattr(threading, "get_native_id"):
        return False
    tid = threading.get_native_id()
    try:
        # On Linux, PRIO_PROCESS with a thread id sets that one thread's nice value.
        current = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, current + by))
    except OSError as exc:  # a sandbox may forbid it; answers run at the normal priority then
        _log.debug("could not lower the priority of thread %d: %s", tid, exc)
        return False
    return True
