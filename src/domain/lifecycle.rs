//! An agent's life: the states it moves through, access reviews, orphaning and hand-over of ownership.
//! Pure rules; the service loads the facts and the store commits what these functions allow.

use super::{AgentState, Invalid};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// A change of lifecycle state someone asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Suspend,
    Resume,
    Retire,
}

impl Change {
    pub fn verb(self) -> &'static str {
        match self {
            Change::Suspend => "suspend",
            Change::Resume => "resume",
            Change::Retire => "retire",
        }
    }
}

/// The transition table: active ⇄ suspended → retired; retired is terminal.
pub fn next_state(from: AgentState, change: Change) -> Result<AgentState, Invalid> {
    use AgentState::*;
    match (from, change) {
        (Active, Change::Suspend) => Ok(Suspended),
        (Suspended, Change::Resume) => Ok(Active),
        (Active | Suspended, Change::Retire) => Ok(Retired),
        (Retired, _) => Err(Invalid::new("the agent is retired; retirement is final")),
        (Suspended, Change::Suspend) => Err(Invalid::new("the agent is already suspended")),
        (Active, Change::Resume) => Err(Invalid::new("the agent is not suspended")),
    }
}

/// Every lifecycle change states why, for the record: 3–500 characters.
pub fn reason(raw: &str) -> Result<String, Invalid> {
    let text = raw.trim();
    match text.chars().count() {
        0..=2 => Err(Invalid::new("a reason is required (at least 3 characters)")),
        3..=500 if !text.chars().any(|c| c.is_control() && c != '\n') => Ok(text.to_string()),
        3..=500 => Err(Invalid::new("a reason may not contain control characters")),
        _ => Err(Invalid::new("a reason may have at most 500 characters")),
    }
}

/// Retirement is confirmed by typing the agent's name exactly.
pub fn confirm_name(agent_name: &str, typed: &str) -> Result<(), Invalid> {
    if typed.trim() == agent_name {
        Ok(())
    } else {
        Err(Invalid::new(format!("type the agent's name, \"{agent_name}\", to confirm its retirement")))
    }
}

/// The reason its pending actions are cancelled with when an agent retires.
pub const RETIRED_REASON: &str = "agent retired";
/// The reasons the system suspends an agent with.
pub const REVIEW_OVERDUE_REASON: &str = "access review overdue";
pub const ORPHANED_REASON: &str = "orphaned: its owner can no longer own it";

/// How long things may run before someone must act; configurable per installation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// An access review is due this long after registration or the last review.
    pub review_interval: Duration,
    /// Overdue by this long, the agent is suspended.
    pub review_grace: Duration,
    /// Orphaned this long, the agent is suspended.
    pub orphan_grace: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            review_interval: Duration::days(90),
            review_grace: Duration::days(14),
            orphan_grace: Duration::hours(72),
        }
    }
}

/// Where an agent's access review stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewStanding {
    /// Due later than two weeks from now.
    Current,
    /// Due within two weeks.
    DueSoon,
    /// Past its date, within the grace period.
    Overdue,
    /// Past the grace period: the agent is to be suspended.
    Lapsed,
}

impl Policy {
    pub fn next_review(&self, from: OffsetDateTime) -> OffsetDateTime {
        from + self.review_interval
    }

    pub fn review_standing(&self, due: OffsetDateTime, now: OffsetDateTime) -> ReviewStanding {
        if now >= due + self.review_grace {
            ReviewStanding::Lapsed
        } else if now >= due {
            ReviewStanding::Overdue
        } else if due - now <= Duration::days(14) {
            ReviewStanding::DueSoon
        } else {
            ReviewStanding::Current
        }
    }

    /// Whether an agent orphaned since `since` is to be suspended now.
    pub fn orphan_lapsed(&self, since: OffsetDateTime, now: OffsetDateTime) -> bool {
        now >= since + self.orphan_grace
    }
}

