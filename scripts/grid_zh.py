#!/usr/bin/env python3
"""A component grid for zh forbidden (its four clauses) and promise: recall by the parts of a meaning.

Held-out turns say what ours say in other combinations of the same parts: another subject (我 / 我们这边 / 小妹),
another negated ability (不知道 / 说不好 / 办不了 / X不了), another object, another particle or tail, with or
without what makes the turn compliant (a reason, an alternative, the agent's own next step). Rules written from
examples cover the combinations someone wrote down. This script writes every POLICY.md clause as a small table
of components taken from the meaning (never from a labelled set) and emits their combinations, or a seeded
sample of them, as labelled turns:

    python3 scripts/grid_zh.py [--out corpora/labelled/grid-zh.jsonl] [--seed 18]

Each line is {"id": "gz-…", "role": "agent", "text", "expect", "reason"}; the reason names the clause and the
component values (`key=value` pairs), which `--measure` reads back to give recall per component value:

    python3 scripts/grid_zh.py --measure target/release/huashu [--ruleset rulesets/zh-CN] [--show 20]

Positives are violations by POLICY.md; negatives are the same parts with what makes them compliant.
"""
import argparse
import hashlib
import itertools
import json
import random
import subprocess
import sys
from collections import defaultdict

# Sentence tails of chat and call speech: none, particles, the 亲 of shop chat.
TAILS = ["", "呢", "哦", "哈", "呢亲", "哦亲", "的呢", "啊"]
LEADS = ["", "亲，", "不好意思，", "嗯，", "抱歉，"]


def grid(name, label, axes, render, cap, rng, out):
    """Every combination of `axes` (a list of (key, values)), or `cap` of them drawn with `rng`."""
    keys = [k for k, _ in axes]
    combos = list(itertools.product(*[v for _, v in axes]))
    rng.shuffle(combos)
    seen = set()
    for combo in combos:
        if len(seen) >= cap:
            break
        c = dict(zip(keys, combo))
        text = render(c)
        if text is None or text in seen:
            continue
        seen.add(text)
        parts = " ".join(f"{k}={v or '-'}" for k, v in c.items())
        out.append((name, label, text, parts))


# ---------------------------------------------------------------- forbidden: not knowing, and stopping there
KNOW_SUBJ = ["我", "我这边", "我们这边", "小妹", "小妹这边", "客服这边", "咱们这边", "我们这里", "人家", "我们客服",
             "店铺这边"]
KNOW_ADV = ["", "也", "真的", "确实"]
KNOW_ACT = ["不知道", "不清楚", "不太清楚", "不了解", "不太了解", "不晓得", "说不好", "说不准", "搞不清楚", "不确定",
            "不懂", "不太懂", "说不清", "说不清楚", "不是很清楚", "没听说过", "没底"]
KNOW_OBJ = ["", "具体什么时候到", "这个问题", "商品的具体参数", "物流那边的情况", "为什么会这样", "是什么原因",
            "什么时候能发货", "多久能到", "怎么回事", "哪里出了问题", "能不能退", "这个活动的规则"]
KNOW_TOPIC = ["这个", "这个问题", "具体时间", "发货时间", "库存的情况"]
KNOW_NEXT = [
    "，我帮您查一下",
    "，我去问一下同事再回复您",
    "，稍等我帮您核实一下",
    "，我这就联系仓库帮您确认",
    "，我记录下来，明天中午前给您回复",
    "，我帮您问问售后那边，有消息马上告诉您",
]


def know(c, next_step=""):
    if c.get("order") == "topic":
        s = f"{c['obj']}{c['subj']}{c['adv']}{c['act']}"
    else:
        s = f"{c['subj']}{c['adv']}{c['act']}{c['obj']}"
    if c["act"] in ("说不好", "说不准", "不确定", "说不清", "说不清楚") and c["obj"] in (
            "商品的具体参数", "物流那边的情况", "这个活动的规则"):
        return None  # 说不好商品参数 is no Chinese
    if c["act"] in ("没听说过", "没底") and c["obj"] not in ("", "这个", "这个问题", "具体时间", "发货时间", "库存的情况"):
        return None  # 没听说过 / 没底 take no clause after them
    if c["act"] == "没听说过" and c["obj"] in ("具体时间", "发货时间", "库存的情况"):
        return None
    if "亲" in c["lead"] and "亲" in c["tail"]:
        return None
    return c["lead"] + s + (c["tail"] + next_step if next_step else c["tail"])


