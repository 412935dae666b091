//! Training a learned model: logistic regression over the n-gram keys of labelled turns, by plain stochastic
//! gradient descent in a fixed order (a seeded shuffle), so that the same labels give the same file.

use std::collections::HashMap;

use super::grams::unpack;

/// One labelled turn: its n-gram keys ([`super::keys`] of the normalised text) and whether it is in the category.
#[derive(Debug, Clone)]
pub struct Example {
    pub keys: Vec<u64>,
    pub positive: bool,
}

/// How a model is trained.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub epochs: usize,
    pub rate: f64,
    /// L2 penalty per step.
    pub l2: f64,
    /// An n-gram seen in fewer turns than this gets no weight (one turn's accident is not a cue).
    pub min_turns: usize,
    /// Weights smaller than this in magnitude are left out of the file.
    pub prune: f64,
    pub seed: u64,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            epochs: 8,
            rate: 0.3,
            l2: 1e-5,
            min_turns: 2,
            prune: 0.02,
            seed: 7,
        }
    }
}

/// The bias and the weighted n-grams (strongest first) of a model trained on `examples`.
pub fn train(examples: &[Example], settings: &Settings) -> (f32, Vec<(String, f32)>) {
    let mut seen: HashMap<u64, usize> = HashMap::new();
    for e in examples {
        for &k in &e.keys {
            *seen.entry(k).or_default() += 1;
        }
    }
    let mut vocab: Vec<u64> = seen
        .into_iter()
        .filter(|&(_, n)| n >= settings.min_turns)
        .map(|(k, _)| k)
        .collect();
    vocab.sort_unstable();
    let index: HashMap<u64, usize> = vocab.iter().enumerate().map(|(i, &k)| (k, i)).collect();
    let rows: Vec<(Vec<usize>, f64)> = examples
        .iter()
        .map(|e| {
            let row = e
                .keys
                .iter()
                .filter_map(|k| index.get(k).copied())
                .collect();
            (row, if e.positive { 1.0 } else { 0.0 })
        })
        .collect();
    let (mut w, mut b) = (vec![0f64; vocab.len()], 0f64);
    let mut order: Vec<usize> = (0..rows.len()).collect();
    let mut state = settings.seed.wrapping_mul(6364136223846793005) | 1;
    for _ in 0..settings.epochs {
        // Fisher–Yates with a 64-bit LCG: reproducible on every platform.
        for i in (1..order.len()).rev() {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let j = ((state >> 33) % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        for &i in &order {
            let (row, y) = &rows[i];
            let z = b + row.iter().map(|&j| w[j]).sum::<f64>();
            let g = 1.0 / (1.0 + (-z).exp()) - y;
            for &j in row {
                w[j] -= settings.rate * (g + settings.l2 * w[j]);
            }
            b -= settings.rate * g;
        }
    }
    let mut weights: Vec<(String, f32)> = vocab
        .iter()
        .zip(&w)
        .filter(|&(_, &x)| x.abs() >= settings.prune)
        .filter_map(|(&k, &x)| Some((unpack(k)?, round(x))))
        .collect();
    weights.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    (round(b), weights)
}

/// Four decimals: what the file keeps.
fn round(x: f64) -> f32 {
    ((x * 1e4).round() / 1e4) as f32
}
