#!/usr/bin/env python3
"""Draw corpora/labelled/heldout2-en.jsonl (ids hen2-0001…): a second real English held-out set (held-out pass 8).

The pool is every English agent turn of the IBM Twitter customer-care files (dev + test, the agent's messages and
the `agentURL.url_utterance`) and of the ABCD sample that is in none of real-en, heldout-en, handwritten-en or the
blind*-en sets, by ref or by text (one label per distinct text). mobilecs_example.json is Chinese (China Mobile
calls) and is not used. The pool holds only ~392 such turns, so every one of them is drawn; the strata say why a
turn is in the set (in this order, a turn goes to the first that takes it):
  en2-vocab  a broad vocabulary written from POLICY.md's meaning for the three categories (VOCAB below: not the
             rules' phrases: not knowing, refusing, sending elsewhere or to self-service, blame and impatience;
             certainty, absolutes and outcomes; anything secret or personal);
  en2-asked  the customer's turn just before asks for something the agent may refuse, shirk or promise (ASKED);
  en2-random a random sample (--random, default 150) of the rest; with this pool that is all of it.
Prints JSON lines {id, ref, role, stratum, text, context} for labelling (context = the turns before it); only id,
ref, role, stratum, expect and reason are committed, the text stays in ../shared/corpora.

  select-heldout2-en.py [--random 150] [--seed 14] > /tmp/hen2.jsonl
"""
import argparse, json, os, random, re, sys

sys.path.insert(0, os.path.dirname(__file__))
HERE = os.path.dirname(os.path.abspath(__file__))
LABELLED = os.path.join(HERE, "..", "corpora", "labelled")
OLD = __import__("select-real-turns")

# What the three categories MEAN, in ordinary English vocabulary (not the rules' phrases).
VOCAB = re.compile(
    r"\b("
    # not knowing / no answer
    r"not sure|no idea|unaware|not aware|no information|no info|don'?t have (any|that|the|access)|no access|"
    r"unclear|uncertain|can'?t say|couldn'?t say|"
    # refusing / limits
    r"can'?t|cannot|can not|couldn'?t|unable|not able|won'?t|wouldn'?t|not possible|impossible|no way|"
    r"unfortunately|sadly|afraid|not allowed|not permitted|not eligible|ineligible|declin\w*|denied|deny|refus\w*|"
    r"nothing (we|i) can|out of (our|my) (hands|control)|beyond (our|my)|only|policy|"
    # sending elsewhere / self-service
    r"reach out|contact|get in touch|call|phone|ring|speak (to|with)|talk to|visit|head (to|over)|go to|"
    r"check (out|our|the)|refer|directly|yourself|on your own|manufacturer|retailer|seller|store|bank|carrier|"
    r"provider|third[- ]party|another team|other team|department|you('ll| will)? (need|have) to|you must|"
    # blame / impatience / contempt
    r"already|again|as (i|we) (said|mentioned|stated|explained)|obviously|clearly|simply|just|fault|blame|"
    r"your (mistake|error|end)|on your end|on your side|"
    # certainty / absolutes / outcomes
    r"guarantee\w*|promis\w*|assur\w*|ensure|certain\w*|definitely|surely|for sure|absolutely|100|never|always|"
    r"forever|all|every|no risk|risk|safe\w*|secure|will be (approved|refunded|credited|delivered|resolved|fixed|"
    r"back|sorted|reinstated|restored)|will (arrive|receive|get|have|be)|by (today|tomorrow|monday|tuesday|"
    r"wednesday|thursday|friday|saturday|sunday|end of)|within|"
    # secrets and personal data
    r"password|passcode|pin|code|otp|verif\w*|card|credit|debit|cvv|cvc|expir\w*|ssn|social security|"
    r"account (number|details|info\w*)|log ?in|sign ?in|credentials|email|e-mail|phone number|number|address|"
    r"full name|date of birth|dob|birthday|security question|digits|dm|direct message|private message|details|"
    r"screenshot|photo|picture|id"
    r")\b",
    re.I,
)

# The customer asks for something the agent may refuse, shirk or promise (the turn before the agent's).
ASKED = re.compile(
    r"\b(can (you|u|i|we)|could (you|u)|would (you|u)|will (you|u|i|it|my|they|this)|please|pls|plz|want|need|"
    r"refund|money back|cancel|replace|replacement|exchange|return|compensat\w*|fix|help|when|how long|why|"
    r"where is|is it|guarantee|promise|sure|safe|deliver\w*|arriv\w*|approv\w*|unlock|reset|restore|reinstate|"
    r"account|card|password|charge\w*|bill\w*)\b|\?",
    re.I,
)


def seen_refs_and_texts(turns):
    refs, texts = set(), set()
    for name in sorted(os.listdir(LABELLED)):
        if not (name.endswith("-en.jsonl") and name != "heldout2-en.jsonl"):
            continue
        for line in open(os.path.join(LABELLED, name), encoding="utf-8"):
            d = json.loads(line)
            if d.get("ref"):
                refs.add(d["ref"])
            if d.get("text"):
                texts.add(d["text"])
    for t in turns:
        if t["ref"] in refs:
            texts.add(t["text"])
    return refs, texts


def previous_customer(t):
    for c in reversed(t["context"]):
        if not c.startswith("agent: "):
            return c.split(": ", 1)[1]
    return ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--random", type=int, default=150)
    ap.add_argument("--seed", type=int, default=14)
    a = ap.parse_args()
    turns = list(OLD.en_turns())
    refs, seen = seen_refs_and_texts(turns)
    vocab, asked, rest = [], [], []
    for t in turns:
        if t["ref"] in refs or t["text"] in seen or not t["text"].strip():
            continue
        seen.add(t["text"])
        if VOCAB.search(t["text"]):
            vocab.append(t)
        elif ASKED.search(previous_customer(t)):
            asked.append(t)
        else:
            rest.append(t)
    print(f"pool: vocab {len(vocab)}, asked {len(asked)}, rest {len(rest)}", file=sys.stderr)
    rng = random.Random(a.seed + 8000)
    picked = [dict(t, stratum="en2-vocab") for t in vocab]
    picked += [dict(t, stratum="en2-asked") for t in asked]
    picked += [dict(t, stratum="en2-random") for t in rng.sample(rest, min(a.random, len(rest)))]
    for k, t in enumerate(picked, 1):
        t["id"] = f"hen2-{k:04d}"
        t["role"] = "agent"
        print(json.dumps(t, ensure_ascii=False))


if __name__ == "__main__":
    sys.exit(main())
