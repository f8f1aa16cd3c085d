//! Held actions, in the SQL both adapters share (see `sql.rs` for why a macro). Expanded in the adapter's
//! module after `sql_store!`, whose `append_in` it uses.

macro_rules! sql_held_actions {
    ($adapter:ident, $db:ty) => {
        /// (tenant, tier, action type, agent): how the queue's pending counts are kept.
        type CountKey = (uuid::Uuid, &'static str, &'static str, uuid::Uuid);

        /// Moves the pending counts by `deltas`, in the caller's transaction.
        async fn adjust_pending_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            deltas: &std::collections::HashMap<CountKey, i64>,
        ) -> crate::store::Result<()> {
            if deltas.is_empty() {
                return Ok(());
            }
            // One statement for every key: a statement's round trip to the database costs more than its rows.
            let mut q = sqlx::QueryBuilder::<$db>::new(
                "INSERT INTO queue_counts (tenant_id, risk_tier, action_type, agent_id, pending) ",
            );
            q.push_values(deltas, |mut row, ((tenant, tier, action, agent), n)| {
                row.push_bind(*tenant).push_bind(*tier).push_bind(*action).push_bind(*agent).push_bind(*n);
            });
            q.push(
                " ON CONFLICT (tenant_id, risk_tier, action_type, agent_id) \
                 DO UPDATE SET pending = queue_counts.pending + excluded.pending",
            );
            q.build().execute(&mut **tx).await?;
            Ok(())
        }

        #[async_trait::async_trait]
        impl crate::store::HeldActionStore for $adapter {
            async fn settle(&self) -> crate::store::Result<()> {
                self.settle_log().await
            }

            async fn submit_unsettled(
                &self,
                batch: Vec<crate::store::NewHeldAction>,
                used: &[crate::store::CredentialUse],
            ) -> crate::store::Result<Vec<crate::store::Submitted>> {
                use crate::store::rows::HeldActionRow;
                use crate::store::{HeldAction, Submitted};
                use std::collections::HashMap;
                if batch.is_empty() && used.is_empty() {
                    return Ok(Vec::new());
                }
                let mut tx = self.begin_unsettled().await?;
                // Here, not on the request: a write of its own would queue for the write lock behind this batch.
                for (id, at) in used {
                    sqlx::query(
                        "UPDATE agent_credentials SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)",
                    )
                    .bind(*at)
                    .bind(*id)
                    .execute(&mut *tx)
                    .await?;
                }
                if batch.is_empty() {
                    tx.commit().await?;
                    return Ok(Vec::new());
                }
                // One lookup for every key in the batch, as row values, so both databases walk the unique
                // (agent_id, idempotency_key) index once per pair (two IN lists made PostgreSQL scan the table).
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "SELECT * FROM held_actions WHERE (agent_id, idempotency_key) IN (VALUES ",
                );
                let mut pairs = q.separated(", ");
                batch.iter().for_each(|n| {
                    pairs.push("(");
                    pairs.push_bind_unseparated(n.action.agent_id);
                    pairs.push_unseparated(", ");
                    pairs.push_bind_unseparated(n.action.idempotency_key.clone());
                    pairs.push_unseparated(")");
                });
                q.push(")");
                let existing: Vec<HeldActionRow> = q.build_query_as().fetch_all(&mut *tx).await?;
                let mut known: HashMap<(uuid::Uuid, String), HeldAction> = HashMap::new();
                for row in existing {
                    let action = HeldAction::try_from(row)?;
                    known.insert((action.agent_id, action.idempotency_key.clone()), action);
                }
                // An agent suspended or retired since its request was authenticated gets nothing stored: the
                // state change and this batch take turns on the write lock, so the check here is final.
                let mut q = sqlx::QueryBuilder::<$db>::new("SELECT id, state FROM agents WHERE id IN (");
                let mut ids = q.separated(", ");
                let mut agents: Vec<uuid::Uuid> = batch.iter().map(|n| n.action.agent_id).collect();
                agents.sort();
                agents.dedup();
                agents.iter().for_each(|a| {
                    ids.push_bind(*a);
                });
                q.push(")");
                let states: Vec<(uuid::Uuid, String)> = q.build_query_as().fetch_all(&mut *tx).await?;
                let inactive: HashMap<uuid::Uuid, crate::domain::AgentState> = states
                    .into_iter()
                    .filter_map(|(id, s)| crate::domain::AgentState::parse(&s).map(|s| (id, s)))
                    .filter(|(_, s)| *s != crate::domain::AgentState::Active)
                    .collect();
                // Decide each in order; a key repeated within the batch meets its first use.
                let (mut outcomes, mut fresh, mut events) = (Vec::with_capacity(batch.len()), Vec::new(), Vec::new());
                let mut issuer_of: HashMap<uuid::Uuid, uuid::Uuid> = HashMap::new();
                for item in batch {
                    let key = (item.action.agent_id, item.action.idempotency_key.clone());
                    match known.get(&key) {
                        Some(original) if original.content_hash == item.action.content_hash => {
                            outcomes.push(Submitted::Replayed(original.clone()))
                        }
                        Some(_) => outcomes.push(Submitted::KeyReused),
                        None if inactive.contains_key(&key.0) => {
                            outcomes.push(Submitted::AgentInactive(inactive[&key.0]))
                        }
                        None => {
                            known.insert(key, item.action.clone());
                            outcomes.push(Submitted::Created(item.action.clone()));
                            events.push(item.event);
                            if let Some(issuer) = item.issuer {
                                issuer_of.insert(item.action.id, issuer);
                            }
                            fresh.push(item.action);
                        }
                    }
                }
                // 23 parameters a row; SQLite allows 32,766 per statement. Decided rows come only from seeding.
                for chunk in fresh.chunks(1_000) {
                    let mut q = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO held_actions (id, tenant_id, agent_id, idempotency_key, action_type, amount_value, \
                         amount_currency, risk_tier, case_id, customer_id, body, content_hash, status, received_at, expires_at, \
                         decided_at, approvals, outcome_reason, approved_value, decided_by, receipt, credential_id, issuer_id) ",
                    );
                    q.push_values(chunk, |mut row, a| {
                        row.push_bind(a.id)
                            .push_bind(a.tenant_id)
                            .push_bind(a.agent_id)
                            .push_bind(a.idempotency_key.clone())
                            .push_bind(a.action.as_str())
                            .push_bind(a.amount.as_ref().map(|m| m.value.to_string()))
                            .push_bind(a.amount.as_ref().map(|m| m.currency.clone()))
                            .push_bind(a.tier.as_str())
                            .push_bind(a.case_id.clone())
                            .push_bind(a.customer_id.clone())
                            .push_bind(a.body.clone())
                            .push_bind(a.content_hash.clone())
                            .push_bind(a.status.as_str())
                            .push_bind(a.received_at)
                            .push_bind(a.expires_at)
                            .push_bind(a.decided_at)
                            .push_bind(a.approvals)
                            .push_bind(a.outcome_reason.clone())
                            .push_bind(a.approved_amount.as_ref().map(|m| m.value.to_string()))
                            .push_bind(a.decided_by)
                            .push_bind(a.receipt.clone())
                            .push_bind(a.credential_id)
                            .push_bind(issuer_of.get(&a.id).copied());
                    });
                    q.build().execute(&mut *tx).await?;
                }
                let ids: Vec<uuid::Uuid> = fresh.iter().map(|a| a.id).collect();
                record_provenance_in(&mut tx, &ids).await?;
                if let Some(first) = fresh.first() {
                    append_all_in(&mut tx, &events, first.received_at).await?;
                }
                let mut deltas: HashMap<CountKey, i64> = HashMap::new();
                for a in fresh.iter().filter(|a| a.status == crate::domain::HeldStatus::Pending) {
                    *deltas.entry((a.tenant_id, a.tier.as_str(), a.action.as_str(), a.agent_id)).or_default() += 1;
                }
                adjust_pending_in(&mut tx, &deltas).await?;
                let settled: Vec<crate::store::Tally> = fresh.iter().flat_map(crate::store::Tally::of_settled).collect();
                rollup_in(&mut tx, &settled).await?;
                let arrived: Vec<crate::delivery::Change> = fresh
                    .iter()
                    .filter(|a| a.status == crate::domain::HeldStatus::Pending)
                    .map(|a| crate::delivery::Change { kind: crate::delivery::ChangeKind::Arrived, id: a.id, tenant: a.tenant_id })
                    .collect();
                Self::notify_in(&mut tx, &arrived).await?;
                tx.commit().await?;
                Ok(outcomes)
            }

            async fn held_action(&self, id: uuid::Uuid) -> crate::store::Result<Option<crate::store::HeldAction>> {
                let row: Option<crate::store::rows::HeldActionRow> =
                    sqlx::query_as("SELECT * FROM held_actions WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
                row.map(TryInto::try_into).transpose()
            }
        }
    };
}
