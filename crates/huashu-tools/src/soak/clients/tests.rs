#![allow(clippy::unwrap_used)]
use super::*;

fn expected() -> Expected {
    Expected {
        per_turn: vec![0, 2, 1],
        score: 40,
        findings_total: 3,
    }
}

/// A session as the calibration saw it: the acks' counts, that many findings, the final score.
fn seen(per_turn: &[usize], findings: usize, score: u64, total: u64) -> Seen {
    let mut s = Seen::default();
    for (k, n) in per_turn.iter().enumerate() {
        s.take(&json!({"type": "ack", "final": true, "ref": k, "findings": n}));
    }
    for _ in 0..findings {
        s.take(&json!({"type": "finding", "final": true}));
    }
    // A partial's finding is not counted.
    s.take(&json!({"type": "finding", "final": false}));
    assert!(
        s.take(&json!({"type": "score", "final": true, "score": score, "findings_total": total}))
    );
    s
}

#[test]
fn a_session_equal_to_the_calibration_passes() {
    assert_eq!(
        check(&seen(&[0, 2, 1], 3, 40, 3), 3, true, &expected()),
        Ok(())
    );
    // Cut short on purpose after two turns: counted against the first two.
    assert_eq!(
        check(&seen(&[0, 2], 2, 55, 2), 2, false, &expected()),
        Ok(())
    );
}

#[test]
fn a_lost_finding_ack_or_score_is_a_problem() {
    let e = expected();
    let lost = check(&seen(&[0, 2, 1], 2, 40, 3), 3, true, &e).unwrap_err();
    assert_eq!(lost, "2 findings received, acks count 3");
    let no_ack = check(&seen(&[0, 2], 3, 40, 3), 3, true, &e).unwrap_err();
    assert!(no_ack.starts_with("acks' findings [0, 2, "), "{no_ack}");
    let short = check(&seen(&[0, 2, 1], 3, 40, 2), 3, true, &e).unwrap_err();
    assert_eq!(short, "final score counts 2 findings, 3 were sent");
    let other = check(&seen(&[0, 2, 1], 3, 39, 3), 3, true, &e).unwrap_err();
    assert_eq!(other, "final score 39 (3 findings), calibration 40 (3)");
    assert_eq!(
        check(&Seen::default(), 3, true, &e).unwrap_err(),
        "no final score"
    );
}

#[test]
fn the_mix_is_seven_normal_to_one_of_each_other_kind() {
    let kinds: Vec<Kind> = (0..1000).map(Kind::of).collect();
    let count = |k| kinds.iter().filter(|x| **x == k).count();
    assert_eq!(count(Kind::Normal), 700);
    for k in [Kind::SlowReader, Kind::Churn, Kind::BadFrames] {
        assert_eq!(count(k), 100);
    }
}
