//! What a recogniser hears: its own module, so that the call pipeline and the packing of utterances
//! ([`crate::pack`]) both use it without depending on each other.

/// What a recogniser returns for one utterance: text, times relative to the utterance, confidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub text: String,
    pub start_ms: u64,
    pub end_ms: u64,
    /// Mean token probability in [0, 1].
    pub confidence: f32,
    /// The recogniser's probability that this is not speech at all.
    pub no_speech: f32,
}
