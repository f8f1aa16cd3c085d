//! The decision history's rules: who sees which decisions, and what a filter in an address means. The
//! console, the export endpoints and the CLI all read filters through [`Filter::parse`].

use super::scope::Money;
use super::{ActionType, HeldStatus, Invalid, RiskTier, Role};
use app::history_model::{AuditFilter, HistoryFilter};
use rust_decimal::Decimal;
use std::str::FromStr;
use time::format_description::well_known::Rfc3339;
use time::{Date, Duration, OffsetDateTime, Time};
use uuid::Uuid;

/// How much of the history someone sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Every held action of their tenants (auditors and admins).
    Tenants,
    /// Only the held actions they voted on ("My decisions", supervisors).
    OwnVotes,
}

/// `None`: the history is closed to these roles.
pub fn reach(roles: &[Role]) -> Option<Reach> {
    if roles.iter().any(|r| matches!(r, Role::Auditor | Role::Admin)) {
        Some(Reach::Tenants)
    } else if roles.contains(&Role::Supervisor) {
        Some(Reach::OwnVotes)
    } else {
        None
    }
}

/// Free text is matched word by word (every word must occur); at most this many words count.
pub const MAX_WORDS: usize = 8;

/// A history filter, checked. Times are a half-open range `[from, to)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub from: Option<OffsetDateTime>,
    pub to: Option<OffsetDateTime>,
    pub tenant: Option<Uuid>,
    pub agent: Option<Uuid>,
    pub owner: Option<Uuid>,
    pub reviewer: Option<Uuid>,
    pub action: Option<ActionType>,
    pub tier: Option<RiskTier>,
    pub outcome: Option<HeldStatus>,
    pub customer: Option<String>,
    pub case: Option<String>,
    pub amount_min: Option<Decimal>,
    pub amount_max: Option<Decimal>,
    /// Lower-cased words of the free text.
    pub words: Vec<String>,
}

fn id(field: &str, v: &str) -> Result<Option<Uuid>, Invalid> {
    match v.trim() {
        "" => Ok(None),
        v => Uuid::parse_str(v).map(Some).map_err(|_| Invalid::new(format!("{field}: \"{v}\" is not an id"))),
    }
}

fn tenant(field: &str, v: &str, tenant_of: &impl Fn(&str) -> Option<Uuid>) -> Result<Option<Uuid>, Invalid> {
    match v.trim() {
        "" => Ok(None),
        v => tenant_of(v).map(Some).ok_or_else(|| Invalid::new(format!("{field}: \"{v}\" is not one of your tenants"))),
    }
}

fn text(field: &str, v: &str) -> Result<Option<String>, Invalid> {
    match v.trim() {
        "" => Ok(None),
        v if v.chars().count() > 200 => Err(Invalid::new(format!("{field}: at most 200 characters"))),
        v => Ok(Some(v.to_string())),
    }
}

fn amount(field: &str, v: &str) -> Result<Option<Decimal>, Invalid> {
    match v.trim() {
        "" => Ok(None),
        // The same rules as an amount in a submission; the currency is not part of a range.
        v => Money::parse(v, "EUR").map(|m| Some(m.value)).map_err(|e| Invalid::new(format!("{field}: {e}"))),
    }
}

/// A day (`2026-11-01`, midnight UTC; with `end`, the midnight after it) or an RFC 3339 time.
pub fn time_bound(field: &str, v: &str, end: bool) -> Result<Option<OffsetDateTime>, Invalid> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = OffsetDateTime::parse(v, &Rfc3339) {
        return Ok(Some(t));
    }
    let day = Date::parse(v, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| Invalid::new(format!("{field}: \"{v}\" is neither a day like 2026-11-01 nor an RFC 3339 time")))?;
    let start = day.with_time(Time::MIDNIGHT).assume_utc();
    Ok(Some(if end { start + Duration::days(1) } else { start }))
}

fn choice<T>(field: &str, v: &str, parse: impl Fn(&str) -> Option<T>, known: &[&str]) -> Result<Option<T>, Invalid> {
    match v.trim() {
        "" => Ok(None),
        v => parse(v)
            .map(Some)
            .ok_or_else(|| Invalid::new(format!("{field}: \"{v}\" is not one of {}", known.join(", ")))),
    }
}

/// The words of a free-text query: letters and digits, lower-cased, the first [`MAX_WORDS`].
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().take(40).collect::<String>().to_lowercase())
        .take(MAX_WORDS)
        .collect()
}

