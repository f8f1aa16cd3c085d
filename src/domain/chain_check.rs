//! A verification of the audit chain, as it is kept: who ran it, when, how far the chain verified, the first
//! bad event if any, and how many events of each tenant it covered. The whole chain is checked (every link
//! depends on the one before), but each reader is told only of their own events' count.

use super::access::AuditScope;
use super::audit::{Break, Record, Verifier};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainCheck {
    pub id: Uuid,
    /// The actor as the audit log names it (`user:<id>`, `cli`, `system`).
    pub started_by: String,
    pub started_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
    /// Events verified, in chain order from the first.
    pub checked: u64,
    /// The last event that verified: (seq, hash).
    pub head: Option<(i64, String)>,
    pub broken: Option<Break>,
    /// Events verified per `tenant:<id>`, and per subject (`user:<id>`) for untenanted events about a person.
    pub counts: BTreeMap<String, u64>,
}

/// A check under way: the verifier's state and the figures so far.
#[derive(Debug)]
pub struct Checking {
    verifier: Verifier,
    pub check: ChainCheck,
}

impl Checking {
    pub fn start(id: Uuid, started_by: impl Into<String>, at: OffsetDateTime) -> Self {
        let check = ChainCheck {
            id,
            started_by: started_by.into(),
            started_at: at,
            finished_at: None,
            checked: 0,
            head: None,
            broken: None,
            counts: BTreeMap::new(),
        };
        Checking { verifier: Verifier::default(), check }
    }

    /// Where the next batch starts.
    pub fn after(&self) -> i64 {
        self.verifier.last_seq()
    }

    /// Checks the next events in order; `false` once the chain broke (nothing after a break is trusted).
    pub fn feed(&mut self, batch: &[Record]) -> bool {
        for r in batch {
            if let Err(broken) = self.verifier.check(r) {
                self.check.broken = Some(broken);
                return false;
            }
            self.check.checked = self.verifier.verified();
            self.check.head = Some((r.seq, r.hash.clone()));
            let key = match r.tenant {
                Some(t) => Some(format!("tenant:{t}")),
                None => r.subject.starts_with("user:").then(|| r.subject.clone()),
            };
            if let Some(key) = key {
                *self.check.counts.entry(key).or_default() += 1;
            }
        }
        true
    }

    pub fn finish(mut self, at: OffsetDateTime) -> ChainCheck {
        self.check.finished_at = Some(at);
        self.check
    }
}

impl ChainCheck {
    pub fn intact(&self) -> bool {
        self.broken.is_none()
    }

    /// How many of the verified events `scope` may read; `None` counts them all.
    pub fn visible_to(&self, scope: Option<&AuditScope>) -> u64 {
        let Some(scope) = scope else { return self.checked };
        let tenants = scope.tenants.iter().map(|t| format!("tenant:{t}"));
        tenants.chain(scope.people.iter().cloned()).filter_map(|k| self.counts.get(&k)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::audit::{seal, Actor, Event, Kind};
    use time::macros::datetime;

    fn chain(tenants: &[Option<Uuid>]) -> Vec<Record> {
        let mut out: Vec<Record> = Vec::new();
        for (i, t) in tenants.iter().enumerate() {
            let last = out.last().map(|r| (r.seq, r.hash.clone()));
            let mut event = Event::new(Kind::SignInFailed, Actor::System, format!("user:{i}"));
            if let Some(t) = t {
                event = event.tenant(*t);
            }
            out.push(seal(last, &event, datetime!(2026-12-01 10:00 UTC)));
        }
        out
    }

    #[test]
    fn counts_what_each_scope_may_read_and_stops_at_a_break() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let records = chain(&[Some(a), Some(b), Some(a), None, Some(a)]);
        let mut checking = Checking::start(Uuid::now_v7(), "cli", datetime!(2026-12-01 10:00 UTC));
        assert!(checking.feed(&records[..2]));
        assert_eq!(checking.after(), 2, "batches carry on from the last verified event");
        assert!(checking.feed(&records[2..]));
        let done = checking.finish(datetime!(2026-12-01 10:01 UTC));
        assert!(done.intact());
        assert_eq!((done.checked, done.head.as_ref().map(|h| h.0)), (5, Some(5)));
        let of_a = AuditScope { tenants: vec![a], people: vec![] };
        assert_eq!(done.visible_to(Some(&of_a)), 3);
        let admin = AuditScope { tenants: vec![a], people: vec!["user:3".into()] };
        assert_eq!(done.visible_to(Some(&admin)), 4);
        assert_eq!(done.visible_to(None), 5);

        let mut tampered = records.clone();
        tampered[3].subject = "user:forged".into();
        let mut checking = Checking::start(Uuid::now_v7(), "cli", datetime!(2026-12-01 10:00 UTC));
        assert!(!checking.feed(&tampered));
        let done = checking.finish(datetime!(2026-12-01 10:01 UTC));
        assert_eq!(done.broken.as_ref().map(|b| b.seq), Some(4), "the first bad event is named");
        assert_eq!((done.checked, done.head.map(|h| h.0)), (3, Some(3)), "the head it reached");
    }
}
