//! The audit chain: typed events, each sealed with a SHA-256 hash over a canonical encoding of its fields
//! and the hash of the event before it, so altering, inserting or removing a row breaks the chain.

use serde_json::Value;
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use uuid::Uuid;

/// The `prev_hash` of the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// Versioned so the encoding can change without old chains failing to verify.
const DOMAIN_TAG: &[u8] = b"countersign.audit.v1";

/// What happened. The string forms are stored and hashed: never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    SignInSucceeded,
    SignInFailed,
    AccountLocked,
    SignedOut,
    PasswordChanged,
    TenantCreated,
    UserCreated,
    AgentCreated,
    AgentUpdated,
    CredentialIssued,
    CredentialRevoked,
    HeldActionSubmitted,
    HeldActionRefused,
    HeldActionCancelled,
    HeldActionClaimed,
    HeldActionTakenOver,
    HeldActionReleased,
    ApprovalCounted,
    HeldActionApproved,
    HeldActionDenied,
    HeldActionExpired,
    SteppedUp,
    WebhookDelivered,
    WebhookAbandoned,
    WebhookRedeliveryRequested,
    AgentSuspended,
    AgentResumed,
    AgentRetired,
    AgentOrphaned,
    AccessReviewed,
    SponsorChanged,
    HandoverProposed,
    HandoverAccepted,
    HandoverDeclined,
    HandoverWithdrawn,
    HandoverLapsed,
    UserUpdated,
    UserDisabled,
    UserEnabled,
    UserUnlocked,
    HistoryExported,
    AuditExported,
    QaSampleDrawn,
    QaVerdictRecorded,
    ReceiptKeyCreated,
    ReceiptKeyRotated,
    CaseClosed,
    AgentBound,
    IssuerAdded,
    IssuerChanged,
    IssuerRemoved,
    SecretsResealed,
    StepUpFailed,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::SignInSucceeded => "sign_in.succeeded",
            Kind::SignInFailed => "sign_in.failed",
            Kind::AccountLocked => "account.locked",
            Kind::SignedOut => "sign_out",
            Kind::PasswordChanged => "password.changed",
            Kind::TenantCreated => "tenant.created",
            Kind::UserCreated => "user.created",
            Kind::AgentCreated => "agent.created",
            Kind::AgentUpdated => "agent.updated",
            Kind::CredentialIssued => "credential.issued",
            Kind::CredentialRevoked => "credential.revoked",
            Kind::HeldActionSubmitted => "held_action.submitted",
            Kind::HeldActionRefused => "held_action.refused",
            Kind::HeldActionCancelled => "held_action.cancelled",
            Kind::HeldActionClaimed => "held_action.claimed",
            Kind::HeldActionTakenOver => "held_action.taken_over",
            Kind::HeldActionReleased => "held_action.released",
            Kind::ApprovalCounted => "held_action.approval_counted",
            Kind::HeldActionApproved => "held_action.approved",
            Kind::HeldActionDenied => "held_action.denied",
            Kind::HeldActionExpired => "held_action.expired",
            Kind::SteppedUp => "step_up.succeeded",
            Kind::WebhookDelivered => "webhook.delivered",
            Kind::WebhookAbandoned => "webhook.abandoned",
            Kind::WebhookRedeliveryRequested => "webhook.redelivery_requested",
            Kind::AgentSuspended => "agent.suspended",
            Kind::AgentResumed => "agent.resumed",
            Kind::AgentRetired => "agent.retired",
            Kind::AgentOrphaned => "agent.orphaned",
            Kind::AccessReviewed => "agent.access_reviewed",
            Kind::SponsorChanged => "agent.sponsor_changed",
            Kind::HandoverProposed => "agent.handover_proposed",
            Kind::HandoverAccepted => "agent.handover_accepted",
            Kind::HandoverDeclined => "agent.handover_declined",
            Kind::HandoverWithdrawn => "agent.handover_withdrawn",
            Kind::HandoverLapsed => "agent.handover_lapsed",
            Kind::UserUpdated => "user.updated",
            Kind::UserDisabled => "user.disabled",
            Kind::UserEnabled => "user.enabled",
            Kind::UserUnlocked => "user.unlocked",
            Kind::HistoryExported => "export.history",
            Kind::AuditExported => "export.audit",
            Kind::QaSampleDrawn => "qa.sample_drawn",
            Kind::QaVerdictRecorded => "qa.verdict_recorded",
            Kind::ReceiptKeyCreated => "receipt_key.created",
            Kind::ReceiptKeyRotated => "receipt_key.rotated",
            Kind::CaseClosed => "case.closed",
            Kind::AgentBound => "agent.bound",
            Kind::IssuerAdded => "issuer.added",
            Kind::IssuerChanged => "issuer.changed",
            Kind::IssuerRemoved => "issuer.removed",
            Kind::SecretsResealed => "secrets.resealed",
            Kind::StepUpFailed => "step_up.failed",
        }
    }

    /// Every kind, for filters.
    pub const ALL: [Kind; 53] = [
        Kind::SignInSucceeded,
        Kind::SignInFailed,
        Kind::AccountLocked,
        Kind::SignedOut,
        Kind::PasswordChanged,
        Kind::TenantCreated,
        Kind::UserCreated,
        Kind::AgentCreated,
        Kind::AgentUpdated,
        Kind::CredentialIssued,
        Kind::CredentialRevoked,
        Kind::HeldActionSubmitted,
        Kind::HeldActionRefused,
        Kind::HeldActionCancelled,
        Kind::HeldActionClaimed,
        Kind::HeldActionTakenOver,
        Kind::HeldActionReleased,
        Kind::ApprovalCounted,
        Kind::HeldActionApproved,
        Kind::HeldActionDenied,
        Kind::HeldActionExpired,
        Kind::SteppedUp,
        Kind::WebhookDelivered,
        Kind::WebhookAbandoned,
        Kind::WebhookRedeliveryRequested,
        Kind::AgentSuspended,
        Kind::AgentResumed,
        Kind::AgentRetired,
        Kind::AgentOrphaned,
        Kind::AccessReviewed,
        Kind::SponsorChanged,
        Kind::HandoverProposed,
        Kind::HandoverAccepted,
        Kind::HandoverDeclined,
        Kind::HandoverWithdrawn,
        Kind::HandoverLapsed,
        Kind::UserUpdated,
        Kind::UserDisabled,
        Kind::UserEnabled,
        Kind::UserUnlocked,
        Kind::HistoryExported,
        Kind::AuditExported,
        Kind::QaSampleDrawn,
        Kind::QaVerdictRecorded,
        Kind::ReceiptKeyCreated,
        Kind::ReceiptKeyRotated,
        Kind::CaseClosed,
        Kind::AgentBound,
        Kind::IssuerAdded,
        Kind::IssuerChanged,
        Kind::IssuerRemoved,
        Kind::SecretsResealed,
        Kind::StepUpFailed,
    ];

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Who did it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    User(Uuid),
    Agent(Uuid),
    /// Someone not signed in, e.g. a failed sign-in.
    Anonymous,
    /// An operator at the command line.
    Cli,
    System,
}

