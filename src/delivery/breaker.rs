//! Per-receiver admission for webhook sends, so one slow or dead receiver cannot hold up the others: at most
//! `PER_RECEIVER` sends in flight to one agent's endpoint, and a circuit breaker that stops sending to it for
//! `COOL_DOWN` after `TRIP_AFTER` failures in a row (then one try at a time until one succeeds).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

pub const PER_RECEIVER: usize = 2;
pub const TRIP_AFTER: u32 = 5;
pub const COOL_DOWN: Duration = Duration::minutes(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    Send,
    /// Already `PER_RECEIVER` sends in flight: try again in a moment.
    Busy,
    /// The breaker is open: nothing goes there until then.
    OpenUntil(OffsetDateTime),
}

#[derive(Debug, Default)]
struct Receiver {
    in_flight: usize,
    failures: u32,
    open_until: Option<OffsetDateTime>,
}

/// Receivers by agent, shared by every send of this server.
#[derive(Debug, Clone, Default)]
pub struct Receivers(Arc<Mutex<HashMap<Uuid, Receiver>>>);

impl Receivers {
    pub fn admit(&self, agent: Uuid, now: OffsetDateTime) -> Admit {
        let Ok(mut all) = self.0.lock() else { return Admit::Busy };
        let r = all.entry(agent).or_default();
        if let Some(until) = r.open_until.filter(|until| *until > now) {
            return Admit::OpenUntil(until);
        }
        // Half-open after the cool-down: one probe at a time until one succeeds.
        let limit = if r.failures >= TRIP_AFTER { 1 } else { PER_RECEIVER };
        if r.in_flight >= limit {
            return Admit::Busy;
        }
        r.in_flight += 1;
        Admit::Send
    }

    pub fn finish(&self, agent: Uuid, delivered: bool, now: OffsetDateTime) {
        let Ok(mut all) = self.0.lock() else { return };
        let r = all.entry(agent).or_default();
        r.in_flight = r.in_flight.saturating_sub(1);
        if delivered {
            *r = Receiver { in_flight: r.in_flight, ..Receiver::default() };
        } else {
            r.failures += 1;
            if r.failures >= TRIP_AFTER {
                r.open_until = Some(now + COOL_DOWN);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-02 10:00 UTC);

    #[test]
    fn a_receiver_gets_a_few_sends_at_once_and_a_failing_one_is_left_alone() {
        let (receivers, slow, other) = (Receivers::default(), Uuid::from_u128(1), Uuid::from_u128(2));
        assert_eq!(receivers.admit(slow, NOW), Admit::Send);
        assert_eq!(receivers.admit(slow, NOW), Admit::Send);
        assert_eq!(receivers.admit(slow, NOW), Admit::Busy, "at most {PER_RECEIVER} in flight");
        assert_eq!(receivers.admit(other, NOW), Admit::Send, "others are not held up");
        receivers.finish(slow, false, NOW);
        receivers.finish(slow, false, NOW);
        for _ in 2..TRIP_AFTER {
            assert_eq!(receivers.admit(slow, NOW), Admit::Send);
            receivers.finish(slow, false, NOW);
        }
        assert_eq!(receivers.admit(slow, NOW), Admit::OpenUntil(NOW + COOL_DOWN), "tripped");
        let later = NOW + COOL_DOWN;
        assert_eq!(receivers.admit(slow, later), Admit::Send, "one probe after the cool-down");
        assert_eq!(receivers.admit(slow, later), Admit::Busy, "only one");
        receivers.finish(slow, true, later);
        assert_eq!(receivers.admit(slow, later), Admit::Send);
        assert_eq!(receivers.admit(slow, later), Admit::Send, "closed again: the full allowance");
    }
}