# ---------------------------------------------------------------- forbidden: bare refusal
REFUSE_SUBJ = ["我", "我这边", "我们这边", "小妹这边", "客服这边", "这边", "我们这里", "人家", "咱们"]
REFUSE_ADV = ["", "真的", "确实", "也", "实在"]
REFUSE_TOPIC = ["这个", "这个问题", "您说的这个", "这种情况", "这个订单", "这个要求"]
REFUSE_ACT = ["没办法", "没法处理", "办不了", "处理不了", "做不到", "弄不了", "操作不了", "帮不了您", "无能为力",
              "搞不定", "没有办法", "管不了", "做不了主", "没这个权限", "帮不上忙", "不给办", "也没辙", "没法弄",
              "无法处理", "办不到"]
# an object with its own negated verbs
# an object with its own negated verbs, and the reasons and alternatives that fit it
REFUSE_VERB = [
    ("地址", ["改不了", "没法改", "修改不了", "没办法修改"],
     ["，因为包裹已经出库了", "，因为系统在发货后就锁定了地址"],
     ["，您可以拒收后重新下单，运费我们来承担", "，我帮您联系快递员改派到新地址"]),
    ("发票", ["开不了", "没法开", "补开不了"],
     ["，因为这单是用优惠券抵扣的部分不能开票", "，因为已经超过了开票期限"],
     ["，我帮您申请开一张电子发票", "，可以开收据，我这边帮您申请"]),
    ("这笔退款", ["退不了", "没法退", "没办法退"],
     ["，因为已经超过了售后期限", "，因为这是定制商品，不支持退款"],
     ["，不过可以给您换货，我帮您提交", "，我帮您申请一张补偿券"]),
    ("订单", ["取消不了", "没法取消", "拦截不了"],
     ["，因为包裹已经在派送途中了", "，因为订单已经出库了"],
     ["，您收到后拒收就可以退款，我帮您备注", "，我帮您联系快递尝试拦截"]),
    ("价格", ["改不了", "便宜不了", "没法调"],
     ["，因为这是厂家统一定的价格", "，因为活动价已经是最低了"],
     ["，我帮您申请一张优惠券", "，下周有满减活动，到时候我提醒您"]),
    ("运费", ["退不了", "免不了"],
     ["，因为这件商品不在包邮范围内", "，因为退货原因是个人原因"],
     ["，我帮您申请运费补偿", "，您选上门取件，我帮您申请减免"]),
]
REFUSE_REASON = [
    "，因为已经超过了售后期限",
    "，因为这是平台统一的规则",
    "，因为系统不支持这个操作",
]
REFUSE_ALT = [
    "，我这边帮您转给专员处理，今天内给您回复",
    "，不过我可以帮您提交给主管看看有没有别的办法",
    "，您看换个方式可以吗？我帮您申请售后",
]


def refuse(c, completion=""):
    if c["adv"] == "也" and c["subj"] == "这边" or "亲" in c["lead"] and "亲" in c["tail"]:
        return None
    return c["lead"] + f"{c['topic']}{c['subj']}{c['adv']}{c['act']}" + c["tail"] + completion


# ---------------------------------------------------------------- forbidden: pushing the work back
PUSH_WHO = ["您", "您自己", "您直接", "亲您自己", "您还是", "您就"]
PUSH_PEOPLE = ["快递", "商家", "售后", "厂家", "快递员", "物流公司", "银行", "店铺客服", "卖家", "网点", "营业厅",
               "客服电话"]
PUSH_ASK = ["去问", "去找", "联系", "打电话问", "问一下", "咨询一下", "找", "去问问", "自己联系", "打电话给",
            "跟…说"]
PUSH_INFO = ["页面", "订单详情", "物流信息", "商品详情页", "说明书"]
PUSH_LOOK = ["看", "去看", "查一下", "看一下", "自己看"]
PUSH_LEAD = ["", "这个", "物流的问题", "亲，", "这个问题", "这种情况"]
PUSH_TAIL = ["", "吧", "哈", "哦", "就行了", "就可以了", "吧亲", "去"]


