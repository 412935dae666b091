//! Learned models: `learned/*.tsv` beside a ruleset's rules. Each is a logistic model over the character
//! 1–3-grams of a normalised turn, for one category: the backstop that batch scoring runs after the rules, for
//! the wordings no rule lists (docs/learned.md). A model is data and is reviewed as such: a header of
//! `key<TAB>value` lines, one blank line, then one `n-gram<TAB>weight` line per n-gram, the n-gram written
//! with `\t`, `\n` and `\\` escaped.

use std::fs;
use std::path::Path;

use crate::embedded;
use crate::error::RulesetError;
use crate::rule::Category;

/// One learned model, as its file says.
#[derive(Debug, Clone, PartialEq)]
pub struct LearnedModel {
    /// Where it was read from (`rulesets/zh-CN/learned/promise.tsv`), for errors and reports.
    pub file: String,
    /// The id its findings carry (`L-promise`): never a rule's id.
    pub id: String,
    pub category: Category,
    /// A turn whose score (0–1) reaches this is flagged.
    pub threshold: f32,
    pub bias: f32,
    /// The finding's message; `{score}` is replaced by the turn's score.
    pub message: String,
    /// What the agent could say instead, offered for review (never applied by a rewrite: the model does not
    /// know which words to replace).
    pub suggestion: Option<String>,
    /// Normalised n-grams (1–3 characters) and their weights.
    pub weights: Vec<(String, f32)>,
}

impl LearnedModel {
    /// Reads a model file's text.
    ///
    /// # Errors
    /// A missing or invalid header field, or a weight line that is not `n-gram<TAB>number`, naming the file
    /// and line.
    pub fn parse(file: &str, text: &str) -> Result<LearnedModel, RulesetError> {
        let invalid = |line: usize, field: &str, message: String| RulesetError::Invalid {
            file: file.to_string(),
            line,
            field: field.to_string(),
            message,
        };
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
        let (mut id, mut category, mut threshold, mut bias) = (None, None, None, None);
        let (mut message, mut suggestion) = (None, None);
        let mut last = 0;
        for (n, line) in lines.by_ref() {
            last = n;
            if line.is_empty() {
                break;
            }
            if line.starts_with('#') {
                continue;
            }
            let Some((key, value)) = line.split_once('\t') else {
                return Err(invalid(n, "header", "expected `key<TAB>value`".into()));
            };
            let number = |v: &str| {
                v.parse::<f32>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| invalid(n, key, format!("`{v}` is not a number")))
            };
            match key {
                "id" => id = Some(value.to_string()),
                "category" => {
                    category = Some(
                        Category::ALL
                            .into_iter()
                            .find(|c| c.as_str() == value)
                            .ok_or_else(|| {
                                invalid(n, key, format!("unknown category `{value}`"))
                            })?,
                    );
                }
                "threshold" => {
                    let t = number(value)?;
                    if !(t > 0.0 && t < 1.0) {
                        return Err(invalid(n, key, format!("{t} is not between 0 and 1")));
                    }
                    threshold = Some(t);
                }
                "bias" => bias = Some(number(value)?),
                "message" => message = Some(value.to_string()),
                "suggestion" => suggestion = Some(value.to_string()),
                _ => return Err(invalid(n, key, "unknown header field".into())),
            }
        }
        let missing = |field: &str| invalid(last, field, "missing from the header".into());
        let id = id.filter(|s| !s.is_empty()).ok_or_else(|| missing("id"))?;
        let category = category.ok_or_else(|| missing("category"))?;
        let threshold = threshold.ok_or_else(|| missing("threshold"))?;
        let message = message
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("message"))?;
        let mut weights = Vec::new();
        for (n, line) in lines {
            if line.is_empty() {
                continue;
            }
            let Some((gram, w)) = line.rsplit_once('\t') else {
                return Err(invalid(n, "weights", "expected `n-gram<TAB>weight`".into()));
            };
            let gram = unescape(gram)
                .ok_or_else(|| invalid(n, "weights", format!("bad escape in `{gram}`")))?;
            let count = gram.chars().count();
            if !(1..=3).contains(&count) {
                return Err(invalid(
                    n,
                    "weights",
                    format!("`{gram}` has {count} characters; an n-gram has 1 to 3"),
                ));
            }
            let w = w
                .parse::<f32>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| invalid(n, "weights", format!("`{w}` is not a number")))?;
            weights.push((gram, w));
        }
        Ok(LearnedModel {
            file: file.to_string(),
            id,
            category,
            threshold,
            bias: bias.unwrap_or(0.0),
            message,
            suggestion,
            weights,
        })
    }

    /// The file's text: what [`LearnedModel::parse`] reads back to an equal model (but for `file`).
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "id\t{}\ncategory\t{}\nthreshold\t{}\nbias\t{:.4}\nmessage\t{}\n",
            self.id,
            self.category.as_str(),
            self.threshold,
            self.bias,
            self.message
        );
        if let Some(s) = &self.suggestion {
            out.push_str(&format!("suggestion\t{s}\n"));
        }
        out.push('\n');
        for (gram, w) in &self.weights {
            out.push_str(&format!("{}\t{w:.4}\n", escape(gram)));
        }
        out
    }

    /// The learned models of a ruleset, by bundled name or directory (`learned/*.tsv`, sorted by file name);
    /// none when it has no `learned/` directory.
    ///
    /// # Errors
    /// An unreadable or invalid model file, naming it; an unknown ruleset name.
    pub fn load_all(name_or_dir: &str) -> Result<Vec<LearnedModel>, RulesetError> {
        let path = Path::new(name_or_dir);
        if path.is_dir() {
            let dir = path.join("learned");
            if !dir.is_dir() {
                return Ok(Vec::new());
            }
            let io = |p: &Path, e: std::io::Error| RulesetError::Io {
                path: p.display().to_string(),
                message: e.to_string(),
            };
            let mut files: Vec<_> = fs::read_dir(&dir)
                .map_err(|e| io(&dir, e))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "tsv"))
                .collect();
            files.sort();
            return files
                .iter()
                .map(|p| {
                    let text = fs::read_to_string(p).map_err(|e| io(p, e))?;
                    LearnedModel::parse(&p.display().to_string(), &text)
                })
                .collect();
        }
        if !embedded::names().any(|n| n == name_or_dir) {
            return Err(RulesetError::NotFound {
                name: name_or_dir.to_string(),
                known: embedded::names().collect::<Vec<_>>().join(", "),
            });
        }
        let prefix = format!("{name_or_dir}/learned/");
        embedded::FILES
            .iter()
            .filter(|(p, _)| p.starts_with(&prefix) && p.ends_with(".tsv"))
            .map(|(p, text)| LearnedModel::parse(&format!("rulesets/{p}"), text))
            .collect()
    }
}

