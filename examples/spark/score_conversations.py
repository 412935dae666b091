#!/usr/bin/env python3
"""Score a data set of conversations with Huashu inside Spark.

Input: JSON lines `{"id", "agent"?, "turns": [{"role", "text", "start_ms"?, "end_ms"?}]}` (what `huashu score`
reads). Output: one row per conversation (`id, agent, score, passed, fatal, fatal_reason, structure_score,
complaints, empathy, solution, commitment, in_order, turns, findings_total, rules`) as Parquet or JSON.

Each Python worker builds the engine once (`_engine()` caches it for the life of the worker process, so every
task on that worker reuses it) and scores a whole Arrow batch at a time with `Engine.score_many`, which
releases the GIL and uses the worker's cores.

    spark-submit examples/spark/score_conversations.py conversations.jsonl out/ [--ruleset zh-CN] [--format json]
"""

import argparse
from typing import Iterator, Optional

import pyarrow as pa

OUTPUT_SCHEMA = (
    "id string, agent string, score bigint, passed boolean, fatal boolean, fatal_reason string, "
    "structure_score bigint, complaints bigint, empathy boolean, solution boolean, commitment boolean, "
    "in_order boolean, turns bigint, findings_total bigint, rules array<string>"
)

_ENGINES: dict = {}


def _engine(ruleset: Optional[str]):  # type: ignore[no-untyped-def]
    import huashu

    key = ruleset or "zh-CN"
    if key not in _ENGINES:
        _ENGINES[key] = huashu.Engine(ruleset)
    return _ENGINES[key]


def score_batches(ruleset: Optional[str], threads: Optional[int] = None):  # type: ignore[no-untyped-def]
    """The function given to `mapInArrow`: Arrow batches of conversations in, Arrow batches of scores out."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        engine = _engine(ruleset)
        for batch in batches:
            rows = batch.to_pylist()
            convs = [
                {"id": None if r.get("id") is None else str(r["id"]), "agent": r.get("agent"), "turns": r.get("turns") or []}
                for r in rows
            ]
            table = engine.score_many(convs, threads=threads).to_arrow()
            # Spark wants exactly the declared types (ids as strings even when all are null).
            table = table.set_column(0, "id", pa.array([c["id"] for c in convs], pa.string()))
            for b in table.to_batches():
                yield b

    return run


def score_dataframe(df, ruleset: Optional[str] = None, threads: Optional[int] = None):  # type: ignore[no-untyped-def]
    """Adds nothing, drops the turns: one row of scores per conversation in `df` (columns id, agent?, turns)."""
    cols = [c for c in ("id", "agent", "turns") if c in df.columns]
    return df.select(*cols).mapInArrow(score_batches(ruleset, threads), OUTPUT_SCHEMA)


def main() -> None:
    from pyspark.sql import SparkSession

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--ruleset", default=None, help="bundled name or a directory present on every worker")
    p.add_argument("--format", choices=["parquet", "json"], default="parquet")
    p.add_argument("--partitions", type=int, default=None)
    a = p.parse_args()
    spark = SparkSession.builder.appName("huashu-score").getOrCreate()
    df = spark.read.json(a.input)
    if a.partitions:
        df = df.repartition(a.partitions)
    out = score_dataframe(df, a.ruleset)
    out.write.mode("overwrite").format(a.format).save(a.output)
    spark.stop()


if __name__ == "__main__":
    main()
