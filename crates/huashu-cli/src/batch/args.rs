//! The command-line options of a batch run and the output format they choose.

use clap::{Args, ValueEnum};

use crate::Format;

/// Options shared by `scan` and `score` for batch work.
#[derive(Debug, Clone, Args)]
pub struct BatchArgs {
    /// Output format for data tools: JSON lines (the default) or CSV. Overrides `--format`.
    #[arg(long, value_enum)]
    pub output_format: Option<OutputFormat>,
    /// Input format; `auto` takes `.csv` files as CSV and everything else as JSON lines.
    #[arg(long, value_enum, default_value = "auto")]
    pub input_format: InputFormat,
    /// CSV column with the conversation (score) or turn (scan) id; score groups rows by it.
    #[arg(long, default_value = "id")]
    pub id_column: String,
    /// CSV column with the speaker (agent/customer/system; 客服/客户); agent when absent.
    #[arg(long, default_value = "role")]
    pub role_column: String,
    /// CSV column with the text of the turn.
    #[arg(long, default_value = "text")]
    pub text_column: String,
    /// Worker threads (default: all cores).
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
    /// Never show the progress bar (it is shown only when stderr is a terminal).
    #[arg(long)]
    pub no_progress: bool,
    /// Rule ids to switch off for this run (comma-separated), without editing the ruleset.
    #[arg(long, value_delimiter = ',')]
    pub disable: Vec<String>,
    /// The rules alone: leave the ruleset's learned models (`learned/*.tsv`) out.
    #[arg(long)]
    pub rules_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Jsonl,
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    Auto,
    Jsonl,
    Csv,
}

/// The output format of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Out {
    Jsonl,
    Text,
    Csv,
}

pub(super) fn out_format(format: Format, args: &BatchArgs) -> Out {
    match (args.output_format, format) {
        (Some(OutputFormat::Csv), _) => Out::Csv,
        (Some(OutputFormat::Jsonl), _) | (None, Format::Jsonl) => Out::Jsonl,
        (None, Format::Text) => Out::Text,
    }
}
