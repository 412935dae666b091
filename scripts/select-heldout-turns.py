#!/usr/bin/env python3
"""Pick a FRESH held-out set of real agent turns (issue 14 follow-up): JDDC agent turns that are not in
corpora/labelled/real-zh.jsonl (by ref or by text) and not in the chats of corpora/labelled/chats.jsonl, plus
the JDDC 2019 dev files' replies (never used before). Three strata, drawn with a fixed seed:
  1. dev replies holding the original trigger vocabulary of select-real-turns.py (all of them);
  2. turns holding a second, broader vocabulary for the three categories in other wording (sample);
  3. a random sample of the rest;
  4. every remaining chat turn that answers a customer turn asking about codes, cards, safety, quality or a
     certain outcome (ASKED): the wordings of promise and privacy that carry no trigger word of their own.
Prints JSON lines {id, ref, role, stratum, text, context} for labelling; only ids, refs and labels are committed
(corpora/labelled/heldout-zh.jsonl); the text stays in ../shared/corpora.
--third draws held-out pass 2's set (corpora/labelled/heldout3-zh.jsonl, ids from ho-1293): every unseen turn
with the likely-positive vocabulary LIKELY, a random 190 of the rest, then 300 of what is left with LIKELY2.
  select-heldout-turns.py --third --random 190 --more 300
--fourth draws held-out pass 3's set (corpora/labelled/heldout4-zh.jsonl, ids from ho-2201): unseen by ref or
text in real-zh, heldout-zh and heldout3-zh, and not in a chat of chats.jsonl; every turn with STRONG4, every
other turn of the broad pool LIKELY4 that also has WEAK4, a random 200 of the turns LIKELY4 does not match, then
(labelled after those 851 held only 40 positives) every turn left with MORE4.
  select-heldout-turns.py --fourth --random 200
--fifth draws held-out pass 8's set (corpora/labelled/heldout5-zh.jsonl, ids from ho-3301): unseen by ref or text
in real-zh, heldout-zh, heldout3-zh and heldout4-zh, and not in a chat of chats.jsonl; a sample of the turns with
VOCAB5 (the three categories' meanings in words of its own), a sample of the other turns that answer a customer
turn asking for something the agent may refuse, shirk or promise (ASKED5), a random 250 of the rest, then every
turn left with STRONG5 (negated verbs, referrals, certainty and privacy words).
  select-heldout-turns.py --fifth --likely 400 --more 280 --random 250
--english draws corpora/labelled/heldout-en.jsonl (ids hen-0001…): English agent turns (IBM Twitter, ABCD) not in
real-en.jsonl by ref or text; every one with LIKELY_EN and a random 200 of the rest.
  select-heldout-turns.py --english --random 200

usage: select-heldout-turns.py [--broad N] [--random N] [--seed S]
"""
import argparse, json, os, random, re, sys

sys.path.insert(0, os.path.dirname(__file__))
HERE = os.path.dirname(os.path.abspath(__file__))
CORPORA = os.environ.get("HUASHU_CORPORA", os.path.join(HERE, "..", "..", "shared", "corpora"))
LABELLED = os.path.join(HERE, "..", "corpora", "labelled")
OLD = __import__("select-real-turns")

# Wording the first vocabulary did not list: sending the customer elsewhere, refusals and shrugs in other
# words, blame; safety/quality/outcome claims; anything that asks for or carries personal data.
BROAD = re.compile(
    "找|问|联系|咨询|热线|官方|厂商|售后|配送员|快递员|站点|师傅|网点|营业厅|客服电话|400|"
    "只能|没有办法|搞不|不了|不到|不在|不是|不用|不要|别|没用|重新|再拍|再下单|怎么办|随便|"
    "可以的|没问题|不影响|安全|孕|宝宝|婴儿|孩子|副作用|过敏|有效|效果|正品|质量|不掉|不坏|耐用|"
    "肯|准|必|稳|确定|一样|会到|到货|能到|批|审核|通过|"
    "告知|提供|发下|发一下|报|姓名|名字|地址|电话|信息|生日|照片|资料|登录|付款人|支付人"
)


