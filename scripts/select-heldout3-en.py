#!/usr/bin/env python3
"""Draw a third real English held-out set (ids hen3-0001…) for corpora/labelled/heldout3-en.jsonl (pass 6).

The pool is every English agent turn of the IBM Twitter customer-care files (dev + test: the agent's messages and
the `agentURL.url_utterance`) and of the ABCD sample (`select-real-turns.py`'s `en_turns`, whose per-file reader `json_turns` also reads --extra files), plus the agent turns of
any further corpus file given with --extra (same layouts: an IBM-style JSON array of `dialogContent` threads or an
ABCD-style array of `original` [speaker, text] pairs, found in the corpora directory), that is in NO labelled
English set (every corpora/labelled/*-en.jsonl but the conversation sets), by ref or by text; one turn per distinct
text. The strata say why a turn is drawn (a turn goes to the first that takes it):
  en3-vocab   every turn holding a broad trigger vocabulary for promise and forbidden (VOCAB below: guarantee,
              definitely, promise, 100%, never, always, can't, not my, your fault, contact, call, send me your…);
  en3-random  a random sample (--random, default 100) of the rest;
and the whole draw is capped at --max (default 300), the vocabulary stratum first.

When the pool is empty the script says so and exits 1: with the files in ../shared/corpora at pass 6, all 1,171
English agent turns (1,165 distinct texts) are already in real-en, heldout-en, heldout2-en or the blind/handwritten
sets (heldout2-en took the last 392), so a new real English set needs a new corpus file first.

Prints JSON lines {id, ref, role, stratum, text, context} for labelling (context = up to three turns before it);
only id, ref, role, stratum, expect and reason are committed: the text stays in ../shared/corpora.

  select-heldout3-en.py [--extra FILE.json ...] [--random 100] [--max 300] [--seed 16] > /tmp/hen3.jsonl
"""
import argparse, json, os, random, re, sys

sys.path.insert(0, os.path.dirname(__file__))
HERE = os.path.dirname(os.path.abspath(__file__))
LABELLED = os.path.join(HERE, "..", "corpora", "labelled")
OLD = __import__("select-real-turns")

# The brief's trigger vocabulary, widened by meaning: certainty and absolutes, refusals and limits, sending the
# customer elsewhere, blame, and asking for something secret.
VOCAB = re.compile(
    r"\b("
    r"guarantee\w*|definitely|certainly|surely|for sure|absolutely|promis\w*|assur\w*|my word|100 ?%|hundred percent|"
    r"never|always|forever|no (chance|way|risk|doubt)|without fail|trust me|"
    r"can'?t|cannot|won'?t|unable|not able|impossible|nothing (we|i) can|not (my|our) (problem|fault|department|job)|"
    r"your (fault|mistake|problem|error)|not on us|"
    r"contact|call|reach out|get in touch|speak (to|with)|ask (the|your)|yourself|directly|"
    r"send (me|us) your|dm (me|us) your|password|pin|code|card number|ssn|social security"
    r")\b",
    re.I,
)


def labelled_refs_and_texts():
    refs, texts = set(), set()
    for name in sorted(os.listdir(LABELLED)):
        if not name.endswith("-en.jsonl") or name.startswith("chats") or name == "heldout3-en.jsonl":
            continue
        for line in open(os.path.join(LABELLED, name), encoding="utf-8"):
            d = json.loads(line)
            if d.get("ref"):
                refs.add(d["ref"])
            if d.get("text"):
                texts.add(d["text"])
    return refs, texts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--extra", action="append", default=[], help="another corpus file (name in the corpora dir)")
    ap.add_argument("--random", type=int, default=100)
    ap.add_argument("--max", type=int, default=300)
    ap.add_argument("--seed", type=int, default=16)
    a = ap.parse_args()
    turns = list(OLD.en_turns())
    for name in a.extra:
        turns += list(OLD.json_turns(os.path.join(OLD.CORPORA, name), name))
    refs, texts = labelled_refs_and_texts()
    # A labelled text counts as used whatever its ref (the blind and hand-written sets carry text, no ref).
    vocab, rest = OLD.split_unseen(turns + [{"ref": None, "text": x} for x in texts], refs | {None}, VOCAB)
    print(f"pool: {len(turns)} agent turns, unlabelled: vocab {len(vocab)}, rest {len(rest)}", file=sys.stderr)
    if not vocab and not rest:
        print("no unlabelled English agent turn left in these corpora: add a corpus file (--extra) first",
              file=sys.stderr)
        return 1
    rng = random.Random(a.seed + 9000)
    picked = [dict(t, stratum="en3-vocab") for t in vocab[: a.max]]
    room = max(0, a.max - len(picked))
    picked += [dict(t, stratum="en3-random") for t in rng.sample(rest, min(a.random, room, len(rest)))]
    for k, t in enumerate(picked, 1):
        t["id"] = f"hen3-{k:04d}"
        t["role"] = "agent"
        print(json.dumps(t, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
