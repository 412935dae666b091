//! Checksums that separate a real identifier read out loud from any long run of digits.

/// Mainland resident ID (GB 11643-1999): 17 digits + check character, with a plausible birth date.
pub fn id_card(s: &str) -> bool {
    // On the stack: this runs on every candidate number, and a Vec per candidate showed in profiles.
    let mut chars = [0u8; 18];
    let mut n = 0;
    for b in s.bytes().filter(u8::is_ascii_alphanumeric) {
        if n == chars.len() {
            return false;
        }
        chars[n] = b;
        n += 1;
    }
    if n != 18 || !chars[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [u8; 11] = *b"10x98765432";
    let digit = |b: &u8| u32::from(b - b'0');
    let sum: u32 = chars[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(b, w)| digit(b) * w)
        .sum();
    if chars[17].to_ascii_lowercase() != CHECK[(sum % 11) as usize] {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> u32 {
        chars[r].iter().fold(0, |acc, b| acc * 10 + digit(b))
    };
    let (year, month, day) = (num(6..10), num(10..12), num(12..14));
    (1900..=2100).contains(&year) && (1..=12).contains(&month) && (1..=31).contains(&day)
}

/// Payment card number: 13–19 digits passing Luhn, not one repeated digit.
pub fn luhn(s: &str) -> bool {
    if s.bytes().any(|b| b.is_ascii_alphabetic()) {
        return false;
    }
    let mut digits = [0u32; 19];
    let mut n = 0;
    for d in s.chars().filter_map(|c| c.to_digit(10)) {
        if n == digits.len() {
            return false;
        }
        digits[n] = d;
        n += 1;
    }
    let digits = &digits[..n];
    if n < 13 || digits.iter().all(|d| *d == digits[0]) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_card_checksum() {
        assert!(id_card("11010519491231002x"));
        assert!(id_card("11010519491231002X"));
        assert!(!id_card("110105194912310021"));
        assert_eq!(checksum_of("11010519491231002"), 'x');
        assert!(!id_card("110105194913310025"), "month 13 is no birth date");
        assert!(!id_card("123456789012345678"));
        assert!(!id_card("1234"));
    }

    fn checksum_of(s17: &str) -> char {
        const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        const CHECK: [char; 11] = ['1', '0', 'x', '9', '8', '7', '6', '5', '4', '3', '2'];
        let sum: u32 = s17
            .chars()
            .zip(WEIGHTS)
            .map(|(c, w)| c.to_digit(10).unwrap_or(0) * w)
            .sum();
        CHECK[(sum % 11) as usize]
    }

    #[test]
    fn luhn_checksum() {
        assert!(luhn("4111111111111111"));
        assert!(luhn("5500005555555559"));
        assert!(luhn("6011000990139424"));
        assert!(!luhn("4111111111111112"));
        assert!(!luhn("0000000000000000"));
        assert!(
            !luhn("79927398713"),
            "valid Luhn but 11 digits: too short for a card"
        );
    }
}