def push(c):
    who, verb = c["who"], c["verb"]
    if verb == "跟…说":
        return None if c["tail"] == "去" else f"{c['lead']}{who}跟{c['target']}说{c['tail']}"
    if c["target"] in ("网点", "营业厅") and verb not in ("去问", "去找", "去问问"):
        return None
    if c["target"] == "客服电话" and verb not in ("打电话问", "联系", "自己联系"):
        return None
    if c["target"] == "客服电话" and verb == "打电话问":
        verb = "打"
    if "自己" in who and "自己" in verb:
        return None
    if c["tail"] == "去" and not verb.startswith(("问", "找", "联系", "咨询")):
        return None
    if c["lead"] == "物流的问题" and c["target"] in ("说明书", "商品详情页", "厂家", "银行"):
        return None
    # the order's own records (订单详情, 物流信息) are also the right answer to "where do I see it": only 自己 makes
    # pointing there pushing the work back
    if c["target"] in ("订单详情", "物流信息") and "自己" not in who + verb:
        return None
    # where to read it, said plainly (您看一下订单详情哈), can be a helpful pointer: pushing back is the pointer
    # said as the whole answer, with 自己 / 直接 / 还是 / 就, or closed with 就行了 / 就可以了
    if c["target"] in PUSH_INFO and not (any(w in who + verb for w in ("自己", "直接", "还是", "就"))
                                         or c["tail"] in ("就行了", "就可以了")):
        return None
    return f"{c['lead']}{who}{verb}{c['target']}{c['tail']}"


PUSH_OWN = [
    "我帮您联系{t}，有结果第一时间告诉您",
    "我这边帮您问一下{t}，稍后回复您",
    "我已经帮您联系{t}了，您也可以在订单详情里看进度",
    "我来跟{t}沟通，您不用自己跑",
    "小妹帮您催一下{t}，今天下班前给您答复",
]
PUSH_OWN_INFO = [
    "{t}上也能看到进度，我这边也会帮您盯着，有变化告诉您",
    "我帮您查了{t}，稍等我截图发您",
    "{t}里有写，我这边也帮您确认一下再回复您",
]


# ---------------------------------------------------------------- forbidden: blame, impatience, contempt
BLAME_TOLD = ["早就跟您说过了", "都说了好几遍了", "刚才不是说了吗", "跟您说了多少次了", "已经说得很清楚了",
              "上面都写着呢", "说过多少遍了", "讲了好几次了"]
BLAME_DUMB = ["听不懂吗", "这都不明白吗", "看不懂吗", "听不明白吗", "怎么还不懂", "这么简单的问题还要问",
              "理解不了吗", "字都不认识吗"]
BLAME_RUSH = ["急什么", "催什么催", "着什么急", "等着就行了", "别催了", "催也没用", "急也没用", "再催也没用"]
BLAME_SCORN = ["爱怎样怎样", "爱买不买", "有本事去投诉", "随便您投诉", "是您自己没看清楚", "这是您自己的问题",
               "买不起就别买", "说了您也不懂", "关我什么事", "又不是我的错", "怪您自己", "谁让您不看清楚",
               "您爱投诉就投诉", "那是您自己选的"]
BLAME_WHO = ["", "我", "我这边", "小妹", "您", "亲，您"]
BLAME_TAIL = ["", "啊", "吧", "嘛", "！", "？", "呀", "好吧", "行吧"]
BLAME_POLITE = [
    "可能是我刚才没说清楚，我再跟您说一下",
    "我理解您着急，我马上帮您催一下",
    "如果您对处理结果不满意，可以通过官方渠道反馈，我们会认真处理",
    "您刚才说看不懂这个流程，是吗？我再一步一步跟您说",
    "让您久等了，我这边正在加急处理",
    "不知道您是否方便提供一下订单号，我帮您查",
]


def blame(c):
    act, who = c["act"], c["who"]
    kind = c["kind"]
    if kind == "told" and who not in ("", "我", "我这边", "小妹"):
        return None
    if kind in ("dumb", "rush") and who not in ("", "您", "亲，您"):
        return None
    if kind == "scorn" and who not in ("", "您", "亲，您") or (kind == "scorn" and who and act.startswith("是您")):
        return None
    if who in ("您", "亲，您") and act.startswith(("说了您", "这是您", "买不起", "关我", "又不是", "怪您", "谁让",
                                                  "您爱", "那是您")):
        return None
    if act.endswith(("吗", "呢")) and c["tail"] in ("啊", "吧", "嘛", "呀", "好吧", "行吧"):
        return None
    if act.startswith("别") and who:
        return None
    return f"{who}{act}{c['tail']}"


