//! The auditors' pictures, read from the rollups: decisions per day by outcome, time to decision by action
//! type, approval rates by action type and reviewer, expiries, the queue's age now, and the rubber-stamp
//! signal. Also the vote-time check that feeds that signal.

use super::history::Reader;
use super::{Service, ServiceError};
use crate::domain::history::Reach;
use crate::domain::{insights, HeldStatus, Invalid};
use crate::store::{HeldAction, StoreError};
use std::collections::BTreeMap;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// Periods an auditor may pick, in days.
pub const PERIODS: [i64; 4] = [7, 30, 90, 365];

/// Approvals and denials of one key (an action type, a reviewer).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rate {
    pub approvals: i64,
    pub denials: i64,
    pub fast: i64,
}

impl Rate {
    /// Share of approvals among decisions, in percent.
    pub fn approval_percent(&self) -> Option<f64> {
        let all = self.approvals + self.denials;
        (all > 0).then(|| 100.0 * self.approvals as f64 / all as f64)
    }
}

/// What `/insights` shows, as numbers.
#[derive(Debug, Clone, Default)]
pub struct Insights {
    pub tenants: Vec<Uuid>,
    pub from: String,
    pub to: String,
    pub days: Vec<String>,
    /// Settled per day, per outcome (approved, denied, expired, cancelled), aligned with `days`.
    pub per_day: BTreeMap<&'static str, Vec<i64>>,
    /// (action type, p50 seconds, p90 seconds, decisions).
    pub latency: Vec<(String, i64, i64, i64)>,
    pub by_action: BTreeMap<String, Rate>,
    pub by_reviewer: BTreeMap<Uuid, Rate>,
    /// (band, pending in it) for the queue now.
    pub queue_age: Vec<(&'static str, i64)>,
}

const OUTCOMES: [HeldStatus; 4] =
    [HeldStatus::Approved, HeldStatus::Denied, HeldStatus::Expired, HeldStatus::Cancelled];

impl Service {
    /// Whether `user` approving `action` now would come sooner after they opened it than reading it takes.
    /// The opening is their claim (the case view claims on open); without one, the action's arrival.
    pub(super) async fn approved_unread(
        &self,
        action: &HeldAction,
        user: Uuid,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let events = self.store.audit_about(&format!("held_action:{}", action.id)).await?;
        let actor = format!("user:{user}");
        let opened = events
            .iter()
            .rev()
            .find(|e| e.actor == actor && matches!(e.kind.as_str(), "held_action.claimed" | "held_action.taken_over"))
            .and_then(|e| OffsetDateTime::parse(&e.at, &Rfc3339).ok())
            .unwrap_or(action.received_at);
        let body: serde_json::Value = serde_json::from_str(&action.body).unwrap_or_default();
        Ok(insights::fast_approval(true, opened, now, insights::words_to_read(&body)))
    }

    /// The pictures of the reader's tenants (one of them, by slug) over the last `days` days.
    pub async fn insights(&self, reader: &Reader, tenant: &str, days: i64) -> Result<Insights, ServiceError> {
        if reader.reach != Reach::Tenants {
            return Err(ServiceError::Forbidden);
        }
        if !PERIODS.contains(&days) {
            return Err(Invalid::new(format!("period: {days} days is not one of 7, 30, 90 or 365")).into());
        }
        let tenants = reader.tenants_named(tenant)?;
        let now = self.clock.now();
        let day_list: Vec<String> = (0..days).rev().map(|d| insights::day(now - Duration::days(d))).collect();
        let (from, to) = (day_list.first().cloned().unwrap_or_default(), day_list.last().cloned().unwrap_or_default());
        let (per_outcome, latency_buckets, votes) = tokio::try_join!(
            self.store.outcomes_per_day(&tenants, &from, &to),
            self.store.decision_latency(&tenants, &from, &to),
            self.store.vote_counts(&tenants, &from, &to),
        )?;
        let index: BTreeMap<&str, usize> = day_list.iter().enumerate().map(|(i, d)| (d.as_str(), i)).collect();
        let mut per_day: BTreeMap<&'static str, Vec<i64>> =
            OUTCOMES.iter().map(|o| (o.as_str(), vec![0; day_list.len()])).collect();
        for (day, outcome, n) in &per_outcome {
            let outcome = OUTCOMES.iter().find(|o| o.as_str() == outcome).map(|o| o.as_str());
            if let (Some(row), Some(i)) = (outcome.and_then(|o| per_day.get_mut(o)), index.get(day.as_str())) {
                row[*i] += n;
            }
        }
        // Time to a human decision: approvals and denials (expiry's time is its deadline).
        let mut histograms: BTreeMap<String, BTreeMap<i64, i64>> = BTreeMap::new();
        for (action, bucket, n) in latency_buckets {
            *histograms.entry(action).or_default().entry(bucket).or_default() += n;
        }
        let latency = histograms
            .into_iter()
            .map(|(action, h)| {
                let pairs: Vec<(i64, i64)> = h.into_iter().collect();
                let n = pairs.iter().map(|(_, n)| n).sum();
                let q = |p| insights::quantile(&pairs, p).unwrap_or(0);
                (action, q(0.5), q(0.9), n)
            })
            .collect();
        let (mut by_action, mut by_reviewer) = (BTreeMap::<String, Rate>::new(), BTreeMap::<Uuid, Rate>::new());
        for v in &votes {
            for rate in
                [by_action.entry(v.action_type.clone()).or_default(), by_reviewer.entry(v.reviewer_id).or_default()]
            {
                rate.approvals += v.approvals;
                rate.denials += v.denials;
                rate.fast += v.fast_approvals;
            }
        }
        let bands = [("under 5 min", 0), ("5–15 min", 5), ("15–60 min", 15), ("over 1 h", 60)];
        let cutoffs: Vec<OffsetDateTime> = bands.iter().map(|(_, m)| now - Duration::minutes(*m)).collect();
        let older = self.store.pending_older_than(&tenants, &cutoffs).await?;
        // "older than 0 min" is everything pending; each band is the difference to the next cutoff.
        let queue_age = bands
            .iter()
            .enumerate()
            .map(|(i, (name, _))| (*name, older[i] - older.get(i + 1).copied().unwrap_or(0)))
            .collect();
        Ok(Insights { tenants, from, to, days: day_list, per_day, latency, by_action, by_reviewer, queue_age })
    }
}
