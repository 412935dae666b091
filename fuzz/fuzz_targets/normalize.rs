#![no_main]
//! The alignment always lands on char boundaries and maps back inside the original.

use huashu::text::{Options, normalize};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let n = normalize(s, &Options::default());
    let t = n.as_str();
    for (b, c) in t.char_indices() {
        let span = n.original_span(b..b + c.len_utf8());
        assert!(span.start <= span.end && span.end <= s.len());
        assert!(s.is_char_boundary(span.start) && s.is_char_boundary(span.end));
    }
    let whole = n.original_span(0..t.len());
    assert!(whole.end <= s.len());
});
