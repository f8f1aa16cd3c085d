//! Quality assurance: an auditor draws a random sample of a period's decisions for re-review, records
//! "agree" or "disagree" with a note on each, and sees the disagreement rate per reviewer. Every step is an
//! audit event, in the transaction that makes it.

use super::history::Reader;
use super::{Service, ServiceError};
use crate::domain::audit::{Event, Kind};
use crate::domain::history::Reach;
use crate::domain::Invalid;
use crate::store::QaSample;
use serde_json::json;
use std::collections::BTreeMap;
use time::Duration;
use uuid::Uuid;

/// At most this many decisions per draw.
pub const MAX_SAMPLE: i64 = 50;
/// The longest period a sample is drawn from (ten years): beyond it a date would leave the calendar.
pub const MAX_DAYS: i64 = 3660;

/// Refuses a period outside 1 to `MAX_DAYS` days, naming the bounds.
pub fn check_days(days: i64) -> Result<i64, Invalid> {
    if (1..=MAX_DAYS).contains(&days) {
        Ok(days)
    } else {
        Err(Invalid::new(format!("period: between 1 and {MAX_DAYS} days")))
    }
}

/// (reviewed, disagreed) per reviewer who decided the sampled actions.
pub type Disagreement = BTreeMap<Uuid, (i64, i64)>;

fn auditor(reader: &Reader) -> Result<Uuid, ServiceError> {
    match (&reader.actor, reader.reach) {
        (crate::domain::audit::Actor::User(u), Reach::Tenants) => Ok(*u),
        _ => Err(ServiceError::Forbidden),
    }
}

impl Service {
    /// Draws up to `size` decisions of the last `days` days of the reader's tenants (one, by slug).
    pub async fn draw_sample(
        &self,
        reader: &Reader,
        tenant: &str,
        days: i64,
        size: i64,
    ) -> Result<usize, ServiceError> {
        let me = auditor(reader)?;
        check_days(days)?;
        if !(1..=MAX_SAMPLE).contains(&size) {
            return Err(Invalid::new(format!("sample size: between 1 and {MAX_SAMPLE} decisions")).into());
        }
        let tenants = reader.tenants_named(tenant)?;
        let now = self.clock.now();
        let picked = self.store.sample_candidates(&tenants, now - Duration::days(days), size).await?;
        if picked.is_empty() {
            return Err(Invalid::new("there are no decisions left to sample in this period").into());
        }
        let samples: Vec<QaSample> = picked
            .iter()
            .map(|(action, tenant)| QaSample {
                id: Uuid::now_v7(),
                tenant_id: *tenant,
                held_action_id: *action,
                drawn_by: me,
                drawn_at: now,
                verdict: None,
                note: None,
                reviewed_by: None,
                reviewed_at: None,
                decided_by: None,
                status: String::new(),
                action_type: String::new(),
            })
            .collect();
        let mut per_tenant: BTreeMap<Uuid, Vec<String>> = BTreeMap::new();
        samples.iter().for_each(|s| per_tenant.entry(s.tenant_id).or_default().push(s.held_action_id.to_string()));
        let events = per_tenant
            .into_iter()
            .map(|(tenant, actions)| {
                Event::new(Kind::QaSampleDrawn, reader.actor.clone(), format!("user:{me}"))
                    .tenant(tenant)
                    .data(json!({ "days": days, "size": actions.len(), "held_actions": actions }))
            })
            .collect();
        self.store.insert_samples(&samples, events, now).await?;
        Ok(samples.len())
    }

    /// Records the reader's verdict on a sample; a disagreement needs a note saying why.
    pub async fn record_verdict(
        &self,
        reader: &Reader,
        sample: Uuid,
        agree: bool,
        note: &str,
    ) -> Result<(), ServiceError> {
        let me = auditor(reader)?;
        let s = self.store.sample(sample).await?.ok_or(ServiceError::Forbidden)?;
        if !reader.tenants.contains(&s.tenant_id) {
            return Err(ServiceError::Forbidden);
        }
        let note = note.trim();
        if !agree && note.chars().count() < 3 {
            return Err(Invalid::new("note: say why you disagree").into());
        }
        if note.chars().count() > 2_000 {
            return Err(Invalid::new("note: at most 2,000 characters").into());
        }
        let verdict = if agree { "agree" } else { "disagree" };
        let event =
            Event::new(Kind::QaVerdictRecorded, reader.actor.clone(), format!("held_action:{}", s.held_action_id))
                .tenant(s.tenant_id)
                .data(json!({ "sample": sample, "verdict": verdict, "note": note }));
        if !self.store.record_verdict(sample, agree, note, me, event, self.clock.now()).await? {
            return Err(Invalid::new("this sample already has a verdict").into());
        }
        Ok(())
    }

    /// The samples of the last `days` days, and the disagreement per reviewer among those re-reviewed.
    pub async fn samples(
        &self,
        reader: &Reader,
        tenants: &[Uuid],
        days: i64,
    ) -> Result<(Vec<QaSample>, Disagreement), ServiceError> {
        auditor(reader)?;
        check_days(days)?;
        let samples = self.store.samples(tenants, self.clock.now() - Duration::days(days)).await?;
        let mut rates = Disagreement::new();
        for s in samples.iter().filter(|s| s.verdict.is_some()) {
            if let Some(reviewer) = s.decided_by {
                let e = rates.entry(reviewer).or_default();
                e.0 += 1;
                e.1 += i64::from(s.verdict.as_deref() == Some("disagree"));
            }
        }
        Ok((samples, rates))
    }
}
