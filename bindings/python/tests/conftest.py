import json
import os
import pathlib
import shutil
from typing import Any, Dict, Iterator, List, Optional

import pytest

import huashu

ROOT = pathlib.Path(__file__).resolve().parents[3]
CASES = ROOT / "tests" / "cases"


def read_jsonl(path: pathlib.Path) -> List[Dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def huashu_bin() -> Optional[str]:
    """The `huashu` CLI to compare against: $HUASHU_BIN, else one on PATH."""
    return os.environ.get("HUASHU_BIN") or shutil.which("huashu")


@pytest.fixture(scope="session")
def engine() -> Iterator[huashu.Engine]:
    yield huashu.Engine()
