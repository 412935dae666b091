#!/usr/bin/env python3
"""Robustness of the rules to wording that keeps the meaning: what a QA lead reads the same.

Takes labelled turns (corpora/labelled/*.jsonl), keeps those the engine already gets right, rewrites each in ways
that change no label (a chat particle, 你/您, a hedge word, no punctuation, spaces, traditional characters …),
and scans every variant. A flagged turn whose variant is no longer flagged is a recall hole; a clean turn whose
variant is flagged is a precision hole. Held-out turns differ from ours in exactly such ways, so a hole here is a
miss there.

Only the EVEN half of every set is used (parity of the first byte of sha256(id), as fit-scorecard.py splits):
the odd halves stay unread. Texts are joined from ../shared/corpora at run time and printed only to the
terminal (never stored).

    python3 scripts/perturb.py --bin target/release/huashu [--ruleset rulesets/zh-CN] [--show 40] SETS…
"""
import argparse
import hashlib
import json
import os
import re
import subprocess
import sys

CATS = ("forbidden", "promise", "privacy")


def even(turn_id):
    return hashlib.sha256(turn_id.encode()).digest()[0] % 2 == 0


def corpus_text(corpora, ref, cache):
    """The text a `ref` names, for the FILE:LINE forms (others are skipped: None)."""
    if "#" in ref or ":" not in ref:
        return None
    file, n = ref.rsplit(":", 1)
    if "/" in n:
        return None
    if file not in cache:
        path = os.path.join(corpora, file)
        if not os.path.exists(path):
            return None
        with open(path, encoding="utf-8") as f:
            cache[file] = f.read().split("\n")
    lines = cache[file]
    i = int(n) - 1
    if i >= len(lines):
        return None
    line = lines[i]
    if file.endswith(".tsv"):
        cols = line.split("\t")
        return "\t".join(cols[6:]) if len(cols) >= 7 else None
    return line


# Each rewrite keeps the meaning and the label: (name, function text -> text or None when it does not apply).
PARTICLES = "哦呢哈啦"


def add_particle(t):
    m = re.search(r"[。！？!?.，,]*$", t)
    end = m.start()
    if end == 0 or t[end - 1] in PARTICLES:
        return None
    return t[:end] + "哦" + t[end:]


def you_informal(t):
    return t.replace("您", "你") if "您" in t else None


def you_formal(t):
    return re.sub("你(?!们)", "您", t) if re.search("你(?!们)", t) else None


def we_side(t):
    # 我 → 我这边 where it is the agent speaking of itself at a clause start.
    s = re.sub(r"(^|[，。！？,.!?\s])我(?![们这])", r"\1我这边", t, count=1)
    return s if s != t else None


def greet_prefix(t):
    return None if t.startswith(("亲", "您好")) else "亲，" + t


def sorry_prefix(t):
    return None if t.startswith(("不好意思", "抱歉")) else "不好意思，" + t


def no_punct(t):
    s = re.sub(r"[，。！？、；：,.!?;:~～]+", " ", t).strip()
    return s if s != t.strip() else None


def spaced(t):
    # A transcript's or a careless typist's spaces between every character of the Chinese.
    if not re.search(r"[\u4e00-\u9fff]{4}", t):
        return None
    return re.sub(r"(?<=[\u4e00-\u9fff])(?=[\u4e00-\u9fff])", " ", t)


def hedge(t):
    # 确实 before a negation the agent says of itself; not inside a verb's potential complement or an A-not-A
    # question (说不清楚, 能不能): 说确实不清楚 and 能确实不能 are no Chinese.
    s = re.sub(r"(?<![能说搞弄看听想查分记讲])(没办法|没法|不能|不知道|不清楚|无法)", r"确实\1", t, count=1)
    return s if s != t and "确实确实" not in s else None


REWRITES = [
    ("particle 哦", add_particle),
    ("您→你", you_informal),
    ("你→您", you_formal),
    ("我→我这边", we_side),
    ("亲， prefix", greet_prefix),
    ("不好意思， prefix", sorry_prefix),
    ("punctuation → spaces", no_punct),
    ("spaces between characters", spaced),
    ("确实 before a negation", hedge),
]


def en_contract(t):
    pairs = [("do not", "don't"), ("cannot", "can't"), ("will not", "won't"), ("is not", "isn't"),
             ("I am", "I'm"), ("we are", "we're"), ("you are", "you're")]
    s = t
    for a, b in pairs:
        s = re.sub(r"\b%s\b" % re.escape(a), b, s)
    return s if s != t else None


def en_expand(t):
    pairs = [("don't", "do not"), ("can't", "cannot"), ("won't", "will not"), ("isn't", "is not"),
             ("I'm", "I am"), ("we're", "we are"), ("you're", "you are")]
    s = t
    for a, b in pairs:
        s = s.replace(a, b).replace(a.replace("'", "’"), b)
    return s if s != t else None


