//! Resampling to the 16 kHz mono input Whisper expects.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

use crate::{Audio, AudioError};

/// Whisper's input rate.
pub const TARGET_RATE: u32 = 16_000;

/// One channel from `from` Hz to `to` Hz (FFT resampler, anti-aliased). Identity when the rates agree.
///
/// # Errors
/// [`AudioError::Resample`] for a zero rate or a resampler failure.
pub fn resample(samples: &[f32], from: u32, to: u32) -> Result<Vec<f32>, AudioError> {
    if from == 0 || to == 0 {
        return Err(AudioError::Resample("zero sample rate".into()));
    }
    if from == to || samples.is_empty() {
        return Ok(samples.to_vec());
    }
    let err = |e: &dyn std::fmt::Display| AudioError::Resample(e.to_string());
    let mut r = Fft::<f32>::new(from as usize, to as usize, 1024, 1, FixedSync::Input)
        .map_err(|e| err(&e))?;
    let input = InterleavedSlice::new(samples, 1, samples.len()).map_err(|e| err(&e))?;
    let needed = r.process_all_needed_output_len(samples.len());
    let mut out = vec![0.0f32; needed];
    let mut output = InterleavedSlice::new_mut(&mut out, 1, needed).map_err(|e| err(&e))?;
    let (_, produced) = r
        .process_all_into_buffer(&input, &mut output, samples.len(), None)
        .map_err(|e| err(&e))?;
    out.truncate(produced);
    Ok(out)
}

/// Every channel of `audio` at 16 kHz.
///
/// # Errors
/// As [`resample`].
pub fn to_16k(audio: &Audio) -> Result<Vec<Vec<f32>>, AudioError> {
    audio
        .channels
        .iter()
        .map(|c| resample(c, audio.rate, TARGET_RATE))
        .collect()
}
