//! `openapi.json` against the server: every route it names is routed, every error code and status the
//! server can answer is documented.

use serde_json::Value;

#[test]
fn openapi_names_every_route() {
    let spec: Value = serde_json::from_str(huashu_sidecar::server::OPENAPI).unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
    let paths = spec["paths"].as_object().unwrap();
    for p in [
        "/v1/check",
        "/v1/tickets",
        "/v1/conversations/{id}/utterances",
        "/v1/conversations/{id}",
        "/v1/conversations/{id}/events",
        "/v1/stream",
        "/v1/integrations/chatwoot",
        "/v1/integrations/chatwoot/status",
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
        "/",
        "/v1/integrations/freeswitch",
        "/v1/integrations/twilio",
        "/v1/integrations/audiohook",
        "/v1/integrations/audiosocket/calls",
        "/v1/integrations/calls/{id}",
    ] {
        assert!(paths.contains_key(p), "openapi.json lacks {p}");
    }
    // And nothing it names is missing from the router source (the adapters register their own routes).
    let src = concat!(
        include_str!("../../src/server/mod.rs"),
        include_str!("../../src/server/routes_integrations.rs"),
        include_str!("../../src/integrations/mod.rs")
    );
    for p in paths.keys() {
        assert!(src.contains(&format!("\"{p}\"")), "{p} is not routed");
    }
}

/// Every error code the daemon can send is in the Error schema, and every HTTP status the server's source
/// answers with is documented on at least one route (403 on every route: the Origin/Host check is global).
#[test]
fn openapi_documents_every_error_code_and_status() {
    let spec: Value = serde_json::from_str(huashu_sidecar::server::OPENAPI).unwrap();
    let documented =
        spec["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"]
            .as_array()
            .expect("an enum of error codes")
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect::<Vec<_>>();
    let protocol = include_str!("../../src/protocol.rs");
    let codes = protocol
        .split("pub mod close")
        .next()
        .unwrap()
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub const "))
        .filter_map(|l| l.split('"').nth(1))
        .collect::<Vec<_>>();
    assert!(
        codes.contains(&"output_too_large") && codes.len() > 20,
        "{codes:?}"
    );
    for c in &codes {
        assert!(
            documented.contains(c),
            "openapi.json's Error schema lacks the code {c}"
        );
    }
    let paths = spec["paths"].as_object().unwrap();
    let statuses = |path: &str| -> Vec<String> {
        paths[path]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|op| op["responses"].as_object().unwrap().keys().cloned())
            .collect()
    };
    let all: Vec<String> = paths.keys().flat_map(|p| statuses(p)).collect();
    let sources = [
        include_str!("../../src/server/mod.rs"),
        include_str!("../../src/server/errors.rs"),
        include_str!("../../src/server/origin.rs"),
        include_str!("../../src/server/routes_admin.rs"),
        include_str!("../../src/server/routes_conversations.rs"),
        include_str!("../../src/server/routes_drills.rs"),
        include_str!("../../src/server/routes_scan.rs"),
    ];
    for src in sources {
        for name in src.split("StatusCode::").skip(1).map(|rest| {
            rest.split(|c: char| !(c.is_ascii_uppercase() || c == '_'))
                .next()
                .unwrap()
        }) {
            let status = match name {
                "OK" => 200,
                "BAD_REQUEST" => 400,
                "UNAUTHORIZED" => 401,
                "FORBIDDEN" => 403,
                "NOT_FOUND" => 404,
                // The router's own refusal of a wrong method and an unsupported body: any route.
                "METHOD_NOT_ALLOWED" | "UNSUPPORTED_MEDIA_TYPE" => continue,
                "REQUEST_TIMEOUT" => 408,
                "CONFLICT" => 409,
                "PAYLOAD_TOO_LARGE" => 413,
                "UNPROCESSABLE_ENTITY" => 422,
                "SERVICE_UNAVAILABLE" => 503,
                other => panic!("StatusCode::{other} is answered: document it and add it here"),
            };
            assert!(
                all.contains(&status.to_string()),
                "no route documents {status} ({name})"
            );
        }
    }
    for p in paths.keys() {
        assert!(
            statuses(p).contains(&"403".to_string()),
            "{p} lacks 403 forbidden"
        );
    }
    for (path, status) in [
        ("/v1/conversations/{id}/utterances", "409"),
        ("/v1/conversations/{id}/utterances", "503"),
        ("/v1/conversations/{id}/utterances", "408"),
        ("/v1/conversations/{id}/utterances", "413"),
        ("/v1/conversations/{id}/events", "503"),
        ("/v1/scan", "422"),
        ("/v1/stream", "503"),
    ] {
        assert!(
            statuses(path).contains(&status.to_string()),
            "{path} lacks {status}"
        );
    }
}