def en_we(t):
    s = re.sub(r"\bI\b(?!')", "we", t, count=1)
    return s if s != t else None


def en_sorry(t):
    return None if t.lower().startswith(("sorry", "i'm sorry", "apologies")) else "Sorry, " + t[:1].lower() + t[1:]


def en_voice(t):
    # A call transcript: lower case, no punctuation but apostrophes.
    s = re.sub(r"[^\w\s'’@#%]", " ", t.lower())
    s = re.sub(r"\s+", " ", s).strip()
    return s if s != t else None


EN_REWRITES = [
    ("contractions", en_contract),
    ("expanded contractions", en_expand),
    ("I → we", en_we),
    ("Sorry, prefix", en_sorry),
    ("transcript: lower case, no punctuation", en_voice),
]


def traditional_rewrite():
    """Simplified → traditional from the engine's own table, inverted (one traditional form per character)."""
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "crates", "huashu-text", "data", "TSCharacters.txt")
    if not os.path.exists(path):
        return None
    s2t = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                continue
            parts = line.split()
            if len(parts) >= 2 and len(parts[0]) == 1 and len(parts[1]) == 1 and parts[0] != parts[1]:
                s2t.setdefault(parts[1], parts[0])

    def rewrite(t):
        s = "".join(s2t.get(c, c) for c in t)
        return s if s != t else None

    return ("traditional characters", rewrite)


def scan(binary, ruleset, turns):
    """Categories flagged per id."""
    payload = "".join(
        json.dumps({"id": i, "role": "agent", "text": t}, ensure_ascii=False) + "\n" for i, t in turns
    )
    out = subprocess.run(
        [binary, "scan", "--rules-only", "--ruleset", ruleset, "-j", "1"],
        input=payload.encode(),
        capture_output=True,
        check=False,
    )
    if out.returncode not in (0, 1):
        sys.exit(f"scan failed: {out.stderr.decode()[:400]}")
    flagged = {}
    for line in out.stdout.decode().splitlines():
        r = json.loads(line)
        flagged[r["id"]] = {(f["category"], f["rule"]) for f in r.get("findings", [])}
    return flagged


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sets", nargs="+")
    ap.add_argument("--bin", default="target/release/huashu")
    ap.add_argument("--ruleset", default="rulesets/zh-CN")
    ap.add_argument("--corpora", default=os.environ.get("HUASHU_CORPORA", "../shared/corpora"))
    ap.add_argument("--show", type=int, default=20, help="holes to print per rewrite")
    ap.add_argument("--english", action="store_true", help="English rewrites (use with --ruleset rulesets/en)")
    args = ap.parse_args()

    cache, turns = {}, []
    for path in args.sets:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                r = json.loads(line)
                if r.get("role", "agent") != "agent" or not even(r["id"]) or r.get("previous"):
                    continue
                text = r.get("text") or corpus_text(args.corpora, r.get("ref", ""), cache)
                if text:
                    turns.append((r["id"], text, set(r.get("expect", []))))
    base = scan(args.bin, args.ruleset, [(i, t) for i, t, _ in turns])
    right = [(i, t, e) for i, t, e in turns if {c for c, _ in base.get(i, set())} == e]
    print(f"{len(turns)} even-half turns, {len(right)} the engine gets right; per rewrite:")
    rewrites = EN_REWRITES if args.english else REWRITES + [r for r in [traditional_rewrite()] if r]
    total_lost = total_new = 0
    for name, fn in rewrites:
        variants = [(i, fn(t), t, e) for i, t, e in right]
        variants = [(i, v, t, e) for i, v, t, e in variants if v]
        got = scan(args.bin, args.ruleset, [(i, v) for i, v, _, _ in variants])
        lost, new = [], []
        pos = sum(1 for *_, e in variants if e)
        for i, v, t, e in variants:
            cats = {c for c, _ in got.get(i, set())}
            if e - cats:
                lost.append((i, v, sorted(e - cats), sorted(r for _, r in base[i])))
            if cats - e:
                new.append((i, v, sorted(cats - e), sorted(r for _, r in got[i])))
        total_lost += len(lost)
        total_new += len(new)
        neg = len(variants) - pos
        print(f"\n## {name}: {len(variants)} variants; recall kept {pos - len(lost)}/{pos}, "
              f"new flags on clean turns {len(new)}/{neg}")
        for i, v, miss, rules in lost[: args.show]:
            print(f"  LOST {i} {miss} (was {','.join(rules)}): {v}")
        for i, v, extra, rules in new[: args.show]:
            print(f"  NEW  {i} {extra} ({','.join(rules)}): {v}")
    print(f"\nlost {total_lost}, new {total_new}")


if __name__ == "__main__":
    main()
