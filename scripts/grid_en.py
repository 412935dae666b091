#!/usr/bin/env python3
"""The component grid (en): agent turns built from the parts of a POLICY.md clause, every combination labelled.

A held-out turn says what a labelled one says in another combination of the same parts: another subject (I / we /
none), another act (don't know / no idea / not sure / couldn't tell you), another object, another tail, with or
without what makes it compliant (a reason, an alternative, the agent's own next step). Rules written from examples
cover the combinations someone wrote down; this grid asks for all of them.

Each clause of forbidden, promise and privacy in POLICY.md has a small table of components written from the
meaning alone (no labelled set, no corpus text): who speaks, the act, its object, softeners and tails typical of
chat and call speech, and the completions that make the same words compliant. Every combination (or a seeded
sample when the product is large) is written as one labelled agent turn:

    {"id": "ge-<clause>-<n>", "role": "agent", "text": …, "expect": [...], "reason": "<clause>: <components>"}

    python3 scripts/grid_en.py [--out corpora/labelled/grid-en.jsonl] [--seed 18] [--cap 220]

The split by the parity of sha256(id) applies as to every set (scripts/fit-scorecard.py).
"""
import argparse
import itertools
import json
import random

# ---------------------------------------------------------------------------------------------------------------
# forbidden: not knowing, and stopping there
DK_SUBJECT_ACT = [
    # (subject, act) — the act agrees with its subject
    ("I", "don't know"), ("We", "don't know"), ("I", "have no idea"), ("We", "have no idea"), ("I", "have no clue"),
    ("I'm", "not sure"), ("We're", "not sure"), ("I", "couldn't tell you"), ("We", "can't tell you"),
    ("I", "can't say"), ("I", "wouldn't know"), ("I", "really don't know"), ("Honestly, I", "don't know"),
    ("Sorry, I", "have no idea"), ("To be honest we", "don't know"), ("I", "honestly couldn't say"), ("", "No idea"),
    ("", "Not sure"), ("", "Dunno"), ("", "Who knows"), ("I'm", "not certain"),
    ("I", "don't have any information on"), ("I", "haven't got a clue"), ("We", "have no way of knowing"),
    ("I", "can't really tell"), ("Yeah I", "dunno"), ("I'm afraid I", "have no idea"), ("We", "honestly don't know"),
    ("I", "wouldn't have a clue"), ("", "No clue"), ("", "Not a clue"), ("I", "got no idea"),
    ("We're", "not really sure"), ("I", "can't be sure"),
]
DK_OBJECT = [
    "when your parcel will arrive", "why the payment failed", "where your package is", "what happened to your refund",
    "if the item will be back in stock", "how long the repair will take", "whether the engineer is coming today",
    "what the delay is", "who handles that", "how the fee was worked out",
]
DK_TAIL = [".", ", sorry.", " to be honest.", ", I'm afraid.", " at this point.", " mate.", " tbh", "", "...",
           ", that's all I can tell you.", " right now.", ", it's not shown on my side."]
DK_NEXT = [
    " Let me check with the warehouse and I'll get back to you within the hour.",
    " I'm asking the courier now and will update you by tonight.",
    " I've raised it with our billing team and will message you as soon as they reply.",
    " Give me two minutes to look into it for you.", " I'll find out and call you back today.",
]

# forbidden: bare refusal
RF_SUBJECT_ACT = [
    ("I", "can't"), ("We", "can't"), ("I", "cannot"), ("I'm", "unable to"), ("We're", "not able to"),
    ("I", "won't be able to"), ("There's", "no way I can"), ("There is", "no way we can"), ("I'm", "not allowed to"),
    ("We", "don't"), ("We", "aren't able to"), ("Sorry, I", "can't"), ("Unfortunately we", "can't"),
    ("I", "really can't"), ("I'm", "not in a position to"), ("We're", "not in a position to"),
    ("I", "have no way to"), ("It's", "not possible to"), ("It's", "impossible to"), ("We're", "not allowed to"),
    ("I", "can't possibly"), ("We", "won't"), ("Sorry but we", "are unable to"), ("There's", "nothing I can do to"),
]
RF_OBJECT = [
    "cancel this order", "change the delivery address", "refund that", "extend your booking", "swap the size",
    "reactivate your account", "waive the fee", "move your appointment", "give you a refund", "send a replacement",
    "upgrade your seat", "reissue the ticket", "reverse the charge", "honour that price", "rebook you",
    "speed up the delivery",
]
RF_TAIL = [".", ", sorry.", ", I'm afraid.", " for you.", " unfortunately.", " at all.", " now.", "",
           ", end of story.", ", sorry mate.", " anymore.", ", it's just not possible."]
