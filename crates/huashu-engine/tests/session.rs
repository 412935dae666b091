//! Streaming equals batch: any split of a conversation into partials and finals gives the batch report.

use std::sync::Arc;

use huashu_engine::{CheckId, Engine, Role, Turn};
use huashu_rules::Ruleset;
use proptest::prelude::*;

fn engine() -> Arc<Engine> {
    static E: std::sync::OnceLock<Arc<Engine>> = std::sync::OnceLock::new();
    E.get_or_init(|| {
        Arc::new(Engine::new(Ruleset::builtin("zh-CN").expect("zh-CN")).expect("compiles"))
    })
    .clone()
}

const CUSTOMER: &[&str] = &[
    "我买的空调坏了三次了，你们到底怎么回事？",
    "我要投诉",
    "快递怎么还没到",
    "好的谢谢",
    "请问怎么退货",
    "你们这服务太差了",
    "备孕能用吗",
];
const AGENT: &[&str] = &[
    "您好，很高兴为您服务，请问有什么可以帮您？",
    "非常抱歉给您带来不便，我理解您的心情",
    "我马上为您申请上门检测",
    "我会全程跟进，今天下午五点前给您回电",
    "这不是我的问题，你自己看说明书",
    "请您稍等，我帮您查询一下",
    "保证年化收益8%，稳赚不赔",
    "您是说快递还没到，对吗？",
    "感谢您的来电，祝您生活愉快！",
    "有本事你去投诉啊",
    "可以的哦",
];

fn turn_strategy() -> impl Strategy<Value = Turn> {
    (any::<bool>(), 0usize..12, 0u64..5_000, 500u64..8_000).prop_map(|(customer, i, gap, dur)| {
        let (role, text) = if customer {
            (Role::Customer, CUSTOMER[i % CUSTOMER.len()])
        } else {
            (Role::Agent, AGENT[i % AGENT.len()])
        };
        let mut t = Turn::new(role, text);
        t.start_ms = Some(gap);
        t.end_ms = Some(gap + dur);
        t
    })
}

/// Gives turns increasing times so timing checks run too.
fn timeline(mut turns: Vec<Turn>) -> Vec<Turn> {
    let mut clock = 0;
    for t in &mut turns {
        let (gap, dur) = (
            t.start_ms.unwrap_or(0),
            t.end_ms.unwrap_or(0) - t.start_ms.unwrap_or(0),
        );
        t.start_ms = Some(clock + gap);
        t.end_ms = Some(clock + gap + dur);
        clock += gap + dur;
    }
    turns
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_split_into_partials_and_finals_gives_the_batch_report(
        turns in prop::collection::vec(turn_strategy(), 0..14),
        splits in prop::collection::vec(0usize..4, 14),
        peek in any::<bool>(),
    ) {
        let turns = timeline(turns);
        let batch = engine().score(&turns);
        let mut session = engine().session();
        for (i, t) in turns.iter().enumerate() {
            // Partials: growing prefixes of the final text, as an ASR engine sends them.
            let chars: Vec<char> = t.text.chars().collect();
            for k in 0..splits[i] {
                let cut = chars.len() * (k + 1) / (splits[i] + 1);
                let mut p = t.clone();
                p.text = chars[..cut].iter().collect();
                let update = session.revise(p);
                prop_assert!(!update.is_final);
                prop_assert_eq!(update.turn_index, i);
            }
            if peek {
                let _ = session.report();
            }
            // A final turn is checked with the other party's last turn (P030 fires on 可以的哦 after 备孕能用吗).
            let previous = session.previous(t.role).map(str::to_string);
            let update = session.push(t.clone());
            let after = huashu_engine::LastExchange { previous: previous.as_deref(), own_previous: None };
            prop_assert_eq!(&update.findings, &engine().scan_turn(t.role, &t.text, after, i).into_iter()
                .chain(update.findings.iter().filter(|f| f.category == huashu_engine::Category::Disclosure).cloned())
                .collect::<Vec<_>>());
        }
        // A trailing partial that never became final does not count.
        session.revise(Turn::agent("这不是我的问题"));
        prop_assert_eq!(session.finish(), batch);
    }

    /// The live coaching path judges only the checks it is asked for, without a report: after every final
    /// turn its tips are exactly the report's, for every check, for any subset, and for none.
    #[test]
    fn tips_for_equals_the_reports_tips_after_every_turn(
        turns in prop::collection::vec(turn_strategy(), 1..14),
        mask in any::<u32>(),
    ) {
        let turns = timeline(turns);
        let mut session = engine().session();
        let wanted = |c: CheckId| mask & (1 << (c as u32 % 32)) != 0;
        for t in &turns {
            session.push(t.clone());
            let report = session.report();
            // The report's tips, less the compliance line's (findings, not a check: never a live hint).
            let all: Vec<(&str, &str)> = report
                .tips()
                .into_iter()
                .filter(|(name, _)| CheckId::from_name(name).is_some())
                .collect();
            let fast = session.tips_for(|_| true);
            prop_assert_eq!(
                fast.iter().map(|(c, t)| (c.name(), t.as_str())).collect::<Vec<_>>(),
                all.clone()
            );
            let some = session.tips_for(wanted);
            prop_assert_eq!(
                some.iter().map(|(c, t)| (c.name(), t.as_str())).collect::<Vec<_>>(),
                all.iter()
                    .filter(|(name, _)| CheckId::from_name(name).is_some_and(wanted))
                    .copied()
                    .collect::<Vec<_>>()
            );
            prop_assert!(session.tips_for(|_| false).is_empty());
        }
    }
}
