#!/usr/bin/env bash
# Side-by-side figures of docs/performance.md: an earlier revision ("before") against this checkout
# ("after"), same venv, same machine, runs alternating. Run by hand from the repository root:
#
#   bash benchmarks/before_after.sh [BEFORE_REV] [OUT_DIR]      # defaults: 02a1041, /tmp/careerbot-before-after
#
# Needs the development venv (.venv: it has both torch + sentence-transformers for the old code and
# ONNX Runtime for the new). Each side gets its own data folder; the first step builds both indexes.
set -euo pipefail
REV=${1:-02a1041}
OUT=${2:-/tmp/careerbot-before-after}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=$ROOT/.venv/bin/python
mkdir -p "$OUT" && : > "$OUT/rss.txt"
BEFORE=$OUT/before-code
rm -rf "$BEFORE" && mkdir -p "$BEFORE" && git -C "$ROOT" archive "$REV" | tar -x -C "$BEFORE"
AFTER=$ROOT
Q="What does an AI engineer do?"
code_of() { if [ "$1" = before ]; then echo "$BEFORE"; else echo "$AFTER"; fi; }
data_of() { echo "$OUT/$1-data"; }
cli() { local side=$1; shift; (cd "$(code_of "$side")" && PYTHONPATH=$(code_of "$side") CAREERBOT_DATA_DIR=$(data_of "$side") \
    CAREERBOT_LOG_LEVEL=WARNING "$PY" -m bot.cli "$@"); }

for side in before after; do cli $side index build > "$OUT/index-$side.txt" 2>&1; done
# A first answer on each side writes the cards' vector cache, so the timed starts below are warm starts.
for side in before after; do cli $side ask "$Q" > /dev/null 2>&1; done

: > "$OUT/cold.txt"   # wall seconds and max RSS of a whole `careerbot ask --json`, three rounds
for round in 1 2 3; do for side in before after; do
  (cd "$(code_of $side)" && /usr/bin/time -f "$side %e s %M KB" env PYTHONPATH="$(code_of $side)" \
      CAREERBOT_DATA_DIR="$(data_of $side)" CAREERBOT_LOG_LEVEL=WARNING "$PY" -m bot.cli ask "$Q" --json \
      > /dev/null 2>> "$OUT/cold.txt")
done; done

# RSS of a serving process after loading and one answer (what an idle bot holds).
for side in before after; do
  (cd "$(code_of $side)" && PYTHONPATH=$(code_of $side) "$PY" - "$(data_of $side)" <<'PYEOF'
import asyncio, sys, tempfile, time
from pathlib import Path
started = time.perf_counter()
from bot.config import Settings
from bot.messages import Inbound, Kind
from bot.runtime import Knowledge, build_brain
from bot.store import open_store
data = Path(sys.argv[1])
settings = Settings(data_dir=data, index_dir=data / "index", knowledge_dir=Path.cwd() / "knowledge")
knowledge = Knowledge.load(settings)
brain = build_brain(settings, knowledge, open_store(f"sqlite:///{tempfile.mkdtemp()}/rss.sqlite3"))
asyncio.run(brain.handle(Inbound("t", "U1", "C1", "What does an AI engineer do?", Kind.DM)))
rss = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS"))
print(f"first answer after {time.perf_counter() - started:.2f} s in-process; RSS {rss / 1024:.0f} MB")
PYEOF
  ) | sed "s/^/$side /" >> "$OUT/rss.txt"
done

for side in before after; do
  cli $side bench --rate 140 --concurrency 32 --json > "$OUT/bench140-$side.json" 2>&1
done
# The Slack HTTP adapter under a 200 events/s burst. slack_ack.py reads data/index (and data/model) of
# its checkout: this replaces them, in both checkouts, with the ones built above from the same articles.
for side in before after; do
  mkdir -p "$(code_of $side)/data" && rm -rf "$(code_of $side)/data/index" "$(code_of $side)/data/model"
  cp -r "$(data_of $side)/index" "$(code_of $side)/data/index"
  [ -d "$(data_of $side)/model" ] && cp -r "$(data_of $side)/model" "$(code_of $side)/data/model"
  (cd "$(code_of $side)" && PYTHONPATH=$(code_of $side) "$PY" benchmarks/slack_ack.py --rate 200 --seconds 5 --json \
      > "$OUT/slack200-$side.json" 2>&1)
done
echo "results in $OUT"