RF_BARE_NOUN = [
    ("A refund", "isn't possible"), ("An exchange", "is not possible"), ("Changing the address", "isn't an option"),
    ("That", "can't be done"), ("That", "won't be possible"), ("That", "is not something we can do"),
    ("", "Not possible"), ("", "No can do"), ("Cancellation", "is not allowed"), ("", "Can't do that"),
    ("", "Nope, can't be done"), ("That", "isn't going to happen"), ("A replacement", "is out of the question"),
    ("That", "is not doable"), ("Refunds", "aren't possible"), ("Your request", "can't be accepted"),
    ("The booking", "can't be changed"),
]
RF_COMPLIANT = [
    " because it's past the 24-hour cut-off in our system.", " as it has already been processed on our side.",
    ", but I can offer you store credit instead.",
    ", but here's what I can do: I'll raise it with my supervisor today.",
    ". I've asked my supervisor to review it and will update you by 5pm.",
    " since the terms you accepted make it final; what I can do is open a complaint for a manual review.",
]

# forbidden: pushing the work back
PB_LEAD = [
    "You'll need to", "You have to", "You should", "Please", "Just", "Best to", "You'd better", "Go and",
    "It's up to you to", "You will have to", "You need to", "Try to", "You'd have to", "Best if you",
    "You might want to", "I'd suggest you", "Your best bet is to", "Why don't you", "Maybe", "Kindly",
]
PB_ACT = ["contact", "call", "email", "ask", "chase", "check with", "get in touch with", "reach out to",
          "take it up with", "sort it out with", "message", "speak to",
          "ring", "phone", "get hold of", "complain to", "write to", "follow up with", "raise it with",
          "have a word with", "go back to"]
PB_OBJECT = ["the seller", "the courier", "your bank", "the manufacturer", "the delivery company", "the restaurant",
             "the airline", "the shop", "the hotel", "the landlord",
             "the post office", "your insurer", "the driver", "the installer", "the vendor", "your network provider",
             "the third-party seller", "the marketplace seller"]
PB_TAIL = [" yourself.", " directly.", " about it.", ".", " on your own.", ", not us.", " for that.", "",
           ", they can sort it.", " and see what they say.", ", it's their issue.", " instead."]
PB_THEIRS = [
    "That's for {o} to sort out.", "That's between you and {o}.", "That's {o}'s problem, not ours.",
    "Nothing to do with us, it's {o} you want.", "It's {o}'s responsibility, not mine.",
]
PB_OWN = [
    "I've messaged {o} for you and will update you by tonight; you can also {a} them directly if you like.",
    "I'll {a} {o} on your behalf and let you know what they say within the hour.",
    "I've opened a case with {o} and I'm following it up, so there's nothing you need to chase.",
]

