"""The shared engine cases (`tests/cases/*.jsonl`), also run by the Rust tests (`tests/engine_cases.rs`):
the binding can never drift from the core."""

from typing import Any, Dict

import pytest

import huashu
from conftest import CASES, read_jsonl

SCAN = read_jsonl(CASES / "scan.jsonl")
SCORE = read_jsonl(CASES / "score.jsonl")


def test_case_files_are_there() -> None:
    assert len(SCAN) >= 20
    assert len(SCORE) >= 5


@pytest.mark.parametrize("case", SCAN, ids=[c["text"][:12] for c in SCAN])
def test_scan_case(engine: huashu.Engine, case: Dict[str, Any]) -> None:
    text, role = case["text"], case["role"]
    got = [
        {
            "rule": f.rule,
            "category": f.category,
            "start": f.start,
            "end": f.end,
            "matched": f.matched,
            "suggestion": f.suggestions[0].replacement if f.suggestions else None,
        }
        for f in engine.scan(text, role=role)
    ]
    assert got == case["findings"]
    for f in engine.scan(text, role=role):
        assert text[f.start : f.end] == f.matched
        assert text.encode()[f.byte_start : f.byte_end].decode() == f.matched
        for s in f.suggestions:
            assert (s.start, s.end) == (f.start, f.end)
    assert engine.rewrite(text, role=role) == case["rewrite"]


@pytest.mark.parametrize("case", SCORE, ids=[c["name"] for c in SCORE])
def test_score_case(engine: huashu.Engine, case: Dict[str, Any]) -> None:
    r = engine.score(case["turns"])
    assert (r.score, r.passed, r.fatal) == (case["score"], case["passed"], case["fatal"])
    s = r.structure
    assert {k: getattr(s, k) for k in case["structure"]} == case["structure"]
    assert [f.rule for f in r.findings] == case["rules"]
    assert [c.id for c in r.checks if not c.passed] == case["failed_checks"]
    assert r.turns == len(case["turns"])


@pytest.mark.parametrize("case", SCORE, ids=[c["name"] for c in SCORE])
def test_streaming_equals_batch(engine: huashu.Engine, case: Dict[str, Any]) -> None:
    session = engine.session()
    for t in case["turns"]:
        # A draft first (never changes the score), then the final turn.
        session.revise(t["text"][: len(t["text"]) // 2], role=t["role"])
        session.push(t["text"], role=t["role"], start_ms=t.get("start_ms"), end_ms=t.get("end_ms"))
    assert session.finish().to_dict() == engine.score(case["turns"]).to_dict()
