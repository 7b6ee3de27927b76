"""Container health check: exit 0 when careerbot's /readyz answers 200, else 1 (and say why).

Used by the image's HEALTHCHECK and compose. It asks the running bot on CAREERBOT_HTTP_PORT
(default 8080); `--path /healthz` checks liveness only. Standard library only, no bot imports:
it starts in milliseconds and cannot be broken by the bot's own dependencies.
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.error
import urllib.request


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("CAREERBOT_HTTP_PORT") or 8080))
    parser.add_argument("--path", default="/readyz")
    parser.add_argument("--timeout", type=float, default=3.0)
    args = parser.parse_args(argv)
    url = f"http://127.0.0.1:{args.port}{args.path}"
    try:
        with urllib.request.urlopen(url, timeout=args.timeout) as resp:  # noqa: S310 - a fixed local URL
            status = resp.status
    except urllib.error.HTTPError as exc:
        print(f"careerbot health: {url} answered {exc.code}: {exc.read(300).decode(errors='replace').strip()}")
        return 1
    except OSError as exc:
        print(f"careerbot health: {url}: {getattr(exc, 'reason', exc)}")
        return 1
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
