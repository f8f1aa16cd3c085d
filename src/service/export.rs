//! Exports of the history and of the audit log, as CSV or NDJSON, streamed page by page so memory stays
//! flat whatever the size. Each export is first recorded in the audit log — who, what, which filter — and
//! only then streamed; the console's download and `countersign export` both come through here.

use super::history::Reader;
use super::{Service, ServiceError};
use crate::domain::audit::{Event, Kind, Record};
use crate::domain::export::{push_record, Format};
use crate::domain::history::AuditFilterQuery;
use crate::store::{AuditQuery, HeldAction, HistoryQuery, Store, StoreError};
use app::history_model::{AuditFilter, HistoryFilter};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use time::format_description::well_known::Rfc3339;
use tokio::sync::mpsc;
use uuid::Uuid;

/// Rows read per query. At most four pages are in memory at once (one being read, two waiting, one being
/// written), ~4 MB each: the export's memory stays flat and well under its 20 MB budget.
pub const PAGE: i64 = 1_000;

const HISTORY_HEADER: [&str; 21] = [
    "id",
    "tenant",
    "received_at",
    "status",
    "decided_at",
    "decided_by",
    "action",
    "amount",
    "currency",
    "approved_amount",
    "risk_tier",
    "agent",
    "agent_id",
    "customer_id",
    "case_id",
    "approvals",
    "reason",
    "intent",
    "case_summary",
    "transcript",
    "content_hash",
];
const AUDIT_HEADER: [&str; 10] =
    ["seq", "at", "actor", "kind", "subject", "tenant", "data", "prev_hash", "hash", "names"];

enum Job {
    History(HistoryQuery),
    Audit(AuditQuery),
}

/// An export that has been checked and recorded, ready to stream.
pub struct Export {
    job: Job,
    pub format: Format,
    store: Arc<dyn Store>,
    tenants: HashMap<Uuid, String>,
    agents: HashMap<Uuid, String>,
    people: HashMap<Uuid, String>,
}

/// The parts of a submission a CSV row carries as text (the NDJSON row carries the submission whole).
#[derive(Deserialize)]
struct Texts<'a> {
    #[serde(borrow)]
    intent: Cow<'a, str>,
    #[serde(borrow)]
    case: CaseTexts<'a>,
    #[serde(borrow, default)]
    transcript: Vec<TurnText<'a>>,
}

#[derive(Deserialize)]
struct CaseTexts<'a> {
    #[serde(borrow, default)]
    summary: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct TurnText<'a> {
    #[serde(borrow)]
    role: Cow<'a, str>,
    #[serde(borrow)]
    text: Cow<'a, str>,
}

impl Service {
    pub async fn export_history(
        &self,
        reader: &Reader,
        filter: &HistoryFilter,
        format: Format,
    ) -> Result<Export, ServiceError> {
        let query = self.history_query(reader, filter, None, PAGE)?;
        let covered = query.tenants.clone();
        self.record_export(reader, Kind::HistoryExported, format, filter.to_query(false), &covered).await?;
        self.export(reader, Job::History(query), format).await
    }

    pub async fn export_audit(
        &self,
        reader: &Reader,
        filter: &AuditFilter,
        format: Format,
    ) -> Result<Export, ServiceError> {
        if reader.audit.tenants.is_empty() && reader.audit.people.is_empty() {
            return Err(ServiceError::Forbidden);
        }
        let mut parsed = AuditFilterQuery::parse(filter, |s| reader.tenant_of(s))?;
        parsed.before = None;
        let covered = match parsed.tenant {
            Some(t) => reader.audit.tenants.iter().copied().filter(|x| *x == t).collect(),
            None => reader.audit.tenants.clone(),
        };
        self.record_export(reader, Kind::AuditExported, format, filter.to_query(false), &covered).await?;
        let query = AuditQuery { scope: reader.audit.clone(), filter: parsed, limit: PAGE };
        self.export(reader, Job::Audit(query), format).await
    }

    /// One event per tenant the export covers, so each tenant's log shows who took its records away.
    async fn record_export(
        &self,
        reader: &Reader,
        kind: Kind,
        format: Format,
        filter: String,
        tenants: &[Uuid],
    ) -> Result<(), ServiceError> {
        let subject = match &reader.actor {
            crate::domain::audit::Actor::User(u) => format!("user:{u}"),
            other => other.encode(),
        };
        let event = Event::new(kind, reader.actor.clone(), subject)
            .data(json!({ "format": format.as_str(), "filter": filter }));
        let events: Vec<Event> =
            if tenants.is_empty() { vec![event] } else { tenants.iter().map(|t| event.clone().tenant(*t)).collect() };
        self.store.append_all(events, self.clock.now()).await?;
        Ok(())
    }

