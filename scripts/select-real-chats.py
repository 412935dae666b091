#!/usr/bin/env python3
"""Pick the real JDDC 2019 chats to annotate for the scorecard (issue 19): every chat whose customer sounds upset
by a broad cue list (at least half the set), plus a fixed random sample of the rest. Prints JSON lines
{id, turns: [{role, text}]} for annotators; only session ids and labels are committed (corpora/labelled/).

usage: select-real-chats.py [--upset N] [--calm N] [--seed S] [--exclude FILE ...] [--upset-hits K]

--exclude FILE leaves out every chat whose session id is the "id" of a line of FILE (JSON lines, such as
corpora/labelled/chats.jsonl), before the draw. Without it the draw is the one chats.jsonl was made from
(seed 19, 120 upset + 100 calm; both pools were smaller, so all 107 upset chats and 100 calm ones).
--upset-hits K: a chat is upset when its customer turns hold K cue words (default 2). Every chat with two is in
chats.jsonl, so chats2.jsonl (the held-out chats) takes the chats with one as its upset half:
  select-real-chats.py --exclude corpora/labelled/chats.jsonl --upset-hits 1 --seed 2 --upset 58 --calm 58
"""
import argparse, collections, json, os, random, re

CORPORA = os.environ.get("HUASHU_CORPORA", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "corpora"))
UPSET = re.compile("投诉|差评|垃圾|生气|气死|太慢|怎么还|还没|到底|什么时候|为什么|不满意|无语|坑|骗|退款|催|一直|几天了|说好的|？{2,}|\\?{2,}|！{2,}|!{2,}|坏了|破损|少发|错发")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upset", type=int, default=120)
    ap.add_argument("--calm", type=int, default=100)
    ap.add_argument("--seed", type=int, default=19)
    ap.add_argument("--exclude", action="append", default=[], metavar="FILE")
    ap.add_argument("--upset-hits", type=int, default=2)
    a = ap.parse_args()
    chats = collections.OrderedDict()
    for line in open(os.path.join(CORPORA, "jddc2019_chat_0.1per.tsv"), encoding="utf-8"):
        c = line.rstrip("\n").split("\t")
        if len(c) >= 7:
            chats.setdefault(c[0], []).append({"role": "agent" if c[2] == "1" else "customer", "text": "\t".join(c[6:])})
    excluded = set()
    for path in a.exclude:
        for line in open(path, encoding="utf-8"):
            if line.strip():
                excluded.add(json.loads(line)["id"])
    upset, calm = [], []
    for sid, turns in chats.items():
        if sid in excluded:
            continue
        cust = " ".join(t["text"] for t in turns if t["role"] == "customer")
        (upset if len(UPSET.findall(cust)) >= a.upset_hits else calm).append(sid)
    rng = random.Random(a.seed)
    picked = rng.sample(upset, min(a.upset, len(upset))) + rng.sample(calm, min(a.calm, len(calm)))
    picked.sort()
    for sid in picked:
        print(json.dumps({"id": sid, "turns": chats[sid]}, ensure_ascii=False))


if __name__ == "__main__":
    main()
