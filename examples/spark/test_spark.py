"""Runs the Spark example in local[2] mode on a few hundred generated conversations and checks every row
equals what `huashu score` (the CLI) gives for the same conversation."""

import json
import os
import pathlib
import subprocess
import sys
import time

import pytest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

pyspark = pytest.importorskip("pyspark")
# Workers run the same interpreter (and so see the same huashu and pyarrow) as the test.
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)


def test_spark_scores_equal_the_cli(tmp_path: pathlib.Path) -> None:
    from pyspark.sql import SparkSession

    from score_conversations import score_dataframe

    data = tmp_path / "conversations.jsonl"
    data.write_text(
        subprocess.run([sys.executable, str(HERE / "generate.py"), "300"], check=True, capture_output=True, text=True).stdout,
        encoding="utf-8",
    )
    cli = os.environ.get("HUASHU_BIN", "huashu")
    expected = {}
    for line in subprocess.run([cli, "score", str(data)], check=True, capture_output=True, text=True).stdout.splitlines():
        r = json.loads(line)
        expected[r["id"]] = r

    t0 = time.time()
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("huashu-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .getOrCreate()
    )
    try:
        # Workers import the example module like a cluster job shipped with --py-files.
        spark.sparkContext.addPyFile(str(HERE / "score_conversations.py"))
        df = spark.read.json(str(data)).repartition(4)
        out = score_dataframe(df)
        rows = [r.asDict() for r in out.collect()]
        # Also through a file, as a real job would write it.
        out.write.mode("overwrite").json(str(tmp_path / "out"))
    finally:
        spark.stop()
    print(f"spark local[2]: {len(rows)} conversations in {time.time() - t0:.1f}s")

    assert len(rows) == 300 == len(expected)
    for row in rows:
        e = expected[row["id"]]
        assert row["agent"] == e["agent"]
        assert (row["score"], row["passed"], row["fatal"]) == (e["score"], e["passed"], e["fatal"]), row["id"]
        assert row["fatal_reason"] == e.get("fatal_reason")
        s = e["structure"]
        assert (row["structure_score"], row["complaints"], row["empathy"], row["solution"], row["commitment"], row["in_order"]) == (
            s["score"], s["complaints"], s["empathy"], s["solution"], s["commitment"], s["in_order"],
        )
        assert row["findings_total"] == e["findings_total"]
        assert list(row["rules"]) == [f["rule"] for f in e["findings"]]
    assert len(list((tmp_path / "out").glob("part-*"))) >= 1