    async fn export(&self, reader: &Reader, job: Job, format: Format) -> Result<Export, ServiceError> {
        let tenants = self.store.tenants().await?.into_iter().map(|t| (t.id, t.slug)).collect();
        let agents = self.store.agents(&reader.tenants, None).await?.into_iter().map(|a| (a.id, a.name)).collect();
        let people = self.people_names(reader).await?;
        Ok(Export { job, format, store: self.store.clone(), tenants, agents, people })
    }
}

fn when(t: time::OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

impl Export {
    pub fn file_name(&self) -> String {
        let what = match self.job {
            Job::History(_) => "history",
            Job::Audit(_) => "audit",
        };
        format!("countersign-{what}.{}", self.format.as_str())
    }

    /// Writes every row to `out`, a page per message; returns how many rows. Stops early, without error,
    /// when the receiver goes away (a cancelled download). The next page is read while this one is written:
    /// reading and encoding each take about half of an export's time, and they run on different cores.
    pub async fn run(self, out: mpsc::Sender<String>) -> Result<u64, StoreError> {
        let Export { job, format, store, tenants, agents, people } = self;
        if format == Format::Csv {
            let mut header = String::new();
            match &job {
                Job::History(_) => push_record(&mut header, HISTORY_HEADER),
                Job::Audit(_) => push_record(&mut header, AUDIT_HEADER),
            }
            if out.send(header).await.is_err() {
                return Ok(0);
            }
        }
        let (pages_tx, mut pages) = mpsc::channel(2);
        let reader = AbortOnDrop(tokio::spawn(read_pages(store, job, pages_tx)));
        let mut rows = 0u64;
        while let Some(page) = pages.recv().await {
            let (chunk, n) = match page? {
                Page::History(page) => {
                    let mut chunk = String::with_capacity(page.len() * 1024);
                    page.iter().for_each(|a| history_row(&mut chunk, a, format, &tenants, &agents, &people));
                    (chunk, page.len())
                }
                Page::Audit(page) => {
                    let mut chunk = String::with_capacity(page.len() * 512);
                    page.iter().for_each(|r| audit_row(&mut chunk, r, format, &tenants, &agents, &people));
                    (chunk, page.len())
                }
            };
            rows += n as u64;
            if n > 0 && out.send(chunk).await.is_err() {
                break;
            }
        }
        drop(reader);
        Ok(rows)
    }
}

enum Page {
    History(Vec<HeldAction>),
    Audit(Vec<Record>),
}

/// Aborts the page reader when the export ends early (a cancelled download, a failed page).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Reads the job's pages in order into `pages`, until the last one, a failure, or nobody listening.
async fn read_pages(store: Arc<dyn Store>, mut job: Job, pages: mpsc::Sender<Result<Page, StoreError>>) {
    loop {
        let read = match &mut job {
            Job::History(q) => store.history(q).await.map(|page| {
                q.after = page.last().map(|a| (a.received_at, a.id));
                ((page.len() as i64) < q.limit, Page::History(page))
            }),
            Job::Audit(q) => store.audit_events(q).await.map(|page| {
                q.filter.before = page.last().map(|r| r.seq);
                ((page.len() as i64) < q.limit, Page::Audit(page))
            }),
        };
        let (last, page) = match read {
            Ok(read) => read,
            Err(e) => {
                let _ = pages.send(Err(e)).await;
                return;
            }
        };
        if pages.send(Ok(page)).await.is_err() || last {
            return;
        }
    }
}

/// A name from its map, borrowed; the id itself where the name is unknown.
fn name_of(map: &HashMap<Uuid, String>, id: Uuid) -> Cow<'_, str> {
    map.get(&id).map_or_else(|| Cow::Owned(id.to_string()), |name| Cow::Borrowed(name.as_str()))
}

