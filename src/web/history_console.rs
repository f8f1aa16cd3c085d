//! The history pages' port: filters and cursors from the URL, rows and decision records turned into what
//! the pages show. What a viewer may read is decided by the service's [`Reader`](crate::service::Reader).

use super::agent_console::{delivery_view, id, when};
use super::console::{hide, ConsoleService};
use super::review_console::{cursor, parse_cursor};
use crate::domain::review::Reviewer;
use crate::domain::scope::Money;
use crate::domain::{HeldStatus, Role};
use crate::service::{CaseFile, RecordFile};
use app::error::AppError;
use app::history_model::{DecisionRecord, HistoryFilter, HistoryPage, HistoryRow};
use app::model::{AuditEventView, Viewer};
use app::services::HistoryConsole;
use async_trait::async_trait;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use uuid::Uuid;

/// "4 min 12 s", "2 h 5 min", "850 ms".
fn span(d: time::Duration) -> String {
    let ms = d.whole_milliseconds().max(0);
    let s = ms / 1000;
    match s {
        0 => format!("{ms} ms"),
        1..=59 => format!("{s} s"),
        60..=3599 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

fn decider(a: &crate::store::HeldAction, names: &HashMap<Uuid, String>) -> Option<String> {
    match (a.status, a.decided_by) {
        (HeldStatus::Pending, _) => None,
        (_, Some(u)) => Some(names.get(&u).cloned().unwrap_or_else(|| "someone outside your tenants".into())),
        (HeldStatus::Expired, None) => Some("its deadline".into()),
        (_, None) => Some("the agent".into()),
    }
}

fn intent_of(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["intent"].as_str().map(str::to_string))
        .unwrap_or_default()
}

fn choices(mut pairs: Vec<(String, String)>) -> Vec<(String, String)> {
    pairs.sort_by_key(|p| p.1.to_lowercase());
    pairs
}

#[async_trait]
impl HistoryConsole for ConsoleService {
    async fn history(&self, viewer: &Viewer, filter: HistoryFilter) -> Result<HistoryPage, AppError> {
        let reader = self.0.reader(viewer).await.map_err(hide)?;
        let after = parse_cursor(&filter.after)?;
        let slice = self.0.history(&reader, &filter, after).await.map_err(hide)?;
        let people = self.0.store.users_in(&reader.tenants).await.map_err(|e| hide(e.into()))?;
        let names: HashMap<Uuid, String> = people.iter().map(|u| (u.id, u.name.clone())).collect();
        let agents = self.0.store.agents(&reader.tenants, None).await.map_err(|e| hide(e.into()))?;
        let agent_names: HashMap<Uuid, String> = agents.iter().map(|a| (a.id, a.name.clone())).collect();
        let slugs: HashMap<String, String> = viewer.tenants.iter().map(|t| (t.id.clone(), t.slug.clone())).collect();
        let with_role = |role: Role| {
            choices(
                people.iter().filter(|u| u.roles.contains(&role)).map(|u| (u.id.to_string(), u.name.clone())).collect(),
            )
        };
        Ok(HistoryPage {
            rows: slice
                .actions
                .iter()
                .map(|a| HistoryRow {
                    id: a.id.to_string(),
                    tenant: slugs.get(&a.tenant_id.to_string()).cloned().unwrap_or_default(),
                    received_at: when(a.received_at),
                    action: a.action,
                    amount: a.amount.as_ref().map(Money::to_string),
                    tier: a.tier,
                    agent: agent_names.get(&a.agent_id).cloned().unwrap_or_default(),
                    customer: a.customer_id.clone(),
                    case_id: a.case_id.clone(),
                    status: a.status,
                    decided_by: decider(a, &names),
                    decided_at: a.decided_at.map(when),
                    intent: intent_of(&a.body),
                })
                .collect(),
            next: slice.next.map(|(at, id)| cursor(at, id)),
            mine_only: reader.voter().is_some(),
            tenants: reader.offered(&viewer.tenants),
            agents: choices(agents.iter().map(|a| (a.id.to_string(), a.name.clone())).collect()),
            owners: with_role(Role::Owner),
            reviewers: with_role(Role::Supervisor),
        })
    }

    async fn record(&self, viewer: &Viewer, record_id: &str) -> Result<DecisionRecord, AppError> {
        let reader = self.0.reader(viewer).await.map_err(hide)?;
        let file: RecordFile = self.0.decision_record(&reader, id(record_id)?).await.map_err(hide)?;
        let names = self.0.people_names(&reader).await.map_err(hide)?;
        let name = |u: Uuid| names.get(&u).cloned().unwrap_or_else(|| "someone outside your tenants".into());
        let a = &file.action;
        let computed_hash = hex::encode(Sha256::digest(a.body.as_bytes()));
        // The case view as the reviewer saw it, from the stored submission; nobody decides from a record.
        let case_file = CaseFile {
            action: a.clone(),
            agent: file.agent.clone(),
            reviews: file.reviews.clone(),
            related: Vec::new(),
            approved_24h: (Vec::new(), Vec::new()),
            may_decide: Ok(()),
            subject: crate::service::submitted_subject(&file.events),
        };
        let nobody = Reviewer { user: Uuid::nil(), memberships: Default::default(), stepped_up_at: None };
        let mut case = super::case_view::build(&case_file, &nobody, &names, viewer, self.0.clock.now());
        case.agent.owner = name(file.owner_then);
        case.may_not_decide = Some("A record: nothing is decided here.".into());
        case.claim = None;
        let claims = file
            .events
            .iter()
            .filter_map(|e| {
                let what = match e.kind.as_str() {
                    "held_action.claimed" => "claimed",
                    "held_action.taken_over" => "took over",
                    "held_action.released" => "released",
                    _ => return None,
                };
                let who = e
                    .actor
                    .strip_prefix("user:")
                    .and_then(|u| Uuid::parse_str(u).ok())
                    .map_or_else(|| e.actor.clone(), name);
                Some(format!("{who} · {what} · {}", e.at))
            })
            .collect();
        let tenants: HashMap<Uuid, String> =
            viewer.tenants.iter().filter_map(|t| Some((Uuid::parse_str(&t.id).ok()?, t.slug.clone()))).collect();
        Ok(DecisionRecord {
            stored_hash: a.content_hash.clone(),
            computed_hash,
            time_to_decision: a.decided_at.map(|d| span(d - a.received_at)),
            owner_then: name(file.owner_then),
            sponsor_then: file.sponsor_then.map(name),
            claims,
            deliveries: file.deliveries.iter().map(delivery_view).collect(),
            receipt: a.receipt.clone(),
            receipt_valid: file.receipt_valid,
            events: file
                .events
                .iter()
                .map(|r| AuditEventView {
                    seq: r.seq,
                    at: r.at.clone(),
                    actor_name: r.actor.strip_prefix("user:").and_then(|u| Uuid::parse_str(u).ok()).map(name),
                    actor_href: None,
                    actor: r.actor.clone(),
                    kind: r.kind.clone(),
                    subject: r.subject.clone(),
                    subject_name: None,
                    subject_href: None,
                    tenant: r.tenant.and_then(|t| tenants.get(&t).cloned()),
                    data: r.data.clone(),
                    hash: r.hash.clone(),
                })
                .collect(),
            case,
        })
    }
}