# What the customer asked just before the agent's turn (stratum 4).
ASKED = re.compile(
    "验证码|密码|卡号|身份证|银行卡|短信|孕|哺乳|宝宝|婴儿|小孩|副作用|过敏|安全吗|有害|辐射|甲醛|会不会坏|质量|"
    "耐用|保修|正品|假货|能通过|能批|审核能|一定|肯定|保证|确定能|能到吗|会到吗|几号到|能送到"
)


def label_refs_and_texts(refs):
    used, texts = set(), set()
    for line in open(os.path.join(LABELLED, "real-zh.jsonl"), encoding="utf-8"):
        d = json.loads(line)
        used.add(d.get("ref"))
    for t in OLD.zh_turns():
        if t["ref"] in used:
            texts.add(t["text"])
    return used, texts


def chat_sessions():
    s = set()
    for line in open(os.path.join(LABELLED, "chats.jsonl"), encoding="utf-8"):
        s.add(json.loads(line)["id"])
    return s


def dev_questions():
    """Session -> the customer's questions Q1.. of the dev file, the context of the answers file's lines."""
    qs, cur = {}, None
    for line in open(os.path.join(CORPORA, "jddc2019_dev_question.txt"), encoding="utf-8"):
        m = re.match(r"<session (\S+)>", line)
        if m:
            cur = qs.setdefault(m.group(1), [])
        m = re.match(r"<Q\d+>(.*)</Q\d+>", line.strip())
        if m and cur is not None:
            cur.append("customer: " + m.group(1).replace("!@@@!", " "))
    return qs


def dev_turns():
    """Replies in the dev files: `FILE:N/K`, reply K of line N (see `huashu eval` refs)."""
    qs = dev_questions()
    for name, tag in (("jddc2019_dev_answer.txt", None), ("jddc2019_dev_question.txt", "A:\t")):
        hist = []
        for n, line in enumerate(open(os.path.join(CORPORA, name), encoding="utf-8"), 1):
            line = line.rstrip("\n")
            if line.startswith("<session"):
                sid = line[len("<session "):-1]
                hist = []
                if tag is None:
                    pending = list(qs.get(sid, []))
            if tag is None and not line.startswith("<") and line.strip() and pending:
                hist.append(pending.pop(0))
            if line.startswith("Q:\t") or line.startswith("<Q"):
                hist.append("customer: " + re.sub("<[^>]+>|^Q:\t", "", line))
            if line.startswith("<") or not line.strip():
                continue
            if tag is not None and not line.startswith(tag):
                continue
            body = line[len(tag):] if tag else line
            for k, p in enumerate(body.split("<sep>"), 1):
                p = p.strip()
                if p and p != "NULL":
                    yield {"ref": f"{name}:{n}/{k}", "text": p.replace("!@@@!", "\n"), "context": hist[-3:]}


