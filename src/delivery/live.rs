//! Live events: which held action changed, so open queues, case views and long-polls react at once.
//! Inside one app server they travel on a broadcast channel; with PostgreSQL every store write also sends
//! them with NOTIFY (delivered when the transaction commits), and each app server LISTENs and rebroadcasts.

use uuid::Uuid;

/// The PostgreSQL channel the changes travel on.
pub const CHANNEL: &str = "countersign_changes";
/// Changes per NOTIFY payload (each ~70 bytes; PostgreSQL allows 8000).
pub const PER_NOTIFY: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// A new pending action.
    Arrived,
    /// Still pending: claimed, released, or an approval counted.
    Updated,
    /// Left `pending`: approved, denied, expired or cancelled.
    Decided,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub kind: ChangeKind,
    pub id: Uuid,
    pub tenant: Uuid,
}

impl Change {
    pub fn encode(&self) -> String {
        let kind = match self.kind {
            ChangeKind::Arrived => 'a',
            ChangeKind::Updated => 'u',
            ChangeKind::Decided => 'd',
        };
        format!("{kind}:{}:{}", self.tenant.simple(), self.id.simple())
    }

    pub fn decode(line: &str) -> Option<Change> {
        let mut parts = line.split(':');
        let kind = match parts.next()? {
            "a" => ChangeKind::Arrived,
            "u" => ChangeKind::Updated,
            "d" => ChangeKind::Decided,
            _ => return None,
        };
        let tenant = Uuid::parse_str(parts.next()?).ok()?;
        let id = Uuid::parse_str(parts.next()?).ok()?;
        Some(Change { kind, id, tenant })
    }
}

/// NOTIFY payloads for `changes`, one line per change.
pub fn payloads(changes: &[Change]) -> Vec<String> {
    changes.chunks(PER_NOTIFY).map(|c| c.iter().map(Change::encode).collect::<Vec<_>>().join("\n")).collect()
}

/// The changes in one NOTIFY payload; lines that do not parse are skipped.
pub fn parse_payload(payload: &str) -> Vec<Change> {
    payload.lines().filter_map(Change::decode).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_survive_a_payload() {
        let changes: Vec<Change> = (0..250)
            .map(|i| Change { kind: ChangeKind::Decided, id: Uuid::from_u128(i), tenant: Uuid::from_u128(7) })
            .collect();
        let payloads = payloads(&changes);
        assert_eq!(payloads.len(), 3);
        assert!(payloads.iter().all(|p| p.len() < 8000));
        assert_eq!(payloads.iter().flat_map(|p| parse_payload(p)).collect::<Vec<_>>(), changes);
        assert_eq!(parse_payload("x:1:2\nnonsense"), vec![]);
    }
}
