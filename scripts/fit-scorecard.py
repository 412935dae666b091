#!/usr/bin/env python3
"""Fit and measure the zh-CN scorecard's check weights and caps on the annotated real chats.

    scripts/fit-scorecard.py [--huashu BIN] [--ruleset DIR] [--ruleset-en DIR] [--corpora DIR]
                             [--sets chats,chats2,chats-en] [--vs a|mean] [--tune-only]
                             [--analyse [--all]] [--simulate JSON ... [--bootstrap N] [--golden]] [--worst N]
                             [--dump FILE]

Reads `corpora/labelled/chats.jsonl` and `chats2.jsonl` (and `chats-en.jsonl` when named in `--sets`), joins each
chat's text from the JDDC 2019 chat TSV, or for `chats-en` from the IBM Twitter and ABCD JSON files as `huashu eval
--conversations` does (in a temporary file outside the repository: the corpus text is never copied here), runs
`huashu score --ruleset DIR` on them (a set whose name ends in `-en` with `--ruleset-en`) and reports, per set and per half (split by the parity of the first byte of sha256(id): even = tune,
odd = held out):

- rank (Spearman, average ranks, as eval_chats.rs), bands (high >= 80, low < 40), complaint P / R, and the rank
  among calm chats (no complaint by either annotator); with `--vs mean`, against the mean of annotator A (the set's
  file) and annotator B (`<set>-annotator-b.jsonl`, where there is one; complaint P / R stay against A; chats.jsonl
  is already the mean of its `-annotator-a` and `-annotator-b` files and is taken as it is);
- `--analyse` (tune halves only unless `--all`): per check, how often it fails and the mean annotated score of
  the chats where it passes / fails, the agreement of the check's judgement
  with the annotators' own label (greeting, need_confirmation, closing, answered ~ responsiveness, complaint,
  and chats2's empathy / solution / commitment / in_order) and its balanced accuracy (plain agreement rises
  with a check that passes nearly every chat, as most are labelled answered, greeted…), and a non-negative least-squares fit of points per
  check (the score a chat loses for failing each check, findings and caps left in);
- `--simulate JSON`: recomputes every chat's score from its check shares with other points / caps as report.rs
  does (100 * earned / possible - deductions, then the major, unaddressed, check and fatal caps), so weights and
  caps can be compared without a build (the unaddressed cap is inferred from the score; 2 of 323 chats differ
  by one point because the report rounds points to 0.1); `--bootstrap N` resamples each tuning half N times for
  the change's gain, `--golden` lists the tests/cases/score.jsonl cases whose exact score it would move;
- `--worst N`: the tuning-half chats that disagree most, with their failed checks and findings.

Example: scripts/fit-scorecard.py --tune-only --golden --bootstrap 200 \
             --simulate '{"points":{"escalation_time":10}}' --simulate '{"cap":{"courtesy":null}}'
(SCORECARD-zh.md, "Weights fitted, session 12", has the figures.)
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# annotators' label -> the check that judges it
LABEL_CHECK = {
    "greeting": "greeting",
    "need_confirmation": "need_confirmation",
    "closing": "closing",
    "answered": "responsiveness",
    "empathy": "empathy",
    "solution": "solution",
    "commitment": "commitment",
    "in_order": "in_order",
}


def half(cid):
    return "even" if hashlib.sha256(cid.encode()).digest()[0] % 2 == 0 else "odd"


def read_tsv(path):
    chats = defaultdict(list)
    with open(path, encoding="utf-8") as f:
        for line in f:
            c = line.rstrip("\n").split("\t")
            if len(c) < 7:
                continue
            chats[c[0]].append({"role": "agent" if c[2] == "1" else "customer", "text": "\t".join(c[6:])})
    return chats


def read_json_chats(path):
    """IBM Twitter (`dialogContent`, the `agentURL` reply at its 1-based `turn`) or ABCD (`original`), by id."""
    chats = {}
    for conv in json.load(open(path, encoding="utf-8")):
        if "dialogContent" in conv:
            t = [{"role": "agent" if "agent" in m else "customer", "text": m["message"]}
                 for m in conv["dialogContent"] if isinstance(m.get("message"), str)]
            url = conv.get("agentURL") or {}
            if isinstance(url.get("url_utterance"), str):
                try:
                    at = min(max(int(url.get("turn")) - 1, 0), len(t))
                except (TypeError, ValueError):
                    at = len(t)
                t.insert(at, {"role": "agent", "text": url["url_utterance"]})
            chats[conv["dialogHeader"]["sessionID"]] = t
        elif "original" in conv:
            chats[str(conv["convo_id"])] = [
                {"role": {"agent": "agent", "customer": "customer"}.get(w, "system"), "text": x}
                for w, x in conv["original"]]
    return chats


def golden_records(huashu, ruleset):
    """tests/cases/score.jsonl (the hand-written contract, exact scores) as records to simulate on."""
    cases = [json.loads(l) for l in open(os.path.join(ROOT, "tests/cases/score.jsonl"), encoding="utf-8") if l.strip()]
    labels = [{"id": str(i), "turns": c["turns"], "score": c["score"]} for i, c in enumerate(cases)]
    reps = score_all(huashu, ruleset, labels, {})
    return [(c, record(lab, reps[lab["id"]], "golden")) for c, lab in zip(cases, labels)]


def score_all(huashu, ruleset, labels, tsv):
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as tmp:
        for lab in labels:
            turns = lab["turns"] if "turns" in lab else tsv[lab["id"]]
            tmp.write(json.dumps({"id": lab["id"], "turns": turns}, ensure_ascii=False) + "\n")
        name = tmp.name
    try:
        out = subprocess.run(
            [huashu, "score", "--ruleset", ruleset, "--no-progress", name],
            check=True, capture_output=True, text=True,
        ).stdout
    finally:
        os.unlink(name)
    reports = {}
    for line in out.splitlines():
        r = json.loads(line)
        reports[r["id"]] = r
    return reports


def ranks(x):
    x = np.asarray(x, dtype=float)
    order = np.argsort(x, kind="mergesort")
    r = np.empty(len(x))
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and x[order[j + 1]] == x[order[i]]:
            j += 1
        r[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return r


def pearson(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    a, b = a - a.mean(), b - b.mean()
    d = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / d) if d else 0.0


def band(s):
    return "high" if s >= 80 else ("low" if s < 40 else "mid")


def metrics(rows, scores=None):
    ann = [r["ann"] for r in rows]
    got = scores if scores is not None else [r["score"] for r in rows]
    rank = pearson(ranks(ann), ranks(got))
    calm = [(a, g) for r, a, g in zip(rows, ann, got) if r.get("calm")]
    calm_rank = pearson(ranks([a for a, _ in calm]), ranks([g for _, g in calm])) if len(calm) > 2 else float("nan")
    bands = sum(band(a) == band(g) for a, g in zip(ann, got)) / len(rows)
    tp = sum(1 for r in rows if r["complaint"] is True and r["detected"])
    fp = sum(1 for r in rows if r["complaint"] is False and r["detected"])
    fn = sum(1 for r in rows if r["complaint"] is True and not r["detected"])
    p = tp / (tp + fp) if tp + fp else float("nan")
    rc = tp / (tp + fn) if tp + fn else float("nan")
    return rank, bands, p, rc, calm_rank


def fmt(m):
    return "%.3f / %.3f / %.3f / %.3f / calm %.3f" % m


def record(lab, rep, setname):
    checks = {c["id"]: c for c in rep["checks"] if c["id"] != "compliance"}
    comp = next(c for c in rep["checks"] if c["id"] == "compliance")
    sev = [f.get("severity") for f in rep.get("findings", [])]
    return {
        "id": lab["id"],
        "set": setname,
        "half": half(lab["id"]),
        "ann": float(lab["score"]),
        "complaint": lab.get("complaint"),
        "calm": lab.get("calm", lab.get("complaint") is False),
        "labels": {k: lab.get(k) for k in LABEL_CHECK},
        "violations": lab.get("violations") or [],
        "score": rep["score"],
        "detected": rep["structure"]["complaints"] > 0,
        "fatal": rep["fatal"],
        "checks": {k: {"passed": c["passed"], "share": (c["points"] / c["max"]) if c["max"] else 1.0,
                       "max": c["max"], "detail": c["detail"][:120]} for k, c in checks.items()},
        "deduct": -comp["points"],
        "major": any(s in ("major",) for s in sev),
        "critical": any(s == "critical" for s in sev),
        "findings": [f["rule"] for f in rep.get("findings", [])],
    }


# The current [scoring] values (read from the ruleset), overridable per simulation.
def read_scoring(ruleset):
    try:
        import tomllib
    except ImportError:  # pragma: no cover
        sys.exit("python >= 3.11 needed (tomllib)")
    with open(os.path.join(ruleset, "ruleset.toml"), "rb") as f:
        s = tomllib.load(f)["scoring"]
    return {
        "points": {k: v.get("points", 0) for k, v in s.get("checks", {}).items()},
        "cap": {k: v["cap"] for k, v in s.get("checks", {}).items() if "cap" in v},
        "major_cap": s.get("major_cap"),
        "unaddressed_cap": s.get("unaddressed_cap"),
        "fatal_cap": s.get("fatal_cap", 39),
    }


def raw_score(r, sc):
    earned = possible = 0.0
    for k, c in r["checks"].items():
        p = sc["points"].get(k, c["max"])
        earned += p * c["share"]
        possible += p
    base = 100.0 if possible == 0 else 100.0 * earned / possible
    return max(0.0, min(100.0, float(np.floor(base - r["deduct"] + 0.5))))  # Rust rounds half away from 0


def infer_unaddressed(r, sc):
    """report.rs does not say whether the unaddressed cap applied: infer it from the score."""
    s = raw_score(r, sc)
    caps = []
    if sc["major_cap"] is not None and r["major"]:
        caps.append(sc["major_cap"])
    for k, c in r["checks"].items():
        if not c["passed"] and k in sc["cap"]:
            caps.append(sc["cap"][k])
    if r["fatal"]:
        caps.append(sc["fatal_cap"])
    expect = min([s] + caps)
    r["unaddressed"] = r["score"] < expect and sc["unaddressed_cap"] is not None and r["score"] <= sc["unaddressed_cap"]
    if r["score"] != min(expect, sc["unaddressed_cap"] if r["unaddressed"] else 999):
        r["mismatch"] = (r["score"], expect)


def sim_score(r, sc):
    s = raw_score(r, sc)
    if sc["major_cap"] is not None and r["major"]:
        s = min(s, sc["major_cap"])
    if r.get("unaddressed") and sc["unaddressed_cap"] is not None:
        s = min(s, sc["unaddressed_cap"])
    for k, c in r["checks"].items():
        if not c["passed"] and sc["cap"].get(k) is not None:
            s = min(s, sc["cap"][k])
    if r["fatal"]:
        s = min(s, sc["fatal_cap"])
    return s


def fit_lost(X, y, sweeps=3000):
    """y ~ c - X @ w with w >= 0 and c free: coordinate descent on the least squares (small problems only)."""
    w = np.zeros(X.shape[1])
    c = y.mean()
    r = y - c + X @ w  # residual
    sq = (X * X).sum(axis=0)
    for _ in range(sweeps):
        c_new = c + r.mean()
        r -= c_new - c
        c = c_new
        for j in range(X.shape[1]):
            if sq[j] == 0:
                continue
            # r = y - c + X w ; d/dw_j of |r|^2 -> w_j_new = max(0, w_j - (X_j . r) / sq_j)
            wj = max(0.0, w[j] - (X[:, j] @ r) / sq[j])
            r += X[:, j] * (wj - w[j])
            w[j] = wj
    return c, w


def balanced(judged):
    """Balanced accuracy of (label, passed) pairs: the mean of the pass rate where the label holds and the fail
    rate where it does not. Most chats are labelled answered, greeted, closed…, so plain agreement rises with a
    check that passes everything; this does not ("-" when one side has no chat)."""
    yes = [p for lab, p in judged if lab]
    no = [p for lab, p in judged if not lab]
    if not yes or not no:
        return "-"
    return "%.3f" % ((sum(yes) / len(yes) + sum(not p for p in no) / len(no)) / 2)


def analyse(rows, title):
    print(f"\n## {title} ({len(rows)} chats)")
    ann = np.array([r["ann"] for r in rows])
    names = sorted({k for r in rows for k in r["checks"]})
    print("check | applicable | failed | mean ann passed | mean ann failed | diff | agree with label (n) | balanced")
    for k in names:
        app = [r for r in rows if k in r["checks"]]
        fl = [r for r in app if not r["checks"][k]["passed"]]
        ps = [r for r in app if r["checks"][k]["passed"]]
        mp = np.mean([r["ann"] for r in ps]) if ps else float("nan")
        mf = np.mean([r["ann"] for r in fl]) if fl else float("nan")
        agree = ""
        for lab, chk in LABEL_CHECK.items():
            if chk == k:
                judged = [(r["labels"][lab], r["checks"][k]["passed"]) for r in app if r["labels"].get(lab) is not None]
                if judged:
                    agree = "%.3f (%d) | %s" % (
                        sum(a == b for a, b in judged) / len(judged), len(judged), balanced(judged))
        print(f"{k} | {len(app)} | {len(fl)} | {mp:.1f} | {mf:.1f} | {mp - mf:+.1f} | {agree}")
    # complaint detection agreement
    j = [(r["complaint"], r["detected"]) for r in rows if r["complaint"] is not None]
    print("complaint detected agrees: %.3f (%d)" % (sum(a == b for a, b in j) / len(j), len(j)))
    # linear fit: ann = c - sum_k lost_k * (1 - share_k) - d * deduct - major + unaddressed
    feats = names + ["deduct", "major", "unaddressed", "complaint_detected"]
    X = np.array([[1 - r["checks"][k]["share"] if k in r["checks"] else 0.0 for k in names]
                  + [r["deduct"], float(r["major"]), float(r.get("unaddressed", False)), float(r["detected"])]
                  for r in rows])
    c, w = fit_lost(X, ann)
    pred = c - X @ w
    print("NNLS points lost per failed check (intercept %.1f; rank of the fit on these chats %.3f):"
          % (c, pearson(ranks(ann), ranks(pred))))
    for f, v in sorted(zip(feats, w), key=lambda t: -t[1]):
        n = int((X[:, feats.index(f)] > 0).sum())
        print(f"  {f}: {v:.1f}  (chats with it: {n})")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--huashu", default=os.environ.get("HUASHU", "/work/target-fast/release/huashu"))
    ap.add_argument("--ruleset", default=os.path.join(ROOT, "rulesets/zh-CN"))
    ap.add_argument("--corpora", default=os.environ.get("HUASHU_CORPORA", os.path.join(ROOT, "../shared/corpora")))
    ap.add_argument("--ruleset-en", default=os.path.join(ROOT, "rulesets/en"), help="for sets named *-en")
    ap.add_argument("--sets", default="chats,chats2")
    ap.add_argument("--vs", choices=("a", "mean"), default="a",
                    help="annotated score: annotator A (the set's file) or the mean of A and <set>-annotator-b.jsonl")
    ap.add_argument("--analyse", action="store_true")
    ap.add_argument("--all", action="store_true", help="analyse the held-out halves too")
    ap.add_argument("--simulate", action="append", default=[],
                    help='JSON overrides, e.g. \'{"points":{"greeting":2},"cap":{"responsiveness":79}}\'')
    ap.add_argument("--bootstrap", type=int, default=0,
                    help="with --simulate: resample each tuning half N times, the change's rank / bands gain")
    ap.add_argument("--golden", action="store_true",
                    help="with --simulate: list the tests/cases/score.jsonl cases whose exact score would move")
    ap.add_argument("--tune-only", action="store_true", help="print the even (tuning) halves only")
    ap.add_argument("--dump", help="write the per-chat records (no text) as JSON lines")
    ap.add_argument("--worst", type=int, default=0, help="list the N tune-half chats that disagree most")
    a = ap.parse_args()

    tsv = read_tsv(os.path.join(a.corpora, "jddc2019_chat_0.1per.tsv"))
    ruleset_of = {s: a.ruleset_en if s.endswith("-en") else a.ruleset for s in a.sets.split(",")}
    scorings = {rs: read_scoring(rs) for rs in set(ruleset_of.values()) | {a.ruleset}}
    rows = []
    for s in a.sets.split(","):
        labels = [json.loads(l) for l in open(os.path.join(ROOT, f"corpora/labelled/{s}.jsonl"), encoding="utf-8")]
        b_path = os.path.join(ROOT, f"corpora/labelled/{s}-annotator-b.jsonl")
        a_path = os.path.join(ROOT, f"corpora/labelled/{s}-annotator-a.jsonl")
        if os.path.exists(b_path):
            b = {x["id"]: x for x in map(json.loads, open(b_path, encoding="utf-8"))}
            # chats.jsonl is already the mean of its annotators' files (-a, -b): only its calm chats come from them
            first = ({x["id"]: x for x in map(json.loads, open(a_path, encoding="utf-8"))}
                     if os.path.exists(a_path) else None)
            for lab in labels:
                ann_a = first[lab["id"]] if first else lab
                lab["calm"] = ann_a.get("complaint") is False and b[lab["id"]].get("complaint") is False
                if a.vs == "mean" and not first:
                    lab["score"] = (float(lab["score"]) + float(b[lab["id"]]["score"])) / 2
        texts = tsv
        if s.endswith("-en"):
            texts = {}
            for f in ("ibm_twitter_customer_care_dev.json", "ibm_twitter_customer_care_test.json", "abcd_sample.json"):
                texts.update(read_json_chats(os.path.join(a.corpora, f)))
        reps = score_all(a.huashu, ruleset_of[s], labels, texts)
        rows += [record(lab, reps[lab["id"]], s) for lab in labels]
    for r in rows:
        r["sc"] = scorings[ruleset_of[r["set"]]]
        infer_unaddressed(r, r["sc"])
    bad = [r["id"] for r in rows if "mismatch" in r]
    if bad:
        print(f"(simulation does not reproduce {len(bad)} scores: {bad[:5]})", file=sys.stderr)

    golden = []
    if a.golden:
        golden = golden_records(a.huashu, a.ruleset)
        for _, r in golden:
            r["sc"] = scorings[a.ruleset]
            infer_unaddressed(r, r["sc"])
    groups = [(s, h) for s in a.sets.split(",") for h in (("even",) if a.tune_only else ("even", "odd"))]
    print(f"set half | n | rank / bands / complaint P / R / calm rank (vs {'the mean of A and B' if a.vs == 'mean' else 'A'})")
    for s, h in groups:
        g = [r for r in rows if r["set"] == s and r["half"] == h]
        print(f"{s} {h} | {len(g)} | {fmt(metrics(g))}")
    for s in a.sets.split(",") if not a.tune_only else []:
        g = [r for r in rows if r["set"] == s]
        print(f"{s} all | {len(g)} | {fmt(metrics(g))}")

    for spec in a.simulate:
        o = json.loads(spec)
        changed = {}  # each ruleset's scoring with the overrides (both rulesets take the same overrides)
        for r in rows + [r for _, r in golden]:
            if id(r["sc"]) not in changed:
                sc2 = json.loads(json.dumps(r["sc"]))
                for k in ("points", "cap"):
                    for kk, v in o.get(k, {}).items():
                        if v is None:
                            sc2[k].pop(kk, None)
                        else:
                            sc2[k][kk] = v
                for k in ("major_cap", "unaddressed_cap", "fatal_cap"):
                    if k in o:
                        sc2[k] = o[k]
                changed[id(r["sc"])] = sc2
        sim = lambda r: sim_score(r, changed[id(r["sc"])])  # noqa: E731
        print(f"\nsimulate {spec}")
        for s, h in groups:
            g = [r for r in rows if r["set"] == s and r["half"] == h]
            print(f"  {s} {h} | {fmt(metrics(g, [sim(r) for r in g]))}")
        if a.bootstrap:
            rng = np.random.default_rng(1)
            for st in a.sets.split(","):
                g = [r for r in rows if r["set"] == st and r["half"] == "even"]
                old = [r["score"] for r in g]
                new = [sim(r) for r in g]
                d = []
                for _ in range(a.bootstrap):
                    i = rng.integers(0, len(g), len(g))
                    m0 = metrics([g[k] for k in i], [old[k] for k in i])
                    m1 = metrics([g[k] for k in i], [new[k] for k in i])
                    d.append((m1[0] - m0[0], m1[1] - m0[1]))
                d = np.array(d)
                print(f"  {st} even, {a.bootstrap} resamples: rank {d[:, 0].mean():+.3f} (better in "
                      f"{(d[:, 0] > 0).mean():.0%}), bands {d[:, 1].mean():+.3f} (no worse in {(d[:, 1] >= 0).mean():.0%})")
        if a.golden:
            moved = [(c["name"], c["score"], int(sim(r))) for c, r in golden
                     if int(sim(r)) != c["score"]]
            print(f"  tests/cases/score.jsonl: {len(moved)} of {len(golden)} cases move"
                  + "".join(f"\n    {n}: {x} -> {y}" for n, x, y in moved))

    if a.analyse:
        for s in a.sets.split(","):
            for h in ("even", "odd") if a.all else ("even",):
                analyse([r for r in rows if r["set"] == s and r["half"] == h], f"{s} {h}")
        if len(a.sets.split(",")) > 1:
            analyse([r for r in rows if r["half"] == "even"], "all sets, even (tune) halves")

    if a.worst:
        for s in a.sets.split(","):
            g = [r for r in rows if r["set"] == s and r["half"] == "even"]
            ra, rg = ranks([r["ann"] for r in g]), ranks([r["score"] for r in g])
            order = sorted(range(len(g)), key=lambda i: -abs(ra[i] - rg[i]))[: a.worst]
            print(f"\n{s} even, most disagreeing:")
            for i in order:
                r = g[i]
                failed = [k for k, c in r["checks"].items() if not c["passed"]]
                print(f"  {r['id'][:6]} ann {r['ann']} -> {r['score']} complaint {r['complaint']}/{r['detected']} "
                      f"failed {failed} findings {r['findings']}")

    if a.dump:
        with open(a.dump, "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps({k: v for k, v in r.items() if k != "sc"}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