# forbidden: blame, impatience, contempt
BL_LEAD = ["", "Look, ", "Sir, ", "Honestly, ", "Again, ", "Ma'am, "]
BL_ACT = [
    "I already told you that", "we've already explained this", "as I said twice already",
    "how many times do I need to explain this", "you should have read the terms before buying",
    "that's your own fault", "calm down", "stop shouting at me", "what's the rush", "why are you in such a hurry",
    "do whatever you want", "go ahead and complain, see if I care", "can't you read", "did you even read my message",
    "are you even listening", "if you don't like it, shop somewhere else", "it's not that hard",
    "anyone could figure that out", "I'm not going to repeat myself", "you should have checked the size chart",
    "read my last message", "scroll up", "it says so right there", "I've told you three times",
    "you didn't read the description", "that's on you", "it's not my fault you ordered the wrong size",
    "you're wasting my time", "stop messaging us", "complain all you like", "what do you want me to do about it",
    "what do you expect me to do", "I don't have time for this", "you're not listening", "like I said",
    "that's the courier's problem, not ours", "nothing to do with us",
]
BL_TAIL = [".", "!", "?", ". The refund takes five days.", ". It's on the product page.", ""]
BL_NEG = [
    "Let me explain it again more clearly: the refund takes five days.", "Take your time, there's no rush at all.",
    "I understand why this is frustrating, and I'm sorry it happened.",
    "If you'd like to make a complaint, I can log it for you right now.",
    "I'm sorry if my earlier message wasn't clear; here is what happens next.",
    "You're right to ask again, the page is confusing. I'll walk you through it.",
    "No problem at all, I'm happy to go over it once more.",
    "I can see the size chart is easy to miss, so I'll arrange the exchange for you.",
]

# ---------------------------------------------------------------------------------------------------------------
# promise: returns and principal
# not "This account" or "Our fixed plan": a deposit may state its guaranteed rate (POLICY: the platform's own terms)
RT_SUBJECT = ["This fund", "Our savings plan", "The bond", "Your investment", "The portfolio",
              "This ETF", "The crypto plan", "This gold scheme", "The pension fund"]
RT_ACT = [
    "is guaranteed to return {n} a year", "will definitely earn you {n} a year", "can't lose money", "has zero risk",
    "will double your money in two years", "protects 100% of your principal and pays {n}, guaranteed",
    "is a sure thing", "will give you at least {n} every year, guaranteed", "will never lose value",
    "pays a guaranteed {n} return", "is totally risk-free", "will 100% make you {n} this year",
    "means you'll never lose a penny", "keeps your money 100% safe and pays {n}", "has returns locked in at {n}",
    "is as safe as cash and pays {n}", "will definitely go up", "can only go up", "has no downside at all",
    "carries no risk at all", "gets you your money back plus {n}, guaranteed", "is certain to beat {n} this year",
]
RT_N = ["8%", "5 percent", "12%", "6.5%"]
RT_TAIL = [".", ", I promise.", ", trust me.", ", no question.", "!"]
RT_HEDGE = [
    "is expected to return about {n} a year, but returns are not guaranteed.",
    "returned {n} last year; past performance is no guarantee of future returns.",
    "aims for {n} a year, though your capital is at risk.", "can go down as well as up, so we can't promise {n}.",
    "has a target of {n} a year; the value of your investment may fall.",
]

# promise: absolute quality, safety, efficacy
QA_DEVICE = ["This phone", "The kettle", "These boots", "Our mattress", "This charger", "The washing machine"]
QA_DEVICE_ACT = [
    "will never break", "will never stop working", "is 100% defect-free", "won't ever leak",
    "is completely unbreakable", "will never give you any problems", "will last forever", "can never fail",
    "is guaranteed to have no faults", "won't ever go wrong", "won't ever scratch", "is guaranteed never to fail",
    "has zero defects", "is literally indestructible", "will work perfectly forever", "is impossible to break",
    "won't break, full stop", "will never need a repair",
]
QA_BODY = ["This cream", "The supplement", "Our shampoo", "This serum", "The baby lotion"]
QA_BODY_ACT = [
    "is absolutely safe for everyone", "has no side effects at all", "will definitely clear your skin",
    "is guaranteed to work", "will 100% stop your hair loss", "can't cause any reaction",
    "works for everyone, every time", "will cure your eczema for good", "is completely harmless",
    "has zero side effects", "is totally safe during pregnancy", "won't irritate even the most sensitive skin",
    "will definitely get rid of your wrinkles", "is guaranteed to make you lose five kilos", "cannot harm your baby",
    "is 100% safe for kids",
]
QA_TAIL = [".", ", guaranteed.", ", I promise you.", ", trust me.", "!", ", no doubt about it."]
QA_NEG_DEVICE = [
    "comes with a two-year warranty.", "is covered by our 30-day return policy.", "meets all EU safety standards.",
    "is built to last, and if anything goes wrong in the first two years we'll repair it free.",
]
QA_NEG_BODY = [
    "is covered by our 30-day return policy.", "is well reviewed, but results vary from person to person.",
    "is dermatologically tested; please do a patch test first.",
    "meets all EU safety standards; stop using it if you notice any irritation.",
]

