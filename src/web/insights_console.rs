//! `/insights`' port: the service's numbers turned into charts (drawn here, on the server) and their tables.

use super::charts::bars;
use super::console::{hide, ConsoleService};
use crate::domain::insights::{READING_FLOOR, WORDS_PER_MINUTE};
use crate::service::{Rate, PERIODS};
use app::error::AppError;
use app::insights_model::{Chart, DisagreementRow, InsightsView, SampleRow, StampRow};
use app::model::Viewer;
use app::services::InsightsConsole;
use async_trait::async_trait;

fn period(days: &str) -> Result<i64, AppError> {
    match days.trim() {
        "" => Ok(30),
        d => {
            let days =
                d.parse::<i64>().map_err(|_| AppError::Invalid(format!("period: \"{d}\" is not a number of days")))?;
            crate::service::qa::check_days(days).map_err(|e| AppError::Invalid(e.0))
        }
    }
}

fn percent(p: Option<f64>) -> String {
    p.map_or_else(|| "—".into(), |p| format!("{p:.0} %"))
}

/// "45 s", "12 min", "2.5 h".
fn seconds(s: i64) -> String {
    match s {
        0..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        _ => format!("{:.1} h", s as f64 / 3600.0),
    }
}

fn chart(id: &str, title: &str, summary: String, svg: String, columns: &[&str], rows: Vec<Vec<String>>) -> Chart {
    Chart {
        id: id.into(),
        title: title.into(),
        summary,
        svg,
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows,
    }
}

fn rates<K>(rates: &[(K, Rate)], name: impl Fn(&K) -> String) -> (Vec<String>, Vec<f64>, Vec<Vec<String>>) {
    let labels: Vec<String> = rates.iter().map(|(k, _)| name(k)).collect();
    let values = rates.iter().map(|(_, r)| r.approval_percent().unwrap_or(0.0)).collect();
    let rows = rates
        .iter()
        .zip(&labels)
        .map(|((_, r), l)| {
            vec![l.clone(), r.approvals.to_string(), r.denials.to_string(), percent(r.approval_percent())]
        })
        .collect();
    (labels, values, rows)
}

