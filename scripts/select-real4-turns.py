#!/usr/bin/env python3
"""Pick a fresh real blind set (corpora/labelled/real4-zh.jsonl, ids r4-0001…): JDDC agent turns that no labelled
set has seen — the agent rows (waiter_send = 1) of jddc2019_chat_0.1per.tsv, the replies of
jddc2018_baseline_train.dec.txt and of jddc2019_dev_answer.txt — whose `ref` is in no corpora/labelled/*.jsonl set,
whose normalised text (NFKC, lower case, no whitespace or punctuation) repeats no labelled turn's text (by ref or
inline `text`) nor an earlier pick, and that sit in no conversation of chats.jsonl / chats2.jsonl (those chats
were read whole when they were scored). Three strata, drawn with a fixed seed:
  1. `r4-strong`: every unseen turn holding STRONG, a vocabulary for the three categories of
     ../shared/design/POLICY.md (not knowing, refusing, sending elsewhere, blame and impatience; certainty,
     quality, safety and outcome words; codes, passwords, card and ID numbers and the verbs of handing them over);
     earlier draws took almost all of them: 51 were left;
  2. `r4-broad`: a seeded sample (--broad) of the turns with BROAD (a party or a verb of contacting, asking,
     chasing, quality and outcome words, any 不/没) or answering a customer turn that asks about codes, safety,
     quality or a certain outcome (ASKED);
  3. `r4-random`: a seeded random sample of the rest (--random).
Prints JSON lines {id, ref, role, stratum, text, context} to stdout for labelling; only ids, refs, labels and
reasons are ever committed; the text stays in ../shared/corpora.

usage: select-real4-turns.py [--broad 700] [--random 250] [--seed 2017] > /tmp/real4-turns.jsonl
"""
import argparse, glob, json, os, random, re, sys, unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
OLD = __import__("select-real-turns")
HO = __import__("select-heldout-turns")
LABELLED = os.path.join(HERE, "..", "corpora", "labelled")

STRONG = re.compile(
    # forbidden: not knowing, not being able, refusing, limits, sending the customer elsewhere, blame, impatience
    "不知道|不清楚|不了解|不晓得|不确定|不懂|不造|说不好|说不准|不好说|没[法辙用]|没有办法|没办法|无法|无能为力|爱莫能助|"
    "不能|不行|不可以|不支持|不会|不归|不管|不负责|[^\\s]不了|[做办弄搞查管]不|没有权限|权限|只能|只好|"
    "自己|自行|亲自|您去|你去|去找|去问|问问|问一下|问下|拨打|打电话|热线|客服电话|400|为准|"
    "(联系|咨询|找|问|打给|致电|去)[^，。,！？]{0,8}(商家|厂家|厂商|卖家|官方|售后|快递|物流|配送员|站点|网点|师傅|银行)|"
    "(商家|厂家|厂商|卖家|官方|售后|快递|物流|配送员|站点|网点|师傅|银行)[^，。,！？]{0,8}(联系|咨询|问|电话)|官网|"
    "说过|说了|早就|听不懂|看不懂|明白吗|懂吗|急什么|爱[怎咋]|随便|投诉|凭什么|又不是|怎么可能|是您|是你|"
    # promise: certainty, guarantees, quality, safety, efficacy, returns, arrival
    "保证|保障|确保|一定|肯定|绝对|必须|必然|铁定|准保|保准|百分|100%|永久|永远|终身|从不|放心|"
    "保本|稳赚|零风险|收益|利息|无毒|无害|安全|副作用|过敏|孕|婴|宝宝|治|疗效|功效|效果|正品|耐用|"
    "能到|会到|没有任何|无任何|不会有|"
    # privacy: codes, passwords, card and ID numbers, and handing them over
    "验证码|校验码|动态码|短信|密码|口令|卡号|银行卡|信用卡|身份证|证件|账号|帐号|账户|手机号|号码|"
    "发给我|发我|告诉我|报一下|念|告知|发一下|发下|截图"
)
# Looser words of the same meanings: a party or a place the customer could be sent to, a verb of contacting,
# asking for something, chasing, quality and outcome words (approval, arrival, money back). Most such turns are
# status talk; they are sampled.
BROAD = re.compile(
    "商家|厂家|厂商|卖家|官方|售后|快递|物流|配送|站点|网点|师傅|银行|联系|咨询|找|问|催|提供|麻烦您|请您|您可以|"
    "建议|需要您|质量|审核|通过|批|到账|送到|退款|赔|补偿|不[^\\s]|没"
)
# The customer's turn just before asks about codes, cards, safety, quality or a certain outcome: the agent's
# answer may promise or collect without a word of its own (是的亲, 发一下吧).
ASKED = re.compile(
    "验证码|密码|卡号|银行卡|身份证|保证|一定|肯定|确定|绝对|安全|副作用|孕|宝宝|婴|正品|假货|会不会坏|质量|能到吗|会到吗"
)

PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


def norm(text):
    return PUNCT.sub("", unicodedata.normalize("NFKC", text).lower())


def labelled():
    """Refs and inline texts of every labelled turn set, and the sessions of the labelled chat sets."""
    refs, texts, sessions = set(), set(), set()
    for path in sorted(glob.glob(os.path.join(LABELLED, "*.jsonl"))):
        if os.path.basename(path) == "real4-zh.jsonl":
            continue  # this set itself, once written
        for line in open(path, encoding="utf-8"):
            d = json.loads(line)
            if "ref" in d:
                refs.add(d["ref"])
            elif "text" in d:
                texts.add(norm(d["text"]))
            elif d.get("source") == "jddc2019_chat_0.1per.tsv" or "score" in d:
                sessions.add(d["id"])
    return refs, texts, sessions


def turns():
    yield from OLD.zh_turns()
    for t in HO.dev_turns():
        if t["ref"].startswith("jddc2019_dev_answer.txt"):
            yield t


def session_of(ref):
    return HO.open_lines()[int(ref.rsplit(":", 1)[1]) - 1].split("\t", 1)[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--broad", type=int, default=700)
    ap.add_argument("--random", type=int, default=250)
    ap.add_argument("--seed", type=int, default=2017)
    a = ap.parse_args()
    refs, texts, sessions = labelled()
    all_turns = list(turns())
    for t in all_turns:
        if t["ref"] in refs:
            texts.add(norm(t["text"]))
    strong, broad, rest = [], [], []
    for t in all_turns:
        n = norm(t["text"])
        if t["ref"] in refs or not n or n in texts:
            continue
        if t["ref"].startswith("jddc2019_chat") and session_of(t["ref"]) in sessions:
            continue
        texts.add(n)
        cust = [c for c in t["context"] if c.startswith("customer")]
        if STRONG.search(t["text"].lower()):
            strong.append(t)
        elif BROAD.search(t["text"]) or (cust and ASKED.search(cust[-1])):
            broad.append(t)
        else:
            rest.append(t)
    print(f"pool: strong {len(strong)}, broad {len(broad)}, rest {len(rest)}", file=sys.stderr)
    rng = random.Random(a.seed)
    picked = [dict(t, stratum="r4-strong") for t in strong]
    picked += [dict(t, stratum="r4-broad") for t in rng.sample(broad, min(a.broad, len(broad)))]
    picked += [dict(t, stratum="r4-random") for t in rng.sample(rest, min(a.random, len(rest)))]
    for k, t in enumerate(picked, 1):
        t["id"] = f"r4-{k:04d}"
        t["role"] = "agent"
        print(json.dumps(t, ensure_ascii=False))


if __name__ == "__main__":
    sys.exit(main())
