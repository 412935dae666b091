#!/usr/bin/env python3
"""Deterministic synthetic conversations for tests, benchmarks and the report screenshot.

    python examples/spark/generate.py 300 > conversations.jsonl        # {"id", "agent", "turns": [...]}
    python examples/spark/generate.py 100000 --turns > turns.jsonl     # {"id", "role", "text"} per turn

Turns are drawn from good and bad agent phrasings (the bad ones are what the zh-CN rules catch), so scores
spread over the whole range. Standard library only.
"""

import argparse
import json
import random
import sys

COMPLAINTS = [
    "我买的空调坏了三次了，你们到底怎么回事？",
    "快递一个星期都没到，你们太慢了！",
    "你们的客服电话一直打不通，我很生气",
    "扣款扣了两次，赶紧给我退钱",
    "這個產品質量太差了，我要投訴",
]
QUESTIONS = ["我想查一下订单什么时候发货", "请问怎么修改收货地址？", "这个理财产品收益怎么样？", "我的会员怎么续费？"]
GREETINGS = ["您好，很高兴为您服务，请问有什么可以帮您？", "您好，请问有什么可以帮您？", "喂，说吧"]
EMPATHY = ["非常抱歉给您带来不便，我理解您的心情", "真的很抱歉让您久等了", "理解您的着急"]
SOLUTION = ["我马上为您申请上门检测", "我这边立即为您办理退款", "我马上帮您联系快递核实"]
COMMITMENT = ["我会全程跟进，今天下午五点前给您回电", "我会持续跟进，1小时内给您反馈处理进展"]
CONFIRM = ["您是说想确认订单的发货时间对吗？请您稍等，我帮您查询一下", "我跟您确认一下，是扣款两次对吗？"]
BAD = [
    "这不是我的问题，你自己看说明书",
    "这个我不知道，你问别人吧",
    "有本事你去投诉啊",
    "保证年化收益8%，稳赚不赔",
    "我也没办法",
    "你听不懂吗？我说了很多遍了",
    "這不是我的問題",
    "您的卡号是6222 0202 0000 1234 567吗",
]
CLOSINGS = ["请问还有其他可以帮您的吗？感谢您的来电，祝您生活愉快！", "好的，再见", "感谢您的耐心等待，祝您生活愉快"]
CUSTOMER_REPLIES = ["好的", "那要多久？", "行吧", "我不想等了", "谢谢"]
AGENTS = ["张伟", "李娜", "王芳", "刘洋", "陈静", "agent-07"]


def conversation(rng: random.Random, i: int) -> dict:
    turns = []
    skill = rng.random()  # better agents pick the good phrasings more often

    def agent(options, bad_rate):
        text = rng.choice(BAD) if rng.random() < bad_rate else rng.choice(options)
        turns.append({"role": "agent", "text": text})

    bad_rate = 0.05 + 0.5 * (1 - skill) ** 2
    if rng.random() < 0.8:
        agent(GREETINGS, bad_rate)
    complaint = rng.random() < 0.6
    turns.append({"role": "customer", "text": rng.choice(COMPLAINTS if complaint else QUESTIONS)})
    if complaint:
        order = [EMPATHY, SOLUTION, COMMITMENT]
        if rng.random() > skill:
            rng.shuffle(order)
        for opts in order:
            if rng.random() < 0.15 + 0.8 * skill:
                agent(opts, bad_rate)
    else:
        if rng.random() < skill:
            agent(CONFIRM, bad_rate)
        agent(SOLUTION, bad_rate)
    for _ in range(rng.randint(0, 3)):
        turns.append({"role": "customer", "text": rng.choice(CUSTOMER_REPLIES)})
        agent(SOLUTION + COMMITMENT, bad_rate)
    if rng.random() < 0.3 + 0.6 * skill:
        agent(CLOSINGS, bad_rate)
    return {"id": f"c{i:06d}", "agent": AGENTS[int(skill * 5.999) if rng.random() < 0.8 else rng.randrange(6)], "turns": turns}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("n", type=int)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--turns", action="store_true", help="write single turns instead of conversations")
    a = p.parse_args()
    rng = random.Random(a.seed)
    out = sys.stdout
    k = 0
    for i in range(a.n if not a.turns else 10**12):
        c = conversation(rng, i)
        if not a.turns:
            out.write(json.dumps(c, ensure_ascii=False) + "\n")
            continue
        for t in c["turns"]:
            if k >= a.n:
                return
            out.write(json.dumps({"id": k, "role": t["role"], "text": t["text"]}, ensure_ascii=False) + "\n")
            k += 1
        if i >= a.n and not a.turns:
            return


if __name__ == "__main__":
    main()