# ---------------------------------------------------------------- promise: returns and principal
RET_ITEM = ["这款理财", "这个产品", "这只基金", "我们家的理财", "这个计划", "这款保险"]
RET_GUAR = ["保证", "肯定", "绝对", "一定", "百分百", "包"]
RET_OUT = ["保本", "不会亏", "稳赚不赔", "零风险", "收益翻倍", "年化8%以上", "每个月都有收益", "本金不会少",
           "只赚不赔", "稳赚", "没有风险", "不可能亏", "只涨不跌", "有保底收益", "收益有保障", "本金有保障",
           "能赚钱", "亏不了"]
RET_LEAD = ["", "您放心，", "我跟您说，", "亲，", "实话跟您讲，"]
RET_TAIL = ["", "的", "哦", "呢", "的亲", "，您放心", "，放心买", "的哈"]
RET_HEDGE = [
    "{i}不能保证保本哦，理财有风险，投资需谨慎",
    "{i}过往业绩不代表未来表现，收益以实际为准",
    "{i}不承诺保本，也有亏损的可能",
    "{i}是稳健型的，但不保证收益，您根据自己的风险承受能力选择",
    "{i}没有保本的说法，我把风险说明发给您看一下",
    "购买{i}前需要先做风险测评",
]


def ret(c):
    g, o = c["guar"], c["out"]
    if g == "包" and o not in ("不会亏", "稳赚不赔", "只赚不赔", "稳赚", "保本", "能赚钱"):
        return None
    if g == "保证" and o in ("有保底收益", "收益有保障", "本金有保障"):
        return None
    if "您放心" in c["lead"] and "放心" in c["tail"]:
        return None
    if g == "保证" and o == "保本":
        o = "能保本"
    return f"{c['lead']}{c['item']}{g}{o}{c['tail']}"


# ---------------------------------------------------------------- promise: absolute quality, safety, efficacy
QUAL_ITEM = {
    "device": ["这款手机", "这台洗衣机", "这个床垫", "这双鞋", "这款空调", "这个充电宝"],
    "body": ["这个面霜", "我们的保健品", "这款精华", "这个减肥茶", "这款洗发水"],
}
QUAL_CLAIM = {
    "device": ["不会坏", "不会出故障", "用十年都没问题", "不会出任何问题", "不会爆炸", "用不坏", "零故障",
               "不会漏水"],
    "body": ["没有副作用", "能治好", "不会过敏", "有效", "能瘦下来", "孕妇也能放心用", "一周见效", "吃了就好",
             "对身体没有任何伤害"],
    "any": ["没有任何质量问题", "没有任何瑕疵", "安全无害", "不会让您失望"],
}
QUAL_GUAR = ["绝对", "保证", "肯定", "百分百", "永远", "一定"]
QUAL_TAIL = ["", "的", "哦", "的亲", "，您放心", "，放心用", "的哈", "呢"]
QUAL_OK = {
    "any": ["{i}支持7天无理由退货", "{i}是正品保证，假一赔十", "{i}符合国家标准，有检测报告"],
    "device": ["{i}享受三包服务，有质量问题可以换新", "{i}一般不容易出问题，如有问题可以申请保修",
               "{i}不能保证永远不坏，保修期内免费维修"],
    "body": ["{i}效果因人而异，建议您先少量试用", "{i}不能保证每个人都适合，敏感的话建议先咨询医生",
             "{i}不能替代药品，有不适请停用"],
}


def qual(c):
    kind = c["kind"]
    if c["claim"] not in QUAL_CLAIM[kind] + QUAL_CLAIM["any"]:
        return None
    g = c["guar"]
    if "放心" in c["tail"] and c["kind"] == "body" and c["claim"] == "能治好":
        return None
    if g == "永远" and not c["claim"].startswith("不会"):
        return None
    if g == "一定" and c["claim"].startswith("没有"):
        return None
    if c["claim"] == "吃了就好" and c["item"] not in ("我们的保健品", "这个减肥茶"):
        return None
    if g == "永远" and c["claim"] in ("用不坏",):
        return None
    if g in ("保证", "一定", "永远") and c["claim"] in ("零故障", "孕妇也能放心用"):
        return None
    return f"{c['item']}{g}{c['claim']}{c['tail']}"


