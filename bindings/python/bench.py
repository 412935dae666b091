#!/usr/bin/env python3
"""Throughput of the binding on this machine: per-turn `scan` latency, `scan_many` on N turns and
`score_many` on conversations with 1 thread and with all cores.

    python bindings/python/bench.py [--turns 100000] [--conversations 20000]
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

import huashu

GENERATE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "spark" / "generate.py"


def gen(n: int, *args: str) -> list:
    out = subprocess.run([sys.executable, str(GENERATE), str(n), *args], check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def best(f, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--turns", type=int, default=100_000)
    p.add_argument("--conversations", type=int, default=20_000)
    a = p.parse_args()
    engine = huashu.Engine()
    turns = gen(a.turns, "--turns")
    texts = [t["text"] for t in turns]
    roles = [t["role"] for t in turns]
    agent_texts = [t for t, r in zip(texts, roles) if r == "agent"][:20000]
    dt = best(lambda: [engine.scan(t) for t in agent_texts])
    print(f"scan (one call per agent turn): {dt / len(agent_texts) * 1e6:.1f} µs/turn")
    cores = os.cpu_count() or 1
    res = {}
    for threads in sorted({1, cores}):
        dt = best(lambda: engine.scan_many(texts, roles, threads=threads))
        res[threads] = dt
        print(f"scan_many {len(texts)} turns, {threads} thread(s): {len(texts) / dt:,.0f} turns/s")
    if cores > 1:
        print(f"  speed-up {res[1] / res[cores]:.2f}x on {cores} cores")
    convs = gen(a.conversations)
    res = {}
    for threads in sorted({1, cores}):
        dt = best(lambda: engine.score_many(convs, threads=threads))
        res[threads] = dt
        print(f"score_many {len(convs)} conversations, {threads} thread(s): {len(convs) / dt:,.0f} conversations/s")
    if cores > 1:
        print(f"  speed-up {res[1] / res[cores]:.2f}x on {cores} cores")


if __name__ == "__main__":
    main()
