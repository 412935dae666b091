//! CSV input: the columns named on the command line, and fields of a row.

use std::io::BufRead;

use huashu::Role;

use super::args::BatchArgs;

/// CSV columns found in a header.
pub(super) struct Columns {
    pub(super) id: Option<usize>,
    pub(super) role: Option<usize>,
    pub(super) text: usize,
    pub(super) agent: Option<usize>,
    pub(super) start_ms: Option<usize>,
    pub(super) end_ms: Option<usize>,
}

pub(super) fn csv_reader(reader: Box<dyn BufRead>) -> csv::Reader<Box<dyn BufRead>> {
    csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(reader)
}

pub(super) fn csv_columns(
    rdr: &mut csv::Reader<Box<dyn BufRead>>,
    args: &BatchArgs,
) -> Result<Columns, String> {
    let headers = rdr
        .headers()
        .map_err(|e| format!("cannot read the CSV header: {e}"))?;
    let find = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().trim_start_matches('\u{FEFF}') == name)
    };
    let text = find(&args.text_column).ok_or_else(|| {
        format!(
            "the CSV header has no {:?} column (columns: {})",
            args.text_column,
            headers.iter().collect::<Vec<_>>().join(", ")
        )
    })?;
    Ok(Columns {
        id: find(&args.id_column),
        role: find(&args.role_column),
        text,
        agent: find("agent"),
        start_ms: find("start_ms"),
        end_ms: find("end_ms"),
    })
}

pub(super) fn csv_role(rec: &csv::StringRecord, cols: &Columns) -> Result<Role, String> {
    match cols.role.and_then(|i| rec.get(i)).map(str::trim) {
        None | Some("") => Ok(Role::Agent),
        Some(s) => Role::parse(s).ok_or_else(|| {
            format!("unknown role {s:?} (expected \"agent\", \"customer\" or \"system\")")
        }),
    }
}

pub(super) fn csv_field(rec: &csv::StringRecord, i: Option<usize>) -> Option<&str> {
    i.and_then(|i| rec.get(i)).filter(|s| !s.is_empty())
}

pub(super) fn csv_ms(
    rec: &csv::StringRecord,
    i: Option<usize>,
    name: &str,
) -> Result<Option<u64>, String> {
    match csv_field(rec, i).map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => s
            .parse::<f64>()
            .ok()
            .filter(|f| *f >= 0.0 && f.is_finite())
            .map(|f| Some(f as u64))
            .ok_or_else(|| format!("{name} {s:?} is not a non-negative number of milliseconds")),
    }
}

pub(super) fn line_of(rec: &csv::StringRecord) -> usize {
    rec.position().map_or(0, |p| p.line() as usize)
}