/// What an owner attests at an access review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attestation {
    Keep,
    /// Keep, with the scope narrowed to these allowances.
    Narrow(Vec<String>),
    Retire,
}

impl Attestation {
    pub fn as_str(&self) -> &'static str {
        match self {
            Attestation::Keep => "keep",
            Attestation::Narrow(_) => "narrow",
            Attestation::Retire => "retire",
        }
    }
}

/// The owner a person can be: active, with the owner role, a member of the agent's tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnerStanding {
    pub active: bool,
    pub has_owner_role: bool,
    pub in_tenant: bool,
}

impl OwnerStanding {
    /// An agent whose owner is disabled, lost the owner role or left the tenant has no accountable human.
    pub fn orphans(&self) -> bool {
        self.cause().is_some()
    }

    /// Why the agent is orphaned, in words for the record.
    pub fn cause(&self) -> Option<&'static str> {
        if !self.active {
            Some("its owner was disabled")
        } else if !self.has_owner_role {
            Some("its owner lost the owner role")
        } else if !self.in_tenant {
            Some("its owner left the tenant")
        } else {
            None
        }
    }
}

/// A proposal lapses unanswered after this long.
pub const HANDOVER_TTL: Duration = Duration::days(7);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandoverState {
    Pending,
    Accepted,
    Declined,
    Withdrawn,
    Lapsed,
}

impl HandoverState {
    pub fn as_str(self) -> &'static str {
        match self {
            HandoverState::Pending => "pending",
            HandoverState::Accepted => "accepted",
            HandoverState::Declined => "declined",
            HandoverState::Withdrawn => "withdrawn",
            HandoverState::Lapsed => "lapsed",
        }
    }

    pub fn parse(s: &str) -> Option<HandoverState> {
        use HandoverState::*;
        [Pending, Accepted, Declined, Withdrawn, Lapsed].into_iter().find(|h| h.as_str() == s)
    }
}

/// A proposed change of owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handover {
    pub id: Uuid,
    pub agent: Uuid,
    pub from_owner: Uuid,
    pub to_owner: Uuid,
    /// The actor as the audit log names it.
    pub proposed_by: String,
    pub proposed_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub state: HandoverState,
    pub answered_at: Option<OffsetDateTime>,
}

impl Handover {
    /// Pending and not yet lapsed.
    pub fn open(&self, now: OffsetDateTime) -> bool {
        self.state == HandoverState::Pending && now < self.expires_at
    }
}

/// Whether `to` may be proposed as the agent's new owner.
pub fn check_proposal(
    state: AgentState,
    owner: Uuid,
    sponsor: Option<Uuid>,
    to: Uuid,
    to_standing: OwnerStanding,
) -> Result<(), Invalid> {
    if state == AgentState::Retired {
        return Err(Invalid::new("a retired agent has no future owner"));
    }
    if to == owner {
        return Err(Invalid::new("that person already owns the agent"));
    }
    if sponsor == Some(to) {
        return Err(Invalid::new("that person sponsors the agent; remove them as sponsor first"));
    }
    if to_standing.orphans() {
        return Err(Invalid::new("the new owner must be an active person of the tenant with the owner role"));
    }
    Ok(())
}

/// Whether `who` may accept or decline: only the proposed person, while the proposal is open.
pub fn check_answer(handover: &Handover, who: Uuid, now: OffsetDateTime) -> Result<(), Invalid> {
    if handover.to_owner != who {
        return Err(Invalid::new("only the proposed owner may answer a hand-over"));
    }
    if handover.state != HandoverState::Pending {
        return Err(Invalid::new(format!("this hand-over was already {}", handover.state.as_str())));
    }
    if now >= handover.expires_at {
        return Err(Invalid::new("this hand-over lapsed after 7 days unanswered; ask for a new one"));
    }
    Ok(())
}