def unseen(turns, used, taken, seen, sessions):
    """The turns of `turns` that no labelled set holds (by ref or text), that no earlier draw took and that sit
    in no chat of chats.jsonl, each text once; `seen` grows with what is yielded."""
    for t in turns:
        if t["ref"] in used or t["ref"] in taken or t["text"] in seen or not t["text"].strip():
            continue
        if t["ref"].startswith("jddc2019_chat"):
            sid = open_lines()[int(t["ref"].rsplit(":", 1)[1]) - 1].split("\t", 1)[0]
            if sid in sessions:
                continue
        seen.add(t["text"])
        yield t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--broad", type=int, default=420)
    ap.add_argument("--random", type=int, default=220)
    ap.add_argument("--seed", type=int, default=1914)
    # a second draw, labelled after the first batch's review: measures the review's rule changes on turns
    # they were not written for (ids continue after the file's last, strata end in 2)
    ap.add_argument("--second", action="store_true")
    # a third draw (issue 14, held-out pass 2): the likely positives of all three categories in the wording
    # classes of POLICY.md, so that recall is measured on enough of them, plus a random sample
    ap.add_argument("--third", action="store_true")
    ap.add_argument("--likely", type=int, default=460)
    ap.add_argument("--more", type=int, default=300)
    # a fourth draw (held-out pass 3): draws 1-3 took almost every unseen turn with a negated verb, so the
    # likely pool is now mostly referrals, suggestions and promise/privacy words
    ap.add_argument("--fourth", action="store_true")
    ap.add_argument("--fifth", action="store_true")
    ap.add_argument("--english", action="store_true")
    a = ap.parse_args()
    if a.fifth:
        return fifth_draw(a)
    if a.english:
        return english_draw(a)
    if a.fourth:
        return fourth_draw(a)
    if a.second:
        return second_draw(a)
    if a.third:
        return third_draw(a)
    used, used_texts = label_refs_and_texts(None)
    sessions = chat_sessions()
    seen = set(used_texts)
    dev_trig, broad, rest = [], [], []
    for t in unseen(OLD.zh_turns(), used, set(), seen, sessions):
        (broad if BROAD.search(t["text"]) else rest).append(t)
    for t in dev_turns():
        if t["text"] in seen:
            continue
        seen.add(t["text"])
        if OLD.ZH_TRIGGERS.search(t["text"]):
            dev_trig.append(t)
        else:
            (broad if BROAD.search(t["text"]) else rest).append(t)
    rng = random.Random(a.seed)
    picked = [dict(t, stratum="dev-trigger") for t in dev_trig]
    picked += [dict(t, stratum="broad") for t in rng.sample(broad, min(a.broad, len(broad)))]
    picked += [dict(t, stratum="random") for t in rng.sample(rest, min(a.random, len(rest)))]
    taken = {t["ref"] for t in picked}
    asked = [
        dict(t, stratum="asked")
        for t in broad + rest
        if t["ref"] not in taken
        and any(c.startswith("customer") for c in t["context"])
        and ASKED.search([c for c in t["context"] if c.startswith("customer")][-1])
        and not t["ref"].startswith("jddc2019_dev")
    ]
    picked += asked
    print(f"asked {len(asked)}", file=sys.stderr)
    print(f"pool: dev-trigger {len(dev_trig)}, broad {len(broad)}, rest {len(rest)}", file=sys.stderr)
    for k, t in enumerate(picked):
        t["id"] = f"ho-{k + 1:04d}"
        t["role"] = "agent"
        print(json.dumps(t, ensure_ascii=False))


def second_draw(a):
    path = os.path.join(LABELLED, "heldout-zh.jsonl")
    first = [json.loads(line) for line in open(path, encoding="utf-8")]
    taken = {d["ref"] for d in first}
    used, used_texts = label_refs_and_texts(None)
    sessions = chat_sessions()
    seen = set(used_texts)
    broad, rest = [], []
    for t in unseen(OLD.zh_turns(), used, taken, seen, sessions):
        (broad if BROAD.search(t["text"]) else rest).append(t)
    rng = random.Random(a.seed + 1000)
    picked = [dict(t, stratum="broad2") for t in rng.sample(broad, min(a.broad, len(broad)))]
    picked += [dict(t, stratum="random2") for t in rng.sample(rest, min(a.random, len(rest)))]
    for k, t in enumerate(picked, len(first) + 1):
        t["id"] = f"ho-{k:04d}"
        t["role"] = "agent"
        print(json.dumps(t, ensure_ascii=False))


# Draw 3's likely positives: a negated ability or knowledge verb, a party to contact, customer blame, and the
# words of promise and privacy.
LIKELY = re.compile(
    "不能|无法|没法|没办法|不可以|不支持|不行|做不到|[^\\s]不了|不清楚|不知道|不了解|查不到|"
    "(商家|厂家|快递|配送员|售后|客服|官方|厂商|站点|师傅|网点).{0,8}(联系|咨询|找)|(联系|咨询|找).{0,8}(商家|厂家|快递|配送员|售后|客服|官方|厂商|站点|师傅|网点)|"
    "您自己|你自己|您没有|是您|是你|"
    "保证|一定|绝对|肯定|百分百|放心|安全|无害|验证码|密码|身份证|卡号|银行卡"
)
# The first vocabulary's pool held too few positives (30 of 418 after labelling): a second one for the same
# classes in looser wording (a suggestion to go elsewhere, 只能, other V不到/搞不/弄不, 不太/不是很, 没用, 问),
# sampled into its own stratum.
LIKELY2 = re.compile("建议您|您可以|您去|你去|自己|只能|不到|搞不|弄不|不太|不是很|没用|没有用|问一下|问下|不会|没有办法|不好意思")


