"""The binding's batch results equal the CLI's on the same generated data (set HUASHU_BIN to the binary)."""

import json
import pathlib
import subprocess
import sys

import pytest

import huashu
from conftest import ROOT, huashu_bin

BIN = huashu_bin()
pytestmark = pytest.mark.skipif(BIN is None, reason="no huashu CLI (set HUASHU_BIN)")
GENERATE = ROOT / "examples" / "spark" / "generate.py"


def generate(n: int, *args: str) -> str:
    return subprocess.run([sys.executable, str(GENERATE), str(n), *args], check=True, capture_output=True, text=True).stdout


def cli(args: list, path: pathlib.Path) -> list:
    assert BIN is not None
    out = subprocess.run([BIN, *args, str(path)], check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def test_scan_many_equals_cli_scan(engine: huashu.Engine, tmp_path: pathlib.Path) -> None:
    data = tmp_path / "turns.jsonl"
    data.write_text(generate(3000, "--turns"), encoding="utf-8")
    turns = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines()]
    res = engine.scan_many([t["text"] for t in turns], [t["role"] for t in turns])
    expected = cli(["scan"], data)
    assert len(expected) == len(res) == 3000
    for got, want in zip(res.to_dicts(), expected):
        for f in got["findings"]:
            del f["turn"]
        assert got["findings"] == want["findings"]
        assert got["rewrite"] == want["rewrite"]


def test_score_many_equals_cli_score(engine: huashu.Engine, tmp_path: pathlib.Path) -> None:
    data = tmp_path / "conversations.jsonl"
    data.write_text(generate(500), encoding="utf-8")
    convs = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines()]
    got = engine.score_many(convs).to_dicts()
    assert got == cli(["score"], data)