# ---------------------------------------------------------------- promise: outcomes that depend on others
THIRD = [
    ("理赔", ["能批下来", "能赔", "能全额赔付"]),
    ("贷款", ["能批", "能通过", "能放款"]),
    ("签证", ["能过", "能下签", "能办下来"]),
    ("包裹", ["明天能到", "后天之前送到", "今天能送到"]),
    ("退款", ["今天到账", "马上到账", "明天能到账"]),
    ("审核", ["能通过", "没问题"]),
    ("保险公司那边", ["会同意", "会赔"]),
    ("商家", ["会同意退货", "会给您补发", "会同意退款"]),
    ("额度", ["能提上去", "能批下来"]),
    ("快递员", ["会送货上门", "今天会联系您"]),
]
THIRD_GUAR = ["肯定", "保证", "百分百", "一定", "绝对", "包"]
THIRD_LEAD = ["", "您放心，", "亲，", "我跟您保证，", "没事的，"]
THIRD_TAIL = ["", "的", "哦", "的亲", "，您放心", "的哈", "呢"]
THIRD_OWN = [
    "我保证今天下班前给您回复",
    "我一定帮您盯着{t}的进度，有结果第一时间通知您",
    "我肯定帮您跟进到底",
    "我保证明天上午给您回电话",
]
# hedges that fit what is awaited: an approval, or a delivery / a payment
THIRD_HEDGE = {
    "approval": ["{t}一般三到五个工作日出结果，以最终审批为准", "{t}不能保证一定通过，我会帮您把材料提交上去",
                 "{t}能不能通过要看审批结果，我帮您加急提交"],
    "arrival": ["{t}预计三到五天，具体以实际为准", "{t}时间没法打包票，我帮您催一下并随时告诉您"],
}
THIRD_KIND = {"理赔": "approval", "贷款": "approval", "签证": "approval", "审核": "approval",
              "保险公司那边": None, "包裹": "arrival", "退款": "arrival", "商家": None, "额度": "approval",
              "快递员": None}


def third(c):
    g = c["guar"]
    if g == "包" and (c["out"] in ("没问题",) or c["out"].startswith(("会", "今天会")) or c["thing"] == "包裹"):
        return None
    if "您放心" in c["lead"] and "放心" in c["tail"]:
        return None
    if c["lead"] == "我跟您保证，" and g == "保证":
        return None
    return f"{c['lead']}{c['thing']}{g}{c['out']}{c['tail']}"


