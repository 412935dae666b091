//! Overlap resolution across rules: one span of a turn is reported once, by the rule that matters most.
//! Apart from the scan because the order it defines is a contract of the output (which rule a reviewer
//! sees), and changing it changes findings, not speed.

use huashu_rules::Rule;

use super::scan::Hit;

/// Across rules, findings never overlap: the more severe wins, then the longer, then the earlier, then the
/// lower rule id. Deterministic whatever order the matchers produced.
pub(super) fn resolve_overlaps(hits: &mut Vec<Hit>, rules: &[Rule]) {
    hits.sort_by(|a, b| {
        let (ra, rb) = (&rules[a.rule as usize], &rules[b.rule as usize]);
        rb.severity
            .cmp(&ra.severity)
            .then(a.cost.cmp(&b.cost))
            .then((b.end - b.start).cmp(&(a.end - a.start)))
            .then(a.start.cmp(&b.start))
            .then(ra.id.cmp(&rb.id))
    });
    // Kept hits are compacted to the front in place: no second buffer.
    let mut n = 0;
    for i in 0..hits.len() {
        let h = hits[i];
        if !hits[..n].iter().any(|k| h.start < k.end && k.start < h.end) {
            hits[n] = h;
            n += 1;
        }
    }
    hits.truncate(n);
    hits.sort_by_key(|h| (h.start, h.end, h.rule));
}