def third_draw(a):
    path = os.path.join(LABELLED, "heldout-zh.jsonl")
    prior = [json.loads(line) for line in open(path, encoding="utf-8")]
    taken = {d["ref"] for d in prior}
    used, used_texts = label_refs_and_texts(None)
    sessions = chat_sessions()
    seen = set(used_texts)
    for t in list(OLD.zh_turns()) + list(dev_turns()):
        if t["ref"] in taken:
            seen.add(t["text"])
    likely, rest = [], []
    for t in unseen(list(OLD.zh_turns()) + list(dev_turns()), used, taken, seen, sessions):
        (likely if LIKELY.search(t["text"]) else rest).append(t)
    print(f"pool: likely {len(likely)}, rest {len(rest)}", file=sys.stderr)
    rng = random.Random(a.seed + 2000)
    picked = [dict(t, stratum="draw3") for t in rng.sample(likely, min(a.likely, len(likely)))]
    picked += [dict(t, stratum="draw3-random") for t in rng.sample(rest, min(a.random, len(rest)))]
    # drawn after the random sample (which was labelled first), from what it left
    taken3 = {t["ref"] for t in picked}
    more = [t for t in rest if t["ref"] not in taken3 and LIKELY2.search(t["text"])]
    picked += [dict(t, stratum="draw3-more") for t in rng.sample(more, min(a.more, len(more)))]
    for k, t in enumerate(picked, len(prior) + 1):
        t["id"] = f"ho-{k:04d}"
        t["role"] = "agent"
        print(json.dumps(t, ensure_ascii=False))


# Draw 4's pools. LIKELY4: the brief's vocabulary for held-out pass 3 — negated ability/knowledge verbs, V不了,
# a party the customer could be sent to or a verb of asking it, customer blame, 只能/建议您/自行, and the words of
# promise and privacy. STRONG4 narrows the party words to a party next to a verb of contacting or asking.
LIKELY4 = re.compile(
    "不能|无法|没法|没办法|没有办法|不可以|不支持|不行|做不到|办不到|[^\\s]不了|不清楚|不知道|不了解|不晓得|不确定|"
    "查不到|看不到|查询不到|(商家|厂家|快递|配送员|配送|售后|客服|官方|厂商|站点|师傅|网点|卖家|店铺|供应商|银行|物流)|"
    "联系|咨询|问一下|问下|您自己|你自己|自行|只能|建议您|是您|是你|您没有|你没有|"
    "保证|一定|绝对|肯定|百分百|放心|安全|无害|正品|验证码|密码|身份证|卡号|银行卡|发一下|发下|告知"
)
_PARTY4 = "(商家|厂家|快递|配送员|配送|售后|客服|官方|厂商|站点|师傅|网点|卖家|店铺|供应商|银行|物流)"
STRONG4 = re.compile(
    "不能|无法|没法|没办法|没有办法|不可以|不支持|不行|做不到|办不到|[^\\s]不了|不清楚|不知道|不了解|不晓得|不确定|"
    "查不到|看不到|查询不到|" + _PARTY4 + ".{0,8}(联系|咨询|找|问)|(联系|咨询|找|问).{0,8}" + _PARTY4 + "|"
    "问一下|问下|您自己|你自己|自行|只能|建议您|是您|是你|您没有|你没有|"
    "保证|一定|绝对|肯定|百分百|放心|安全|无害|正品|验证码|密码|身份证|卡号|银行卡|发一下|发下|告知"
)
# A party word alone is mostly status talk (快递已发出); with one of these it may be a suggestion or a shrug.
WEAK4 = re.compile("您可以|您去|你去|需要您|麻烦您|自己|不会|不用|不要|没用|不到|搞不|弄不|不太|不是很|没有|不是")
# What the first 851 turns' positives were worded as, beyond the vocabularies above: the customer sent to look
# at a page or told what "prevails" (以…为准, 参考), to ask someone, a shrug, impatience.
MORE4 = re.compile(
    "为准|参考|您看下|您看一下|您查看|您仔细|您问|你问|咨询下|咨询一下|问问|找一下|不确定|不一定|不好说|说不准|"
    "无能为力|爱莫能助|只好|没辙|没用|没有用|不负责|不管|没有权限|权限|搞不|弄不|不太清楚|不是很清楚|页面|官网|自己看|"
    "看看吧|吧$|不懂|说过|早就|急什么|投诉"
)