fn history_row(
    out: &mut String,
    a: &HeldAction,
    format: Format,
    tenants: &HashMap<Uuid, String>,
    agents: &HashMap<Uuid, String>,
    people: &HashMap<Uuid, String>,
) {
    let amount = a.amount.as_ref();
    // Empty unless approved (`approved_amount` holds that rule for receipts and webhooks too).
    let approved = crate::delivery::outcome::approved_amount(a).map(|m| m.value.to_string()).unwrap_or_default();
    // Borrowed where the row or a name map already holds the text: only what must be formatted is allocated.
    let fields: [Cow<str>; 17] = [
        a.id.to_string().into(),
        name_of(tenants, a.tenant_id),
        when(a.received_at).into(),
        a.status.as_str().into(),
        a.decided_at.map(when).unwrap_or_default().into(),
        a.decided_by.map(|u| name_of(people, u)).unwrap_or_default(),
        a.action.as_str().into(),
        amount.map(|m| m.value.to_string()).unwrap_or_default().into(),
        amount.map_or("", |m| m.currency.as_str()).into(),
        approved.into(),
        a.tier.as_str().into(),
        name_of(agents, a.agent_id),
        a.agent_id.to_string().into(),
        a.customer_id.as_str().into(),
        a.case_id.as_str().into(),
        a.approvals.to_string().into(),
        a.outcome_reason.as_deref().unwrap_or_default().into(),
    ];
    match format {
        Format::Csv => {
            let texts: Option<Texts> = serde_json::from_str(&a.body).ok();
            let mut transcript = String::new();
            for (i, turn) in texts.iter().flat_map(|t| &t.transcript).enumerate() {
                if i > 0 {
                    transcript.push('\n');
                }
                transcript.push_str(&turn.role);
                transcript.push_str(": ");
                transcript.push_str(&turn.text);
            }
            let intent = texts.as_ref().map_or("", |t| t.intent.as_ref());
            let summary = texts.as_ref().and_then(|t| t.case.summary.as_deref()).unwrap_or("");
            let cells = fields.iter().map(|f| f.as_ref()).chain([intent, summary, &transcript, &a.content_hash]);
            push_record(out, cells);
        }
        Format::Ndjson => {
            // The stored body is canonical JSON already: it goes in as it is, not parsed and printed again.
            // (Serialising string keys and values cannot fail.)
            if let Ok(mut line) = serde_json::to_string(&Columns(&fields, &a.content_hash)) {
                line.pop();
                out.push_str(&line);
                out.push_str(",\"submission\":");
                out.push_str(&a.body);
                out.push_str("}\n");
            }
        }
    }
}

/// A history row's columns as a JSON object, by the CSV header's names, empty ones as null, then the
/// content hash: written straight out, not gathered into a map of owned keys first.
struct Columns<'a>(&'a [Cow<'a, str>], &'a str);

impl Serialize for Columns<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len() + 1))?;
        for (key, value) in HISTORY_HEADER.iter().zip(self.0) {
            map.serialize_entry(key, &Some(value.as_ref()).filter(|v| !v.is_empty()))?;
        }
        map.serialize_entry("content_hash", self.1)?;
        map.end()
    }
}

/// `user:<id>` → the person's name, `agent:<id>` → the agent's, `tenant:<id>` → the slug; else as stored.
pub fn reference_name(
    reference: &str,
    tenants: &HashMap<Uuid, String>,
    agents: &HashMap<Uuid, String>,
    people: &HashMap<Uuid, String>,
) -> Option<String> {
    let (kind, id) = reference.split_once(':')?;
    let id = Uuid::parse_str(id).ok()?;
    match kind {
        "user" => people.get(&id).cloned(),
        "agent" => agents.get(&id).cloned(),
        "tenant" => tenants.get(&id).cloned(),
        _ => None,
    }
}

fn audit_row(
    out: &mut String,
    r: &Record,
    format: Format,
    tenants: &HashMap<Uuid, String>,
    agents: &HashMap<Uuid, String>,
    people: &HashMap<Uuid, String>,
) {
    let tenant = r.tenant.map(|t| name_of(tenants, t).into_owned()).unwrap_or_default();
    let actor_name = reference_name(&r.actor, tenants, agents, people).unwrap_or_default();
    let subject_name = reference_name(&r.subject, tenants, agents, people).unwrap_or_default();
    match format {
        Format::Csv => {
            let names = format!("{actor_name} → {subject_name}");
            let seq = r.seq.to_string();
            let cells = [&seq, &r.at, &r.actor, &r.kind, &r.subject, &tenant, &r.data, &r.prev_hash, &r.hash, &names];
            push_record(out, cells.iter().map(|s| s.as_str()));
        }
        Format::Ndjson => {
            let data: serde_json::Value =
                serde_json::from_str(&r.data).unwrap_or(serde_json::Value::String(r.data.clone()));
            let line = json!({
                "seq": r.seq, "at": r.at, "actor": r.actor, "actor_name": actor_name, "kind": r.kind,
                "subject": r.subject, "subject_name": subject_name, "tenant": tenant, "data": data,
                "prev_hash": r.prev_hash, "hash": r.hash,
            });
            out.push_str(&line.to_string());
            out.push('\n');
        }
    }
}