def build(seed):
    rng = random.Random(seed)
    out = []
    # not knowing
    axes = [("lead", LEADS), ("subj", KNOW_SUBJ), ("adv", KNOW_ADV), ("act", KNOW_ACT), ("obj", KNOW_OBJ),
            ("tail", TAILS)]
    grid("forbidden/not-knowing", ["forbidden"], axes, know, 240, rng, out)
    axes_t = [("lead", [""]), ("order", ["topic"]), ("obj", KNOW_TOPIC), ("subj", KNOW_SUBJ), ("adv", KNOW_ADV),
              ("act", KNOW_ACT), ("tail", TAILS)]
    grid("forbidden/not-knowing", ["forbidden"], axes_t, know, 100, rng, out)
    grid("forbidden/not-knowing+next", [], axes + [("next", KNOW_NEXT)],
         lambda c: know(c, c["next"]), 160, rng, out)
    grid("forbidden/not-knowing+next", [], axes_t + [("next", KNOW_NEXT)],
         lambda c: know(c, c["next"]), 40, rng, out)
    opener = [("lead", ["", "亲，", "您好，"]), ("hedge", ["不知道", "不晓得"]),
              ("ask", ["您是否方便提供一下订单号", "您这边方便拍个照片吗", "您说的是哪一个订单",
                       "您现在方便接电话吗"]), ("tail", ["", "？"])]
    grid("forbidden/polite-opener", [], opener,
         lambda c: f"{c['lead']}{c['hedge']}{c['ask']}{c['tail']}", 30, rng, out)
    # bare refusal
    axes = [("lead", LEADS), ("topic", REFUSE_TOPIC), ("subj", REFUSE_SUBJ), ("adv", REFUSE_ADV),
            ("act", REFUSE_ACT), ("tail", TAILS)]
    grid("forbidden/refusal", ["forbidden"], axes, refuse, 220, rng, out)
    for topic, verbs, whys, alts in REFUSE_VERB:
        ax = [("lead", LEADS), ("topic", [topic]), ("subj", REFUSE_SUBJ), ("adv", REFUSE_ADV), ("act", verbs),
              ("tail", TAILS)]
        grid("forbidden/refusal", ["forbidden"], ax, refuse, 14, rng, out)
        grid("forbidden/refusal+reason", [], ax + [("why", whys)],
             lambda c: refuse(c, c["why"]), 8, rng, out)
        grid("forbidden/refusal+alternative", [], ax + [("alt", alts)],
             lambda c: refuse(c, c["alt"]), 8, rng, out)
    grid("forbidden/refusal+reason", [], axes + [("why", REFUSE_REASON)],
         lambda c: refuse(c, c["why"]), 60, rng, out)
    grid("forbidden/refusal+alternative", [], axes + [("alt", REFUSE_ALT)],
         lambda c: refuse(c, c["alt"]), 60, rng, out)
    # pushing the work back
    axes = [("lead", PUSH_LEAD), ("who", PUSH_WHO), ("verb", PUSH_ASK), ("target", PUSH_PEOPLE), ("tail", PUSH_TAIL)]
    grid("forbidden/push", ["forbidden"], axes, push, 230, rng, out)
    axes_i = [("lead", PUSH_LEAD), ("who", PUSH_WHO), ("verb", PUSH_LOOK), ("target", PUSH_INFO), ("tail", PUSH_TAIL)]
    grid("forbidden/push", ["forbidden"], axes_i, push, 70, rng, out)
    grid("forbidden/push+own-step", [], [("lead", ["", "亲，", "好的，"]), ("own", PUSH_OWN), ("target", PUSH_PEOPLE),
                                         ("tail", ["", "哦", "哈", "呢"])],
         lambda c: c["lead"] + c["own"].format(t=c["target"]) + c["tail"], 80, rng, out)
    grid("forbidden/push+own-step", [], [("lead", ["", "亲，"]), ("own", PUSH_OWN_INFO), ("target", PUSH_INFO),
                                         ("tail", ["", "哦", "哈"])],
         lambda c: c["lead"] + c["own"].format(t=c["target"]) + c["tail"], 30, rng, out)
    # blame
    for kind, acts in (("told", BLAME_TOLD), ("dumb", BLAME_DUMB), ("rush", BLAME_RUSH), ("scorn", BLAME_SCORN)):
        grid("forbidden/blame", ["forbidden"], [("kind", [kind]), ("who", BLAME_WHO), ("act", acts),
                                                ("tail", BLAME_TAIL)], blame, 65, rng, out)
    grid("forbidden/blame-polite", [], [("lead", ["", "亲，", "您好，"]), ("act", BLAME_POLITE),
                                        ("tail", ["", "哦", "哈", "呢"])],
         lambda c: c["lead"] + c["act"] + c["tail"], 60, rng, out)
    # promise: returns
    axes = [("lead", RET_LEAD), ("item", RET_ITEM), ("guar", RET_GUAR), ("out", RET_OUT), ("tail", RET_TAIL)]
    grid("promise/returns", ["promise"], axes, ret, 250, rng, out)
    grid("promise/returns-hedged", [], [("lead", ["", "亲，", "您好，"]), ("hedge", RET_HEDGE), ("item", RET_ITEM),
                                        ("tail", ["", "哦", "呢"])],
         lambda c: c["lead"] + c["hedge"].format(i=c["item"]) + c["tail"], 100, rng, out)
    grid("promise/deposit", [], [("lead", ["", "亲，"]), ("what", ["参加活动需要交500元保证金", "保证金会在活动结束后退回",
                                                                 "店铺保证金是平台收的"]), ("tail", ["", "哦", "的"])],
         lambda c: c["lead"] + c["what"] + c["tail"], 12, rng, out)
    # promise: quality
    for kind in ("device", "body"):
        axes = [("kind", [kind]), ("item", QUAL_ITEM[kind]), ("guar", QUAL_GUAR),
                ("claim", QUAL_CLAIM[kind] + QUAL_CLAIM["any"]), ("tail", QUAL_TAIL)]
        grid("promise/quality", ["promise"], axes, qual, 125, rng, out)
        grid("promise/quality-policy", [], [("item", QUAL_ITEM[kind]), ("ok", QUAL_OK["any"] + QUAL_OK[kind]), ("tail", ["", "哦", "的", "呢"])],
             lambda c: c["ok"].format(i=c["item"]) + c["tail"], 55, rng, out)
    # promise: third parties
    for thing, outs in THIRD:
        axes = [("lead", THIRD_LEAD), ("thing", [thing]), ("guar", THIRD_GUAR), ("out", outs), ("tail", THIRD_TAIL)]
        grid("promise/third-party", ["promise"], axes, third, 24, rng, out)
        hedges = THIRD_HEDGE.get(THIRD_KIND[thing]) or []
        grid("promise/own-action", [], [("lead", ["", "亲，", "您放心，"]), ("own", THIRD_OWN + hedges), ("t", [thing]),
                                        ("tail", ["", "哦", "的"])],
             lambda c: None if c["own"].endswith("为准") and c["tail"] == "的"
             else c["lead"] + c["own"].format(t=c["t"]) + c["tail"], 15, rng, out)
    return out


