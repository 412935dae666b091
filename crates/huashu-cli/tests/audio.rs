//! End to end over speech (feature `audio`): a two-channel call synthesised with espeak-ng and sox (agent on
//! the left, customer on the right) goes through `huashu transcribe` and `huashu score --audio`; so do the
//! real recordings of `../shared/audio` (read Mandarin from AISHELL-1, English), at one thread as CI runs them.
//!
//! Needs `espeak-ng`, `sox` and a Whisper model (`$HUASHU_WHISPER_MODEL` or the cache `scripts/fetch-model`
//! fills); `scripts/test-audio.sh` provides all three. Without them the tests say so and pass, unless
//! `HUASHU_AUDIO_REQUIRED=1` (CI), where a missing piece fails.
#![cfg(feature = "audio")]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn required() -> bool {
    std::env::var("HUASHU_AUDIO_REQUIRED").is_ok_and(|v| v == "1")
}

fn skip(why: &str) {
    assert!(!required(), "audio test cannot run: {why}");
    eprintln!("skipping audio test: {why}");
}

/// `$HUASHU_WHISPER_MODEL`, else the model `huashu` uses without --model (base in Q8_0): what these tests
/// check is what users get.
fn model() -> Option<PathBuf> {
    huashu::audio::model::resolve(None).ok()
}

fn tool(name: &str) -> bool {
    Command::new(name).arg("--version").output().is_ok()
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("spawn");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Speech for one party at 16 kHz mono, padded with `before` s of silence and 0.5 s after.
fn say(
    dir: &Path,
    name: &str,
    voice: Option<&str>,
    speed: &str,
    text: &str,
    before: f32,
) -> PathBuf {
    let raw = dir.join(format!("{name}.raw.wav"));
    let out = dir.join(format!("{name}.wav"));
    let mut e = Command::new("espeak-ng");
    if let Some(v) = voice {
        e.args(["-v", v]);
    }
    run(e.args(["-s", speed, "-w"]).arg(&raw).arg(text));
    run(Command::new("sox")
        .arg(&raw)
        .args(["-r", "16000", "-c", "1", "-b", "16"])
        .arg(&out)
        .args(["pad", &before.to_string(), "0.5"]));
    out
}

fn seconds(path: &Path) -> f32 {
    let out = Command::new("soxi")
        .arg("-D")
        .arg(path)
        .output()
        .expect("soxi");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("duration")
}

/// The customer speaks first (right channel), then the agent answers (left channel) in one or more
/// utterances half a second apart.
fn call(
    dir: &Path,
    name: &str,
    voice: Option<&str>,
    speed: &str,
    customer: &str,
    agent: &[&str],
) -> PathBuf {
    let c = say(
        dir,
        &format!("{name}-customer"),
        voice,
        speed,
        customer,
        0.3,
    );
    let mut parts = Vec::new();
    for (i, text) in agent.iter().enumerate() {
        let before = if i == 0 { seconds(&c) + 0.3 } else { 0.5 };
        parts.push(say(
            dir,
            &format!("{name}-agent{i}"),
            voice,
            speed,
            text,
            before,
        ));
    }
    let a = dir.join(format!("{name}-agent.wav"));
    run(Command::new("sox").args(&parts).arg(&a));
    let out = dir.join(format!("{name}.wav"));
    run(Command::new("sox").arg("-M").arg(&a).arg(&c).arg(&out));
    out
}

fn huashu(model: &Path, args: &[&str]) -> Vec<Value> {
    huashu_threads(model, args, 1)
}

fn huashu_threads(model: &Path, args: &[&str], threads: usize) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_huashu"))
        .args(args)
        .arg("--model")
        .arg(model)
        .args(["--threads", &threads.to_string()])
        .output()
        .expect("run huashu");
    assert!(
        out.status.success(),
        "huashu {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

/// Character error rate of `got` against `want`, both normalised (simplified, no punctuation or spaces).
fn cer(want: &str, got: &str) -> f64 {
    let clean = |s: &str| -> Vec<char> {
        huashu::text::normalize(s, &huashu::text::Options::default())
            .as_str()
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect()
    };
    let (a, b) = (clean(want), clean(got));
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            cur[j] = (prev[j - 1] + usize::from(a[i - 1] != b[j - 1]))
                .min(prev[j] + 1)
                .min(cur[j - 1] + 1);
        }
        prev = cur;
    }
    prev[b.len()] as f64 / a.len().max(1) as f64
}

