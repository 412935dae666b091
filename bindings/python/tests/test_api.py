import dataclasses
import os
import pathlib
import threading
import time

import pytest

import huashu
from conftest import ROOT

TEXT = "這不是我的問題，你自己看說明書"


def test_done_when_example() -> None:
    findings = huashu.Engine().scan("这不是我的问题", role="agent")
    assert [f.rule for f in findings] == ["F004"]
    assert "Finding(" in repr(findings[0])


def test_offsets_are_python_characters(engine: huashu.Engine) -> None:
    text = "😀" * 3 + "  " + TEXT
    findings = engine.scan(text)
    assert len(findings) == 2
    for f in findings:
        assert text[f.start : f.end] == f.matched
        assert f.turn == 0 and f.severity in ("info", "minor", "major", "critical")


def test_customer_turns_are_not_checked_against_agent_rules(engine: huashu.Engine) -> None:
    assert engine.scan("这不是我的问题", role="customer") == []
    assert engine.scan("这不是我的问题", role="客户") == []


def test_rewrite_clears_findings(engine: huashu.Engine) -> None:
    fixed = engine.rewrite(TEXT)
    assert fixed is not None and fixed != TEXT
    assert engine.scan(fixed) == []


def test_a_rewrite_that_would_still_be_flagged_is_not_offered(engine: huashu.Engine) -> None:
    # F006 (sending the customer to ask someone else) has no safe replacement: no rewrite rather than a bad one.
    assert engine.rewrite("这不是我的问题，你自己去问快递公司吧。") is None
    assert engine.rewrite("好的") == "好的"


def test_evaluate_measures_labelled_turns(engine: huashu.Engine) -> None:
    report = engine.evaluate(
        [
            {"id": 1, "text": "这个我不知道", "expect": ["forbidden"]},
            {"id": 2, "text": "好的，我帮您查询一下", "expect": []},
            {"id": 3, "role": "customer", "text": "这不是我的问题", "expect": []},
        ]
    )
    f = report["categories"]["forbidden"]
    assert (f["tp"], f["fp"], f["fn"], f["precision"], f["recall"]) == (1, 0, 0, 1.0, 1.0)
    assert report["turns"] == 3 and report["false_positives"] == []
    # A false negative lists the category's matches that were dropped, and by what.
    report = engine.evaluate(
        [{"id": 4, "text": "您的身份证号是110105194912310021", "expect": ["privacy"]}]
    )
    [miss] = report["false_negatives"]
    assert [(n["rule"], n["start"], n["end"], n["reason"]) for n in miss["near_misses"]] == [
        ("V001", 7, 25, "checksum")
    ]
    # The same from a turn on its own: what dropped each match, with spans into the turn as written.
    [near] = engine.near_misses("您的身份证号是110105194912310021")
    assert (near["rule_id"], near["char_start"], near["char_end"], near["dropped_by"]) == (
        "V001",
        7,
        25,
        {"reason": "checksum"},
    )
    assert engine.near_misses("") == []
    with pytest.raises(huashu.InputError, match="line 1: needs `expect`"):
        engine.evaluate([{"text": "x"}])


def test_results_are_frozen_and_convert_to_dicts(engine: huashu.Engine) -> None:
    f = engine.scan(TEXT)[0]
    with pytest.raises(AttributeError):
        f.rule = "X"  # type: ignore[misc]
    d = f.to_dict()
    assert set(d) == {
        "turn", "rule", "category", "severity", "start", "end", "byte_start", "byte_end",
        "matched", "message", "suggestions",
    }
    assert d["suggestions"] == [s.replacement for s in f.suggestions]
    assert f == engine.scan(TEXT)[0]
    s = f.suggestions[0]
    assert s.applicability in ("safe", "review") and s.to_dict()["replacement"] == s.replacement
    r = engine.score([("customer", "我买的空调坏了三次了"), ("agent", TEXT)])
    with pytest.raises(AttributeError):
        r.score = 100  # type: ignore[misc]
    rd = r.to_dict()
    assert rd["score"] == r.score and rd["structure"] == r.structure.to_dict()
    assert [c["id"] for c in rd["checks"]] == [c.id for c in r.checks]
    assert all(c.to_dict()["points"] == c.points for c in r.checks)
    assert r.tips() and all(isinstance(t, tuple) for t in r.tips())
    assert not dataclasses.is_dataclass(r)


