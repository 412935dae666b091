#!/usr/bin/env python3
"""Pick the real agent turns to label (issue 14): every turn holding a broad trigger vocabulary for the three
categories, plus a fixed random sample of the rest. Prints JSON lines {id, ref, role, text, context} to stdout
for labelling; only ids, refs and labels are ever committed (corpora/labelled/), the text stays in
../shared/corpora.

usage: select-real-turns.py zh|en [--sample N] [--seed S]
"""
import argparse, json, os, random, re, sys

CORPORA = os.environ.get("HUASHU_CORPORA", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "corpora"))

ZH_TRIGGERS = re.compile(
    "不知道|不清楚|不了解|不晓得|没办法|没法|办不了|改不了|做不了|弄不了|处理不了|无能为力|自己去|您自己|你自己|自行|去问|问问|"
    "找商家|联系商家|咨询商家|联系快递|找快递|联系厂家|找厂家|售后电话|拨打|说过|说了|急什么|听不懂|看不懂|爱怎|投诉|不是我|不归|"
    "管不了|没权限|不负责|不行|无法|不能|不可以|不支持|不会|"
    "保证|绝对|一定|肯定|百分百|100%|永远|保本|稳赚|零风险|包|放心|确保|必须|铁定|准保|保准|无任何|没有任何|不会有|"
    "验证码|密码|卡号|身份证|银行卡|手机号|号码|短信|证件|账号|账户|支付宝|微信|截图|尾号|后四位|校验码|动态码|口令"
)
EN_TRIGGERS = re.compile(
    r"(?i)\b(know|can't|cannot|can not|unable|won't|not able|not possible|yourself|"
    r"guarantee|promise|never|always|definitely|certainly|100%|risk|safe|"
    r"password|pin|code|card|ssn|social security|account number|verify|verification)\b"
)


def zh_turns():
    path = os.path.join(CORPORA, "jddc2019_chat_0.1per.tsv")
    hist = {}
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        c = line.rstrip("\n").split("\t")
        if len(c) < 7:
            continue
        text = "\t".join(c[6:])
        h = hist.setdefault(c[0], [])
        if c[2] == "1":
            yield {"ref": f"jddc2019_chat_0.1per.tsv:{n}", "text": text, "context": h[-3:]}
        h.append(("agent" if c[2] == "1" else "customer") + ": " + text)
    path = os.path.join(CORPORA, "jddc2018_baseline_train.dec.txt")
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        yield {"ref": f"jddc2018_baseline_train.dec.txt:{n}", "text": line.rstrip("\n"), "context": []}


def json_turns(path, name):
    """The agent turns of one JSON corpus file: IBM Twitter threads (`dialogContent`, and the `agentURL` reply)
    or ABCD conversations (`original` [speaker, text] pairs), with up to three turns before each."""
    for i, conv in enumerate(json.load(open(path, encoding="utf-8"))):
        hist = []
        if "dialogContent" in conv:
            for j, u in enumerate(conv["dialogContent"]):
                if "agent" in u:
                    yield {"ref": f"{name}#{i}/{j}", "text": u["message"], "context": hist[-3:]}
                hist.append(("agent" if "agent" in u else "customer") + ": " + u["message"])
            url = (conv.get("agentURL") or {}).get("url_utterance")
            if url:
                yield {"ref": f"{name}#{i}/agent_url", "text": url, "context": hist[-3:]}
        elif "original" in conv:
            for j, (role, text) in enumerate(conv["original"]):
                if role == "agent":
                    yield {"ref": f"{name}#{i}/{j}", "text": text, "context": hist[-3:]}
                hist.append(role + ": " + text)


def split_unseen(turns, used, pattern):
    """The turns neither used (by ref) nor repeating a used or earlier turn's text, one per text, split into those
    `pattern` finds and the rest."""
    seen = {t["text"] for t in turns if t["ref"] in used}
    found, rest = [], []
    for t in turns:
        if t["ref"] in used or t["text"] in seen or not t["text"].strip():
            continue
        seen.add(t["text"])
        (found if pattern.search(t["text"]) else rest).append(t)
    return found, rest


def en_turns():
    for name in ("ibm_twitter_customer_care_dev.json", "ibm_twitter_customer_care_test.json", "abcd_sample.json"):
        yield from json_turns(os.path.join(CORPORA, name), name)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("lang", choices=["zh", "en"])
    ap.add_argument("--sample", type=int, default=None)
    ap.add_argument("--seed", type=int, default=14)
    a = ap.parse_args()
    turns = list(zh_turns() if a.lang == "zh" else en_turns())
    trig = ZH_TRIGGERS if a.lang == "zh" else EN_TRIGGERS
    seen, picked, rest = set(), [], []
    for t in turns:
        if not t["text"].strip() or t["text"] in seen:
            continue  # jddc2018 repeats stock replies; one label per distinct text
        seen.add(t["text"])
        (picked if trig.search(t["text"]) else rest).append(t)
    sample = a.sample if a.sample is not None else (400 if a.lang == "zh" else 120)
    picked += random.Random(a.seed).sample(rest, min(sample, len(rest)))
    for k, t in enumerate(picked):
        t["id"] = f"{a.lang}-{k + 1:04d}"
        t["role"] = "agent"
        print(json.dumps(t, ensure_ascii=False))


if __name__ == "__main__":
    sys.exit(main())
