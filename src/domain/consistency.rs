//! Rows against the events that made them. The chain proves the events were not altered; this proves the
//! tables say what the events say: a held action's stored content is what its submission event hashed, its
//! status is the one its outcome event records (one outcome, or none while pending), and each vote row has
//! its event from the person who voted.

use super::audit::Record;
use super::HeldStatus;
use serde_json::Value;
use uuid::Uuid;

/// What the tables hold of one held action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowFacts {
    pub id: Uuid,
    pub status: HeldStatus,
    pub content_hash: String,
    pub idempotency_key: String,
    /// (reviewer, approve) of each vote row.
    pub votes: Vec<(Uuid, bool)>,
}

fn outcome_kind(status: HeldStatus) -> Option<&'static str> {
    match status {
        HeldStatus::Pending => None,
        HeldStatus::Approved => Some("held_action.approved"),
        HeldStatus::Denied => Some("held_action.denied"),
        HeldStatus::Expired => Some("held_action.expired"),
        HeldStatus::Cancelled => Some("held_action.cancelled"),
    }
}

const OUTCOMES: [&str; 4] =
    ["held_action.approved", "held_action.denied", "held_action.expired", "held_action.cancelled"];

/// Why `row` disagrees with `events` (every event about it, in chain order), if it does.
pub fn disagreement(row: &RowFacts, events: &[Record]) -> Option<String> {
    let id = row.id;
    let Some(submitted) = events.iter().find(|e| e.kind == "held_action.submitted") else {
        return Some(format!("held action {id} has no held_action.submitted event"));
    };
    let data: Value = serde_json::from_str(&submitted.data).unwrap_or_default();
    let field = |name: &str| data[name].as_str().unwrap_or_default().to_string();
    if data["seeded"] == Value::Bool(true) {
        // Load-test rows (`countersign seed`) record their status in their one event.
        return (field("status") != row.status.as_str()).then(|| {
            format!("held action {id} is {} but its seeded event says {}", row.status.as_str(), field("status"))
        });
    }
    if field("content_hash") != row.content_hash {
        return Some(format!("held action {id}: its stored content is not what its submission event hashed"));
    }
    if field("idempotency_key") != row.idempotency_key {
        return Some(format!("held action {id}: its idempotency key differs from its submission event's"));
    }
    let outcomes: Vec<&str> = events.iter().map(|e| e.kind.as_str()).filter(|k| OUTCOMES.contains(k)).collect();
    match (outcome_kind(row.status), outcomes.as_slice()) {
        (None, []) => {}
        (Some(kind), [only]) if kind == *only => {}
        (_, found) => {
            return Some(format!(
                "held action {id} is {} but its outcome events are [{}]",
                row.status.as_str(),
                found.join(", ")
            ))
        }
    }
    for (reviewer, approve) in &row.votes {
        let actor = format!("user:{reviewer}");
        let recorded = events.iter().any(|e| {
            let data: Value = serde_json::from_str(&e.data).unwrap_or_default();
            e.actor == actor
                && if *approve {
                    e.kind == "held_action.approval_counted" && data["approve"] == Value::Bool(true)
                } else {
                    e.kind == "held_action.denied"
                }
        });
        if !recorded {
            let vote = if *approve { "approval" } else { "denial" };
            return Some(format!("held action {id}: the {vote} by {actor} has no event"));
        }
    }
    let counted = events.iter().filter(|e| e.kind == "held_action.approval_counted").count();
    let approvals = row.votes.iter().filter(|(_, approve)| *approve).count();
    (counted != approvals).then(|| format!("held action {id}: {counted} approval events but {approvals} approval rows"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::audit::{seal, Actor, Event, Kind};
    use serde_json::json;
    use time::macros::datetime;

    fn events(id: Uuid, list: &[(Kind, Actor, Value)]) -> Vec<Record> {
        let mut out: Vec<Record> = Vec::new();
        for (kind, actor, data) in list {
            let last = out.last().map(|r| (r.seq, r.hash.clone()));
            let event = Event::new(*kind, actor.clone(), format!("held_action:{id}")).data(data.clone());
            out.push(seal(last, &event, datetime!(2026-12-02 09:00 UTC)));
        }
        out
    }

    #[test]
    fn rows_must_say_what_their_events_say() {
        let (id, ana) = (Uuid::now_v7(), Uuid::now_v7());
        let submitted = json!({ "content_hash": "abc", "idempotency_key": "k-1" });
        let approved = events(
            id,
            &[
                (Kind::HeldActionSubmitted, Actor::Agent(id), submitted.clone()),
                (Kind::ApprovalCounted, Actor::User(ana), json!({ "approve": true })),
                (Kind::HeldActionApproved, Actor::User(ana), json!({})),
            ],
        );
        let row = RowFacts {
            id,
            status: HeldStatus::Approved,
            content_hash: "abc".into(),
            idempotency_key: "k-1".into(),
            votes: vec![(ana, true)],
        };
        assert_eq!(disagreement(&row, &approved), None);

        let swapped = RowFacts { content_hash: "def".into(), ..row.clone() };
        assert!(disagreement(&swapped, &approved).is_some_and(|w| w.contains("not what its submission event hashed")));
        let flipped = RowFacts { status: HeldStatus::Denied, ..row.clone() };
        assert!(disagreement(&flipped, &approved).is_some_and(|w| w.contains("is denied but its outcome events")));
        let forged_vote = RowFacts { votes: vec![(ana, true), (Uuid::now_v7(), true)], ..row.clone() };
        assert!(disagreement(&forged_vote, &approved).is_some_and(|w| w.contains("has no event")));
        let still_pending = RowFacts { status: HeldStatus::Pending, votes: vec![], ..row.clone() };
        assert!(disagreement(&still_pending, &approved[..1]).is_none());
        assert!(disagreement(&row, &[]).is_some_and(|w| w.contains("no held_action.submitted")));
    }
}
