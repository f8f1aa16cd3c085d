//! Applying decisions: each transition (a vote, an outcome, an expiry, a cancellation) is written only if the
//! action and its agent are still as they were weighed, all in the caller's transaction. The SQL both adapters
//! share (see `sql.rs` for why a macro); `sql_reviews!`'s `apply` calls `apply_in`.

macro_rules! sql_apply {
    ($adapter:ident, $db:ty) => {
        /// Whether the agent (and, for an approval, its allowance and the submitting credential) is still as
        /// the vote weighed it, read inside the write.
        async fn guard_holds(
            tx: &mut sqlx::Transaction<'static, $db>,
            guard: &crate::store::AgentGuard,
            approving: bool,
        ) -> crate::store::Result<bool> {
            let agent: Option<(Uuid, Option<Uuid>, String)> =
                sqlx::query_as("SELECT owner_id, sponsor_id, state FROM agents WHERE id = $1")
                    .bind(guard.agent)
                    .fetch_optional(&mut **tx)
                    .await?;
            if agent != Some((guard.owner, guard.sponsor, guard.state.as_str().to_string())) {
                return Ok(false);
            }
            if !approving {
                return Ok(true);
            }
            let limit: Option<(Option<String>, Option<String>)> = sqlx::query_as(
                "SELECT limit_value, limit_currency FROM agent_allowances WHERE agent_id = $1 AND action_type = $2",
            )
            .bind(guard.agent)
            .bind(guard.action_type.as_str())
            .fetch_optional(&mut **tx)
            .await?;
            let limit = limit.map(|(v, c)| v.zip(c).and_then(|(v, c)| crate::domain::scope::Money::parse(&v, &c).ok()));
            if limit != guard.allowance {
                return Ok(false);
            }
            let Some(credential) = guard.credential else { return Ok(true) };
            let revoked: Option<Option<OffsetDateTime>> =
                sqlx::query_scalar("SELECT revoked_at FROM agent_credentials WHERE id = $1")
                    .bind(credential)
                    .fetch_optional(&mut **tx)
                    .await?;
            Ok(revoked.flatten().is_none())
        }

        /// Applies each transition that still holds, in the caller's transaction; returns which did, and the
        /// events and live changes of those that did (for the caller to append and announce).
        async fn apply_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            transitions: Vec<crate::store::Transition>,
            at: OffsetDateTime,
        ) -> crate::store::Result<(Vec<bool>, Vec<__Event>, Vec<crate::delivery::Change>)> {
            let (mut applied, mut events, mut changes, mut tallies) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            let mut settled: std::collections::HashMap<CountKey, i64> = std::collections::HashMap::new();
            for t in transitions {
                let approving = t.review.as_ref().is_some_and(|r| r.approve);
                if let Some(guard) = &t.guard {
                    if !guard_holds(tx, guard, approving).await? {
                        applied.push(false);
                        continue;
                    }
                }
                let outcome = t.outcome.as_ref();
                let status = outcome.map_or("pending", |o| o.status.as_str());
                let done: Option<(Uuid, String, String, Uuid, OffsetDateTime)> = sqlx::query_as(
                    "UPDATE held_actions SET approvals = $1, status = $2, outcome_reason = $3, approved_value = $4, \
                     decided_by = $5, decided_at = $6, receipt = $7, \
                     claimed_by = CASE WHEN $2 = 'pending' THEN claimed_by END, \
                     claimed_until = CASE WHEN $2 = 'pending' THEN claimed_until END \
                     WHERE id = $8 AND status = 'pending' AND approvals = $9 AND (NOT $10 OR expires_at > $11) \
                     RETURNING tenant_id, risk_tier, action_type, agent_id, received_at",
                )
                .bind(t.approvals)
                .bind(status)
                .bind(outcome.and_then(|o| o.reason.clone()))
                .bind(outcome.and_then(|o| o.approved_amount.as_ref().map(|m| m.value.to_string())))
                .bind(outcome.and_then(|o| o.decided_by))
                .bind(outcome.map(|o| o.decided_at))
                .bind(outcome.map(|o| o.receipt.clone()))
                .bind(t.action)
                .bind(t.expected_approvals)
                // A vote commits only before the deadline, as of this write (however long it waited for the lock).
                .bind(t.review.is_some())
                .bind(at)
                .fetch_optional(&mut **tx)
                .await?;
                let Some((tenant, tier, action, agent, received_at)) = done else {
                    applied.push(false);
                    continue;
                };
                if let Some(o) = outcome {
                    tallies.push(crate::store::Tally::decided(tenant, &action, o.status.as_str(), received_at, o.decided_at));
                }
                if let Some(r) = &t.review {
                    tallies.push(crate::store::Tally::voted(tenant, &action, r, t.fast_approval));
                }
                if outcome.is_some() {
                    let corrupt = |what: &str| StoreError::Corrupt(format!("held action {}: {what}", t.action));
                    let tier = crate::domain::RiskTier::parse(&tier).ok_or_else(|| corrupt("tier"))?.as_str();
                    let action = crate::domain::ActionType::parse(&action).ok_or_else(|| corrupt("action type"))?.as_str();
                    *settled.entry((tenant, tier, action, agent)).or_default() -= 1;
                }
                if let Some(r) = &t.review {
                    sqlx::query(
                        "INSERT INTO reviews (held_action_id, reviewer_id, approve, reason, approved_value, stepped_up, at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(r.held_action)
                    .bind(r.reviewer)
                    .bind(r.approve)
                    .bind(r.reason.clone())
                    .bind(r.amount.as_ref().map(|m| m.value.to_string()))
                    .bind(r.stepped_up)
                    .bind(r.at)
                    .execute(&mut **tx)
                    .await?;
                }
                for d in &t.deliveries {
                    sqlx::query(
                        "INSERT INTO webhook_deliveries (id, channel, agent_id, held_action_id, payload, state, next_attempt_at, created_at) \
                         VALUES ($1, $6, $2, $3, $4, 'pending', $5, $5)",
                    )
                    .bind(d.id)
                    .bind(d.agent_id)
                    .bind(d.held_action_id)
                    .bind(d.payload.clone())
                    .bind(d.created_at)
                    .bind(d.channel.as_str())
                    .execute(&mut **tx)
                    .await?;
                }
                events.extend(t.events);
                changes.push(t.change);
                applied.push(true);
            }
            adjust_pending_in(tx, &settled).await?;
            rollup_in(tx, &tallies).await?;
            Ok((applied, events, changes))
        }
    };
}
