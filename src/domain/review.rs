//! Deciding held actions: who may decide, how votes add up to an outcome (quorum by risk tier), how an
//! approval may narrow the amount, and who holds an item while reading it. Pure rules; the service loads
//! the facts and the store commits what these functions return.

use super::provenance::{independent, Producer, Provisioned, Tie};
use super::scope::Money;
use super::{AgentState, HeldStatus, RiskTier, Role};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// Opening an item holds it for this long; the open page renews it.
pub const CLAIM_TTL: Duration = Duration::minutes(5);
/// A critical approval needs the password re-entered at most this long ago.
pub const STEP_UP_WINDOW: Duration = Duration::minutes(5);

/// Approvals an outcome needs at each tier.
pub fn quorum(tier: RiskTier) -> i64 {
    match tier {
        RiskTier::High => 1,
        RiskTier::Critical => 2,
    }
}

/// A person about to decide, with when they last re-entered their password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reviewer {
    pub user: Uuid,
    /// Roles per tenant: only the supervisor role in the action's own tenant lets someone decide.
    pub memberships: super::access::Memberships,
    pub stepped_up_at: Option<OffsetDateTime>,
}

/// The facts about a pending action the rules need.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts<'a> {
    pub tenant: Uuid,
    pub owner: Uuid,
    pub sponsor: Option<Uuid>,
    pub tier: RiskTier,
    pub status: HeldStatus,
    pub expires_at: OffsetDateTime,
    pub amount: Option<&'a Money>,
    /// Who has approved so far, with the amount each allowed.
    pub approvals: &'a [(Uuid, Option<Money>)],
    /// A suspended (or retired) agent's actions may be denied, never approved: fail closed.
    pub agent: AgentState,
    /// Everyone who could have produced the request, from its recorded provenance and the agent's
    /// authority history (see `provenance`).
    pub producers: &'a [Producer],
    /// How the approvers (and the person deciding) were provisioned.
    pub provisioned: &'a [Provisioned],
    /// The credential that submitted it has been revoked since.
    pub credential_revoked: bool,
    /// Why the action falls outside the agent's scope as it is *now* (an owner may have narrowed it).
    pub out_of_scope: Option<String>,
    /// Approvers who have since been disabled or lost the supervisor role: their approvals no longer count.
    pub lapsed: &'a [Uuid],
}

