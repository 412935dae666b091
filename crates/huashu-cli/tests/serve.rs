#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `huashu serve` as a process: starts with no flags besides the port, SIGTERM mid-stream ends every session
//! with a final score and close code 1001, then the process exits 0.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::ops::{Deref, DerefMut};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Each test runs a daemon on a port `free_port` picked. Run side by side, two tests can be handed the same
/// port (Linux hands a just-freed port out again), and one then talks to the other's daemon: CI saw a probe
/// connect succeed and the next connect refused when the other test's daemon stopped. One daemon at a time.
static ONE_DAEMON: Mutex<()> = Mutex::new(());

/// The daemon, killed when the test ends, a failed assertion included: a live child holds the test binary's
/// stdout, and CI's `cargo test | tee` would wait for it until the job's time limit.
struct Daemon(Child);

impl Deref for Daemon {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl DerefMut for Daemon {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `huashu serve` on `port` with `args`, no token, its stderr to `stderr`; returns once the port accepts.
fn serve(port: u16, args: &[&std::ffi::OsStr], stderr: Stdio) -> Daemon {
    let child = Daemon(
        Command::new(env!("CARGO_BIN_EXE_huashu"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(args)
            .env_remove("HUASHU_TOKENS")
            .stderr(stderr)
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "huashu serve did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    child
}

/// A minimal WebSocket client over std (text frames, client masking), enough for this test.
struct Ws(TcpStream);

impl Ws {
    fn connect(port: u16) -> Ws {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        write!(
            s,
            "GET /v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        .unwrap();
        let mut r = BufReader::new(s.try_clone().unwrap());
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        assert!(line.contains("101"), "{line}");
        loop {
            line.clear();
            r.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
        }
        Ws(s)
    }

    fn send(&mut self, text: &str) {
        let p = text.as_bytes();
        let mut f = vec![0x81u8];
        match p.len() {
            n if n < 126 => f.push(0x80 | n as u8),
            n => {
                f.push(0x80 | 126);
                f.extend_from_slice(&(n as u16).to_be_bytes());
            }
        }
        let mask = [1u8, 2, 3, 4];
        f.extend_from_slice(&mask);
        f.extend(p.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.0.write_all(&f).unwrap();
    }

    /// Next frame: Ok(text) or Err(close code).
    fn recv(&mut self) -> Result<String, u16> {
        let mut h = [0u8; 2];
        self.0.read_exact(&mut h).map_err(|_| 0u16)?;
        let mut len = (h[1] & 0x7f) as usize;
        if len == 126 {
            let mut b = [0u8; 2];
            self.0.read_exact(&mut b).unwrap();
            len = u16::from_be_bytes(b) as usize;
        } else if len == 127 {
            let mut b = [0u8; 8];
            self.0.read_exact(&mut b).unwrap();
            len = u64::from_be_bytes(b) as usize;
        }
        let mut p = vec![0u8; len];
        self.0.read_exact(&mut p).unwrap();
        match h[0] & 0x0f {
            0x1 => Ok(String::from_utf8(p).unwrap()),
            0x8 => Err(p.get(..2).map_or(0, |c| u16::from_be_bytes([c[0], c[1]]))),
            _ => self.recv(),
        }
    }

    fn until(&mut self, needle: &str) -> String {
        loop {
            let m = self
                .recv()
                .unwrap_or_else(|c| panic!("closed {c} before {needle}"));
            if m.contains(needle) {
                return m;
            }
        }
    }
}

#[test]
fn serve_with_no_flags_then_sigterm_mid_stream() {
    let _one = ONE_DAEMON.lock().unwrap_or_else(|p| p.into_inner());
    let port = free_port();
    let mut child = serve(port, &[], Stdio::piped());
    let mut a = Ws::connect(port);
    let mut b = Ws::connect(port);
    a.send(r#"{"type":"session.start","conversation_id":"sig-a"}"#);
    a.until("session.started");
    b.send(r#"{"type":"session.start","conversation_id":"sig-b"}"#);
    b.until("session.started");
    a.send(r#"{"type":"utterance","role":"agent","text":"这不是我的问题，你自己看说明书","final":true,"ref":1}"#);
    let f = a.until("\"finding\"");
    assert!(f.contains("F004"), "{f}");
    a.until("\"ack\"");
    b.send(r#"{"type":"utterance","role":"customer","text":"我要投诉","final":true,"ref":1}"#);
    b.until("\"ack\"");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    for ws in [&mut a, &mut b] {
        let score = ws.until("\"score\"");
        assert!(score.contains("\"final\":true"), "{score}");
        assert!(score.contains("\"ruleset\":\"zh-CN@"), "{score}");
        assert_eq!(ws.recv(), Err(1001));
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            assert!(st.success(), "exit status {st}");
            break;
        }
        assert!(Instant::now() < deadline, "did not exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(err.contains("listening on http://127.0.0.1:"), "{err}");
    assert!(err.contains("stopped"), "{err}");
}

/// Issue 18, probe 1: a half-sent HTTP request (no end of headers) must not keep the process from exiting on
/// SIGTERM: one deadline, `shutdown_grace_ms`, for everything.
#[test]
fn sigterm_with_a_half_sent_request_exits_by_the_deadline() {
    let _one = ONE_DAEMON.lock().unwrap_or_else(|p| p.into_inner());
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("huashu-serve-half-{port}"));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("huashu.toml");
    std::fs::write(&config, "[limits]\nshutdown_grace_ms = 1000\n").unwrap();
    let mut child = serve(
        port,
        &["--config".as_ref(), config.as_os_str()],
        Stdio::null(),
    );
    let mut half = TcpStream::connect(("127.0.0.1", port)).unwrap();
    half.write_all(b"GET /heal").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let t = Instant::now();
    let exited = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if t.elapsed() > Duration::from_secs(8) {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    if exited.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let _ = std::fs::remove_dir_all(&dir);
    let st =
        exited.expect("huashu serve still running 8 s after SIGTERM (shutdown_grace_ms = 1000)");
    assert!(st.success(), "exit status {st}");
    drop(half);
}

/// The body of `GET path` on the daemon (HTTP/1.1, `Connection: close`).
fn http_get(port: u16, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// The value of the unlabelled (or exactly labelled) metric line `name` in a `/metrics` page.
fn metric(page: &str, name: &str) -> Option<f64> {
    page.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// After a reload with no session on the old engine, the old engine is freed: nothing in the daemon pins
/// it. The binary's start-up banner used to hold the start-up engine for the daemon's whole life — one
/// engine's memory more from the first reload on (6 MiB of heap in the 10-minute soak, over its RSS rule).
#[test]
fn a_reload_frees_the_replaced_engine() {
    let _one = ONE_DAEMON.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("zh-CN");
    let copy = Command::new("cp")
        .args([
            "-r",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../rulesets/zh-CN"),
        ])
        .arg(&rules)
        .status()
        .unwrap();
    assert!(copy.success());
    let config = dir.path().join("huashu.toml");
    // No rule examples on reload: this test is about memory, not the examples (debug builds are slow at them).
    std::fs::write(&config, "[reload]\nselftest = false\ndebounce_ms = 100\n").unwrap();
    let port = free_port();
    let _child = serve(
        port,
        &[
            "--config".as_ref(),
            config.as_os_str(),
            "--ruleset".as_ref(),
            rules.as_os_str(),
        ],
        Stdio::null(),
    );
    let manifest = rules.join("ruleset.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let old = text.lines().find(|l| l.starts_with("version")).unwrap();
    std::fs::write(&manifest, text.replacen(old, "version = \"99.0.0\"", 1)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut page;
    loop {
        page = http_get(port, "/metrics");
        let reloaded = metric(&page, "huashu_ruleset_reloads_total{result=\"ok\"}") == Some(1.0);
        if reloaded && metric(&page, "huashu_ruleset_retired_engines") == Some(0.0) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the replaced engine is still held 60 s after the reload:\n{}",
            page.lines()
                .filter(|l| l.starts_with("huashu_ruleset"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let ready = http_get(port, "/readyz");
    assert!(ready.contains("\"ruleset\":\"zh-CN@99.0.0\""), "{ready}");
}