# promise: outcomes that depend on third parties
TP_SUBJECT_ACT = [
    ("Your claim", "will definitely be approved"), ("Your refund", "is guaranteed to go through"),
    ("The loan", "will 100% be approved"), ("Your visa application", "will certainly be accepted"),
    ("Your parcel", "will definitely arrive by Friday"), ("The chargeback", "will be approved for sure"),
    ("Your appeal", "is going to succeed, no doubt"), ("Your insurance claim", "is guaranteed to be paid"),
    ("The bank", "will definitely accept your application"), ("The courier", "will 100% deliver it tomorrow"),
    ("Your mortgage", "will be approved, I guarantee it"), ("Your claim", "is a done deal"),
    ("The refund", "is 100% getting approved"), ("Your transfer", "is certain to go through today"),
    ("Your order", "will definitely be there by Monday"), ("The insurer", "will definitely pay out"),
    ("The airline", "will definitely compensate you"), ("The seller", "will 100% refund you"),
    ("Customs", "will definitely clear it today"), ("The embassy", "will approve it for sure"),
    ("Your application", "will sail through, guaranteed"),
]
TP_LEAD = ["", "Don't worry, ", "Good news: ", "Trust me, ", "I promise "]
TP_TAIL = [".", "!", ", trust me.", ", no problem."]
TP_NEG_ARRIVAL = [
    "Your parcel is expected by Friday, though the courier's date can change; I'll track it for you.",
    "The courier usually delivers within two days; I'll chase them if it hasn't arrived by Thursday.",
    "I can't promise your parcel will arrive by Friday, but I've asked the courier to prioritise it.",
    "I'll call you back before 5pm with the courier's latest update on your parcel.",
]
TP_NEG = [
    "{s} should be processed within ten days, though the final decision is theirs.",
    "I'll submit {s_l} today and let you know the decision as soon as I hear.",
    "I can't guarantee {s_l} will be approved, but I'll send it with all your documents.",
    "I promise I'll call you back before 5pm with an update on {s_l}.",
    "{s} is usually decided within a week; I'll chase it for you on Monday.",
]

# ---------------------------------------------------------------------------------------------------------------
# privacy: collecting
PV_LEAD = ["Please", "Could you", "Can you", "Kindly", "Just", "I need you to", "Go ahead and", "Can you quickly"]
PV_ACT = ["send me", "tell me", "read out", "type", "give me", "share", "confirm", "read me", "drop", "paste",
          "reply with", "text me", "spell out", "DM us", "let me know", "provide"]
PV_OBJECT = [
    "the verification code we just texted you", "the six-digit code in the SMS", "your password", "your PIN",
    "your full card number", "the 16-digit number on your card", "your full Social Security number",
    "the CVV on the back of your card", "the one-time passcode", "the code you just got", "your login details",
    "the OTP", "the 2FA code", "your online banking password", "the long number on your card", "your card details",
    "the security code on the back", "your SSN", "your PIN number", "the code we sent to your phone",
    "the passcode from the text",
]
PV_ASK = ["Can I have", "What's", "I'll need", "I just need", "Could I get", "May I have", "Before we go on, I need"]
PV_TAIL = [" here.", " in this chat.", " over the phone.", " so I can verify your account.", ".", "?", " please."]
PV_SAFE_OBJECT = [
    "the last four digits of your card", "your order number", "the email on your account",
    "the postcode on the order",
]
PV_WARN = [
    "Please enter the verification code in the app yourself; never share it with anyone, including us.",
    "We will never ask for your password or PIN in chat or over the phone.",
    "Please don't send your card number here; type it only on the secure payment page.",
    "Type the code into the login page, not here.",
    "Don't tell anyone the one-time passcode, not even someone who says they're from our team.",
]

