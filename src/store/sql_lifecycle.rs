//! The agent lifecycle, in the SQL both adapters share (see `sql.rs` for why a macro).
//! Expanded after `sql_reviews!`, whose `adjust_pending_in` and `LIST_COLUMNS` it uses.

macro_rules! sql_lifecycle {
    ($adapter:ident, $db:ty) => {
        /// Cancels every pending action of `agent` with the outcomes in `cancellations` (one per action, all with
        /// the same reason and time), in chunks rather than a statement per action: retiring an agent with ten
        /// thousand pending actions stays within its two seconds. `None` when what is pending is not exactly
        /// what `cancellations` covers.
        async fn cancel_all_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            agent: Uuid,
            cancellations: Vec<crate::store::Transition>,
        ) -> crate::store::Result<Option<(Vec<__Event>, Vec<crate::delivery::Change>)>> {
            let groups: Vec<(Uuid, String, String, i64)> = sqlx::query_as(
                "SELECT tenant_id, risk_tier, action_type, COUNT(*) FROM held_actions \
                 WHERE agent_id = $1 AND status = 'pending' GROUP BY tenant_id, risk_tier, action_type",
            )
            .bind(agent)
            .fetch_all(&mut **tx)
            .await?;
            let pending: i64 = groups.iter().map(|g| g.3).sum();
            if pending != cancellations.len() as i64 {
                return Ok(None);
            }
            let Some(first) = cancellations.first().and_then(|t| t.outcome.clone()) else { return Ok(Some(Default::default())) };
            let arrivals: Vec<(Uuid, String, OffsetDateTime)> = sqlx::query_as(
                "SELECT tenant_id, action_type, received_at FROM held_actions WHERE agent_id = $1 AND status = 'pending'",
            )
            .bind(agent)
            .fetch_all(&mut **tx)
            .await?;
            let tallies: Vec<crate::store::Tally> = arrivals
                .iter()
                .map(|(tenant, action, at)| crate::store::Tally::decided(*tenant, action, "cancelled", *at, first.decided_at))
                .collect();
            // 2 parameters a row besides the shared ones.
            for chunk in cancellations.chunks(5_000) {
                let mut q = QueryBuilder::<$db>::new("UPDATE held_actions SET status = 'cancelled', outcome_reason = ");
                q.push_bind(first.reason.clone()).push(", decided_at = ").push_bind(first.decided_at);
                q.push(", receipt = v.column2, claimed_by = NULL, claimed_until = NULL FROM (VALUES ");
                let mut rows = q.separated(", ");
                for t in chunk {
                    rows.push("(");
                    rows.push_bind_unseparated(t.action);
                    rows.push_unseparated(", ");
                    rows.push_bind_unseparated(t.outcome.as_ref().map(|o| o.receipt.clone()));
                    rows.push_unseparated(")");
                }
                q.push(") AS v WHERE held_actions.id = v.column1 AND held_actions.status = 'pending' AND held_actions.agent_id = ");
                q.push_bind(agent);
                if q.build().execute(&mut **tx).await?.rows_affected() != chunk.len() as u64 {
                    return Ok(None);
                }
            }
            let deliveries: Vec<&crate::store::NewDelivery> = cancellations.iter().flat_map(|t| &t.deliveries).collect();
            for chunk in deliveries.chunks(2_000) {
                let mut q = QueryBuilder::<$db>::new(
                    "INSERT INTO webhook_deliveries (id, channel, agent_id, held_action_id, payload, state, next_attempt_at, created_at) ",
                );
                q.push_values(chunk, |mut row, d| {
                    row.push_bind(d.id)
                        .push_bind(d.channel.as_str())
                        .push_bind(d.agent_id)
                        .push_bind(d.held_action_id)
                        .push_bind(d.payload.clone())
                        .push("'pending'")
                        .push_bind(d.created_at)
                        .push_bind(d.created_at);
                });
                q.build().execute(&mut **tx).await?;
            }
            let mut settled: std::collections::HashMap<CountKey, i64> = std::collections::HashMap::new();
            for (tenant, tier, action, n) in groups {
                let corrupt = |what: &str| StoreError::Corrupt(format!("agent {agent}: {what}"));
                let tier = crate::domain::RiskTier::parse(&tier).ok_or_else(|| corrupt("tier"))?.as_str();
                let action = crate::domain::ActionType::parse(&action).ok_or_else(|| corrupt("action type"))?.as_str();
                *settled.entry((tenant, tier, action, agent)).or_default() -= n;
            }
            adjust_pending_in(tx, &settled).await?;
            rollup_in(tx, &tallies).await?;
            let changes = cancellations.iter().map(|t| t.change).collect();
            Ok(Some((cancellations.into_iter().flat_map(|t| t.events).collect(), changes)))
        }

        #[async_trait::async_trait]
        impl crate::store::LifecycleStore for $adapter {
            async fn change_state(
                &self,
                change: &crate::store::StateChange,
                cancellations: Vec<crate::store::Transition>,
                at: OffsetDateTime,
            ) -> __Result<Option<Vec<crate::delivery::Change>>> {
                use crate::delivery::{Change, ChangeKind};
                use crate::domain::AgentState;
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "UPDATE agents SET state = $1, state_reason = $2, state_changed_at = $3, state_changed_by = $4 \
                     WHERE id = $5 AND state = $6",
                )
                .bind(change.to.as_str())
                .bind(&change.reason)
                .bind(at)
                .bind(&change.by)
                .bind(change.agent)
                .bind(change.from.as_str())
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    return Ok(None);
                }
                let mut events = vec![change.event.clone()];
                if change.to == AgentState::Suspended {
                    // A case credential ends with its task; resuming the agent does not bring it back.
                    sqlx::query(
                        "UPDATE agent_credentials SET revoked_at = $1 \
                         WHERE agent_id = $2 AND case_id IS NOT NULL AND revoked_at IS NULL",
                    )
                    .bind(at)
                    .bind(change.agent)
                    .execute(&mut *tx)
                    .await?;
                }
                let changes = if change.to == AgentState::Retired {
                    sqlx::query("UPDATE agent_credentials SET revoked_at = $1 WHERE agent_id = $2 AND revoked_at IS NULL")
                        .bind(at)
                        .bind(change.agent)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("UPDATE agent_handovers SET state = 'withdrawn', answered_at = $1 WHERE agent_id = $2 AND state = 'pending'")
                        .bind(at)
                        .bind(change.agent)
                        .execute(&mut *tx)
                        .await?;
                    let Some((cancelled, changes)) = cancel_all_in(&mut tx, change.agent, cancellations).await? else {
                        return Ok(None);
                    };
                    events.extend(cancelled);
                    changes
                } else {
                    // Open queues show the agent's pending actions flagged (or no longer flagged) as suspended.
                    let pending: Vec<(Uuid, Uuid)> =
                        sqlx::query_as("SELECT id, tenant_id FROM held_actions WHERE agent_id = $1 AND status = 'pending'")
                            .bind(change.agent)
                            .fetch_all(&mut *tx)
                            .await?;
                    pending.into_iter().map(|(id, tenant)| Change { kind: ChangeKind::Updated, id, tenant }).collect()
                };
                append_all_in(&mut tx, &events, at).await?;
                Self::notify_in(&mut tx, &changes).await?;
                tx.commit().await?;
                Ok(Some(changes))
            }

            async fn pending_of_agent(&self, agent: Uuid) -> __Result<Vec<crate::store::HeldAction>> {
                let rows: Vec<crate::store::rows::HeldActionRow> = sqlx::query_as(&format!(
                    "SELECT {LIST_COLUMNS} FROM held_actions WHERE agent_id = $1 AND status = 'pending' ORDER BY expires_at, id"
                ))
                .bind(agent)
                .fetch_all(&self.pool)
                .await?;
                held(rows)
            }

            async fn retirement_preview(&self, agent: Uuid, now: OffsetDateTime) -> __Result<crate::store::RetirementPreview> {
                let count = |sql: &'static str| sqlx::query_as::<_, (i64,)>(sql).bind(agent);
                let (pending,) = count("SELECT COUNT(*) FROM held_actions WHERE agent_id = $1 AND status = 'pending'")
                    .fetch_one(&self.pool)
                    .await?;
                let (live,) = count(
                    "SELECT COUNT(*) FROM agent_credentials WHERE agent_id = $1 AND revoked_at IS NULL AND expires_at > $2",
                )
                .bind(now)
                .fetch_one(&self.pool)
                .await?;
                let (queued,) = count("SELECT COUNT(*) FROM webhook_deliveries WHERE agent_id = $1 AND channel = 'webhook' AND state = 'pending'")
                    .fetch_one(&self.pool)
                    .await?;
                Ok(crate::store::RetirementPreview { pending_actions: pending, live_credentials: live, queued_deliveries: queued })
            }

            async fn pending_per_agent(&self, agents: &[Uuid]) -> __Result<Vec<(Uuid, i64)>> {
                if agents.is_empty() {
                    return Ok(Vec::new());
                }
                let mut q = QueryBuilder::<$db>::new(
                    "SELECT agent_id, CAST(SUM(pending) AS BIGINT) FROM queue_counts WHERE agent_id IN (",
                );
                let mut ids = q.separated(", ");
                agents.iter().for_each(|a| {
                    ids.push_bind(*a);
                });
                q.push(") GROUP BY agent_id");
                Ok(q.build_query_as().fetch_all(&self.pool).await?)
            }

            async fn activity(&self, agent: Uuid, since: OffsetDateTime) -> __Result<crate::store::Activity> {
                use crate::domain::{ActionType, HeldStatus};
                let corrupt = |what: &str| StoreError::Corrupt(format!("agent {agent}: {what}"));
                let rows: Vec<(String, String, i64)> = sqlx::query_as(
                    "SELECT action_type, status, COUNT(*) FROM held_actions WHERE agent_id = $1 AND received_at >= $2 \
                     GROUP BY action_type, status",
                )
                .bind(agent)
                .bind(since)
                .fetch_all(&self.pool)
                .await?;
                let counts = rows
                    .into_iter()
                    .map(|(a, s, n)| {
                        let a = ActionType::parse(&a).ok_or_else(|| corrupt("action type"))?;
                        Ok((a, HeldStatus::parse(&s).ok_or_else(|| corrupt("status"))?, n))
                    })
                    .collect::<__Result<Vec<_>>>()?;
                let amounts: Vec<(String, String, String)> = sqlx::query_as(
                    "SELECT action_type, COALESCE(approved_value, amount_value), amount_currency FROM held_actions \
                     WHERE agent_id = $1 AND status = 'approved' AND amount_value IS NOT NULL AND received_at >= $2",
                )
                .bind(agent)
                .bind(since)
                .fetch_all(&self.pool)
                .await?;
                let approved_amounts = amounts
                    .into_iter()
                    .map(|(a, v, c)| Ok((ActionType::parse(&a).ok_or_else(|| corrupt("action type"))?, v, c)))
                    .collect::<__Result<Vec<_>>>()?;
                let last: Option<(OffsetDateTime,)> = sqlx::query_as(
                    "SELECT received_at FROM held_actions WHERE agent_id = $1 ORDER BY received_at DESC LIMIT 1",
                )
                .bind(agent)
                .fetch_optional(&self.pool)
                .await?;
                Ok(crate::store::Activity { counts, approved_amounts, last_submitted_at: last.map(|(at,)| at) })
            }

            async fn events_about(&self, subjects: &[String], limit: i64) -> __Result<Vec<__Record>> {
                if subjects.is_empty() {
                    return Ok(Vec::new());
                }
                let mut q = QueryBuilder::<$db>::new(format!("SELECT {AUDIT_COLUMNS} FROM audit_events WHERE subject IN ("));
                let mut list = q.separated(", ");
                subjects.iter().for_each(|s| {
                    list.push_bind(s.clone());
                });
                q.push(") ORDER BY seq DESC LIMIT ").push_bind(limit);
                let rows: Vec<AuditRow> = q.build_query_as().fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(__Record::from).collect())
            }

            async fn propose_handover(&self, h: &crate::domain::lifecycle::Handover, event: __Event) -> __Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO agent_handovers (id, agent_id, from_owner, to_owner, proposed_by, proposed_at, expires_at, state) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending')",
                )
                .bind(h.id)
                .bind(h.agent)
                .bind(h.from_owner)
                .bind(h.to_owner)
                .bind(&h.proposed_by)
                .bind(h.proposed_at)
                .bind(h.expires_at)
                .execute(&mut *tx)
                .await
                .map_err(map_unique("an open hand-over of this agent"))?;
                append_in(&mut tx, &event, h.proposed_at).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn handover(&self, id: Uuid) -> __Result<Option<crate::domain::lifecycle::Handover>> {
                let row: Option<crate::store::rows::HandoverRow> =
                    sqlx::query_as("SELECT * FROM agent_handovers WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn lapsed_handovers(&self, now: OffsetDateTime) -> __Result<Vec<crate::domain::lifecycle::Handover>> {
                let rows: Vec<crate::store::rows::HandoverRow> =
                    sqlx::query_as("SELECT * FROM agent_handovers WHERE state = 'pending' AND expires_at <= $1")
                        .bind(now)
                        .fetch_all(&self.pool)
                        .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn handovers(
                &self,
                agent: Option<Uuid>,
                to: Option<Uuid>,
            ) -> __Result<Vec<crate::domain::lifecycle::Handover>> {
                let mut q = QueryBuilder::<$db>::new("SELECT * FROM agent_handovers WHERE TRUE");
                if let Some(agent) = agent {
                    q.push(" AND agent_id = ").push_bind(agent);
                }
                if let Some(to) = to {
                    q.push(" AND to_owner = ").push_bind(to);
                }
                q.push(" ORDER BY proposed_at DESC LIMIT 50");
                let rows: Vec<crate::store::rows::HandoverRow> = q.build_query_as().fetch_all(&self.pool).await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn settle_handover(
                &self,
                id: Uuid,
                state: crate::domain::lifecycle::HandoverState,
                event: __Event,
                at: OffsetDateTime,
            ) -> __Result<bool> {
                use crate::domain::lifecycle::HandoverState;
                let mut tx = self.begin_write().await?;
                let row: Option<crate::store::rows::HandoverRow> =
                    sqlx::query_as("SELECT * FROM agent_handovers WHERE id = $1 AND state = 'pending'")
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                let Some(h) = row else { return Ok(false) };
                if state == HandoverState::Accepted {
                    let moved = sqlx::query(
                        "UPDATE agents SET owner_id = $1, orphaned_at = NULL WHERE id = $2 AND owner_id = $3 AND state <> 'retired'",
                    )
                    .bind(h.to_owner)
                    .bind(h.agent_id)
                    .bind(h.from_owner)
                    .execute(&mut *tx)
                    .await?;
                    if moved.rows_affected() != 1 {
                        return Ok(false);
                    }
                    // The former owner's credentials (and case credentials exchanged from them, which carry
                    // their minter) end with the ownership: an ex-owner must not submit and then approve.
                    sqlx::query(
                        "UPDATE agent_credentials SET revoked_at = $1 WHERE agent_id = $2 AND issued_by = $3 \
                         AND revoked_at IS NULL",
                    )
                    .bind(at)
                    .bind(h.agent_id)
                    .bind(h.from_owner)
                    .execute(&mut *tx)
                    .await?;
                }
                sqlx::query("UPDATE agent_handovers SET state = $1, answered_at = $2 WHERE id = $3")
                    .bind(state.as_str())
                    .bind(at)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                append_in(&mut tx, &event, at).await?;
                tx.commit().await?;
                Ok(true)
            }
        }
    };
}
