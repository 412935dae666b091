//! Live frames as they arrive on the wire (16-bit PCM at 16 kHz, G.711 μ-law at 8 kHz) decoded to 16 kHz
//! samples, with the upsampler's state carried across frames.

use crate::AudioError;

/// Wire encodings of live audio frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Signed 16-bit little-endian PCM, mono, 16 kHz.
    Pcm16k,
    /// G.711 μ-law, mono, 8 kHz (telephony); upsampled to 16 kHz.
    Mulaw8k,
    /// Signed 16-bit little-endian PCM, mono, 8 kHz (telephony "slin"/L16 as FreeSWITCH and Asterisk
    /// send it); upsampled to 16 kHz.
    Pcm8k,
}

impl Encoding {
    /// Bytes of one sample of one channel on the wire.
    pub fn sample_bytes(self) -> usize {
        match self {
            Encoding::Mulaw8k => 1,
            Encoding::Pcm16k | Encoding::Pcm8k => 2,
        }
    }
}

impl std::str::FromStr for Encoding {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pcm_s16le_16k" => Ok(Encoding::Pcm16k),
            "mulaw_8k" => Ok(Encoding::Mulaw8k),
            "pcm_s16le_8k" => Ok(Encoding::Pcm8k),
            other => Err(format!(
                "unknown encoding {:?} (expected \"pcm_s16le_16k\", \"pcm_s16le_8k\" or \"mulaw_8k\")",
                other.chars().take(40).collect::<String>()
            )),
        }
    }
}

/// One G.711 μ-law byte as a linear sample in [-1, 1].
pub fn mulaw_to_f32(byte: u8) -> f32 {
    let u = !byte;
    let sign = u & 0x80;
    let exponent = (u >> 4) & 0x07;
    let mantissa = i32::from(u & 0x0f);
    let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    let v = if sign != 0 { -magnitude } else { magnitude };
    v as f32 / 32_768.0
}

/// Decodes live frames to 16 kHz samples, keeping the state an upsampler needs across frames.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    encoding: Encoding,
    /// Last 8 kHz sample of the previous frame (μ-law), for interpolation across frame boundaries.
    last: Option<f32>,
}

impl FrameDecoder {
    pub fn new(encoding: Encoding) -> FrameDecoder {
        FrameDecoder {
            encoding,
            last: None,
        }
    }

    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Appends the samples of one frame to `out`.
    ///
    /// # Errors
    /// [`AudioError::Format`] for an odd byte count in 16-bit PCM.
    pub fn decode(&mut self, bytes: &[u8], out: &mut Vec<f32>) -> Result<(), AudioError> {
        decode_frame(self.encoding, &mut self.last, bytes, out)
    }
}

/// Decodes one frame of `encoding` into 16 kHz samples (`last` carries the upsampler state).
///
/// # Errors
/// [`AudioError::Format`] for an odd byte count in 16-bit PCM.
pub fn decode_frame(
    encoding: Encoding,
    last: &mut Option<f32>,
    bytes: &[u8],
    out: &mut Vec<f32>,
) -> Result<(), AudioError> {
    match encoding {
        Encoding::Pcm16k => {
            if bytes.len() % 2 != 0 {
                return Err(AudioError::Format(format!(
                    "a 16-bit PCM frame must have an even byte count, got {}",
                    bytes.len()
                )));
            }
            out.extend(
                bytes
                    .chunks_exact(2)
                    .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32_768.0),
            );
        }
        Encoding::Mulaw8k => {
            // 2× upsampling by linear interpolation.
            out.reserve(bytes.len() * 2);
            for &b in bytes {
                upsample_into(mulaw_to_f32(b), last, out);
            }
        }
        Encoding::Pcm8k => {
            if bytes.len() % 2 != 0 {
                return Err(AudioError::Format(format!(
                    "a 16-bit PCM frame must have an even byte count, got {}",
                    bytes.len()
                )));
            }
            out.reserve(bytes.len());
            for b in bytes.chunks_exact(2) {
                let s = f32::from(i16::from_le_bytes([b[0], b[1]])) / 32_768.0;
                upsample_into(s, last, out);
            }
        }
    }
    Ok(())
}

/// Upsamples one 8 kHz sample ×2 onto `out`: the midpoint with the previous sample, then the sample
/// (telephone speech has nothing above 4 kHz to alias).
fn upsample_into(s: f32, last: &mut Option<f32>, out: &mut Vec<f32>) {
    let prev = last.unwrap_or(s);
    out.push((prev + s) * 0.5);
    out.push(s);
    *last = Some(s);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mulaw_decodes_and_upsamples() {
        // 0xFF and 0x7F are the two zeros; 0x00 / 0x80 the extremes.
        assert_eq!(mulaw_to_f32(0xFF), 0.0);
        assert!(mulaw_to_f32(0x00) < -0.97);
        assert!(mulaw_to_f32(0x80) > 0.97);
        let mut dec = FrameDecoder::new(Encoding::Mulaw8k);
        let mut out = Vec::new();
        dec.decode(&[0xFF, 0x80], &mut out).unwrap();
        dec.decode(&[0xFF], &mut out).unwrap();
        assert_eq!(out.len(), 6);
        // Interpolated midpoints across the frame boundary.
        assert!((out[2] - mulaw_to_f32(0x80) / 2.0).abs() < 1e-6);
        assert!((out[4] - mulaw_to_f32(0x80) / 2.0).abs() < 1e-6);
        assert_eq!(out[5], 0.0);
    }

    #[test]
    fn odd_pcm_frames_and_unknown_encodings_are_errors() {
        let mut dec = FrameDecoder::new(Encoding::Pcm16k);
        let mut out = Vec::new();
        assert!(matches!(
            dec.decode(&[1, 2, 3], &mut out),
            Err(AudioError::Format(_))
        ));
        assert!(out.is_empty());
        assert!("opus".parse::<Encoding>().is_err());
        assert_eq!("mulaw_8k".parse::<Encoding>(), Ok(Encoding::Mulaw8k));
        let mut dec = FrameDecoder::new(Encoding::Pcm8k);
        assert!(matches!(
            dec.decode(&[1, 2, 3], &mut out),
            Err(AudioError::Format(_))
        ));
    }

    #[test]
    fn pcm_8k_decodes_and_upsamples_across_frames() {
        assert_eq!("pcm_s16le_8k".parse::<Encoding>(), Ok(Encoding::Pcm8k));
        assert_eq!(
            (
                Encoding::Pcm8k.sample_bytes(),
                Encoding::Mulaw8k.sample_bytes()
            ),
            (2, 1)
        );
        let mut dec = FrameDecoder::new(Encoding::Pcm8k);
        let mut out = Vec::new();
        // 16384 = 0.5 full scale, little-endian; then -16384 in the next frame.
        dec.decode(&16_384i16.to_le_bytes(), &mut out).unwrap();
        dec.decode(&(-16_384i16).to_le_bytes(), &mut out).unwrap();
        assert_eq!(out, [0.5, 0.5, 0.0, -0.5]);
    }
}
