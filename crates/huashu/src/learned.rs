//! The learned backstop: models over character n-grams that batch scoring runs after the rules
//! ([`Engine::with_learned`], docs/learned.md), their features and their trainer.

pub use huashu_engine::learned::{Backstop, Example, Settings, keys, sigmoid, train};

use crate::eval::LabelledTurn;
use crate::{Engine, LearnedModel, Role};

/// Each of `models` trained anew on the agent turns of `turns` (positive: the turn's labels hold the model's
/// category), its header kept: what `huashu learn` writes. `engine` normalises the turns as scanning will.
pub fn retrain(
    engine: &Engine,
    models: Vec<LearnedModel>,
    turns: &[LabelledTurn],
    settings: &Settings,
) -> Vec<LearnedModel> {
    let agent: Vec<&LabelledTurn> = turns.iter().filter(|t| t.role == Role::Agent).collect();
    let features: Vec<Vec<u64>> = agent
        .iter()
        .map(|t| keys(engine.normalize(&t.text).as_str()))
        .collect();
    models
        .into_iter()
        .map(|m| {
            let examples: Vec<Example> = agent
                .iter()
                .zip(&features)
                .map(|(t, k)| Example {
                    keys: k.clone(),
                    positive: t.expect.contains(&m.category),
                })
                .collect();
            let (bias, weights) = train(&examples, settings);
            LearnedModel { bias, weights, ..m }
        })
        .collect()
}
