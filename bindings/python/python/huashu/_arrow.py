"""pyarrow tables for the column-shaped results (imported only when ``to_arrow()`` is called)."""

from __future__ import annotations

from typing import Any, Dict, List

try:
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
except ImportError:  # pragma: no cover - exercised only without pyarrow
    raise ImportError(
        "to_arrow() needs pyarrow (pip install pyarrow); to_columns() gives the same data as lists"
    ) from None

_FINDING_FIELDS = [
    pa.field("rule", pa.string()),
    pa.field("category", pa.string()),
    pa.field("severity", pa.string()),
    pa.field("start", pa.int64()),
    pa.field("end", pa.int64()),
    pa.field("byte_start", pa.int64()),
    pa.field("byte_end", pa.int64()),
    pa.field("matched", pa.string()),
    pa.field("message", pa.string()),
    pa.field("suggestion", pa.string()),
]


def _id_type(values: List[Any]) -> pa.DataType:
    """Conversation ids are strings or integers in practice; anything else is written as a string."""
    kinds = {type(v) for v in values if v is not None}
    if kinds and kinds <= {int}:
        return pa.int64()
    return pa.string()


def _ids(values: List[Any]) -> List[Any]:
    t = _id_type(values)
    if t == pa.int64():
        return values
    return [v if v is None or isinstance(v, str) else str(v) for v in values]


def scan_table(cols: Dict[str, List[Any]]) -> pa.Table:
    schema = pa.schema([pa.field("index", pa.int64())] + _FINDING_FIELDS)
    return pa.table(cols, schema=schema)


def findings_table(cols: Dict[str, List[Any]]) -> pa.Table:
    ids = cols["id"]
    cols = dict(cols, id=_ids(ids))
    schema = pa.schema(
        [
            pa.field("conversation", pa.int64()),
            pa.field("id", _id_type(ids)),
            pa.field("turn", pa.int64()),
        ]
        + _FINDING_FIELDS
    )
    return pa.table(cols, schema=schema)


def score_table(cols: Dict[str, List[Any]]) -> pa.Table:
    ids = cols["id"]
    cols = dict(cols, id=_ids(ids))
    schema = pa.schema(
        [
            pa.field("id", _id_type(ids)),
            pa.field("agent", pa.string()),
            pa.field("score", pa.int64()),
            pa.field("passed", pa.bool_()),
            pa.field("fatal", pa.bool_()),
            pa.field("fatal_reason", pa.string()),
            pa.field("structure_score", pa.int64()),
            pa.field("complaints", pa.int64()),
            pa.field("empathy", pa.bool_()),
            pa.field("solution", pa.bool_()),
            pa.field("commitment", pa.bool_()),
            pa.field("in_order", pa.bool_()),
            pa.field("turns", pa.int64()),
            pa.field("findings_total", pa.int64()),
            pa.field("rules", pa.list_(pa.string())),
        ]
    )
    return pa.table(cols, schema=schema)
