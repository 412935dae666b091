#!/usr/bin/env python3
"""Pick real English conversations to annotate for the English scorecard (chats-en.jsonl): IBM Twitter customer-care
threads (dev and test) with at least 3 turns in all (the customer's and agent's tweets plus the agent's closing
`agentURL` reply) and one customer handle, and the ABCD sample conversations. About half are threads whose
customer sounds unhappy by a broad cue list; the rest a fixed random sample of the others.

Prints JSON lines {id, source, turns: [{role, text}]} for annotators (to /tmp, never into the repository); only
ids, sources and labels are committed (corpora/labelled/chats-en.jsonl). Roles follow `huashu eval
--conversations`: an IBM message keyed `agent` is the agent's, any other the customer's (threads with a second
customer handle or the brand's own account speaking as `client`/`client1` are left out, since their roles are
ambiguous); ABCD `action` lines are system turns.

usage: select-real-chats-en.py [--upset N] [--calm N] [--seed S]
"""
import argparse, json, os, random, re

CORPORA = os.environ.get("HUASHU_CORPORA", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "corpora"))
IBM = ["ibm_twitter_customer_care_test.json", "ibm_twitter_customer_care_dev.json"]
ABCD = "abcd_sample.json"
UPSET = re.compile(
    r"\b(still|again|never|worst|terrible|horrible|awful|ridiculous|unacceptable|disappoint\w*|frustrat\w*|angry|"
    r"annoy\w*|useless|pathetic|joke|scam|refund|waiting|waited|hours?|days?|weeks?|nobody|no one|no response|"
    r"no reply|ignor\w*|broken|doesn'?t work|not working|won'?t|can'?t|wtf|smh|sucks|fix|why)\b|!{2,}|\?{2,}",
    re.I,
)


def ibm_threads(name):
    for conv in json.load(open(os.path.join(CORPORA, name), encoding="utf-8")):
        content = conv["dialogContent"]
        if len(content) < 2:
            continue
        handles = {m.get("client") or m.get("client1") for m in content if "agent" not in m}
        if any("client1" in m for m in content) or len(handles) != 1:
            continue
        turns = [{"role": "agent" if "agent" in m else "customer", "text": m["message"]} for m in content]
        at = min(int(conv["agentURL"]["turn"]) - 1, len(turns))
        turns.insert(at, {"role": "agent", "text": conv["agentURL"]["url_utterance"]})
        yield conv["dialogHeader"]["sessionID"], name, turns


def abcd_convs():
    for conv in json.load(open(os.path.join(CORPORA, ABCD), encoding="utf-8")):
        turns = [{"role": "system" if s == "action" else s, "text": t} for s, t in conv["original"]]
        yield str(conv["convo_id"]), ABCD, turns


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upset", type=int, default=35)
    ap.add_argument("--calm", type=int, default=57)
    ap.add_argument("--seed", type=int, default=12)
    a = ap.parse_args()
    upset, calm = [], []
    for name in IBM:
        for chat in ibm_threads(name):
            cust = " ".join(t["text"] for t in chat[2] if t["role"] == "customer")
            (upset if len(UPSET.findall(cust)) >= 2 else calm).append(chat)
    rng = random.Random(a.seed)
    picked = rng.sample(upset, min(a.upset, len(upset))) + rng.sample(calm, min(a.calm, len(calm)))
    picked += list(abcd_convs())
    picked.sort(key=lambda c: (c[1], c[0]))
    for cid, source, turns in picked:
        print(json.dumps({"id": cid, "source": source, "turns": turns}, ensure_ascii=False))


if __name__ == "__main__":
    main()