/// Whether a sponsor may be set: another active person of the tenant, not the owner.
pub fn check_sponsor(owner: Uuid, sponsor: Uuid, active_in_tenant: bool) -> Result<(), Invalid> {
    if sponsor == owner {
        return Err(Invalid::new("the owner cannot also sponsor the agent"));
    }
    if !active_in_tenant {
        return Err(Invalid::new("a sponsor must be an active person of the agent's tenant"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use AgentState::*;

    #[test]
    fn the_transition_table() {
        assert_eq!(next_state(Active, Change::Suspend), Ok(Suspended));
        assert_eq!(next_state(Suspended, Change::Resume), Ok(Active));
        assert_eq!(next_state(Active, Change::Retire), Ok(Retired));
        assert_eq!(next_state(Suspended, Change::Retire), Ok(Retired));
        for change in [Change::Suspend, Change::Resume, Change::Retire] {
            assert!(next_state(Retired, change).is_err(), "retired is terminal");
        }
        assert!(next_state(Suspended, Change::Suspend).is_err());
        assert!(next_state(Active, Change::Resume).is_err());
    }

    #[test]
    fn reasons_and_confirmation() {
        assert!(reason("  ").is_err());
        assert!(reason("ok").is_err());
        assert_eq!(reason("  moved to a new team ").as_deref(), Ok("moved to a new team"));
        assert!(reason(&"x".repeat(501)).is_err());
        assert!(confirm_name("refund-helper", " refund-helper ").is_ok());
        assert!(confirm_name("refund-helper", "Refund-helper").is_err());
    }

    #[test]
    fn review_standing_moves_with_time() {
        let p = Policy::default();
        let due = OffsetDateTime::UNIX_EPOCH + Duration::days(100);
        assert_eq!(p.review_standing(due, due - Duration::days(30)), ReviewStanding::Current);
        assert_eq!(p.review_standing(due, due - Duration::days(3)), ReviewStanding::DueSoon);
        assert_eq!(p.review_standing(due, due), ReviewStanding::Overdue);
        assert_eq!(p.review_standing(due, due + Duration::days(14)), ReviewStanding::Lapsed);
        assert!(!p.orphan_lapsed(due, due + Duration::hours(71)));
        assert!(p.orphan_lapsed(due, due + Duration::hours(72)));
    }

    #[test]
    fn orphaning_has_three_causes() {
        let fine = OwnerStanding { active: true, has_owner_role: true, in_tenant: true };
        assert!(!fine.orphans());
        assert!(OwnerStanding { active: false, ..fine }.orphans());
        assert!(OwnerStanding { has_owner_role: false, ..fine }.orphans());
        assert!(OwnerStanding { in_tenant: false, ..fine }.orphans());
    }

    #[test]
    fn hand_over_rules() {
        let (owner, sponsor, other) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        let fine = OwnerStanding { active: true, has_owner_role: true, in_tenant: true };
        assert!(check_proposal(Active, owner, Some(sponsor), other, fine).is_ok());
        assert!(check_proposal(Retired, owner, None, other, fine).is_err());
        assert!(check_proposal(Active, owner, None, owner, fine).is_err());
        assert!(check_proposal(Active, owner, Some(sponsor), sponsor, fine).is_err());
        assert!(check_proposal(Active, owner, None, other, OwnerStanding { in_tenant: false, ..fine }).is_err());
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(1);
        let h = Handover {
            id: Uuid::from_u128(9),
            agent: Uuid::from_u128(8),
            from_owner: owner,
            to_owner: other,
            proposed_by: format!("user:{owner}"),
            proposed_at: now,
            expires_at: now + HANDOVER_TTL,
            state: HandoverState::Pending,
            answered_at: None,
        };
        assert!(check_answer(&h, other, now).is_ok());
        assert!(check_answer(&h, owner, now).is_err(), "only the proposed owner answers");
        assert!(check_answer(&h, other, now + HANDOVER_TTL).is_err(), "lapsed");
        assert!(check_answer(&Handover { state: HandoverState::Withdrawn, ..h.clone() }, other, now).is_err());
        assert!(h.open(now) && !h.open(now + HANDOVER_TTL));
    }
}
