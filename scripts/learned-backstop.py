#!/usr/bin/env python3
"""Measure a learned backstop next to the rules (an experiment, not part of the engine).

A logistic regression over hashed character n-grams (1-3) of each turn, one per category, is trained on the labelled
hand-written sets and the even halves of the real labelled sets (their text joined from ../shared/corpora by `ref`),
and then asked: on a held-out hand-written set and on the real sets' odd halves, what do the rules find, and what do
the rules find with the model's flags added (a turn the model scores >= a threshold counts as flagged)?

    python3 scripts/learned-backstop.py --held-out blind9 [--lang zh] [--corpora ../shared/corpora]

Needs numpy and a built `target/release/huashu`. Figures: corpora/labelled/LEARNED.md.
"""
import argparse, hashlib, json, pathlib, re, subprocess, sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
LABELLED = ROOT / "corpora" / "labelled"
DIM = 1 << 20
HAND = ["handwritten", "blind", "blind2", "blind3", "blind4", "blind5", "blind6", "blind7", "blind8", "blind9", "blind10", "grid"]
REAL = ["real", "heldout", "heldout3", "heldout4", "heldout5", "real4"]


def half(turn_id):
    return int(hashlib.sha256(turn_id.encode()).hexdigest()[0], 16) % 2


def features(text):
    text = re.sub(r"\s+", " ", text.lower())
    out = set()
    for n in (1, 2, 3):
        for i in range(len(text) - n + 1):
            g = text[i:i + n].encode()
            out.add(int.from_bytes(hashlib.blake2b(g, digest_size=4).digest(), "little") % DIM)
    return list(out)


class Corpora:
    """The text behind a `ref` (file:line) of the real labelled sets."""

    def __init__(self, root):
        self.tsv = [l.rstrip("\n").split("\t") for l in open(root / "jddc2019_chat_0.1per.tsv", encoding="utf-8")]
        self.dec = [l.rstrip("\n") for l in open(root / "jddc2018_baseline_train.dec.txt", encoding="utf-8")]

    def text(self, ref):
        name, line = ref.rsplit(":", 1)
        if not line.isdigit():
            return None
        line = int(line)
        if name.startswith("jddc2019_chat"):
            row = self.tsv[line - 1]
            return row[6] if len(row) > 6 else None
        if name.startswith("jddc2018"):
            return self.dec[line - 1]
        return None


def read(name, lang, corpora=None):
    turns = []
    for line in open(LABELLED / f"{name}-{lang}.jsonl", encoding="utf-8"):
        t = json.loads(line)
        if "text" not in t and corpora is not None and "ref" in t:
            t["text"] = corpora.text(t["ref"])
        if t.get("text"):
            turns.append(t)
    return turns


def train(xs, ys, epochs=8, rate=0.3, l2=1e-5):
    w, b = np.zeros(DIM), 0.0
    order = np.arange(len(xs))
    rng = np.random.default_rng(0)
    for _ in range(epochs):
        rng.shuffle(order)
        for i in order:
            p = 1 / (1 + np.exp(-(b + w[xs[i]].sum())))
            g = p - ys[i]
            w[xs[i]] -= rate * (g + l2 * w[xs[i]])
            b -= rate * g
    return w, b


def rule_flags(turns, ruleset):
    lines = "\n".join(json.dumps({"id": t["id"], "role": "agent", "text": t["text"],
                                  **({"previous": t["previous"]} if t.get("previous") else {})}, ensure_ascii=False)
                      for t in turns)
    out = subprocess.run([str(ROOT / "target/release/huashu"), "scan", "--rules-only", "-j", "1", "--ruleset", ruleset, "-"],
                         input=lines, capture_output=True, text=True, check=True).stdout
    flags = {}
    for line in out.splitlines():
        d = json.loads(line)
        flags[d["id"]] = {f["category"] for f in d.get("findings", [])}
    return flags


def measure(turns, flags, scores, category, threshold):
    tp = fp = fn = 0
    for t, s in zip(turns, scores):
        predicted = category in flags.get(t["id"], set()) or (threshold is not None and s >= threshold)
        truth = category in t["expect"]
        tp += predicted and truth
        fp += predicted and not truth
        fn += truth and not predicted
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return f"P {p:.3f} R {r:.3f} (tp {tp}, fp {fp}, fn {fn})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--held-out", required=True, help="a hand-written set kept out of training, e.g. blind9")
    ap.add_argument("--lang", default="zh", choices=["zh"])
    ap.add_argument("--corpora", default=str(ROOT.parent / "shared" / "corpora"))
    args = ap.parse_args()
    corpora = Corpora(pathlib.Path(args.corpora))
    ruleset = str(ROOT / "rulesets" / "zh-CN")
    training = [t for n in HAND if n != args.held_out for t in read(n, args.lang)]
    real = [t for n in REAL for t in read(n, args.lang, corpora)]
    training += [t for t in real if half(t["id"]) == 0]
    real_odd = [t for t in real if half(t["id"]) == 1]
    held = read(args.held_out, args.lang)
    xs = [features(t["text"]) for t in training]
    held_x = [features(t["text"]) for t in held]
    odd_x = [features(t["text"]) for t in real_odd]
    held_flags, odd_flags = rule_flags(held, ruleset), rule_flags(real_odd, ruleset)
    print(f"training turns {len(training)}, {args.held_out} {len(held)}, real odd halves {len(real_odd)}")
    for category in ("forbidden", "promise", "privacy"):
        w, b = train(xs, [1.0 if category in t["expect"] else 0.0 for t in training])
        score = lambda x: 1 / (1 + np.exp(-(b + w[x].sum())))
        held_s = [score(x) for x in held_x]
        odd_s = [score(x) for x in odd_x]
        for threshold in (None, 0.9, 0.98):
            name = "rules" if threshold is None else f"rules + model >= {threshold}"
            print(f"{category:9} {name:22} {args.held_out}: {measure(held, held_flags, held_s, category, threshold)}"
                  f"   real odd: {measure(real_odd, odd_flags, odd_s, category, threshold)}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
