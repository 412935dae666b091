//! `huashu learn`: train a ruleset directory's learned models (`learned/*.tsv`) on labelled turns, keeping each
//! file's header (id, category, threshold, message, suggestion) and writing its bias and weights anew.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use huashu::eval::{CorpusRefs, LabelledTurn, read_labels};
use huashu::learned::{Settings, retrain};
use huashu::{Engine, LearnedModel, Role, Ruleset};

#[derive(clap::Args)]
pub struct LearnArgs {
    /// Labelled turns (the `huashu eval` format): every agent turn trains every model of the ruleset.
    #[arg(required = true)]
    pub labels: Vec<PathBuf>,
    /// The ruleset directory whose `learned/*.tsv` files are trained (rewritten in place).
    #[arg(long)]
    pub ruleset: PathBuf,
    /// Where `ref` fields point (default: $HUASHU_CORPORA, else ../shared/corpora when it exists).
    #[arg(long)]
    pub corpora: Option<PathBuf>,
    /// Passes over the turns.
    #[arg(long, default_value_t = Settings::default().epochs)]
    pub epochs: usize,
    /// Weights smaller than this are left out of the files.
    #[arg(long, default_value_t = Settings::default().prune)]
    pub prune: f64,
}

pub fn run(args: &LearnArgs) -> Result<ExitCode> {
    let dir = args.ruleset.display().to_string();
    let engine = Engine::new(
        Ruleset::load_dir(&args.ruleset).with_context(|| format!("cannot load ruleset {dir:?}"))?,
    )
    .with_context(|| format!("cannot compile ruleset {dir:?}"))?;
    let models = LearnedModel::load_all(&dir)?;
    if models.is_empty() {
        bail!(
            "{dir}: no learned/*.tsv to train (write a file with the header first: docs/learned.md)"
        );
    }
    let corpora = crate::eval::corpora_dir(args.corpora.as_deref());
    let mut refs = CorpusRefs::new(corpora.as_deref());
    let mut turns: Vec<LabelledTurn> = Vec::new();
    // The files in one order whatever the shell's glob gave: the same labels give the same models.
    let mut files = args.labels.clone();
    files.sort();
    files.dedup();
    for path in &files {
        let input = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let read = read_labels(&input, &mut refs).with_context(|| path.display().to_string())?;
        turns.extend(read.into_iter().filter(|t| t.role == Role::Agent));
    }
    if turns.is_empty() {
        bail!("no agent turns in {} label file(s)", args.labels.len());
    }
    let settings = Settings {
        epochs: args.epochs,
        prune: args.prune,
        ..Settings::default()
    };
    for trained in retrain(&engine, models, &turns, &settings) {
        let positives = turns
            .iter()
            .filter(|t| t.expect.contains(&trained.category))
            .count();
        write(Path::new(&trained.file), &trained.to_text())?;
        crate::outln!(
            "{}: {} ({}) trained on {} turns, {} positive; {} n-grams",
            trained.file,
            trained.id,
            trained.category.as_str(),
            turns.len(),
            positives,
            trained.weights.len()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn write(path: &Path, text: &str) -> Result<()> {
    // Written beside and renamed: a failed run never leaves half a model.
    let tmp = path.with_extension("tsv.tmp");
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}