# privacy: exposing
PX_LEAD = ["Your card number is", "The card on file is", "I can see the card number", "The full number is"]
PX_CARD = ["4111 1111 1111 1111", "4111-1111-1111-1111", "5500005555555559", "4012 8888 8888 1881"]
PX_OTHER = [
    "Your social security number on file is 512-44-7812.", "The SSN we have for you is 512 44 7812.",
    "Your password is Sunflower22, you can log in now.", "I've reset it: your new password is kettle7781.",
    "The driver's number is 07700900123.", "Your landlord's mobile is 07700 900 456.",
]
PX_OTHER_SAFE = [
    "Your social security number on file ends in 7812.", "I've sent a password reset link to your email.",
    "The driver will call you from a masked number.", "Your order number is 5512447812.",
]
PX_SAFE = ["Your card ending in {l4} is on file.", "The card on file is ****{l4}.", "I can see the card ending {l4}."]


def sample(rows, cap, rng):
    rows = list(rows)
    if len(rows) <= cap:
        return rows
    return rng.sample(rows, cap)


def plural(subject, act):
    """Subject and verb phrase, the verb agreeing with a plural subject (These boots are / have)."""
    if subject.startswith("These"):
        for a, b in (("is ", "are "), ("has ", "have "), ("comes ", "come "), ("meets ", "meet ")):
            if act.startswith(a):
                act = b + act[len(a):]
                break
        act = act.replace(" it free", " them free")
    return f"{subject} {act}"


def cap_first(s):
    return s[:1].upper() + s[1:] if s else s


def join(*parts):
    return "".join(parts)