#[async_trait]
impl InsightsConsole for ConsoleService {
    async fn insights(&self, viewer: &Viewer, tenant: &str, days: &str) -> Result<InsightsView, AppError> {
        let days = period(days)?;
        let reader = self.0.reader(viewer).await.map_err(hide)?;
        let data = self.0.insights(&reader, tenant, days).await.map_err(hide)?;
        let names = self.0.people_names(&reader).await.map_err(hide)?;
        let short_days: Vec<String> = data.days.iter().map(|d| d.get(5..).unwrap_or(d).to_string()).collect();

        let outcomes: Vec<(&str, Vec<f64>)> =
            data.per_day.iter().map(|(o, v)| (*o, v.iter().map(|n| *n as f64).collect())).collect();
        let total: i64 = data.per_day.values().flatten().sum();
        let per_day_rows = data
            .days
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let mut row = vec![d.clone()];
                row.extend(data.per_day.values().map(|v| v[i].to_string()));
                row
            })
            .collect();
        let mut per_day_columns = vec!["day"];
        per_day_columns.extend(data.per_day.keys().copied());
        let per_day = chart(
            "per-day",
            "Decisions per day, by outcome",
            format!("{total} held actions settled from {} to {}.", data.from, data.to),
            bars(&short_days, &outcomes, "held actions", true),
            &per_day_columns,
            per_day_rows,
        );

        let expired = data.per_day.get("expired").cloned().unwrap_or_default();
        let expiries = chart(
            "expiries",
            "Expiries per day",
            format!("{} held actions ran out of time without a decision.", expired.iter().sum::<i64>()),
            bars(&short_days, &[("expired", expired.iter().map(|n| *n as f64).collect())], "expired", false),
            &["day", "expired"],
            data.days.iter().zip(&expired).map(|(d, n)| vec![d.clone(), n.to_string()]).collect(),
        );

        let labels: Vec<String> = data.latency.iter().map(|(a, ..)| a.replace('_', " ")).collect();
        let p50: Vec<f64> = data.latency.iter().map(|(_, p, ..)| *p as f64 / 60.0).collect();
        let p90: Vec<f64> = data.latency.iter().map(|(_, _, p, _)| *p as f64 / 60.0).collect();
        let latency = chart(
            "latency",
            "Time to decision by action type (p50 and p90)",
            "Minutes from arrival to approval or denial; read from buckets, each figure is an upper bound.".into(),
            bars(&labels, &[("p50", p50), ("p90", p90)], "minutes", false),
            &["action type", "p50", "p90", "decisions"],
            data.latency
                .iter()
                .map(|(a, p50, p90, n)| vec![a.clone(), seconds(*p50), seconds(*p90), n.to_string()])
                .collect(),
        );

        let by_action: Vec<(String, Rate)> = data.by_action.iter().map(|(k, v)| (k.clone(), *v)).collect();
        let (labels, values, rows) = rates(&by_action, |a| a.replace('_', " "));
        let approval_by_action = chart(
            "approval-action",
            "Approval rate by action type",
            "Share of votes that approved, per action type.".into(),
            bars(&labels, &[("approved %", values)], "% approved", false),
            &["action type", "approvals", "denials", "approval rate"],
            rows,
        );

        let by_reviewer: Vec<(uuid::Uuid, Rate)> = data.by_reviewer.iter().map(|(k, v)| (*k, *v)).collect();
        let name = |u: &uuid::Uuid| names.get(u).cloned().unwrap_or_else(|| "someone outside your tenants".into());
        let (labels, values, rows) = rates(&by_reviewer, name);
        let approval_by_reviewer = chart(
            "approval-reviewer",
            "Approval rate by reviewer",
            "Share of each reviewer's votes that approved.".into(),
            bars(&labels, &[("approved %", values)], "% approved", false),
            &["reviewer", "approvals", "denials", "approval rate"],
            rows,
        );

        let age_labels: Vec<String> = data.queue_age.iter().map(|(b, _)| b.to_string()).collect();
        let waiting: i64 = data.queue_age.iter().map(|(_, n)| n).sum();
        let queue_age = chart(
            "queue-age",
            "The queue's age now",
            format!("{waiting} held actions waiting, by how long since they arrived."),
            bars(
                &age_labels,
                &[("pending", data.queue_age.iter().map(|(_, n)| *n as f64).collect())],
                "pending",
                false,
            ),
            &["waiting for", "pending"],
            data.queue_age.iter().map(|(b, n)| vec![b.to_string(), n.to_string()]).collect(),
        );

        let stamps = by_reviewer
            .iter()
            .map(|(u, r)| StampRow {
                reviewer: name(u),
                approvals: r.approvals,
                fast: r.fast,
                share: percent((r.approvals > 0).then(|| 100.0 * r.fast as f64 / r.approvals as f64)),
            })
            .collect();
        let (samples, rates) = self.0.samples(&reader, &data.tenants, days).await.map_err(hide)?;
        let when =
            |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        let samples = samples
            .into_iter()
            .map(|s| SampleRow {
                id: s.id.to_string(),
                held_action: s.held_action_id.to_string(),
                action: s.action_type.replace('_', " "),
                status: s.status,
                decided_by: s.decided_by.map(|u| name(&u)).unwrap_or_else(|| "—".into()),
                drawn_at: when(s.drawn_at),
                verdict: s.verdict,
                note: s.note,
                reviewed_by: s.reviewed_by.map(|u| name(&u)),
            })
            .collect();
        let disagreement = rates
            .iter()
            .map(|(u, (reviewed, disagreed))| DisagreementRow {
                reviewer: name(u),
                reviewed: *reviewed,
                disagreed: *disagreed,
                rate: percent((*reviewed > 0).then(|| 100.0 * *disagreed as f64 / *reviewed as f64)),
            })
            .collect();
        Ok(InsightsView {
            samples,
            disagreement,
            max_sample: crate::service::MAX_SAMPLE,
            tenants: reader.offered(&viewer.tenants),
            tenant: tenant.trim().to_string(),
            days,
            periods: PERIODS.to_vec(),
            from: data.from,
            to: data.to,
            charts: vec![per_day, latency, approval_by_action, approval_by_reviewer, expiries, queue_age],
            stamps,
            threshold: format!(
                "An approval counts as fast when it came sooner after the reviewer opened the case than reading \
                 what the case view showed takes: the intent, case summary and transcript at {WORDS_PER_MINUTE} words \
                 per minute, and never under {} seconds.",
                READING_FLOOR.whole_seconds()
            ),
        })
    }

    async fn draw_sample(&self, viewer: &Viewer, tenant: &str, days: &str, size: &str) -> Result<(), AppError> {
        let size =
            size.trim().parse::<i64>().map_err(|_| AppError::Invalid("sample size: a number of decisions".into()))?;
        let reader = self.0.reader(viewer).await.map_err(hide)?;
        self.0.draw_sample(&reader, tenant, period(days)?, size).await.map_err(hide).map(|_| ())
    }

    async fn record_verdict(&self, viewer: &Viewer, sample: &str, verdict: &str, note: &str) -> Result<(), AppError> {
        let agree = match verdict {
            "agree" => true,
            "disagree" => false,
            _ => return Err(AppError::Invalid("verdict: choose agree or disagree".into())),
        };
        let sample =
            uuid::Uuid::parse_str(sample.trim()).map_err(|_| AppError::Invalid("that sample does not exist".into()))?;
        let reader = self.0.reader(viewer).await.map_err(hide)?;
        self.0.record_verdict(&reader, sample, agree, note).await.map_err(hide)
    }
}
