//! The review workflow, in the SQL both adapters share (see `sql.rs` for why a macro). Expanded after
//! `sql_store!`, whose `append_all_in` it uses; the adapter supplies `notify_in` (live events to other
//! app servers, sent when the transaction commits).

macro_rules! sql_reviews {
    ($adapter:ident, $db:ty) => {
        /// Columns of a queue row: everything but the body.
        const LIST_COLUMNS: &str = "id, tenant_id, agent_id, idempotency_key, action_type, amount_value, amount_currency, \
            risk_tier, case_id, customer_id, '' AS body, content_hash, status, received_at, expires_at, decided_at, \
            approvals, outcome_reason, approved_value, decided_by, receipt, claimed_by, claimed_until";

        fn push_tenants(q: &mut sqlx::QueryBuilder<'_, $db>, tenants: &[Uuid]) {
            q.push("tenant_id IN (");
            let mut ids = q.separated(", ");
            for tenant in tenants {
                ids.push_bind(*tenant);
            }
            q.push(")");
        }

        fn push_filters(q: &mut sqlx::QueryBuilder<'_, $db>, query: &crate::store::QueueQuery) {
            q.push(" WHERE status = 'pending' AND ");
            push_tenants(q, &query.tenants);
            if let Some(tier) = query.tier {
                q.push(" AND risk_tier = ").push_bind(tier.as_str());
            }
            push_action_and_agent(q, query);
        }

        fn push_action_and_agent(q: &mut sqlx::QueryBuilder<'_, $db>, query: &crate::store::QueueQuery) {
            if let Some(action) = query.action {
                q.push(" AND action_type = ").push_bind(action.as_str());
            }
            if let Some(agent) = query.agent {
                q.push(" AND agent_id = ").push_bind(agent);
            }
        }

        /// Pending actions past their deadline, the earliest first; the expiry pass asks every second.
        fn overdue_sql() -> String {
            let from = $adapter::PENDING_BY_DEADLINE;
            format!("SELECT {LIST_COLUMNS} FROM {from} WHERE status = 'pending' AND expires_at <= $1 ORDER BY expires_at, id LIMIT $2")
        }

        fn held(rows: Vec<crate::store::rows::HeldActionRow>) -> crate::store::Result<Vec<crate::store::HeldAction>> {
            rows.into_iter().map(TryInto::try_into).collect()
        }

        fn money(rows: Vec<(String, String)>) -> crate::store::Result<Vec<crate::domain::scope::Money>> {
            rows.iter()
                .map(|(v, c)| crate::domain::scope::Money::parse(v, c).map_err(|e| StoreError::Corrupt(e.0)))
                .collect()
        }

        #[async_trait::async_trait]
        impl crate::store::ReviewStore for $adapter {
            async fn queue(&self, query: &crate::store::QueueQuery) -> __Result<Vec<crate::store::HeldAction>> {
                if query.tenants.is_empty() {
                    return Ok(Vec::new());
                }
                // Walk pending actions in deadline order; an agent's own index serves the agent filter better.
                let from = if query.agent.is_some() { "held_actions" } else { Self::PENDING_BY_DEADLINE };
                let mut q = QueryBuilder::<$db>::new(format!("SELECT {LIST_COLUMNS} FROM {from}"));
                push_filters(&mut q, query);
                if let Some((at, id)) = query.after {
                    q.push(" AND (expires_at > ").push_bind(at);
                    q.push(" OR (expires_at = ").push_bind(at).push(" AND id > ").push_bind(id).push("))");
                }
                q.push(" ORDER BY expires_at, id LIMIT ").push_bind(query.limit);
                held(q.build_query_as().fetch_all(&self.pool).await?)
            }

            async fn tier_counts(&self, query: &crate::store::QueueQuery) -> __Result<Vec<(crate::domain::RiskTier, i64)>> {
                if query.tenants.is_empty() {
                    return Ok(Vec::new());
                }
                let mut q = QueryBuilder::<$db>::new("SELECT risk_tier, CAST(SUM(pending) AS BIGINT) FROM queue_counts WHERE ");
                push_tenants(&mut q, &query.tenants);
                push_action_and_agent(&mut q, query);
                q.push(" GROUP BY risk_tier HAVING SUM(pending) > 0");
                let rows: Vec<(String, i64)> = q.build_query_as().fetch_all(&self.pool).await?;
                Ok(rows.into_iter().filter_map(|(t, n)| crate::domain::RiskTier::parse(&t).map(|t| (t, n))).collect())
            }

            async fn related(&self, tenant: Uuid, customer: &str, agent: Uuid, limit: i64) -> __Result<Vec<crate::store::HeldAction>> {
                // Two index walks, merged: each is cheap however much history there is.
                let customer_rows: Vec<crate::store::rows::HeldActionRow> = sqlx::query_as(&format!(
                    "SELECT {LIST_COLUMNS} FROM held_actions WHERE tenant_id = $1 AND customer_id = $2 \
                     ORDER BY received_at DESC LIMIT $3"
                ))
                .bind(tenant)
                .bind(customer)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                let agent_rows: Vec<crate::store::rows::HeldActionRow> = sqlx::query_as(&format!(
                    "SELECT {LIST_COLUMNS} FROM held_actions WHERE agent_id = $1 ORDER BY received_at DESC LIMIT $2"
                ))
                .bind(agent)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                let mut found = held(customer_rows)?;
                for a in held(agent_rows)? {
                    if !found.iter().any(|f: &crate::store::HeldAction| f.id == a.id) {
                        found.push(a);
                    }
                }
                found.sort_by(|a, b| b.received_at.cmp(&a.received_at));
                Ok(found)
            }

            async fn approved_since(
                &self,
                tenant: Uuid,
                customer: &str,
                agent: Uuid,
                since: OffsetDateTime,
            ) -> __Result<(Vec<crate::domain::scope::Money>, Vec<crate::domain::scope::Money>)> {
                let amount = "COALESCE(approved_value, amount_value), amount_currency FROM held_actions";
                let customer_rows: Vec<(String, String)> = sqlx::query_as(&format!(
                    "SELECT {amount} WHERE tenant_id = $1 AND customer_id = $2 AND status = 'approved' \
                     AND amount_value IS NOT NULL AND decided_at >= $3"
                ))
                .bind(tenant)
                .bind(customer)
                .bind(since)
                .fetch_all(&self.pool)
                .await?;
                let agent_rows: Vec<(String, String)> = sqlx::query_as(&format!(
                    "SELECT {amount} WHERE agent_id = $1 AND status = 'approved' AND amount_value IS NOT NULL \
                     AND decided_at >= $2"
                ))
                .bind(agent)
                .bind(since)
                .fetch_all(&self.pool)
                .await?;
                Ok((money(customer_rows)?, money(agent_rows)?))
            }

            async fn reviews(&self, action: Uuid) -> __Result<Vec<crate::store::Review>> {
                let currency: Option<Option<String>> =
                    sqlx::query_scalar("SELECT amount_currency FROM held_actions WHERE id = $1")
                        .bind(action)
                        .fetch_optional(&self.pool)
                        .await?;
                let currency = currency.flatten();
                let rows: Vec<crate::store::rows::ReviewRow> =
                    sqlx::query_as("SELECT * FROM reviews WHERE held_action_id = $1 ORDER BY at")
                        .bind(action)
                        .fetch_all(&self.pool)
                        .await?;
                rows.into_iter().map(|r| r.into_review(currency.as_deref())).collect()
            }

            async fn set_claim(
                &self,
                action: Uuid,
                expected: Option<crate::domain::review::Claim>,
                claim: Option<crate::domain::review::Claim>,
                event: Option<__Event>,
                at: OffsetDateTime,
            ) -> __Result<bool> {
                let mut tx = self.begin_write().await?;
                let current: Option<(Uuid, Option<Uuid>, Option<OffsetDateTime>)> = sqlx::query_as(
                    "SELECT tenant_id, claimed_by, claimed_until FROM held_actions WHERE id = $1 AND status = 'pending'",
                )
                .bind(action)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((tenant, by, until)) = current else { return Ok(false) };
                let now_claim = by.zip(until).map(|(user, until)| crate::domain::review::Claim { user, until });
                if now_claim != expected {
                    return Ok(false);
                }
                sqlx::query("UPDATE held_actions SET claimed_by = $1, claimed_until = $2 WHERE id = $3")
                    .bind(claim.map(|c| c.user))
                    .bind(claim.map(|c| c.until))
                    .bind(action)
                    .execute(&mut *tx)
                    .await?;
                if let Some(event) = event {
                    append_all_in(&mut tx, std::slice::from_ref(&event), at).await?;
                    // Renewals (no event) change nothing anyone sees: other servers are not told.
                    let change = crate::delivery::Change { kind: crate::delivery::ChangeKind::Updated, id: action, tenant };
                    Self::notify_in(&mut tx, &[change]).await?;
                }
                tx.commit().await?;
                Ok(true)
            }

            async fn apply(
                &self,
                transitions: Vec<crate::store::Transition>,
                clock: &dyn crate::domain::clock::Clock,
            ) -> __Result<Vec<bool>> {
                let mut tx = self.begin_write().await?;
                let at = clock.now();
                let (applied, events, changes) = apply_in(&mut tx, transitions, at).await?;
                append_all_in(&mut tx, &events, at).await?;
                Self::notify_in(&mut tx, &changes).await?;
                tx.commit().await?;
                Ok(applied)
            }

            async fn overdue(
                &self,
                now: OffsetDateTime,
                limit: i64,
            ) -> __Result<crate::store::Readable<crate::store::HeldAction>> {
                let rows: Vec<crate::store::rows::HeldActionRow> =
                    sqlx::query_as(&overdue_sql()).bind(now).bind(limit).fetch_all(&self.pool).await?;
                Ok(crate::store::Readable::from_rows(rows))
            }

            async fn take_due_deliveries(
                &self,
                channel: crate::store::Channel,
                now: OffsetDateTime,
                lease_until: OffsetDateTime,
                per_agent: i64,
                limit: i64,
            ) -> __Result<crate::store::Readable<crate::store::Delivery>> {
                let mut tx = self.begin_write().await?;
                let rows: Vec<crate::store::rows::DeliveryRow> = sqlx::query_as(
                    "SELECT * FROM (SELECT d.*, ROW_NUMBER() OVER (PARTITION BY agent_id ORDER BY next_attempt_at, id) \
                     AS nth FROM webhook_deliveries d WHERE channel = $4 AND state = 'pending' AND next_attempt_at <= $1) due \
                     WHERE nth <= $2 ORDER BY next_attempt_at LIMIT $3",
                )
                .bind(now)
                .bind(per_agent)
                .bind(limit)
                .bind(channel.as_str())
                .fetch_all(&mut *tx)
                .await?;
                for row in &rows {
                    sqlx::query("UPDATE webhook_deliveries SET next_attempt_at = $1 WHERE id = $2")
                        .bind(lease_until)
                        .bind(row.id)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(crate::store::Readable::from_rows(rows))
            }

            async fn postpone_delivery(&self, delivery: Uuid, until: OffsetDateTime) -> __Result<()> {
                sqlx::query("UPDATE webhook_deliveries SET next_attempt_at = $1 WHERE id = $2 AND state = 'pending'")
                    .bind(until)
                    .bind(delivery)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn record_attempt(&self, delivery: Uuid, attempt: &crate::store::Attempt) -> __Result<()> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "UPDATE webhook_deliveries SET attempts = attempts + 1, state = $1, next_attempt_at = $2, \
                     last_attempt_at = $3, last_status = $4, last_error = $5 WHERE id = $6 AND state = 'pending'",
                )
                .bind(attempt.state.as_str())
                .bind(attempt.next_attempt_at)
                .bind(attempt.at)
                .bind(attempt.status.map(i64::from))
                .bind(attempt.error.clone())
                .bind(delivery)
                .execute(&mut *tx)
                .await?;
                // Already settled (another server's attempt got there first): record nothing more.
                if done.rows_affected() == 0 {
                    return Ok(());
                }
                if let Some(event) = &attempt.event {
                    append_all_in(&mut tx, std::slice::from_ref(event), attempt.at).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn deliveries(&self, agent: Uuid, limit: i64) -> __Result<Vec<crate::store::Delivery>> {
                let rows: Vec<crate::store::rows::DeliveryRow> = sqlx::query_as(
                    "SELECT * FROM webhook_deliveries WHERE agent_id = $1 AND channel = 'webhook' ORDER BY created_at DESC, id DESC LIMIT $2",
                )
                .bind(agent).bind(limit).fetch_all(&self.pool).await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn delivery(&self, id: Uuid) -> __Result<Option<crate::store::Delivery>> {
                let row: Option<crate::store::rows::DeliveryRow> =
                    sqlx::query_as("SELECT * FROM webhook_deliveries WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn redeliver(&self, id: Uuid, event: __Event, at: OffsetDateTime) -> __Result<bool> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = $1 WHERE id = $2 \
                     AND state <> 'pending' AND (last_attempt_at IS NULL OR last_attempt_at <= $3)",
                )
                .bind(at)
                .bind(id)
                .bind(at - crate::delivery::webhook::REDELIVER_PAUSE)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 1 {
                    append_all_in(&mut tx, std::slice::from_ref(&event), at).await?;
                }
                tx.commit().await?;
                Ok(done.rows_affected() == 1)
            }

            async fn receipt_keys(&self, candidate: &str, event: __Event, at: OffsetDateTime) -> __Result<Vec<String>> {
                let stored = || sqlx::query_scalar::<_, String>("SELECT secret FROM receipt_keys ORDER BY position DESC");
                let found = stored().fetch_all(&self.pool).await?;
                if !found.is_empty() {
                    return Ok(found);
                }
                let mut tx = self.begin_write().await?;
                let made = sqlx::query(
                    "INSERT INTO receipt_keys (id, secret, created_at, position) VALUES ('current', $1, $2, 0) \
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(candidate)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                if made.rows_affected() == 1 {
                    append_all_in(&mut tx, std::slice::from_ref(&event), at).await?;
                }
                let found = stored().fetch_all(&mut *tx).await?;
                tx.commit().await?;
                Ok(found)
            }

            async fn add_receipt_key(&self, id: &str, sealed: &str, event: __Event, at: OffsetDateTime) -> __Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO receipt_keys (id, secret, created_at, position) \
                     SELECT $1, $2, $3, COALESCE(MAX(position), -1) + 1 FROM receipt_keys",
                )
                .bind(id)
                .bind(sealed)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                append_all_in(&mut tx, std::slice::from_ref(&event), at).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn stored_secrets(&self) -> __Result<Vec<(crate::store::SecretOf, String)>> {
                use crate::store::SecretOf;
                let agents: Vec<(Uuid, String)> =
                    sqlx::query_as("SELECT id, webhook_secret FROM agents WHERE webhook_secret IS NOT NULL")
                        .fetch_all(&self.pool)
                        .await?;
                let receipts: Vec<(String, String)> =
                    sqlx::query_as("SELECT id, secret FROM receipt_keys").fetch_all(&self.pool).await?;
                let agents = agents.into_iter().map(|(id, secret)| (SecretOf::Agent(id), secret));
                Ok(agents.chain(receipts.into_iter().map(|(id, secret)| (SecretOf::ReceiptKey(id), secret))).collect())
            }

            async fn reseal_secrets(
                &self,
                resealed: Vec<(crate::store::SecretOf, String)>,
                resigned: Vec<crate::domain::checkpoint::Checkpoint>,
                event: __Event,
                at: OffsetDateTime,
            ) -> __Result<()> {
                let mut tx = self.begin_write().await?;
                for (of, secret) in &resealed {
                    let update = match of {
                        crate::store::SecretOf::Agent(id) => {
                            sqlx::query("UPDATE agents SET webhook_secret = $1 WHERE id = $2").bind(secret).bind(*id)
                        }
                        crate::store::SecretOf::ReceiptKey(id) => {
                            sqlx::query("UPDATE receipt_keys SET secret = $1 WHERE id = $2").bind(secret).bind(id)
                        }
                    };
                    update.execute(&mut *tx).await?;
                }
                for c in &resigned {
                    sqlx::query("UPDATE audit_checkpoints SET key_id = $1, signature = $2 WHERE seq = $3")
                        .bind(&c.key_id)
                        .bind(&c.signature)
                        .bind(c.seq)
                        .execute(&mut *tx)
                        .await?;
                }
                append_all_in(&mut tx, std::slice::from_ref(&event), at).await?;
                tx.commit().await?;
                Ok(())
            }
        }
    };
}
