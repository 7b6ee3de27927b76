"""Answer threads run below the event loop's OS priority (Linux: per-thread nice values)."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.priority import lower_current_thread_priority

pytestmark = pytest.mark.skipif(not hasattr(os, "setpriority"), reason="no per-thread priorities here")


def own_nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_a_pool_thread_lowers_its_own_priority_and_only_its_own() -> None:
    main = own_nice()
    with ThreadPoolExecutor(1, initializer=lower_current_thread_priority, initargs=(5,)) as pool:
        inside = pool.submit(own_nice).result()

        def started_inside() -> int:
            # Threads an answer thread starts (the embedding batchers) inherit its priority.
            seen: list[int] = []
            t = threading.Thread(target=lambda: seen.append(own_nice()))
            t.start()
            t.join()
            return seen[0]

        child = pool.submit(started_inside).result()
    assert inside == min(19, main + 5) and child == inside
    assert own_nice() == main, "the calling thread (the event loop) keeps its priority"


def test_zero_changes_nothing() -> None:
    main = own_nice()
    with ThreadPoolExecutor(1, initializer=lower_current_thread_priority, initargs=(0,)) as pool:
        assert pool.submit(own_nice).result() == main
