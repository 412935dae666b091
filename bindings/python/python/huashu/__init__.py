"""Huashu (话术): check customer-service agents' messages against rulesets and score conversations.

    >>> import huashu
    >>> engine = huashu.Engine()                    # the bundled zh-CN ruleset
    >>> [f.rule for f in engine.scan("这不是我的问题", role="agent")]
    ['F004']

Character offsets: ``text[f.start:f.end] == f.matched`` for every finding ``f``.
"""

from huashu._huashu import (
    CheckResult,
    Engine,
    Finding,
    HuashuError,
    InputError,
    Report,
    RulesetError,
    ScanResults,
    ScoreResults,
    Session,
    SessionClosedError,
    Structure,
    Suggestion,
    __version__,
)

__all__ = [
    "CheckResult",
    "Engine",
    "Finding",
    "HuashuError",
    "InputError",
    "Report",
    "RulesetError",
    "ScanResults",
    "ScoreResults",
    "Session",
    "SessionClosedError",
    "Structure",
    "Suggestion",
    "__version__",
]
