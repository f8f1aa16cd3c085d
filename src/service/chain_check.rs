//! Verifying the audit chain: from the console in the background, one check at a time per server, its
//! progress readable while it runs; from the CLI in the foreground. Either way the result is kept, and the
//! console shows the last one with the head it reached and when.

use super::{Service, ServiceError};
use crate::domain::access;
use crate::domain::audit::Break;
use crate::domain::chain_check::{ChainCheck, Checking};
use crate::domain::checkpoint::{Checkpoint, CheckpointKey, CheckpointKeys};
use crate::domain::consistency::disagreement;
use crate::domain::Section;
use app::history_model::{ChainProgress, ChainReport, ChainStatus};
use app::model::Viewer;
use std::sync::{Arc, Mutex};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use uuid::Uuid;

const VERIFY_BATCH: i64 = 2_000;

/// The check this server is running, if any.
#[derive(Clone, Default)]
pub struct ChainChecks(Arc<Mutex<Option<ChainProgress>>>);

impl ChainChecks {
    /// Claims the one slot; `false` when a check is already running.
    fn begin(&self, progress: ChainProgress) -> bool {
        let Ok(mut slot) = self.0.lock() else { return false };
        if slot.is_some() {
            return false;
        }
        *slot = Some(progress);
        true
    }

    fn advance(&self, checked: u64) {
        if let Ok(mut slot) = self.0.lock() {
            if let Some(p) = slot.as_mut() {
                p.checked = checked;
            }
        }
    }