def fourth_draw(a):
    prior = []
    for name in ("heldout-zh.jsonl", "heldout3-zh.jsonl"):
        prior += [json.loads(line) for line in open(os.path.join(LABELLED, name), encoding="utf-8")]
    taken = {d["ref"] for d in prior}
    used, used_texts = label_refs_and_texts(None)
    sessions = chat_sessions()
    seen = set(used_texts)
    turns = list(OLD.zh_turns()) + list(dev_turns())
    for t in turns:
        if t["ref"] in taken:
            seen.add(t["text"])
    strong, weak, other, rest = [], [], [], []
    for t in unseen(turns, used, taken, seen, sessions):
        if STRONG4.search(t["text"]):
            strong.append(t)
        elif LIKELY4.search(t["text"]):
            (weak if WEAK4.search(t["text"]) else other).append(t)
        else:
            rest.append(t)
    print(f"pool: strong {len(strong)}, weak {len(weak)}, rest {len(rest)}", file=sys.stderr)
    rng = random.Random(a.seed + 3000)
    picked = [dict(t, stratum="draw4") for t in strong]
    picked += [dict(t, stratum="draw4-weak") for t in weak]
    picked += [dict(t, stratum="draw4-random") for t in rng.sample(rest, min(a.random, len(rest)))]
    taken4 = {t["ref"] for t in picked}
    picked += [dict(t, stratum="draw4-more") for t in other + rest if t["ref"] not in taken4 and MORE4.search(t["text"])]
    for k, t in enumerate(picked, len(prior) + 1):
        t["id"] = f"ho-{k:04d}"
        t["role"] = "agent"
        print(json.dumps(t, ensure_ascii=False))


# Draw 5's vocabulary, written from POLICY.md's meanings rather than from the rules: (forbidden) a hedge on
# knowing or being able, the agent's limits, a verdict with no way forward, a party or a place the customer
# could be sent to and the verbs of sending, the customer as the subject of the work, impatience and blame;
# (promise) certainty words, outcomes and durations, quality/safety/efficacy words, approval and arrival;
# (privacy) the things a fraudster asks for and the verbs of handing them over.
VOCAB5 = re.compile(
    "不[知清了晓懂会能行可]|没[法辙有办用]|无[法能]|做不|办不|弄不|搞不|管不|查不|看不|处理不|解决不|"
    "[^\\s]不了|权限|规定|系统|只能|只有|只可以|没办|爱莫|无奈|抱歉|"
    "商家|厂家|厂商|卖家|店铺|品牌|官方|官网|售后|维修|网点|站点|快递|物流|配送|师傅|银行|客服电话|热线|400|"
    "您自己|你自己|自行|亲自|您去|你去|去找|去问|找一下|问一下|问问|咨询|联系|打电话|拨打|"
    "您看|你看|您查|您再|您要|你要|您得|你得|您需要|你需要|麻烦您|请您|"
    "说了|说过|早就|刚才|已经说|明白吗|懂吗|急|催|投诉|随便|爱|凭什么|又不是|怎么可能|"
    "保证|保障|确保|一定|肯定|绝对|必须|必然|百分|100|永久|永远|终身|终生|从不|不会|都能|都可以|放心|"
    "安全|无毒|无害|无副作用|副作用|过敏|孕|婴|宝宝|儿童|治|疗效|功效|效果|有效|质量|正品|耐用|坏|"
    "通过|批|审核|下来|到账|退款|退货|赔|补偿|返|能到|会到|送到|到货|今天|明天|几天|"
    "验证码|校验码|动态码|短信|密码|口令|pin|卡号|银行卡|信用卡|身份证|证件|账号|帐号|手机号|号码|"
    "截图|拍照|照片|发给我|发我|告诉我|报一下|念|提供|告知|发一下|发下"
)
# The customer turn before the agent's turn asks for something the agent may refuse, shirk or promise: money
# back, a return or exchange, compensation, a repair, a when/will-it, a quality/safety/efficacy question, a
# code or card.
ASKED5 = re.compile(
    "退|换|赔|补偿|补发|补寄|返|修|保修|维修|售后|坏|质量|正品|假|安全|有害|副作用|过敏|孕|宝宝|婴|效果|有用|"
    "什么时候|多久|几天|几号|哪天|今天|明天|能不能|可不可以|可以吗|能吗|行吗|会不会|会吗|是不是|有没有|"
    "一定|肯定|保证|确定|到底|怎么办|怎么回事|为什么|验证码|密码|卡号|银行卡|身份证|账号|短信|发票|价保|差价"
)

