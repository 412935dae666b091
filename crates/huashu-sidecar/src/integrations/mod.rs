//! Adapters for platforms that call the daemon in their own format, each with its own endpoint, config
//! section and metrics (docs/integrations.md). The router (`server/routes_integrations.rs`) turns their
//! answers into HTTP responses; these modules import no face of the daemon.

pub mod chatwoot;