fn escape(gram: &str) -> String {
    let mut out = String::with_capacity(gram.len());
    for c in gram.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

fn unescape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next()? {
            '\\' => '\\',
            't' => '\t',
            'n' => '\n',
            'r' => '\r',
            _ => return None,
        });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const MODEL: &str = "id\tL-promise\ncategory\tpromise\nthreshold\t0.9\nbias\t-3.5\n\
        message\t像违规承诺（{score}）\nsuggestion\t我们会尽力保障您的权益\n\n保证\t2.5\n\\t a\t-0.25\n";

    #[test]
    fn reads_and_writes_a_model() {
        let m = LearnedModel::parse("m.tsv", MODEL).unwrap();
        assert_eq!(m.id, "L-promise");
        assert_eq!(m.category, Category::Promise);
        assert_eq!(m.threshold, 0.9);
        assert_eq!(m.bias, -3.5);
        assert_eq!(m.suggestion.as_deref(), Some("我们会尽力保障您的权益"));
        assert_eq!(
            m.weights,
            vec![("保证".to_string(), 2.5), ("\t a".to_string(), -0.25)]
        );
        assert_eq!(LearnedModel::parse("m.tsv", &m.to_text()).unwrap(), m);
    }

    #[test]
    fn errors_name_the_file_line_and_field() {
        let cases = [
            (
                MODEL.replace("threshold\t0.9", "threshold\t1.5"),
                "m.tsv:3: field `threshold`: 1.5 is not between 0 and 1",
            ),
            (
                MODEL.replace("category\tpromise", "category\tpromises"),
                "m.tsv:2: field `category`: unknown category `promises`",
            ),
            (
                MODEL.replace("保证\t2.5", "保证\tlots"),
                "m.tsv:8: field `weights`: `lots` is not a number",
            ),
            (
                MODEL.replace("保证\t2.5", "保证一定\t2.5"),
                "m.tsv:8: field `weights`: `保证一定` has 4 characters; an n-gram has 1 to 3",
            ),
            (
                MODEL.replace("id\tL-promise\n", ""),
                "m.tsv:6: field `id`: missing from the header",
            ),
            (
                MODEL.replace("bias\t-3.5", "bias -3.5"),
                "m.tsv:4: field `header`: expected `key<TAB>value`",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(
                LearnedModel::parse("m.tsv", &text).unwrap_err().to_string(),
                want
            );
        }
    }

    #[test]
    fn bundled_models_load() {
        let zh = LearnedModel::load_all("zh-CN").unwrap();
        assert!(zh.iter().any(|m| m.category == Category::Promise));
        assert!(LearnedModel::load_all("no-such").is_err());
    }
}
