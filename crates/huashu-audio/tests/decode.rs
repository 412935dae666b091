//! Decoding: every WAV encoding a call recorder writes, resampling, and clear errors for broken input.

use huashu_audio::{AudioError, decode_bytes, decode_file, resample};

/// A WAV file: `format` 1 = PCM, 3 = float, 6 = A-law, 7 = μ-law.
fn wav(format: u16, channels: u16, rate: u32, bits: u16, data: &[u8]) -> Vec<u8> {
    let block = channels * bits / 8;
    let mut fmt = Vec::new();
    fmt.extend(format.to_le_bytes());
    fmt.extend(channels.to_le_bytes());
    fmt.extend(rate.to_le_bytes());
    fmt.extend((rate * u32::from(block)).to_le_bytes());
    fmt.extend(block.to_le_bytes());
    fmt.extend(bits.to_le_bytes());
    if format != 1 {
        fmt.extend(0u16.to_le_bytes()); // cbSize
    }
    let mut out = Vec::new();
    out.extend(b"RIFF");
    let mut body = Vec::new();
    body.extend(b"WAVE");
    body.extend(b"fmt ");
    body.extend((fmt.len() as u32).to_le_bytes());
    body.extend(&fmt);
    if format != 1 {
        body.extend(b"fact");
        body.extend(4u32.to_le_bytes());
        body.extend((data.len() as u32 / u32::from(block)).to_le_bytes());
    }
    body.extend(b"data");
    body.extend((data.len() as u32).to_le_bytes());
    body.extend(data);
    out.extend((body.len() as u32).to_le_bytes());
    out.extend(body);
    out
}

/// 0.5 s of a 440 Hz sine at half scale.
fn sine(rate: u32) -> Vec<f32> {
    (0..rate / 2)
        .map(|i| 0.5 * (2.0 * std::f32::consts::PI * 440.0 * i as f32 / rate as f32).sin())
        .collect()
}

fn peak(x: &[f32]) -> f32 {
    x.iter().fold(0.0f32, |m, s| m.max(s.abs()))
}

#[test]
fn pcm_16_24_32_and_float() {
    let x = sine(8_000);
    let cases: Vec<(u16, u16, Vec<u8>)> = vec![
        (
            1,
            16,
            x.iter()
                .flat_map(|s| ((s * 32767.0) as i16).to_le_bytes())
                .collect(),
        ),
        (
            1,
            24,
            x.iter()
                .flat_map(|s| {
                    let v = (s * 8_388_607.0) as i32;
                    let b = v.to_le_bytes();
                    [b[0], b[1], b[2]]
                })
                .collect(),
        ),
        (
            1,
            32,
            x.iter()
                .flat_map(|s| ((s * 2_147_483_647.0) as i32).to_le_bytes())
                .collect(),
        ),
        (3, 32, x.iter().flat_map(|s| s.to_le_bytes()).collect()),
    ];
    for (format, bits, data) in cases {
        let a = decode_bytes(wav(format, 1, 8_000, bits, &data), Some("wav"))
            .unwrap_or_else(|e| panic!("format {format} bits {bits}: {e}"));
        assert_eq!(a.rate, 8_000);
        assert_eq!(a.channels.len(), 1);
        assert_eq!(a.frames(), x.len(), "format {format} bits {bits}");
        assert!(
            (peak(&a.channels[0]) - 0.5).abs() < 0.01,
            "format {format} bits {bits}"
        );
    }
}

fn mulaw(s: f32) -> u8 {
    // G.711 μ-law encoder.
    let bias = 0x84i32;
    let mut v = (s * 32767.0) as i32;
    let sign = if v < 0 { 0x80 } else { 0 };
    if v < 0 {
        v = -v;
    }
    v = (v + bias).min(32635);
    let mut exp = 7;
    let mut mask = 0x4000;
    while exp > 0 && v & mask == 0 {
        exp -= 1;
        mask >>= 1;
    }
    let mant = (v >> (exp + 3)) & 0x0F;
    !((sign | (exp << 4) | mant) as u8)
}

