//! The input that places one turn in its conversation for the rules: [`LastExchange`]. Apart from the
//! engine and the matcher, which both take it, so that neither module reaches into the other for it.

/// The turns before this one that rules look at, as said: `previous`, the other party's last turn (for an
/// agent turn, the customer's last words; what `only_after_turn_has` / `unless_after_turn_has` read), and
/// `own_previous`, this party's own turn that `previous` answered (the agent's 这边发送验证码…可以吗 before the
/// customer's 可以; read with `previous` by `only_after_exchange_has` / `unless_after_exchange_has`).
/// `Default` is a turn on its own: rules that need either turn do not fire. A session passes its own
/// ([`crate::Session::last_exchange`]).
///
/// Exhaustive on purpose: an exchange is these two turns, and callers name both fields, so the two texts
/// cannot be swapped by position.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LastExchange<'a> {
    pub previous: Option<&'a str>,
    pub own_previous: Option<&'a str>,
}
