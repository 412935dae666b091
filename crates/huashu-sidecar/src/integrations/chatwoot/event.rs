//! What a Chatwoot webhook delivery asks of the daemon. Chatwoot sends `message_webhook_data` merged with
//! `event`: `message_type` is `incoming` (the customer), `outgoing` (an agent, a bot or an automation),
//! `activity` or `template`; `private` marks an internal note; `sender.type` is `user` for a human agent
//! (`agent_bot`, `captain_assistant`, `contact` otherwise); `conversation.id` is the conversation's
//! display id, the one its API paths take. Conversation events carry the conversation itself at the top.

use huashu::Role;
use serde::Deserialize;
use serde_json::Value;

/// The parts of a delivery the daemon reads; everything else is ignored (Chatwoot adds fields over time).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Payload {
    pub event: Option<String>,
    /// The message id (message events) or the conversation's display id (conversation events).
    pub id: Option<Value>,
    pub content: Option<String>,
    pub message_type: Option<Value>,
    pub private: Option<bool>,
    pub sender: Option<Party>,
    pub conversation: Option<Conversation>,
    pub account: Option<Party>,
    /// The conversation's status (conversation events).
    pub status: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Party {
    pub id: Option<Value>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Conversation {
    pub id: Option<Value>,
}

/// One message that enters a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub account: Option<u64>,
    pub conversation: u64,
    pub message: Option<u64>,
    pub role: Role,
    pub text: String,
}

/// What to do with a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// An agent's message: check it, fold it in, post a note when there is something to say.
    Check(Message),
    /// A customer's message: fold it in (the scorecard needs it), no note.
    Feed(Message),
    /// The conversation was resolved: end it (the final score goes to its listeners).
    End { conversation: u64 },
    /// Nothing to do, and why (the reply says it, for an operator reading Chatwoot's delivery log).
    Ignore(&'static str),
}

