//! `huashu loadtest --via chatwoot`: text-only conversations through the Chatwoot webhook
//! (`POST /v1/integrations/chatwoot`, unsigned as on loopback with no secret), one keep-alive connection per
//! conversation. A message's latency is the webhook's answer, which comes after the message was checked and
//! folded into the scorecard (the note, when one is due, is posted afterwards in the background). Before the
//! conversation is resolved its score (`GET /v1/conversations/{id}`) must count every finding the answers
//! reported.

use std::time::Instant;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::{LoadOptions, SCRIPT, Slot};

/// Chatwoot conversation numbers of the load start here (ids are numbers, per account).
const FIRST_ID: u64 = 7_000_000;

/// One HTTP/1.1 keep-alive connection (loopback tooling; answers carry a `Content-Length`).
struct Conn {
    io: BufReader<TcpStream>,
    host: String,
    auth: String,
}

impl Conn {
    async fn open(opts: &LoadOptions) -> Result<Conn, String> {
        let s = TcpStream::connect(opts.addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        s.set_nodelay(true).map_err(|e| e.to_string())?;
        Ok(Conn {
            io: BufReader::new(s),
            host: opts.addr.to_string(),
            auth: opts
                .token
                .as_ref()
                .map(|t| format!("Authorization: Bearer {t}\r\n"))
                .unwrap_or_default(),
        })
    }

    /// Sends one request and reads its answer: (status, body as JSON, or Null).
    async fn request(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), String> {
        let body = body.map(Value::to_string).unwrap_or_default();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\n{}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.host,
            self.auth,
            body.len()
        );
        let s = self.io.get_mut();
        s.write_all(head.as_bytes())
            .await
            .map_err(|e| format!("send: {e}"))?;
        s.write_all(body.as_bytes())
            .await
            .map_err(|e| format!("send: {e}"))?;
        let mut line = String::new();
        let mut status = None;
        let mut length = 0usize;
        loop {
            line.clear();
            if self
                .io
                .read_line(&mut line)
                .await
                .map_err(|e| format!("read: {e}"))?
                == 0
            {
                return Err("connection closed before the answer".into());
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if status.is_none() {
                status = l.split_whitespace().nth(1).and_then(|s| s.parse().ok());
            } else if let Some((k, v)) = l.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().map_err(|_| "bad Content-Length")?;
                }
            }
        }
        let mut buf = vec![0; length];
        self.io
            .read_exact(&mut buf)
            .await
            .map_err(|e| format!("read: {e}"))?;
        let status = status.ok_or("no status line")?;
        Ok((status, serde_json::from_slice(&buf).unwrap_or(Value::Null)))
    }
}

/// A `message_created` delivery as Chatwoot sends it (the fields the daemon reads).
fn message(conversation: u64, message: u64, role: &str, text: &str) -> Value {
    let (message_type, sender) = if role == "agent" {
        ("outgoing", json!({"id": 1, "type": "user"}))
    } else {
        ("incoming", json!({"id": 2, "type": "contact"}))
    };
    json!({
        "event": "message_created", "id": message, "content": text, "message_type": message_type,
        "private": false, "sender": sender, "conversation": {"id": conversation}, "account": {"id": 1}
    })
}

/// One conversation: connect (held), its messages one after another, its score checked, resolved.
pub(super) async fn conversation(s: &mut Slot<'_>) -> Result<(), String> {
    let opts = s.opts;
    let mut conn = Conn::open(opts).await?;
    let id = FIRST_ID + s.i as u64;
    s.all_held().await;
    let r = &mut s.r;
    let path = "/v1/integrations/chatwoot";
    for k in 0..opts.utterances {
        let (role, text) = SCRIPT[k % SCRIPT.len()];
        let t = Instant::now();
        let (status, v) = conn
            .request(
                "POST",
                path,
                Some(&message(id, id * 1000 + k as u64, role, text)),
            )
            .await?;
        let want = if role == "agent" { "checked" } else { "fed" };
        if status != 200 || v["status"] != want {
            r.errors += 1;
            return Err(format!("message {k}: {status} {v}"));
        }
        r.latencies.push(t.elapsed());
        r.sent += 1;
        r.findings += v["findings"].as_u64().unwrap_or(0) as usize;
        if v["note"] == "queued" {
            r.hints += 1;
        }
        if !opts.interval.is_zero() {
            tokio::time::sleep(opts.interval).await;
        }
    }
    s.all_sent().await;
    let r = &mut s.r;
    let (status, score) = conn
        .request("GET", &format!("/v1/conversations/{id}"), None)
        .await?;
    // Nothing lost: the scorecard counts every finding the webhook's answers reported.
    r.complete = status == 200 && score["findings_total"].as_u64() == Some(r.findings as u64);
    let resolved = json!({"event": "conversation_status_changed", "id": id, "status": "resolved",
        "account": {"id": 1}});
    let (status, v) = conn.request("POST", path, Some(&resolved)).await?;
    if status != 200 || v["status"] != "ended" {
        r.errors += 1;
        return Err(format!("resolve: {status} {v}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn roles_become_chatwoot_message_types() {
        let a = message(7, 7001, "agent", "您好");
        assert_eq!(
            (&a["message_type"], &a["sender"]["type"]),
            (&json!("outgoing"), &json!("user"))
        );
        assert_eq!(a["conversation"]["id"], 7);
        assert_eq!(a["id"], 7001);
        let c = message(7, 7002, "customer", "在吗");
        assert_eq!(
            (&c["message_type"], &c["sender"]["type"]),
            (&json!("incoming"), &json!("contact"))
        );
    }

    /// Two requests on one connection, each answer read to its `Content-Length` and no further.
    #[tokio::test]
    async fn answers_are_read_one_by_one_on_a_kept_connection() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (s, _) = listener.accept().await.unwrap();
            let mut io = BufReader::new(s);
            for answer in [r#"{"status":"checked","findings":2}"#, "{}"] {
                // Skip the request: its head, then the body of the length it gave.
                let mut length = 0;
                loop {
                    let mut l = String::new();
                    io.read_line(&mut l).await.unwrap();
                    if let Some(v) = l.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap();
                    }
                    if l == "\r\n" {
                        break;
                    }
                }
                let mut body = vec![0; length];
                io.read_exact(&mut body).await.unwrap();
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
                    answer.len()
                );
                io.get_mut().write_all(reply.as_bytes()).await.unwrap();
            }
        });
        let opts = LoadOptions {
            addr,
            ..LoadOptions::default()
        };
        let mut conn = Conn::open(&opts).await.unwrap();
        let (status, v) = conn
            .request("POST", "/x", Some(&json!({"a": 1})))
            .await
            .unwrap();
        assert_eq!(
            (status, &v["status"], &v["findings"]),
            (200, &json!("checked"), &json!(2))
        );
        let (status, v) = conn.request("GET", "/y", None).await.unwrap();
        assert_eq!((status, v), (200, json!({})));
        server.await.unwrap();
    }
}