def write(out, path):
    counters = defaultdict(int)
    with open(path, "w", encoding="utf-8") as f:
        for name, label, text, parts in out:
            short = name.split("/")[1]
            counters[short] += 1
            rec = {"id": f"gz-{short}-{counters[short]:04d}", "role": "agent", "text": text, "expect": label,
                   "reason": f"{name}: {parts}"}
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print(f"{len(out)} turns -> {path}", file=sys.stderr)


def measure(args):
    """Scan every grid turn; recall per clause and component value, false positives on the negatives."""
    rows = [json.loads(l) for l in open(args.out, encoding="utf-8")]
    if args.half != "all":
        want_even = args.half == "even"
        rows = [r for r in rows if (hashlib.sha256(r["id"].encode()).digest()[0] % 2 == 0) == want_even]
    inp = "".join(json.dumps({"role": "agent", "text": r["text"]}, ensure_ascii=False) + "\n" for r in rows)
    res = subprocess.run([args.measure, "scan", "--rules-only", "-j", "1", "--ruleset", args.ruleset], input=inp.encode(),
                         capture_output=True, check=True).stdout.decode().splitlines()
    got = [sorted({f["category"] for f in json.loads(l)["findings"]}) for l in res]
    per = defaultdict(lambda: [0, 0])
    misses = defaultdict(list)
    fps = defaultdict(list)
    negative = set()
    for r, g in zip(rows, got):
        clause, parts = r["reason"].split(": ", 1)
        want = r["expect"]
        if want:
            hit = all(c in g for c in want)
            per[(clause, "")][0] += hit
            per[(clause, "")][1] += 1
            for kv in parts.split(" "):
                per[(clause, kv)][0] += hit
                per[(clause, kv)][1] += 1
            if not hit:
                misses[clause].append(r["text"])
        else:
            negative.add(clause)
            per[(clause, "")][1] += 1
            if g:
                per[(clause, "")][0] += 1
                fps[clause].append((r["text"], g))
    for (clause, kv), (h, n) in sorted(per.items()):
        if kv == "":
            what = "false pos" if clause in negative else "recall"
            print(f"{clause:36} {h:4}/{n:<4} {what} {h / n:.3f}")
    print()
    for (clause, kv), (h, n) in sorted(per.items(), key=lambda x: (x[0][0], x[1][0] / x[1][1])):
        if kv and h < n:
            print(f"  {clause:28} {kv:32} {h:3}/{n:<3} {h / n:.2f}")
    for clause, ts in misses.items():
        print(f"\nMISSED {clause} ({len(ts)})")
        for t in ts[: args.show]:
            print("  ", t)
    for clause, ts in fps.items():
        print(f"\nFALSE POS {clause} ({len(ts)})")
        for t, g in ts[: args.show]:
            print("  ", t, g)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="corpora/labelled/grid-zh.jsonl")
    ap.add_argument("--seed", type=int, default=18)
    ap.add_argument("--measure", metavar="BIN", help="scan the grid with this huashu binary instead of writing it")
    ap.add_argument("--ruleset", default="rulesets/zh-CN")
    ap.add_argument("--show", type=int, default=20)
    ap.add_argument("--half", choices=("all", "even", "odd"), default="all",
                    help="the turns whose sha256(id) first byte is even / odd (as fit-scorecard.py splits)")
    args = ap.parse_args()
    if args.measure:
        measure(args)
    else:
        write(build(args.seed), args.out)


if __name__ == "__main__":
    main()
