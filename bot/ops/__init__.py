"""Operating a running bot: health and readiness, Prometheus metrics, structured logs, `careerbot check`.

Nothing here knows Slack or Discord: adapters register a "connected?" callable with `Health`, and
the brain reports every answer to the observers it was given (`Metrics.observe`, `AnswerLog`).
"""

from bot.ops.health import Health
from bot.ops.http import add_ops_routes, ops_routes, start_ops_server
from bot.ops.logs import AnswerLog, configure_logging, hash_user
from bot.ops.metrics import Metrics

__all__ = ["AnswerLog", "Health", "Metrics", "add_ops_routes", "configure_logging", "hash_user", "ops_routes",
           "start_ops_server"]