def build(cap, rng):
    out = []  # (clause, text, expect, components)

    # dont-know
    pos = []
    for (s, a), o, t in itertools.product(DK_SUBJECT_ACT, DK_OBJECT, DK_TAIL):
        lead = f"{s} {a}" if s else a
        body = f"{lead} {o}"
        pos.append((join(body, t), dict(subject=s or "-", act=a, object=o, tail=t.strip() or "-")))
    for text, c in sample(pos, cap, rng):
        out.append(("forbidden/dont-know", text, ["forbidden"], c))
    neg = []
    for (s, a), o, n in itertools.product(DK_SUBJECT_ACT, DK_OBJECT, DK_NEXT):
        lead = f"{s} {a}" if s else a
        body = f"{lead} {o}"
        neg.append((join(body, " yet.", n), dict(subject=s or "-", act=a, object=o, completion=n.strip()[:24])))
    for text, c in sample(neg, cap // 2, rng):
        out.append(("forbidden/dont-know+next-step", text, [], c))

    # refusal
    pos = []
    for (s, a), o, t in itertools.product(RF_SUBJECT_ACT, RF_OBJECT, RF_TAIL):
        pos.append((join(f"{s} {a} {o}", t), dict(subject=s, act=a, object=o, tail=t.strip() or "-")))
    for (s, a), t in itertools.product(RF_BARE_NOUN, RF_TAIL):
        pos.append((join(f"{s} {a}" if s else a, t), dict(subject=s or "-", act=a, object="-", tail=t.strip() or "-")))
    for text, c in sample(pos, cap, rng):
        out.append(("forbidden/bare-refusal", text, ["forbidden"], c))
    neg = []
    for (s, a), o, r in itertools.product(RF_SUBJECT_ACT, RF_OBJECT, RF_COMPLIANT):
        if a == "nothing I can do to" and not r.startswith((",", ".")):
            continue  # 'nothing I can do' with only a reason: EF007 asks for a way forward (zh F035 alike)
        neg.append((join(f"{s} {a} {o}", r), dict(subject=s, act=a, object=o, completion=r.strip()[:24])))
    for text, c in sample(neg, cap // 2, rng):
        out.append(("forbidden/refusal+reason-or-way", text, [], c))

    # push-back
    pos = []
    for lead, a, o, t in itertools.product(PB_LEAD, PB_ACT, PB_OBJECT, PB_TAIL):
        pos.append((join(f"{lead} {a} {o}", t), dict(lead=lead, act=a, object=o, tail=t.strip() or "-")))
    pos = sample(pos, cap - 40, rng)
    for tpl, o in sample(list(itertools.product(PB_THEIRS, PB_OBJECT)), 40, rng):
        pos.append((cap_first(tpl.format(o=o)), dict(act=tpl[:24], object=o)))
    for text, c in pos:
        out.append(("forbidden/push-back", text, ["forbidden"], c))
    neg = []
    for tpl, a, o in itertools.product(PB_OWN, PB_ACT, PB_OBJECT):
        if a in ("take it up with", "sort it out with", "check with", "get in touch with", "reach out to", "speak to"):
            a2 = {"take it up with": "contact", "sort it out with": "contact"}.get(a, a)
        else:
            a2 = a
        neg.append((tpl.format(a=a2, o=o), dict(act=a2, object=o, completion=tpl[:20])))
    for text, c in sample(neg, cap // 2, rng):
        out.append(("forbidden/push-back+own-step", text, [], c))

    # blame
    pos = []
    for lead, a, t in itertools.product(BL_LEAD, BL_ACT, BL_TAIL):
        if t == "?" and not a.startswith(("how", "what", "why", "can", "did", "are")):
            continue
        if a.startswith(("how", "what", "why", "can", "did", "are")) and t.startswith("."):
            t = "?" + t[1:]
        text = join(lead, a if lead else cap_first(a), t)
        pos.append((text, dict(lead=lead.strip(" ,") or "-", act=a, tail=t.strip() or "-")))
    for text, c in sample(pos, cap, rng):
        out.append(("forbidden/blame", text, ["forbidden"], c))
    for text in BL_NEG:
        out.append(("forbidden/blame-neg", text, [], dict(kind="calm")))

    # returns
    pos = []
    for s, a, n, t in itertools.product(RT_SUBJECT, RT_ACT, RT_N, RT_TAIL):
        if "{n}" not in a and n != RT_N[0]:
            continue
        pos.append((join(s, " ", a.format(n=n), t), dict(subject=s, act=a.replace("{n}", "N"), n=n, tail=t.strip() or "-")))
    for text, c in sample(pos, cap, rng):
        out.append(("promise/returns", text, ["promise"], c))
    neg = []
    for s, h, n in itertools.product(RT_SUBJECT, RT_HEDGE, RT_N):
        neg.append((f"{s} {h.format(n=n)}", dict(subject=s, hedge=h[:24], n=n)))
    neg.append(("We can't guarantee any return on this fund.", dict(hedge="negated")))
    neg.append(("No investment is risk-free; your capital is at risk.", dict(hedge="warning")))
    for text, c in sample(neg, cap // 2, rng):
        out.append(("promise/returns-hedged", text, [], c))

    # quality
    pos = []
    for s, a, t in itertools.product(QA_DEVICE, QA_DEVICE_ACT, QA_TAIL):
        pos.append((join(plural(s, a), t), dict(subject=s, act=a, tail=t.strip() or "-")))
    for s, a, t in itertools.product(QA_BODY, QA_BODY_ACT, QA_TAIL):
        pos.append((join(s, " ", a, t), dict(subject=s, act=a, tail=t.strip() or "-")))
    for text, c in sample(pos, cap, rng):
        out.append(("promise/quality", text, ["promise"], c))
    neg = []
    for s, n in list(itertools.product(QA_DEVICE, QA_NEG_DEVICE)) + list(itertools.product(QA_BODY, QA_NEG_BODY)):
        neg.append((plural(s, n), dict(subject=s, policy=n[:24])))
    for s in QA_DEVICE:
        neg.append((f"We can't promise {s[0].lower() + s[1:]} will never break, but it's covered by warranty.",
                    dict(subject=s, policy="negated")))
    for text, c in sample(neg, cap // 2, rng):
        out.append(("promise/quality-policy", text, [], c))

    # third party
    pos = []
    for (s, a), lead, t in itertools.product(TP_SUBJECT_ACT, TP_LEAD, TP_TAIL):
        subj = s if not lead else s[0].lower() + s[1:]
        if lead == "I promise " and "guarantee" in a:
            continue
        if lead == "Trust me, " and "trust me" in t:
            continue
        pos.append((join(lead, subj, " ", a, t), dict(lead=lead.strip(" ,:") or "-", subject=s, act=a, tail=t.strip() or "-")))
    for text, c in sample(pos, cap, rng):
        out.append(("promise/third-party", text, ["promise"], c))
    neg = []
    for (s, _a), tpl in itertools.product(TP_SUBJECT_ACT, TP_NEG):
        if s in ("The bank", "The courier", "Your parcel"):
            continue
        neg.append((tpl.format(s=s, s_l=s[0].lower() + s[1:]), dict(subject=s, hedge=tpl[:24])))
    neg += [(t, dict(subject="parcel", hedge=t[:24])) for t in TP_NEG_ARRIVAL]
    for text, c in sample(neg, cap // 2, rng):
        out.append(("promise/third-party-hedged", text, [], c))

    # privacy: collect
    pos = []
    for lead, a, o, t in itertools.product(PV_LEAD, PV_ACT, PV_OBJECT, PV_TAIL):
        if a in ("read out", "read me") and t == " in this chat.":
            continue
        if a in ("type", "paste", "drop") and t not in (" here.", " in this chat."):
            continue  # "type the code" without a place may mean into the app
        if lead == "Please" and t == " please.":
            continue
        q = lead.startswith(("Could", "Can"))
        tail = t
        if q and t in (".", " please."):
            tail = "?"
        if not q and t == "?":
            continue
        if q and tail.endswith("."):
            tail = tail[:-1] + "?"
        pos.append((f"{lead} {a} {o}{tail}", dict(lead=lead, act=a, object=o, tail=t.strip() or "-")))
    pos = sample(pos, cap - 50, rng)
    asks = []
    for lead, o in itertools.product(PV_ASK, PV_OBJECT):
        q = lead.startswith(("Can", "What", "Could", "May"))
        asks.append((f"{lead} {o}{'?' if q else ', please.'}", dict(lead=lead, act="ask", object=o)))
    pos += sample(asks, 50, rng)
    for text, c in pos:
        out.append(("privacy/collect", text, ["privacy"], c))
    neg = []
    for lead, a, o in itertools.product(PV_LEAD, ["send me", "tell me", "give me", "confirm"], PV_SAFE_OBJECT):
        q = lead.startswith(("Could", "Can"))
        neg.append((f"{lead} {a} {o}{'?' if q else '.'}", dict(lead=lead, act=a, object=o)))
    neg = sample(neg, cap // 2 - len(PV_WARN), rng)
    neg += [(w, dict(kind="warning")) for w in PV_WARN]
    for text, c in neg:
        out.append(("privacy/collect-safe", text, [], c))

    # privacy: expose
    for lead, card in itertools.product(PX_LEAD, PX_CARD):
        out.append(("privacy/expose", f"{lead} {card}.", ["privacy"], dict(lead=lead, card=card)))
    for tpl, card in itertools.product(PX_SAFE, PX_CARD):
        out.append(("privacy/expose-masked", tpl.format(l4=card[-4:]), [], dict(kind="masked")))
    for text in PX_OTHER:
        out.append(("privacy/expose", text, ["privacy"], dict(kind="ssn/password/phone")))
    for text in PX_OTHER_SAFE:
        out.append(("privacy/expose-masked", text, [], dict(kind="masked")))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="corpora/labelled/grid-en.jsonl")
    ap.add_argument("--seed", type=int, default=18)
    ap.add_argument("--cap", type=int, default=300, help="most positives drawn per clause (negatives: half)")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    rows = build(args.cap, rng)
    seen = set()
    n = {}
    with open(args.out, "w", encoding="utf-8") as f:
        for clause, text, expect, comps in rows:
            if text in seen:
                continue
            seen.add(text)
            key = clause.replace("/", "-")
            n[key] = n.get(key, 0) + 1
            reason = clause + ": " + "; ".join(f"{k}={v}" for k, v in comps.items())
            rec = {"id": f"ge-{key}-{n[key]:04d}", "role": "agent", "text": text, "expect": expect, "reason": reason}
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print(f"{len(seen)} turns -> {args.out}")
    for k, v in sorted(n.items()):
        print(f"  {k}: {v}")


if __name__ == "__main__":
    main()