impl Facts<'_> {
    /// The approvals that count now: nobody who owns or sponsors the agent at this moment, whatever they
    /// were when they voted (a hand-over accepted mid-review must not let the new owner's vote count).
    pub fn counting(&self) -> impl Iterator<Item = &(Uuid, Option<Money>)> {
        self.approvals.iter().filter(|(user, _)| {
            *user != self.owner
                && Some(*user) != self.sponsor
                && !self.lapsed.contains(user)
                && independent(*user, self.producers, self.provisioned).is_ok()
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Vote {
    /// `amount` lowers a money amount; `None` approves it as requested.
    Approve {
        amount: Option<Money>,
    },
    Deny {
        reason: String,
    },
}

/// Why a vote is refused. The words are shown to the reviewer as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("only supervisors decide held actions")]
    NotAReviewer,
    #[error("only members of the action's tenant decide it")]
    OtherTenant,
    #[error("you own this agent: separation of duties says someone else decides its actions")]
    OwnsAgent,
    #[error("you sponsor this agent: separation of duties says someone else decides its actions")]
    SponsorsAgent,
    /// The person (or whoever provisioned their account) could have produced the request.
    #[error("{0}: separation of duties says someone else decides it")]
    NotIndependent(Tie),
    #[error("the credential that submitted this action has been revoked: it may be denied, not approved")]
    CredentialRevoked,
    #[error("the action is outside the agent's current scope ({0}): it may be denied, not approved")]
    OutOfScope(String),
    #[error("you have already approved this action; a different approver must give the second approval")]
    AlreadyVoted,
    #[error("critical actions need your password re-entered within the last 5 minutes")]
    StepUpNeeded,
    #[error("this action is no longer pending")]
    NotPending,
    #[error("this action expired before it was decided")]
    Expired,
    #[error("the agent is {0}: its actions may be denied, not approved")]
    AgentNotActive(&'static str),
    #[error("a denial needs a reason")]
    ReasonRequired,
    #[error("{0}")]
    BadAmount(String),
    #[error("\"{0}\" is not one of the preset reasons")]
    UnknownReason(String),
}

/// Whether `who` may decide an action of this tenant and agent at all (before looking at the vote).
///
/// Separation of duties, thinking in paths: whoever could have produced the request does not decide it,
/// nor anyone whose account or supervisor role such a person provisioned. Producers are the agent's owner
/// and sponsor (now and when it asked), the minters of the credential chain it was submitted with, the
/// registrants of the issuer that signed its token, and everyone who ever registered the agent, bound its
/// subject or widened its scope (`provenance::Path`). Each is refused approving *and* denying; their
/// earlier approvals stop counting once they are in any of these positions (`Facts::counting`).
pub fn may_decide(who: &Reviewer, facts: &Facts) -> Result<(), Refusal> {
    if !who.memberships.has(facts.tenant, Role::Supervisor) {
        let member = who.memberships.tenant_ids().contains(&facts.tenant);
        return Err(if member || !who.memberships.any(Role::Supervisor) {
            Refusal::NotAReviewer
        } else {
            Refusal::OtherTenant
        });
    }
    if who.user == facts.owner {
        return Err(Refusal::OwnsAgent);
    }
    if facts.sponsor == Some(who.user) {
        return Err(Refusal::SponsorsAgent);
    }
    independent(who.user, facts.producers, facts.provisioned).map_err(Refusal::NotIndependent)
}

/// What a vote does to the action.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// An approval counted; more are needed ("1 of 2").
    Counted {
        approvals: i64,
        needed: i64,
    },
    Approved {
        approvals: i64,
        amount: Option<Money>,
    },
    Denied {
        reason: String,
    },
}

/// Checks `vote` by `who` against the action and says what it does.
pub fn cast(who: &Reviewer, facts: &Facts, vote: &Vote, now: OffsetDateTime) -> Result<Effect, Refusal> {
    may_decide(who, facts)?;
    if facts.status != HeldStatus::Pending {
        return Err(Refusal::NotPending);
    }
    if now >= facts.expires_at {
        return Err(Refusal::Expired);
    }
    if facts.approvals.iter().any(|(user, _)| *user == who.user) {
        return Err(Refusal::AlreadyVoted);
    }
    match vote {
        Vote::Deny { reason } if reason.trim().is_empty() => Err(Refusal::ReasonRequired),
        Vote::Deny { reason } => Ok(Effect::Denied { reason: reason.trim().to_string() }),
        Vote::Approve { amount } => {
            // Authority is weighed as it is now, not as it was when the agent asked.
            if facts.agent != AgentState::Active {
                return Err(Refusal::AgentNotActive(facts.agent.as_str()));
            }
            if facts.credential_revoked {
                return Err(Refusal::CredentialRevoked);
            }
            if let Some(why) = &facts.out_of_scope {
                return Err(Refusal::OutOfScope(why.clone()));
            }
            if facts.tier == RiskTier::Critical && !fresh_step_up(who.stepped_up_at, now) {
                return Err(Refusal::StepUpNeeded);
            }
            let mine = narrowed(facts.amount, amount.clone())?;
            let approvals = facts.counting().count() as i64 + 1;
            let needed = quorum(facts.tier);
            if approvals < needed {
                return Ok(Effect::Counted { approvals, needed });
            }
            // Every approver's limit holds: the outcome is the lowest amount any of them allowed.
            let amount =
                facts.counting().filter_map(|(_, a)| a.clone()).chain(mine).min_by(|a, b| a.value.cmp(&b.value));
            Ok(Effect::Approved { approvals, amount })
        }
    }
}

pub fn fresh_step_up(stepped_up_at: Option<OffsetDateTime>, now: OffsetDateTime) -> bool {
    stepped_up_at.is_some_and(|at| at <= now && now - at <= STEP_UP_WINDOW)
}

/// An approval's amount: lower than requested, never higher, same currency, only where money moves.
/// Approving the requested amount exactly is no narrowing.
pub fn narrowed(requested: Option<&Money>, approved: Option<Money>) -> Result<Option<Money>, Refusal> {
    let Some(approved) = approved else { return Ok(None) };
    let bad = |why: &str| Err(Refusal::BadAmount(why.into()));
    match requested {
        None => bad("this action moves no money, so there is no amount to narrow"),
        Some(r) if r.currency != approved.currency => bad(&format!("the amount must be in {}", r.currency)),
        Some(r) if approved.value > r.value => {
            bad(&format!("an approval may lower the amount, never raise it above {r}"))
        }
        Some(_) if approved.value <= rust_decimal::Decimal::ZERO => bad("the approved amount must be more than zero"),
        Some(r) if approved.value == r.value => Ok(None),
        Some(_) => Ok(Some(approved)),
    }
}

/// The preset reasons a reviewer picks from when denying; free text may follow.
pub const DENY_REASONS: [&str; 5] = [
    "Not enough evidence for this action",
    "Outside what the customer consented to",
    "Amount too high for this case",
    "Suspected fraud or account takeover",
    "Needs a different resolution",
];

/// The reason returned to the agent: a preset, a free-text explanation, or both.
pub fn deny_reason(preset: &str, text: &str) -> Result<String, Refusal> {
    let (preset, text) = (preset.trim(), text.trim());
    if !preset.is_empty() && !DENY_REASONS.contains(&preset) {
        return Err(Refusal::UnknownReason(preset.to_string()));
    }
    match (preset.is_empty(), text.is_empty()) {
        (true, true) => Err(Refusal::ReasonRequired),
        (false, true) => Ok(preset.to_string()),
        (true, false) => Ok(text.to_string()),
        (false, false) => Ok(format!("{preset}: {text}")),
    }
}

/// Who holds an item for review and until when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    pub user: Uuid,
    pub until: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The item was free (or its claim had lapsed): now `user`'s.
    Claimed,
    /// `user` already held it: renewed.
    Renewed,
    /// Someone else held it and `user` took it over after confirming.
    TakenOver { from: Uuid },
    /// Someone else holds it.
    HeldBy(Claim),
}

/// What opening (or renewing, or taking over) an item does to its claim.
pub fn claim(current: Option<Claim>, user: Uuid, take_over: bool, now: OffsetDateTime) -> ClaimOutcome {
    match current {
        Some(c) if c.until > now && c.user == user => ClaimOutcome::Renewed,
        Some(c) if c.until > now && take_over => ClaimOutcome::TakenOver { from: c.user },
        Some(c) if c.until > now => ClaimOutcome::HeldBy(c),
        _ => ClaimOutcome::Claimed,
    }
}

#[cfg(test)]
#[path = "review_tests.rs"]
mod tests;