impl Filter {
    /// `tenant_of` finds one of the reader's tenants by slug; any other slug is refused alike, whether it
    /// exists or not.
    pub fn parse(f: &HistoryFilter, tenant_of: impl Fn(&str) -> Option<Uuid>) -> Result<Filter, Invalid> {
        let actions: Vec<&str> = ActionType::ALL.iter().map(|a| a.as_str()).collect();
        let tiers = [RiskTier::High.as_str(), RiskTier::Critical.as_str()];
        let outcomes: Vec<&str> = HeldStatus::ALL.iter().map(|s| s.as_str()).collect();
        if f.q.chars().count() > 200 {
            return Err(Invalid::new("text: at most 200 characters"));
        }
        let filter = Filter {
            from: time_bound("from", &f.from, false)?,
            to: time_bound("to", &f.to, true)?,
            tenant: tenant("tenant", &f.tenant, &tenant_of)?,
            agent: id("agent", &f.agent)?,
            owner: id("owner", &f.owner)?,
            reviewer: id("reviewer", &f.reviewer)?,
            action: choice("action", &f.action, ActionType::parse, &actions)?,
            tier: choice("tier", &f.tier, RiskTier::parse, &tiers)?,
            outcome: choice("outcome", &f.outcome, HeldStatus::parse, &outcomes)?,
            customer: text("customer", &f.customer)?,
            case: text("case", &f.case)?,
            amount_min: amount("amount from", &f.amount_min)?,
            amount_max: amount("amount to", &f.amount_max)?,
            words: words(&f.q),
        };
        if let (Some(a), Some(b)) = (filter.from, filter.to) {
            if a >= b {
                return Err(Invalid::new("from: the range must start before it ends"));
            }
        }
        if let (Some(a), Some(b)) = (filter.amount_min, filter.amount_max) {
            if a > b {
                return Err(Invalid::new("amount from: the range must start below where it ends"));
            }
        }
        Ok(filter)
    }
}

/// An audit-log filter, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilterQuery {
    pub kind: Option<String>,
    pub actor: Option<String>,
    pub target: Option<String>,
    pub tenant: Option<Uuid>,
    pub from: Option<OffsetDateTime>,
    pub to: Option<OffsetDateTime>,
    pub before: Option<i64>,
}

/// An event reference such as `user:<uuid>`, `held_action:<uuid>`, `system` or `cli`.
fn reference(field: &str, v: &str) -> Result<Option<String>, Invalid> {
    let v = v.trim();
    let well_formed = match v.split_once(':') {
        None => v.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
        Some((kind, rest)) => {
            kind.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                && (rest == "unknown" || Uuid::parse_str(rest).is_ok())
        }
    };
    match v {
        "" => Ok(None),
        v if well_formed && v.len() <= 80 => Ok(Some(v.to_string())),
        v => Err(Invalid::new(format!("{field}: \"{v}\" is not a reference such as user:<id> or held_action:<id>"))),
    }
}

impl AuditFilterQuery {
    pub fn parse(f: &AuditFilter, tenant_of: impl Fn(&str) -> Option<Uuid>) -> Result<AuditFilterQuery, Invalid> {
        let kind = match f.kind.trim() {
            "" => None,
            k if super::audit::Kind::parse(k).is_some() => Some(k.to_string()),
            k => return Err(Invalid::new(format!("event: \"{k}\" is not an event type"))),
        };
        Ok(AuditFilterQuery {
            kind,
            actor: reference("actor", &f.actor)?,
            target: reference("target", &f.target)?,
            tenant: tenant("tenant", &f.tenant, &tenant_of)?,
            from: time_bound("from", &f.from, false)?,
            to: time_bound("to", &f.to, true)?,
            before: match f.before.trim() {
                "" => None,
                b => Some(b.parse::<i64>().map_err(|_| Invalid::new("before: not an event number"))?),
            },
        })
    }
}