fn alaw(s: f32) -> u8 {
    let mut v = ((s * 32767.0) as i32) >> 3;
    let sign = if v >= 0 { 0x80 } else { 0 };
    if v < 0 {
        v = -v - 1;
    }
    let byte = if v < 32 {
        v >> 1
    } else {
        let mut exp = 1;
        while v >= 64 && exp < 7 {
            v >>= 1;
            exp += 1;
        }
        (exp << 4) | ((v >> 1) & 0x0F)
    };
    ((byte | sign) as u8) ^ 0x55
}

#[test]
fn telephony_mulaw_and_alaw_stereo() {
    let x = sine(8_000);
    for (format, enc) in [(7u16, mulaw as fn(f32) -> u8), (6, alaw)] {
        // Stereo: left the sine, right silence.
        let data: Vec<u8> = x.iter().flat_map(|&s| [enc(s), enc(0.0)]).collect();
        let a = decode_bytes(wav(format, 2, 8_000, 8, &data), Some("wav"))
            .unwrap_or_else(|e| panic!("format {format}: {e}"));
        assert_eq!(a.channels.len(), 2);
        assert_eq!(a.frames(), x.len());
        assert!(
            (peak(&a.channels[0]) - 0.5).abs() < 0.05,
            "format {format}: {}",
            peak(&a.channels[0])
        );
        assert!(peak(&a.channels[1]) < 0.01, "format {format}");
    }
}

#[test]
fn resampled_to_16k_keeps_duration_and_level() {
    let x = sine(8_000);
    let y = resample(&x, 8_000, 16_000).expect("resample");
    assert!(
        (y.len() as i64 - 2 * x.len() as i64).abs() < 64,
        "{}",
        y.len()
    );
    // The level survives (skip the filter's edges).
    assert!((peak(&y[1000..7000]) - 0.5).abs() < 0.05);
    let z = resample(&sine(44_100), 44_100, 16_000).expect("resample");
    assert!((z.len() as i64 - 8_000).abs() < 64, "{}", z.len());
}

#[test]
fn broken_inputs_give_clear_errors() {
    assert!(matches!(
        decode_bytes(Vec::new(), Some("wav")),
        Err(AudioError::Empty)
    ));
    let text = b"{\"id\":1,\"role\":\"agent\",\"text\":\"not audio at all\"}\n".repeat(20);
    let e = decode_bytes(text, Some("wav")).expect_err("not audio");
    assert!(matches!(e, AudioError::Format(_)), "{e}");
    // A WAV cut in the middle of its header, then in the middle of its data.
    let x = sine(8_000);
    let full = wav(
        1,
        1,
        8_000,
        16,
        &x.iter()
            .flat_map(|s| ((s * 32767.0) as i16).to_le_bytes())
            .collect::<Vec<u8>>(),
    );
    let e = decode_bytes(full[..30].to_vec(), Some("wav")).expect_err("header cut");
    assert!(!e.to_string().is_empty());
    match decode_bytes(full[..full.len() / 2 + 1].to_vec(), Some("wav")) {
        Err(AudioError::Truncated { .. }) => {}
        Ok(a) => panic!("a truncated WAV decoded as {} frames", a.frames()),
        Err(e) => panic!("unexpected error {e}"),
    }
    // A header that promises data but has none.
    let e = decode_bytes(wav(1, 1, 8_000, 16, &[]), Some("wav")).expect_err("no data");
    assert!(!e.to_string().is_empty());
    // Garbage after a RIFF tag; random bytes.
    let mut junk = b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk".to_vec();
    junk.extend((0..2000u32).map(|i| (i * 7919 % 251) as u8));
    assert!(decode_bytes(junk, Some("wav")).is_err());
    let noise: Vec<u8> = (0..5000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761u32) >> 24) as u8)
        .collect();
    assert!(decode_bytes(noise, None).is_err());
    // Files: missing, empty.
    let dir = std::env::temp_dir().join(format!("huashu-audio-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let empty = dir.join("empty.wav");
    std::fs::write(&empty, b"").expect("write");
    assert!(matches!(decode_file(&empty), Err(AudioError::Empty)));
    assert!(matches!(
        decode_file(&dir.join("missing.wav")),
        Err(AudioError::Io { .. })
    ));
    let _ = std::fs::remove_dir_all(&dir);
}
