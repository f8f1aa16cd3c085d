//! A verification of the audit chain, as it is kept: who ran it, when, how far the chain verified, the first
//! bad event if any, and how many events of each tenant it covered. The whole chain is checked (every link
//! depends on the one before), but each reader is told only of their own events' count.

use super::access::AuditScope;
use super::audit::{Break, Record, Verifier};
use super::checkpoint::{Checkpoint, CheckpointKeys};
use std::collections::BTreeMap;
use time::format_description::well_known::Rfc3339;
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
    /// Signed checkpoints whose event was found with the signed hash (kept in memory only).
    pub checkpoints_agreed: u64,
}

/// A check under way: the verifier's state and the figures so far.
#[derive(Debug)]
pub struct Checking {
    verifier: Verifier,
    /// Trusted checkpoints by seq: each must meet its event with the signed hash.
    checkpoints: BTreeMap<i64, Checkpoint>,
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
            checkpoints_agreed: 0,
        };
        Checking { verifier: Verifier::default(), checkpoints: BTreeMap::new(), check }
    }

    /// Holds the chain to `checkpoints` (from the database and any exported copy). One whose signature
    /// fails under a configured key breaks the check at once (it was forged or altered); one signed with a
    /// key no longer configured cannot be judged and is left out. Returns how many were left out.
    pub fn against(&mut self, checkpoints: Vec<Checkpoint>, keys: &CheckpointKeys) -> usize {
        let mut unknown = 0;
        for c in checkpoints {
            match keys.refusal(&c) {
                None => {
                    self.checkpoints.insert(c.seq, c);
                }
                Some(why) if why.contains("not configured") => unknown += 1,
                Some(why) => {
                    self.check.broken.get_or_insert(Break {
                        seq: c.seq,
                        reason: format!("the checkpoint of event {}: {why}", c.seq),
                    });
                }
            }
        }
        unknown
    }

    /// Where the next batch starts.
    pub fn after(&self) -> i64 {
        self.verifier.last_seq()
    }

    /// Checks the next events in order; `false` once the chain broke (nothing after a break is trusted).
    pub fn feed(&mut self, batch: &[Record]) -> bool {
        if self.check.broken.is_some() {
            return false;
        }
        for r in batch {
            if let Err(broken) = self.verifier.check(r) {
                self.check.broken = Some(broken);
                return false;
            }
            if let Some(c) = self.checkpoints.get(&r.seq) {
                if c.hash != r.hash {
                    let reason = format!(
                        "does not match the checkpoint signed at {}: the chain was rewritten up to here",
                        c.at.format(&Rfc3339).unwrap_or_default()
                    );
                    self.check.broken = Some(Break { seq: r.seq, reason });
                    return false;
                }
                self.check.checkpoints_agreed += 1;
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
        // A checkpoint beyond the last event: events it vouched for are gone.
        let head = self.verifier.last_seq();
        if let (None, Some((&seq, c))) = (&self.check.broken, self.checkpoints.range(head + 1..).next()) {
            let reason = format!(
                "missing: the chain ends at event {head}, but a checkpoint signed at {} covers event {seq}; \
                 the newest events were removed",
                c.at.format(&Rfc3339).unwrap_or_default()
            );
            self.check.broken = Some(Break { seq: head + 1, reason });
        }
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

    #[test]
    fn signed_checkpoints_catch_a_recomputed_or_truncated_chain() {
        use crate::domain::checkpoint::{CheckpointKey, CheckpointKeys};
        use crate::domain::sealing::SecretKey;
        let secret = SecretKey::generate();
        let key = CheckpointKey::derive(&secret);
        let keys = || CheckpointKeys(vec![CheckpointKey::derive(&secret)]);
        let at = datetime!(2026-12-01 10:05 UTC);
        let records = chain(&[None, None, None, None, None]);
        let signed = vec![key.sign(2, &records[1].hash, at), key.sign(5, &records[4].hash, at)];
        let run = |records: &[Record], checkpoints: Vec<_>| {
            let mut checking = Checking::start(Uuid::now_v7(), "cli", at);
            assert_eq!(checking.against(checkpoints, &keys()), 0);
            checking.feed(records);
            checking.finish(at)
        };
        let intact = run(&records, signed.clone());
        assert!(intact.intact() && intact.checkpoints_agreed == 2, "{intact:?}");

        // The newest two events removed: the chain alone is still consistent, the checkpoint is not.
        let truncated = run(&records[..3], signed.clone());
        let broken = truncated.broken.expect("truncation is detected");
        assert_eq!(broken.seq, 4);
        assert!(broken.reason.contains("newest events were removed"), "{}", broken.reason);

        // Event 2 rewritten and every hash after it recomputed: a consistent chain, but not the signed one.
        let mut rewritten = chain(&[None, Some(Uuid::now_v7()), None, None, None]);
        rewritten.truncate(5);
        let broken = run(&rewritten, signed.clone()).broken.expect("recomputation is detected");
        assert_eq!(broken.seq, 2);
        assert!(broken.reason.contains("rewritten"), "{}", broken.reason);

        // A forged checkpoint under the configured key breaks the check; one under an unknown key is left out.
        let forged = Checkpoint { signature: signed[0].signature.replace('A', "B"), ..signed[1].clone() };
        let mut checking = Checking::start(Uuid::now_v7(), "cli", at);
        checking.against(vec![forged], &keys());
        assert!(checking.finish(at).broken.is_some_and(|b| b.reason.contains("does not verify")));
        let foreign = CheckpointKey::derive(&SecretKey::generate()).sign(9, "x", at);
        let mut checking = Checking::start(Uuid::now_v7(), "cli", at);
        assert_eq!(checking.against(vec![foreign], &keys()), 1);
        checking.feed(&records);
        assert!(checking.finish(at).intact());
    }
}
