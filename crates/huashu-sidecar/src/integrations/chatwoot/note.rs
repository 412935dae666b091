//! The private note posted back to Chatwoot for one checked agent message: the findings with their
//! suggestions, the compliant rewrite (or why none is offered), and coaching. Built from the same REST body
//! an utterance gets (`Conversation::rest_utterance`), so the note never says something the sidecar's own
//! listeners were not told. Markdown: Chatwoot renders it in the conversation's note.

use serde_json::Value;

/// The note's text, or None when the message had no finding and no coaching (nothing to post).
pub fn compose(body: &Value) -> Option<String> {
    let findings = body["findings"].as_array().map_or(&[][..], Vec::as_slice);
    let coaching = body["coaching"].as_array().map_or(&[][..], Vec::as_slice);
    let omitted = body["findings_omitted"].as_u64().unwrap_or(0);
    if findings.is_empty() && coaching.is_empty() && omitted == 0 {
        return None;
    }
    let mut out = String::from("**话术检查**");
    let total = findings.len() as u64 + omitted;
    if total > 0 {
        out.push_str(&format!("：{total} 处问题"));
    }
    for f in findings {
        out.push_str(&format!(
            "\n- **{}**（{}）“{}”：{}",
            text(&f["rule"]),
            text(&f["severity"]),
            text(&f["matched"]),
            text(&f["message"])
        ));
        if let Some(s) = f["suggestions"].as_array().and_then(|s| s.first()) {
            out.push_str(&format!("\n  建议：{}", text(s)));
        }
    }
    if omitted > 0 {
        out.push_str(&format!("\n- 另有 {omitted} 处问题未列出（输出超过上限）"));
    }
    if total > 0 {
        match (body["rewrite"].as_str(), body["rewrite_withheld"].as_str()) {
            (Some(r), _) => out.push_str(&format!("\n\n**合规改写**：{r}")),
            (None, Some(why)) => out.push_str(&format!("\n\n**未给出改写**：{why}")),
            (None, None) => {}
        }
    }
    for c in coaching {
        out.push_str(&format!(
            "\n\n**辅导**（{}）：{}",
            text(&c["check"]),
            text(&c["text"])
        ));
    }
    Some(out)
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finding_suggestion_and_rewrite() {
        let body = json!({
            "findings": [{"rule": "V001", "severity": "critical", "matched": "110105199003071239",
                          "message": "泄露身份证号", "suggestions": ["**************1239"]}],
            "rewrite": "您的身份证号是**************1239", "coaching": []
        });
        assert_eq!(
            compose(&body).as_deref(),
            Some(
                "**话术检查**：1 处问题\n- **V001**（critical）“110105199003071239”：泄露身份证号\n  建议：**************1239\n\n**合规改写**：您的身份证号是**************1239"
            )
        );
    }

    #[test]
    fn withheld_rewrite_says_why_and_coaching_follows() {
        let body = json!({
            "findings": [{"rule": "F006", "severity": "major", "matched": "问别人", "message": "推诿话术",
                          "suggestions": []}],
            "rewrite": null, "rewrite_withheld": "no compliant rewrite: F006 has no safe replacement",
            "coaching": [{"check": "greeting", "text": "先问候客户"}]
        });
        assert_eq!(
            compose(&body).as_deref(),
            Some(
                "**话术检查**：1 处问题\n- **F006**（major）“问别人”：推诿话术\n\n**未给出改写**：no compliant rewrite: F006 has no safe replacement\n\n**辅导**（greeting）：先问候客户"
            )
        );
    }

    #[test]
    fn coaching_alone_is_posted_without_a_rewrite() {
        let body = json!({"findings": [], "rewrite": "好的", "coaching": [{"check": "empathy", "text": "先安抚"}]});
        assert_eq!(
            compose(&body).as_deref(),
            Some("**话术检查**\n\n**辅导**（empathy）：先安抚")
        );
    }

    #[test]
    fn a_clean_message_gets_no_note() {
        assert_eq!(
            compose(&json!({"findings": [], "rewrite": "好的", "coaching": []})),
            None
        );
    }
}