    fn end(&self) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = None;
        }
    }

    fn current(&self) -> Option<ChainProgress> {
        self.0.lock().ok().and_then(|slot| slot.clone())
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

impl Service {
    /// Checks the whole chain now and keeps the result; `started_by` is the actor as the audit log names it.
    pub async fn check_audit_chain(&self, started_by: &str) -> Result<ChainCheck, ServiceError> {
        Ok(self.run_chain_check(started_by, None, vec![]).await?.0)
    }

    /// The operator's check: `Ok(count)` when intact.
    pub async fn verify_audit_chain(&self) -> Result<Result<u64, Break>, ServiceError> {
        let (check, _) = self.verify_audit_chain_against(vec![]).await?;
        Ok(match check.broken {
            Some(broken) => Err(broken),
            None => Ok(check.checked),
        })
    }

    /// The CLI's `audit verify`, also against `exported` checkpoints (a copy kept outside the database):
    /// the check as kept, and how many checkpoints were left out (signed with a key no longer configured).
    pub async fn verify_audit_chain_against(
        &self,
        exported: Vec<Checkpoint>,
    ) -> Result<(ChainCheck, usize), ServiceError> {
        self.run_chain_check("cli", None, exported).await
    }

    /// Compares every held action and vote row with the events that made them; returns how many rows
    /// disagree and why, for the first `show` of them.
    pub async fn check_rows(&self, show: usize) -> Result<(u64, Vec<String>), ServiceError> {
        let (mut after, mut found, mut shown) = (None, 0u64, Vec::new());
        loop {
            let rows = self.store.row_facts(after, VERIFY_BATCH).await?;
            let Some(last) = rows.last() else { return Ok((found, shown)) };
            after = Some(last.id);
            let subjects: Vec<String> = rows.iter().map(|r| format!("held_action:{}", r.id)).collect();
            let events = self.store.audit_about_all(&subjects).await?;
            let mut by_subject: std::collections::HashMap<&str, Vec<crate::domain::audit::Record>> = Default::default();
            for e in &events {
                by_subject.entry(e.subject.as_str()).or_default().push(e.clone());
            }
            for (row, subject) in rows.iter().zip(&subjects) {
                let about = by_subject.get(subject.as_str()).map_or(&[][..], Vec::as_slice);
                if let Some(why) = disagreement(row, about) {
                    found += 1;
                    if shown.len() < show {
                        shown.push(why);
                    }
                }
            }
        }
    }

    /// Signs the chain's head unless it is signed already; the checkpoints task runs this every minute.
    pub async fn checkpoint(&self) -> Result<Option<Checkpoint>, ServiceError> {
        let head = self.store.audit_head().await?;
        let newest = self.store.last_checkpoint_seq().await?;
        if head == 0 || newest == Some(head) {
            return Ok(None);
        }
        let Some(record) = self.store.audit_chain(head - 1, 1).await?.pop() else { return Ok(None) };
        let checkpoint = CheckpointKey::derive(self.secrets.current()).sign(record.seq, &record.hash, self.clock.now());
        self.store.add_checkpoint(&checkpoint).await?;
        Ok(Some(checkpoint))
    }

    /// The checkpoints as an operator exports them, each line with the public key that verifies it.
    pub async fn exported_checkpoints(&self) -> Result<Vec<serde_json::Value>, ServiceError> {
        let keys: Vec<CheckpointKey> = self.secrets.all().map(CheckpointKey::derive).collect();
        let public = |id: &str| keys.iter().find(|k| k.key_id() == id).map(CheckpointKey::public_key);
        let lines = self.store.checkpoints().await?.into_iter().map(|c| {
            let mut line = serde_json::json!(c);
            line["public_key"] = serde_json::json!(public(&c.key_id));
            line
        });
        Ok(lines.collect())
    }

    async fn run_chain_check(
        &self,
        started_by: &str,
        progress: Option<&ChainChecks>,
        exported: Vec<Checkpoint>,
    ) -> Result<(ChainCheck, usize), ServiceError> {
        let mut checking = Checking::start(Uuid::now_v7(), started_by, self.clock.now());
        let keys = CheckpointKeys(self.secrets.all().map(CheckpointKey::derive).collect());
        let mut checkpoints = self.store.checkpoints().await?;
        checkpoints.extend(exported);
        let left_out = checking.against(checkpoints, &keys);
        loop {
            let batch = self.store.audit_chain(checking.after(), VERIFY_BATCH).await?;
            if batch.is_empty() || !checking.feed(&batch) {
                break;
            }
            if let Some(p) = progress {
                p.advance(checking.check.checked);
            }
        }
        let done = checking.finish(self.clock.now());
        self.store.keep_chain_check(&done).await?;
        Ok((done, left_out))
    }

    /// Starts a check in the background unless this server is running one; either way, the status now.
    pub async fn start_chain_check(&self, viewer: &Viewer) -> Result<ChainStatus, ServiceError> {
        if !access::may_open(&viewer.roles, Section::Audit) {
            return Err(ServiceError::Forbidden);
        }
        let reader = self.reader(viewer).await?;
        let total = u64::try_from(self.store.audit_head().await?).unwrap_or_default();
        let progress = ChainProgress { checked: 0, total, started_at: rfc3339(self.clock.now()) };
        if self.chain_checks.begin(progress) {
            let service = self.clone();
            let actor = reader.actor.encode();
            tokio::spawn(async move {
                if let Err(e) = service.run_chain_check(&actor, Some(&service.chain_checks), vec![]).await {
                    tracing::error!(error = %e, "the audit chain check stopped");
                }
                service.chain_checks.end();
            });
        }
        self.chain_status_in(&reader.audit).await
    }

    /// The check under way on this server and the last one kept, counted for the viewer.
    pub async fn chain_status(&self, viewer: &Viewer) -> Result<ChainStatus, ServiceError> {
        if !access::may_open(&viewer.roles, Section::Audit) {
            return Err(ServiceError::Forbidden);
        }
        let reader = self.reader(viewer).await?;
        self.chain_status_in(&reader.audit).await
    }

    async fn chain_status_in(&self, scope: &access::AuditScope) -> Result<ChainStatus, ServiceError> {
        let last = match self.store.last_chain_check().await? {
            Some(check) => Some(self.chain_report(&check, scope).await?),
            None => None,
        };
        Ok(ChainStatus { running: self.chain_checks.current(), last })
    }

    async fn chain_report(&self, check: &ChainCheck, scope: &access::AuditScope) -> Result<ChainReport, ServiceError> {
        let checked_by = match check.started_by.strip_prefix("user:").and_then(|id| Uuid::parse_str(id).ok()) {
            Some(id) => self.store.user_by_id(id).await?.map_or_else(|| "a person no longer known".into(), |u| u.name),
            None if check.started_by == "cli" => "an operator (command line)".into(),
            None => "the system".into(),
        };
        Ok(ChainReport {
            events: check.visible_to(Some(scope)),
            head_seq: check.head.as_ref().map(|h| h.0),
            head_hash: check.head.as_ref().map(|h| h.1.clone()),
            broken: check.broken.as_ref().map(|b| (b.seq, b.reason.clone())),
            checked_at: rfc3339(check.finished_at.unwrap_or(check.started_at)),
            checked_by,
        })
    }
}
