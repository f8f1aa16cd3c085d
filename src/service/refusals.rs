//! Refused submissions are audited coalesced: a flood of refusals for the same agent and reason becomes
//! one `held_action.refused` event per flush (every couple of seconds, and at shutdown) carrying the first
//! refusal's details, how many there were and when, instead of one durable write per rejected request.

use super::{Service, ServiceError};
use crate::domain::audit::{Actor, Event, Kind};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use time::OffsetDateTime;
use uuid::Uuid;

/// How often the refusals noted since the last flush are written.
pub const FLUSH_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

#[derive(Clone, Default)]
pub struct Refusals(Arc<Mutex<BTreeMap<(Uuid, String), Noted>>>);

struct Noted {
    tenant: Uuid,
    first: Value,
    count: u64,
    first_at: OffsetDateTime,
    last_at: OffsetDateTime,
}

impl Refusals {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<(Uuid, String), Noted>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Notes one refusal of `agent`'s (of `tenant`) submission. Refusals with the same `key` (the kind of
    /// refusal, without the particulars that vary per request) coalesce; the first one's `details`
    /// (which should include its `reason`) are kept.
    pub fn note(&self, (agent, tenant): (Uuid, Uuid), key: &str, details: Value, at: OffsetDateTime) {
        let mut noted = self.lock();
        let entry = noted.entry((agent, key.to_string())).or_insert_with(|| Noted {
            tenant,
            first: details,
            count: 0,
            first_at: at,
            last_at: at,
        });
        entry.count += 1;
        entry.last_at = at;
    }

    /// Everything noted so far, forgotten here.
    fn take(&self) -> BTreeMap<(Uuid, String), Noted> {
        std::mem::take(&mut *self.lock())
    }

    /// Puts back refusals whose events could not be written, merged with any noted since.
    fn restore(&self, unwritten: BTreeMap<(Uuid, String), Noted>) {
        let mut noted = self.lock();
        for (key, mut earlier) in unwritten {
            if let Some(later) = noted.remove(&key) {
                earlier.count += later.count;
                earlier.last_at = later.last_at;
            }
            noted.insert(key, earlier);
        }
    }
}

fn event(agent: Uuid, n: &Noted) -> Event {
    let mut data = n.first.clone();
    let stamp = |t: OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    data["count"] = json!(n.count);
    data["first_at"] = json!(stamp(n.first_at));
    data["last_at"] = json!(stamp(n.last_at));
    Event::new(Kind::HeldActionRefused, Actor::Agent(agent), format!("agent:{agent}")).tenant(n.tenant).data(data)
}

fn events(noted: &BTreeMap<(Uuid, String), Noted>) -> Vec<Event> {
    noted.iter().map(|((agent, _), n)| event(*agent, n)).collect()
}

impl Service {
    /// Writes the refusals noted since the last flush, in one transaction; returns how many events.
    /// Should the write fail, they are kept for the next flush.
    pub async fn flush_refusals(&self) -> Result<usize, ServiceError> {
        let noted = self.refusals.take();
        if noted.is_empty() {
            return Ok(0);
        }
        match self.store.append_all(events(&noted), self.clock.now()).await {
            Ok(written) => Ok(written.len()),
            Err(e) => {
                self.refusals.restore(noted);
                Err(e.into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent() -> (Uuid, Uuid) {
        (Uuid::now_v7(), Uuid::now_v7())
    }

    #[test]
    fn a_run_of_refusals_becomes_one_event_with_its_count() {
        let refusals = Refusals::default();
        let (a, b) = (agent(), agent());
        let t0 = OffsetDateTime::UNIX_EPOCH;
        for i in 0..50 {
            let details = json!({ "idempotency_key": format!("k-{i}") });
            refusals.note(a, "outside scope", details, t0 + time::Duration::seconds(i));
        }
        refusals.note(b, "outside scope", json!({}), t0);
        let events = events(&refusals.take());
        assert_eq!(events.len(), 2);
        let mine = events.iter().find(|e| e.actor == Actor::Agent(a.0)).expect("a's event");
        assert_eq!(mine.data["count"], 50);
        assert_eq!(mine.data["idempotency_key"], "k-0", "the first refusal's details");
        assert_eq!(mine.data["last_at"], "1970-01-01T00:00:49Z");
        assert!(refusals.take().is_empty(), "taken once");
    }

    #[test]
    fn refusals_that_could_not_be_written_are_kept_and_merged() {
        let refusals = Refusals::default();
        let a = agent();
        let t0 = OffsetDateTime::UNIX_EPOCH;
        refusals.note(a, "rate", json!({}), t0);
        refusals.note(a, "rate", json!({}), t0);
        let unwritten = refusals.take();
        refusals.note(a, "rate", json!({}), t0 + time::Duration::seconds(5));
        refusals.restore(unwritten);
        let events = events(&refusals.take());
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].data["count"], 3);
        assert_eq!(events[0].data["first_at"], "1970-01-01T00:00:00Z");
        assert_eq!(events[0].data["last_at"], "1970-01-01T00:00:05Z");
    }
}
