"""YAML reading with libyaml's safe loader where PyYAML has it.

Why: the pure-Python loader spent most of a serving process's start-up parsing skills.yaml,
quiz.yaml and cards.yaml (seconds on a busy machine); `CSafeLoader` builds the same plain values
(no Python objects, like `safe_load`) in compiled code.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["safe_load"]

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader (libyaml's or PyYAML's)