def test_errors_map_to_the_huashu_hierarchy(tmp_path: pathlib.Path) -> None:
    assert issubclass(huashu.RulesetError, huashu.HuashuError)
    assert issubclass(huashu.HuashuError, Exception)
    with pytest.raises(huashu.RulesetError, match="no ruleset named `nope`"):
        huashu.Engine("nope")
    bad = tmp_path / "bad"
    (bad / "rules" / "forbidden").mkdir(parents=True)
    (bad / "ruleset.toml").write_text('name = "bad"\nversion = "1"\nlanguage = "zh-CN"\n', encoding="utf-8")
    (bad / "rules" / "forbidden" / "X001.toml").write_text('id = "X001"\nname = [\n', encoding="utf-8")
    with pytest.raises(huashu.RulesetError, match="X001.toml"):
        huashu.Engine(bad)
    engine = huashu.Engine()
    with pytest.raises(huashu.InputError, match="unknown role"):
        engine.scan("你好", role="robot")
    with pytest.raises(huashu.InputError, match=r"turns\[1\]: missing \"text\""):
        engine.score([{"role": "customer", "text": "你好"}, {"role": "agent"}])
    with pytest.raises(huashu.InputError, match="before start_ms"):
        engine.score([{"role": "agent", "text": "你好", "start_ms": 5, "end_ms": 1}])
    with pytest.raises(TypeError):
        engine.score("not a list of turns")
    with pytest.raises(TypeError):
        engine.scan_many("one string")
    with pytest.raises(huashu.InputError, match="2 roles for 3 texts"):
        engine.scan_many(["a", "b", "c"], ["agent", "customer"])


def test_bundled_and_directory_rulesets() -> None:
    assert "zh-CN" in huashu.Engine.bundled_rulesets()
    by_dir = huashu.Engine(ROOT / "rulesets" / "zh-CN")
    by_name = huashu.Engine("zh-CN")
    assert by_dir.ruleset == by_name.ruleset
    assert by_dir.scan(TEXT) == by_name.scan(TEXT)


def test_session_streams_and_closes(engine: huashu.Engine) -> None:
    s = engine.session()
    assert s.push("我买的空调坏了三次了，你们到底怎么回事？", role="customer") == []
    draft = s.revise("这不是我的问题")
    assert [f.rule for f in draft] == ["F004"] and draft[0].turn == 1
    assert s.turns == 1
    final = s.push("非常抱歉给您带来不便，我理解您的心情")
    assert final == []
    assert s.report().structure.empathy
    r = s.finish()
    assert r.turns == 2
    with pytest.raises(huashu.SessionClosedError):
        s.push("你好")
    with pytest.raises(huashu.HuashuError):
        s.finish()


def test_scan_takes_the_previous_turn(engine: huashu.Engine) -> None:
    # P030: a bare yes is a safety promise only after the customer's question about pregnancy.
    assert engine.scan("可以的哦") == []
    assert engine.scan("可以的哦", previous=None) == []
    found = engine.scan("可以的哦", previous="备孕能用吗")
    assert [(f.rule, f.start, f.end, f.matched) for f in found] == [("P030", 0, 3, "可以的")]
    assert engine.scan("可以的哦", role="agent", previous="能开发票吗") == []
    with pytest.raises(TypeError):
        engine.scan("可以的哦", previous=3)  # type: ignore[arg-type]


def test_scan_takes_the_agents_own_previous_turn_for_the_last_exchange(engine: huashu.Engine) -> None:
    # V030: 还麻烦告知下呢 asks for the code only when the last exchange names it; here the agent's own
    # question does, and the customer's 可以 alone does not.
    asked = "这边发送验证码到您的手机，可以吗"
    found = engine.scan("还麻烦告知下呢", previous="可以", own_previous=asked)
    assert [(f.rule, f.start, f.end, f.matched) for f in found] == [("V030", 3, 5, "告知")]
    assert engine.scan("还麻烦告知下呢", previous="可以") == []
    # The exchange hangs on the previous turn: the own turn alone is no exchange.
    assert engine.scan("还麻烦告知下呢", own_previous=asked) == []
    with pytest.raises(TypeError):
        engine.scan("还麻烦告知下呢", previous="可以", own_previous=[asked])  # type: ignore[arg-type]