/// An agent's owner and sponsor at `moment`, from who they are now and the agent's events (chain order):
/// each hand-over accepted or sponsor change since then is undone, newest first.
pub fn standing_at(
    owner: Uuid,
    sponsor: Option<Uuid>,
    agent_events: &[super::audit::Record],
    moment: OffsetDateTime,
) -> (Uuid, Option<Uuid>) {
    use super::audit::Kind;
    let (mut owner, mut sponsor) = (owner, sponsor);
    for e in agent_events.iter().rev() {
        match OffsetDateTime::parse(&e.at, &Rfc3339) {
            Ok(at) if at > moment => {}
            _ => break,
        }
        let data: serde_json::Value = serde_json::from_str(&e.data).unwrap_or_default();
        let from = data["from"].as_str().and_then(|s| Uuid::parse_str(s).ok());
        match Kind::parse(&e.kind) {
            Some(Kind::HandoverAccepted) => owner = from.unwrap_or(owner),
            Some(Kind::SponsorChanged) => sponsor = from,
            _ => {}
        }
    }
    (owner, sponsor)
}

/// A decimal the way both stores compare amounts (as a double; cents are exact far beyond any refund).
pub fn as_number(d: Decimal) -> f64 {
    f64::from_str(&d.to_string()).unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reach_follows_roles() {
        assert_eq!(reach(&[Role::Auditor]), Some(Reach::Tenants));
        assert_eq!(reach(&[Role::Admin, Role::Supervisor]), Some(Reach::Tenants));
        assert_eq!(reach(&[Role::Supervisor]), Some(Reach::OwnVotes));
        assert_eq!(reach(&[Role::Owner]), None);
    }

    #[test]
    fn filters_parse_and_name_what_is_wrong() {
        let f = HistoryFilter {
            from: "2026-11-01".into(),
            to: "2026-11-30".into(),
            outcome: "approved".into(),
            amount_min: "200".into(),
            q: "Double-charge, REFUND!".into(),
            ..Default::default()
        };
        let p = Filter::parse(&f, |_| None).expect("valid");
        assert_eq!(p.to.map(|t| t.day()), Some(1), "to includes its whole day");
        assert_eq!(p.words, ["double", "charge", "refund"]);
        assert_eq!(p.outcome, Some(HeldStatus::Approved));
        let bad = |f: HistoryFilter| Filter::parse(&f, |_| None).err().map(|e| e.0).unwrap_or_default();
        assert!(bad(HistoryFilter { outcome: "lost".into(), ..Default::default() }).starts_with("outcome:"));
        assert!(bad(HistoryFilter { agent: "x".into(), ..Default::default() }).starts_with("agent:"));
        assert!(bad(HistoryFilter { tenant: "elsewhere".into(), ..Default::default() }).starts_with("tenant:"));
        assert!(bad(HistoryFilter { from: "yesterday".into(), ..Default::default() }).starts_with("from:"));
        assert!(bad(HistoryFilter { amount_min: "5".into(), amount_max: "1".into(), ..Default::default() })
            .starts_with("amount from:"));
        assert!(bad(HistoryFilter { from: "2026-11-02".into(), to: "2026-11-01".into(), ..Default::default() })
            .starts_with("from:"));
    }

    #[test]
    fn standing_is_read_back_to_the_moment() {
        use crate::domain::audit::Record;
        let (a, b, c) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        let event = |kind: &str, at: &str, from: Uuid| Record {
            seq: 0,
            at: at.into(),
            actor: "system".into(),
            kind: kind.into(),
            subject: "agent:x".into(),
            tenant: None,
            data: serde_json::json!({ "from": from }).to_string(),
            prev_hash: String::new(),
            hash: String::new(),
        };
        let events = [
            event("agent.handover_accepted", "2026-11-01T10:00:00Z", a),
            event("agent.sponsor_changed", "2026-11-02T10:00:00Z", c),
        ];
        let at = |t: &str| OffsetDateTime::parse(t, &Rfc3339).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        assert_eq!(standing_at(b, None, &events, at("2026-10-01T00:00:00Z")), (a, Some(c)));
        assert_eq!(standing_at(b, None, &events, at("2026-11-01T12:00:00Z")), (b, Some(c)));
        assert_eq!(standing_at(b, None, &events, at("2026-11-03T00:00:00Z")), (b, None));
    }

    #[test]
    fn audit_references_are_checked() {
        let ok = AuditFilter {
            actor: format!("user:{}", Uuid::nil()),
            kind: "held_action.approved".into(),
            ..Default::default()
        };
        assert!(AuditFilterQuery::parse(&ok, |_| None).is_ok());
        let bad = AuditFilter { actor: "user:' OR 1=1".into(), ..Default::default() };
        assert!(AuditFilterQuery::parse(&bad, |_| None).is_err());
        let bad = AuditFilter { kind: "nonsense".into(), ..Default::default() };
        assert!(AuditFilterQuery::parse(&bad, |_| None).is_err());
    }
}
