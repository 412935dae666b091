//! Masks: how a privacy rule's suggestion redacts the words it matched. Public (`huashu::apply_mask`) so
//! that faces redact the same way the suggestions do.

use huashu_rules::Mask;

/// Redacts `s`: with `KeepLast4`, every letter or digit except the last four becomes `*` (separators stay,
/// so the agent can still read back "尾号 1234").
pub fn apply_mask(s: &str, mask: Mask) -> String {
    if s.is_ascii() {
        // Card and ID numbers: a byte per character, no decoding.
        let mut out = s.as_bytes().to_vec();
        let total = out.iter().filter(|b| b.is_ascii_alphanumeric()).count();
        let mut seen = 0;
        for b in &mut out {
            let redact = match mask {
                Mask::All => !char::from(*b).is_whitespace(),
                Mask::KeepLast4 => {
                    b.is_ascii_alphanumeric() && {
                        seen += 1;
                        seen + 4 <= total
                    }
                }
            };
            if redact {
                *b = b'*';
            }
        }
        return String::from_utf8(out).unwrap_or_default();
    }
    match mask {
        Mask::All => s
            .chars()
            .map(|c| if c.is_whitespace() { c } else { '*' })
            .collect(),
        Mask::KeepLast4 => {
            let total = s.chars().filter(|c| c.is_alphanumeric()).count();
            let mut seen = 0;
            s.chars()
                .map(|c| {
                    if c.is_alphanumeric() {
                        seen += 1;
                        if seen + 4 <= total { '*' } else { c }
                    } else {
                        c
                    }
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_separators_and_the_last_four() {
        // ASCII takes the byte path, anything else the char path: both redact the same way.
        assert_eq!(
            apply_mask("6222 0212 3456 7890", Mask::KeepLast4),
            "**** **** **** 7890"
        );
        assert_eq!(
            apply_mask("11010519491231002X", Mask::KeepLast4),
            "**************002X"
        );
        assert_eq!(
            apply_mask("１１０１0519491231002X", Mask::KeepLast4),
            "**************002X"
        );
        assert_eq!(apply_mask("123", Mask::KeepLast4), "123");
        assert_eq!(apply_mask("ab c\td", Mask::All), "** *\t*");
        assert_eq!(apply_mask("密码 1234", Mask::All), "** ****");
    }
}