/// An id Chatwoot sends as a number (or, in older payloads, a numeric string).
fn id(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `incoming`/`outgoing`/… as Chatwoot's webhook sends it (a name), or the enum's number.
fn message_type(v: Option<&Value>) -> Option<&str> {
    match v? {
        Value::String(s) => Some(match s.as_str() {
            "incoming" => "incoming",
            "outgoing" => "outgoing",
            "activity" => "activity",
            "template" => "template",
            _ => return None,
        }),
        Value::Number(n) => match n.as_u64()? {
            0 => Some("incoming"),
            1 => Some("outgoing"),
            2 => Some("activity"),
            3 => Some("template"),
            _ => None,
        },
        _ => None,
    }
}

/// Decides what a delivery asks for.
pub fn classify(p: &Payload) -> Action {
    match p.event.as_deref() {
        Some("message_created") => message(p),
        Some("conversation_status_changed") => match (p.status.as_deref(), id(p.id.as_ref())) {
            (Some("resolved"), Some(conversation)) => Action::End { conversation },
            (Some("resolved"), None) => {
                Action::Ignore("conversation event without a conversation id")
            }
            _ => Action::Ignore("conversation status other than resolved"),
        },
        Some(_) => Action::Ignore("event not handled (subscribe to message_created)"),
        None => Action::Ignore("no event name"),
    }
}

fn message(p: &Payload) -> Action {
    if p.private == Some(true) {
        return Action::Ignore("private note");
    }
    let role = match message_type(p.message_type.as_ref()) {
        Some("incoming") => Role::Customer,
        Some("outgoing") => {
            // Older Chatwoot releases sent the agent without a `type` (only bots and contacts are typed
            // apart from `user` now); no sender at all is an automation.
            let human = p
                .sender
                .as_ref()
                .is_some_and(|s| s.kind.as_deref().is_none_or(|k| k == "user"));
            if !human {
                return Action::Ignore(
                    "outgoing message not sent by a human agent (bot or automation)",
                );
            }
            Role::Agent
        }
        Some(_) => return Action::Ignore("activity or template message"),
        None => return Action::Ignore("message without a known message_type"),
    };
    let Some(conversation) = id(p.conversation.as_ref().and_then(|c| c.id.as_ref())) else {
        return Action::Ignore("message without a conversation id");
    };
    let text = p.content.as_deref().unwrap_or("").trim();
    if text.is_empty() {
        return Action::Ignore("message without text (an attachment only)");
    }
    let m = Message {
        account: id(p.account.as_ref().and_then(|a| a.id.as_ref())),
        conversation,
        message: id(p.id.as_ref()),
        role,
        text: text.to_string(),
    };
    match role {
        Role::Agent => Action::Check(m),
        _ => Action::Feed(m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn classify_json(v: Value) -> Action {
        classify(&serde_json::from_value(v).unwrap_or_default())
    }

    fn message_json(message_type: Value, sender: &str, private: bool) -> Value {
        json!({
            "event": "message_created", "id": 7, "content": " 您好 ", "message_type": message_type,
            "private": private, "sender": {"id": 3, "type": sender},
            "conversation": {"id": 42, "inbox_id": 1}, "account": {"id": 1, "name": "Acme"}
        })
    }

    #[test]
    fn agent_message_is_checked_customer_message_fed() {
        let want = |role| Message {
            account: Some(1),
            conversation: 42,
            message: Some(7),
            role,
            text: "您好".into(),
        };
        assert_eq!(
            classify_json(message_json(json!("outgoing"), "user", false)),
            Action::Check(want(Role::Agent))
        );
        assert_eq!(
            classify_json(message_json(json!("incoming"), "contact", false)),
            Action::Feed(want(Role::Customer))
        );
        // An agent as older releases sent it: no `type`.
        let mut untyped = message_json(json!("outgoing"), "user", false);
        untyped["sender"] = json!({"id": 3, "name": "Agent", "email": "agent@example.com"});
        assert_eq!(classify_json(untyped), Action::Check(want(Role::Agent)));
        // The enum's numbers, as Chatwoot's push events send them.
        assert_eq!(
            classify_json(message_json(json!(1), "user", false)),
            Action::Check(want(Role::Agent))
        );
    }

    #[test]
    fn bots_private_notes_and_others_are_ignored() {
        for (v, why) in [
            (message_json(json!("outgoing"), "agent_bot", false), "bot"),
            (
                message_json(json!("outgoing"), "captain_assistant", false),
                "bot",
            ),
            (message_json(json!("outgoing"), "user", true), "private"),
            (message_json(json!("incoming"), "contact", true), "private"),
            (message_json(json!("activity"), "user", false), "activity"),
            (message_json(json!("template"), "user", false), "template"),
            (
                json!({"event": "message_created", "message_type": "outgoing", "content": "x",
                    "conversation": {"id": 1}}),
                "bot",
            ),
            (json!({"event": "message_updated"}), "not handled"),
            (
                json!({"event": "message_created", "message_type": "incoming", "content": "",
                    "conversation": {"id": 1}}),
                "without text",
            ),
            (
                json!({"event": "message_created", "message_type": "incoming", "content": "hi"}),
                "conversation id",
            ),
            (json!({}), "no event"),
        ] {
            match classify_json(v.clone()) {
                Action::Ignore(reason) => assert!(reason.contains(why), "{v}: {reason}"),
                other => panic!("{v}: {other:?}"),
            }
        }
    }

    #[test]
    fn resolved_conversation_ends() {
        assert_eq!(
            classify_json(
                json!({"event": "conversation_status_changed", "id": 42, "status": "resolved"})
            ),
            Action::End { conversation: 42 }
        );
        assert!(matches!(
            classify_json(
                json!({"event": "conversation_status_changed", "id": 42, "status": "open"})
            ),
            Action::Ignore(_)
        ));
    }
}