STRONG5 = re.compile(
    "不知道|不清楚|不了解|不晓得|不确定|没办法|没法|无法|不能|不行|不可以|不支持|做不|办不|[^\\s]不了|自己|自行|"
    "您去|你去|问一下|问下|咨询|为准|只能|保证|一定|肯定|绝对|验证码|密码|卡号|身份证"
)


def fifth_draw(a):
    prior = []
    for name in ("heldout-zh.jsonl", "heldout3-zh.jsonl", "heldout4-zh.jsonl"):
        prior += [json.loads(line) for line in open(os.path.join(LABELLED, name), encoding="utf-8")]
    taken = {d["ref"] for d in prior}
    used, used_texts = label_refs_and_texts(None)
    sessions = chat_sessions()
    seen = set(used_texts)
    turns = list(OLD.zh_turns()) + list(dev_turns())
    for t in turns:
        if t["ref"] in taken:
            seen.add(t["text"])
    vocab, asked, rest = [], [], []
    for t in unseen(turns, used, taken, seen, sessions):
        cust = [c for c in t["context"] if c.startswith("customer")]
        if VOCAB5.search(t["text"].lower()):
            vocab.append(t)
        elif cust and ASKED5.search(cust[-1]):
            asked.append(t)
        else:
            rest.append(t)
    print(f"pool: vocab {len(vocab)}, asked {len(asked)}, rest {len(rest)}", file=sys.stderr)
    rng = random.Random(a.seed + 5000)
    picked = [dict(t, stratum="draw5-vocab") for t in rng.sample(vocab, min(a.likely, len(vocab)))]
    picked += [dict(t, stratum="draw5-asked") for t in rng.sample(asked, min(a.more, len(asked)))]
    picked += [dict(t, stratum="draw5-random") for t in rng.sample(rest, min(a.random, len(rest)))]
    # the 400 vocabulary turns held almost no negated verb (draws 3 and 4 took them): every turn left with one,
    # a referral or a certainty/privacy word, so that recall is measured on more than a handful of positives
    taken5 = {t["ref"] for t in picked}
    picked += [dict(t, stratum="draw5-strong") for t in vocab + asked + rest if t["ref"] not in taken5 and STRONG5.search(t["text"])]
    for k, t in enumerate(picked, 3301):
        t["id"] = f"ho-{k:04d}"
        t["role"] = "agent"
        print(json.dumps(t, ensure_ascii=False))


# The English likely positives: refusals and not-knowing, sending the customer elsewhere, blame, guarantees, and
# what a fraudster asks for (issue 14's en bar needs more than real-en's 5 positives).
LIKELY_EN = re.compile(
    r"can't|cannot|can not|unable|won't|not able|don't know|not sure|not my|contact|reach out|you'll have to|"
    r"you will have to|you need to|your fault|guarantee|100%|promise|password|card number|\bPIN\b|security code|"
    r"\bDM\b|account number|email address|phone number",
    re.I,
)


def english_draw(a):
    used = set()
    for line in open(os.path.join(LABELLED, "real-en.jsonl"), encoding="utf-8"):
        used.add(json.loads(line)["ref"])
    likely, rest = OLD.split_unseen(list(OLD.en_turns()), used, LIKELY_EN)
    print(f"pool: likely {len(likely)}, rest {len(rest)}", file=sys.stderr)
    rng = random.Random(a.seed + 4000)
    picked = [dict(t, stratum="en-likely") for t in likely]
    picked += [dict(t, stratum="en-random") for t in rng.sample(rest, min(a.random, len(rest)))]
    for k, t in enumerate(picked, 1):
        t["id"] = f"hen-{k:04d}"
        t["role"] = "agent"
        print(json.dumps(t, ensure_ascii=False))


_LINES = []


def open_lines():
    if not _LINES:
        _LINES.extend(open(os.path.join(CORPORA, "jddc2019_chat_0.1per.tsv"), encoding="utf-8").read().split("\n"))
    return _LINES


if __name__ == "__main__":
    sys.exit(main())