impl Actor {
    pub fn encode(&self) -> String {
        match self {
            Actor::User(id) => format!("user:{id}"),
            Actor::Agent(id) => format!("agent:{id}"),
            Actor::Anonymous => "anonymous".into(),
            Actor::Cli => "cli".into(),
            Actor::System => "system".into(),
        }
    }
}

/// An event to be appended; the store seals it inside the transaction that makes the change.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub kind: Kind,
    pub actor: Actor,
    pub subject: String,
    pub tenant: Option<Uuid>,
    pub data: Value,
}

impl Event {
    pub fn new(kind: Kind, actor: Actor, subject: impl Into<String>) -> Self {
        Event { kind, actor, subject: subject.into(), tenant: None, data: Value::Object(Default::default()) }
    }

    pub fn tenant(mut self, tenant: Uuid) -> Self {
        self.tenant = Some(tenant);
        self
    }

    pub fn data(mut self, data: Value) -> Self {
        self.data = data;
        self
    }
}

/// An event as stored: every field is text or a number exactly as hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub kind: String,
    pub subject: String,
    pub tenant: Option<Uuid>,
    pub data: String,
    pub prev_hash: String,
    pub hash: String,
}

/// Seals `event` as the successor of `last` (`(seq, hash)` of the newest record, `None` for the first).
pub fn seal(last: Option<(i64, String)>, event: &Event, at: OffsetDateTime) -> Record {
    let (prev_seq, prev_hash) = last.unwrap_or((0, GENESIS.to_string()));
    let mut record = Record {
        seq: prev_seq + 1,
        at: at.format(&Rfc3339).unwrap_or_else(|_| at.unix_timestamp().to_string()),
        actor: event.actor.encode(),
        kind: event.kind.as_str().to_string(),
        subject: event.subject.clone(),
        tenant: event.tenant,
        data: event.data.to_string(),
        prev_hash,
        hash: String::new(),
    };
    record.hash = hash_of(&record);
    record
}