def test_scan_many_equals_scan(engine: huashu.Engine) -> None:
    texts = [TEXT, "您好，请问有什么可以帮您？", "我不知道，你问别人吧", "保证年化收益8%"] * 25
    roles = ["agent", "agent", "customer", "agent"] * 25
    res = engine.scan_many(texts, roles)
    assert len(res) == len(texts)
    for i, (t, r) in enumerate(zip(texts, roles)):
        assert res[i] == engine.scan(t, role=r)
    assert res[-1] == res[len(texts) - 1]
    assert [list(x) for x in res] == [engine.scan(t, role=r) for t, r in zip(texts, roles)]
    assert res.rewrites == [engine.rewrite(t, role=r) for t, r in zip(texts, roles)]
    assert res.counts == [len(x) for x in res]
    cols = res.to_columns()
    assert len(cols["rule"]) == sum(res.counts)
    assert cols["index"][:2] == [0, 0]
    with pytest.raises(IndexError):
        res[len(texts)]
    one = engine.scan_many(texts, "customer", threads=1)
    assert sum(one.counts) == 0
    assert engine.scan_many([]).to_columns()["rule"] == []


def test_score_many_equals_score(engine: huashu.Engine) -> None:
    convs = [
        {"id": i, "agent": f"a{i % 3}", "turns": [{"role": "customer", "text": "我买的空调坏了三次了"}, {"role": "agent", "text": t}]}
        for i, t in enumerate([TEXT, "非常抱歉给您带来不便", "我马上为您申请上门检测"] * 10)
    ]
    res = engine.score_many(convs)
    assert len(res) == 30
    for c, r in zip(convs, res):
        single = engine.score(c)
        assert r.to_dict() == single.to_dict()
        assert r.id == c["id"] and r.agent == c["agent"]
    assert res.to_dicts()[0] == res[0].to_dict()
    cols = res.to_columns()
    assert cols["id"] == list(range(30)) and cols["score"] == [r.score for r in res]
    fcols = res.findings_to_columns()
    assert set(fcols["conversation"]) <= set(range(30)) and len(fcols["rule"]) == len(fcols["turn"])
    # Plain lists of turns work too.
    assert engine.score_many([[("agent", TEXT)]], threads=1)[0].fatal is False


def test_to_arrow(engine: huashu.Engine) -> None:
    pa = pytest.importorskip("pyarrow")
    t = engine.scan_many([TEXT, "你好"]).to_arrow()
    assert isinstance(t, pa.Table) and t.num_rows == 2 and t.column("index").to_pylist() == [0, 0]
    s = engine.score_many([{"id": "x", "turns": [("agent", TEXT)]}])
    st = s.to_arrow()
    assert st.column("id").to_pylist() == ["x"] and st.schema.field("rules").type == pa.list_(pa.string())
    assert s.findings_to_arrow().num_rows == len(s[0].findings)
    assert engine.scan_many([]).to_arrow().num_rows == 0


def test_batches_release_the_gil(engine: huashu.Engine) -> None:
    """While scan_many runs, another Python thread keeps running."""
    texts = [TEXT * 20] * 20000
    ticks = 0
    done = threading.Event()

    def work() -> None:
        engine.scan_many(texts)
        done.set()

    t = threading.Thread(target=work)
    t.start()
    while not done.is_set():
        ticks += 1
        time.sleep(0.001)
    t.join()
    assert ticks > 5


@pytest.mark.skipif(os.cpu_count() == 1, reason="one core")
def test_threads_argument(engine: huashu.Engine) -> None:
    texts = [TEXT, "你好"] * 50
    a = engine.scan_many(texts, threads=1).to_dicts()
    b = engine.scan_many(texts, threads=2).to_dicts()
    assert a == b
    with pytest.raises(huashu.HuashuError):
        engine.scan_many(texts, threads=0)


def test_learned_models_run_after_the_rules_when_asked() -> None:
    text = "这款产品您就放心买吧，用个十年八年一点问题都没有"
    assert huashu.Engine().scan(text) == []
    findings = huashu.Engine(learned=True).scan(text)
    assert [(f.rule, f.category, f.matched) for f in findings] == [
        ("L-promise", "promise", "用个十年八年一点问题都没有")
    ]
    assert findings[0].severity == "minor"
    assert huashu.Engine(learned=True).rewrite(text) is None