fn setup() -> Option<(PathBuf, PathBuf)> {
    let Some(model) = model() else {
        skip("no Whisper model (run scripts/fetch-model or set HUASHU_WHISPER_MODEL)");
        return None;
    };
    if !tool("espeak-ng") || !tool("sox") {
        skip("espeak-ng and sox are not installed");
        return None;
    }
    let dir = std::env::temp_dir().join(format!(
        "huashu-audio-cli-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).expect("tmp");
    Some((model, dir))
}

fn findings(score: &Value) -> Vec<(String, String, String)> {
    score["findings"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .map(|f| {
                    (
                        f["rule"].as_str().unwrap_or("").to_string(),
                        f["category"].as_str().unwrap_or("").to_string(),
                        f["matched"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn mandarin_call_finds_forbidden_dont_know() {
    let Some((model, dir)) = setup() else { return };
    let wav = call(
        &dir,
        "zh",
        Some("cmn-latn-pinyin"),
        "120",
        "wo3 de5 ding4 dan1 zen3 me5 hai2 mei2 dao4",
        &[
            "nin2 hao3, zhe4 bu2 shi4 wo3 de5 wen4 ti2.",
            "wo3 bu4 zhi1 dao4.",
        ],
    );
    let wav = wav.to_str().expect("utf-8 path");

    let turns = huashu(&model, &["transcribe", wav]);
    assert_eq!(turns.len(), 3, "{turns:?}");
    assert_eq!(turns[0]["role"], "customer", "{turns:?}");
    assert!(turns[1..].iter().all(|t| t["role"] == "agent"), "{turns:?}");
    assert!(
        turns
            .windows(2)
            .all(|w| w[0]["end_ms"].as_u64() <= w[1]["start_ms"].as_u64()),
        "{turns:?}"
    );
    let agent: String = turns[1..]
        .iter()
        .filter_map(|t| t["text"].as_str())
        .collect();
    let rate = cer("您好，这不是我的问题。我不知道。", &agent);
    eprintln!("zh agent transcript {agent:?}: character error rate {rate:.3}");
    assert!(rate <= 0.5, "{agent:?}");
    // Two threads: the two channels are recognised at once, one thread each, so each pass is the very
    // computation of the one-thread run above.
    assert_eq!(huashu_threads(&model, &["transcribe", wav], 2), turns);

    let scores = huashu(&model, &["score", "--audio", wav]);
    let found = findings(&scores[0]);
    assert!(
        found
            .iter()
            .any(|(_, cat, m)| cat == "forbidden" && m.contains("不知")),
        "{found:?} in {scores:?}"
    );
    assert!(
        scores[0]["findings"][0]["confidence"]
            .as_f64()
            .is_some_and(|c| c > 0.0 && c <= 1.0)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn english_call_finds_promise() {
    let Some((model, dir)) = setup() else { return };
    let wav = call(
        &dir,
        "en",
        None,
        "150",
        "Is my money safe with you?",
        &["I can guarantee you a hundred percent return."],
    );
    let wav = wav.to_str().expect("utf-8 path");
    // The bundled English ruleset when it is in the tree, else a test-only one.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let ruleset = if root.join("rulesets/en/ruleset.toml").is_file() {
        "en".to_string()
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/en-min")
            .display()
            .to_string()
    };
    let scores = huashu(
        &model,
        &[
            "score",
            "--audio",
            "--language",
            "en",
            "--ruleset",
            &ruleset,
            wav,
        ],
    );
    let agent = scores[0]["transcript"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["role"] == "agent"))
        .and_then(|t| t["text"].as_str())
        .unwrap_or("")
        .to_string();
    let rate = cer(
        "I can guarantee you a hundred percent return",
        &agent.replace("100%", "a hundred percent"),
    );
    eprintln!("en agent transcript {agent:?}: character error rate {rate:.3}");
    let found = findings(&scores[0]);
    assert!(
        found.iter().any(|(_, cat, _)| cat == "promise"),
        "{found:?} in {scores:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn broken_recordings_are_reported_not_fatal() {
    let Some((model, dir)) = setup() else { return };
    let empty = dir.join("empty.wav");
    std::fs::write(&empty, b"").expect("write");
    let text = dir.join("notes.wav");
    std::fs::write(&text, "this is not audio\n".repeat(50)).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_huashu"))
        .arg("transcribe")
        .arg(&empty)
        .arg(&text)
        .arg("--model")
        .arg(&model)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(lines.iter().all(|l| l["error"].is_string()), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `../shared/audio` beside the checkout (or `$HUASHU_SHARED_AUDIO`): real speech, read in place.
fn shared_audio() -> Option<PathBuf> {
    let dir = std::env::var_os("HUASHU_SHARED_AUDIO").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/audio"),
        PathBuf::from,
    );
    dir.join("aishell1-BAC009S0764W0121.wav")
        .is_file()
        .then_some(dir)
}

#[test]
fn real_speech_transcripts_and_findings() {
    let Some(model) = model() else {
        skip("no Whisper model (run scripts/fetch-model or set HUASHU_WHISPER_MODEL)");
        return;
    };
    let Some(shared) = shared_audio() else {
        skip("../shared/audio is not there (set HUASHU_SHARED_AUDIO)");
        return;
    };
    let zh = shared.join("aishell1-BAC009S0764W0121.wav");
    let zh = zh.to_str().expect("utf-8 path");
    let turns = huashu(&model, &["transcribe", zh]);
    assert_eq!(turns.len(), 1, "{turns:?}");
    let heard = turns[0]["text"].as_str().unwrap_or("");
    let rate = cer("甚至出现交易几乎停滞的情况", heard);
    eprintln!("AISHELL-1 transcript {heard:?}: character error rate {rate:.3}");
    // Base at one thread hears it exactly (benches/RESULTS.md, "Speech"); one character of 13 is slack for
    // another build's kernels, no more.
    assert!(rate <= 1.0 / 13.0 + 1e-9, "{heard:?}");
    assert_eq!(turns[0]["role"], "agent", "{turns:?}");

    // The bundled ruleset finds nothing in read news; the test ruleset's regex finds the phrase at its place.
    let scores = huashu(&model, &["score", "--audio", zh]);
    assert_eq!(findings(&scores[0]), [], "{scores:?}");
    let ruleset = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/real-zh");
    let ruleset = ruleset.to_str().expect("utf-8 path");
    let scores = huashu(&model, &["score", "--audio", "--ruleset", ruleset, zh]);
    let found = &scores[0]["findings"];
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{scores:?}");
    assert_eq!(found[0]["rule"], "TR001");
    assert_eq!(found[0]["matched"], "交易几乎停滞");
    let text = scores[0]["transcript"][0]["text"].as_str().unwrap_or("");
    let start = text.find("交易").map(|b| text[..b].chars().count());
    assert_eq!(
        found[0]["start"].as_u64(),
        start.map(|c| c as u64),
        "{text:?}"
    );
    assert_eq!(found[0]["end"].as_u64(), start.map(|c| c as u64 + 6));

    let en = shared.join("jfk.wav");
    let en = en.to_str().expect("utf-8 path");
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(|w| w.to_lowercase())
            .collect()
    };
    let per_turn = |turns: &[Value]| -> Vec<String> {
        turns
            .iter()
            .filter_map(|t| t["text"].as_str())
            .map(|t| words(t).join(" "))
            .collect()
    };
    let want = words(
        "and so my fellow americans ask not what your country can do for you \
         ask what you can do for your country",
    );
    // The energy VAD cuts four utterances; they are recognised in one pass and each gets its own words back.
    let turns = huashu(
        &model,
        &["transcribe", "--language", "en", "--energy-vad", en],
    );
    eprintln!("jfk transcript, energy VAD {:?}", per_turn(&turns));
    assert_eq!(per_turn(&turns).join(" "), want.join(" "), "{turns:?}");
    assert_eq!(
        per_turn(&turns),
        [
            "and so my fellow americans",
            "ask not",
            "what your country can do for you",
            "ask what you can do for your country"
        ],
        "{turns:?}"
    );
    // Silero (the default once cached, as under CI) bridges the short pause before the last clause (its
    // minimum silence is 600 ms) and hears the same words.
    if huashu::audio::model::cached_silero_vad().is_some() {
        let turns = huashu(&model, &["transcribe", "--language", "en", en]);
        eprintln!("jfk transcript, Silero VAD {:?}", per_turn(&turns));
        assert_eq!(
            per_turn(&turns),
            [
                "and so my fellow americans",
                "ask not",
                "what your country can do for you ask what you can do for your country"
            ],
            "{turns:?}"
        );
    } else {
        skip("no Silero VAD model cached (scripts/fetch-model silero)");
    }
}

/// Bursts of white noise and a warbling tone (music on hold) on the customer's channel, a greeting on the
/// agent's: the energy VAD takes the noise for speech and Whisper "hears" a loop of words in it (5 customer
/// turns of 我认为你能够做的… on this call); Silero, the default once cached, cuts only the greeting.
#[test]
fn noise_and_a_tone_are_not_speech() {
    let Some((model, dir)) = setup() else { return };
    if huashu::audio::model::cached_silero_vad().is_none() {
        skip("no Silero VAD model cached (scripts/fetch-model silero)");
        return;
    }
    let file = |name: &str| dir.join(name).to_str().expect("utf-8 path").to_owned();
    let sox = |args: &[&str]| run(Command::new("sox").args(args));
    let spec = ["-r", "16000", "-c", "1", "-b", "16"];
    sox(&[
        &["-n"][..],
        &spec,
        &[
            &file("burst.wav"),
            "synth",
            "0.5",
            "whitenoise",
            "vol",
            "0.05",
        ],
    ]
    .concat());
    sox(&[&["-n"][..], &spec, &[&file("gap.wav"), "trim", "0", "1.0"]].concat());
    sox(&[
        &["-n"][..],
        &spec,
        &[
            &file("tone.wav"),
            "synth",
            "4",
            "sine",
            "440",
            "vol",
            "0.3",
            "tremolo",
            "2",
            "80",
        ],
    ]
    .concat());
    let (burst, gap, tone) = (file("burst.wav"), file("gap.wav"), file("tone.wav"));
    let customer = file("customer.wav");
    sox(&[
        &burst, &gap, &burst, &gap, &burst, &gap, &burst, &gap, &tone, &gap, &customer,
    ]);
    let greeting = say(
        &dir,
        "greeting",
        Some("cmn-latn-pinyin"),
        "120",
        "nin2 hao3, qing3 wen4 you3 shen2 me5 ke3 yi3 bang1 nin2",
        0.3,
    );
    let agent = file("agent.wav");
    sox(&[
        greeting.to_str().expect("utf-8 path"),
        &agent,
        "pad",
        "0",
        "8",
    ]);
    let call = file("noise-call.wav");
    sox(&["-M", &agent, &customer, &call]);

    let turns = huashu(&model, &["transcribe", &call]);
    assert_eq!(turns.len(), 1, "{turns:?}");
    assert_eq!(turns[0]["role"], "agent", "{turns:?}");
    let energy = huashu(&model, &["transcribe", "--energy-vad", &call]);
    let heard: Vec<&str> = energy
        .iter()
        .filter(|t| t["role"] == "customer")
        .filter_map(|t| t["text"].as_str())
        .collect();
    eprintln!("energy VAD on the same call: customer turns {heard:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