/// SHA-256 over the domain tag and each field, length-prefixed so no two field lists encode alike.
pub fn hash_of(r: &Record) -> String {
    let tenant = r.tenant.map(|t| t.to_string()).unwrap_or_default();
    let seq = r.seq.to_string();
    let fields: [&str; 8] = [&seq, &r.at, &r.actor, &r.kind, &r.subject, &tenant, &r.data, &r.prev_hash];
    let mut h = Sha256::new();
    h.update(DOMAIN_TAG);
    for field in fields {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Where and why a chain stopped verifying.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit chain broken at event {seq}: {reason}")]
pub struct Break {
    pub seq: i64,
    pub reason: String,
}

/// Checks records in sequence order, carrying state across pages so a long log streams through.
#[derive(Debug, Default)]
pub struct Verifier {
    last: Option<(i64, String)>,
    count: u64,
}

impl Verifier {
    pub fn last_seq(&self) -> i64 {
        self.last.as_ref().map_or(0, |(seq, _)| *seq)
    }

    pub fn verified(&self) -> u64 {
        self.count
    }

    pub fn check(&mut self, r: &Record) -> Result<(), Break> {
        let (expected_seq, expected_prev) =
            self.last.as_ref().map_or((1, GENESIS), |(seq, hash)| (seq + 1, hash.as_str()));
        let broken = |reason: String| Err(Break { seq: r.seq, reason });
        if r.seq != expected_seq {
            let at = expected_seq;
            return Err(Break { seq: at, reason: format!("expected event {at}, found event {}", r.seq) });
        }
        if r.prev_hash != expected_prev {
            return broken("its previous-hash does not match the event before it".into());
        }
        if hash_of(r) != r.hash {
            return broken("its content does not match its hash".into());
        }
        self.last = Some((r.seq, r.hash.clone()));
        self.count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    fn chain(n: usize) -> Vec<Record> {
        let mut out: Vec<Record> = Vec::new();
        for i in 0..n {
            let last = out.last().map(|r| (r.seq, r.hash.clone()));
            let event = Event::new(Kind::SignInFailed, Actor::Anonymous, format!("u{i}")).data(json!({"i": i}));
            out.push(seal(last, &event, datetime!(2026-11-23 10:00 UTC)));
        }
        out
    }

    fn verify(records: &[Record]) -> Result<u64, Break> {
        let mut v = Verifier::default();
        records.iter().try_for_each(|r| v.check(r))?;
        Ok(v.verified())
    }

    #[test]
    fn an_untouched_chain_verifies() {
        assert_eq!(verify(&chain(5)), Ok(5));
        assert_eq!(chain(1)[0].prev_hash, GENESIS);
    }

    #[test]
    fn altering_a_field_is_named_by_sequence() {
        let mut records = chain(5);
        records[2].data = r#"{"i":99}"#.into();
        assert_eq!(verify(&records).map_err(|b| b.seq), Err(3));
    }

    #[test]
    fn removing_a_row_is_found_where_the_gap_is() {
        let mut records = chain(5);
        records.remove(1);
        assert_eq!(verify(&records).map_err(|b| b.seq), Err(2));
    }

    #[test]
    fn a_rehashed_insertion_still_breaks_the_link_after_it() {
        let mut records = chain(4);
        let mut forged = seal(
            Some((2, records[1].hash.clone())),
            &Event::new(Kind::SignedOut, Actor::System, "x"),
            datetime!(2026-11-23 11:00 UTC),
        );
        forged.seq = 3;
        records.insert(2, forged);
        for r in records.iter_mut().skip(3) {
            r.seq += 1;
        }
        assert_eq!(verify(&records).map_err(|b| b.seq), Err(4));
    }

    #[test]
    fn field_boundaries_matter() {
        let a = seal(None, &Event::new(Kind::SignedOut, Actor::System, "ab"), datetime!(2026-11-23 10:00 UTC));
        let mut b = a.clone();
        b.subject = "a".into();
        b.data = format!("b{}", a.data);
        assert_ne!(hash_of(&a), hash_of(&b));
    }
}
