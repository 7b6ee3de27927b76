"""A short run of benchmarks/crash_soak.py: two real workers on PostgreSQL, one SIGKILL, one SIGTERM.

Counts only (lost, duplicated, orphan placeholders, never acked); the latencies it also prints are
benchmark figures, not test assertions.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "unit"))
from test_store import PG_URL, postgres_unreachable  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def test_short_crash_soak_loses_and_doubles_nothing(knowledge, base_settings) -> None:
    if reason := postgres_unreachable():
        pytest.skip(reason)
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "crash_soak.py"), "--seconds", "20", "--rate", "20000",
         "--burst-seconds", "5", "--burst-rate", "100000", "--settle-seconds", "120",
         "--database-url", PG_URL, "--index-dir", str(base_settings.index_dir), "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=1800,
    )
    assert done.stdout, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["events"] > 100 and len(result["chaos"]) == 5, result
    assert result["never_acked"] == 0, result
    assert (result["lost"], result["duplicated"], result["orphan_placeholders"]) == (0, 0, 0), result
    assert done.returncode == 0
