//! The history and the filtered audit log, in the SQL both adapters share (see `sql.rs` for why a macro).
//! The adapter supplies how free text is matched (`TEXT_MATCH`, `text_query`), how a stored amount
//! compares as a number (`AMOUNT_NUMBER`), and whether large pages are read in batches (`ROWS_FROM_A_THREAD`).

macro_rules! sql_history {
    ($adapter:ident, $db:ty) => {
        /// A history row: a queue row with its body (the list shows the intent; exports carry it all), without
        /// the receipt and the claim, which neither reads (the decision record reads the whole row).
        const HISTORY_COLUMNS: &str = "id, tenant_id, agent_id, idempotency_key, action_type, amount_value, \
            amount_currency, risk_tier, case_id, customer_id, body, content_hash, status, received_at, expires_at, \
            decided_at, approvals, outcome_reason, approved_value, decided_by";

        fn push_history_filters(q: &mut sqlx::QueryBuilder<'_, $db>, query: &crate::store::HistoryQuery) {
            let f = &query.filter;
            q.push(" WHERE tenant_id IN (");
            let mut ids = q.separated(", ");
            query.tenants.iter().for_each(|t| {
                ids.push_bind(*t);
            });
            q.push(")");
            if let Some(t) = f.tenant {
                q.push(" AND tenant_id = ").push_bind(t);
            }
            if let Some(t) = f.from {
                q.push(" AND received_at >= ").push_bind(t);
            }
            if let Some(t) = f.to {
                q.push(" AND received_at < ").push_bind(t);
            }
            if let Some(a) = f.agent {
                q.push(" AND agent_id = ").push_bind(a);
            }
            if let Some(o) = f.owner {
                q.push(" AND agent_id IN (SELECT id FROM agents WHERE owner_id = ").push_bind(o).push(")");
            }
            // The deciding vote's author is on the row itself (no probe needed); earlier votes are in reviews.
            for voter in [f.reviewer, query.voter].into_iter().flatten() {
                q.push(" AND (decided_by = ").push_bind(voter);
                q.push(" OR EXISTS (SELECT 1 FROM reviews r WHERE r.held_action_id = held_actions.id AND r.reviewer_id = ")
                    .push_bind(voter)
                    .push("))");
            }
            if let Some(a) = f.action {
                q.push(" AND action_type = ").push_bind(a.as_str());
            }
            if let Some(t) = f.tier {
                q.push(" AND risk_tier = ").push_bind(t.as_str());
            }
            if let Some(s) = f.outcome {
                q.push(" AND status = ").push_bind(s.as_str());
            }
            if let Some(c) = &f.customer {
                q.push(" AND customer_id = ").push_bind(c.clone());
            }
            if let Some(c) = &f.case {
                q.push(" AND case_id = ").push_bind(c.clone());
            }
            if let Some(m) = f.amount_min {
                q.push(format!(" AND {} >= ", $adapter::AMOUNT_NUMBER)).push_bind(crate::domain::history::as_number(m));
            }
            if let Some(m) = f.amount_max {
                q.push(format!(" AND {} <= ", $adapter::AMOUNT_NUMBER)).push_bind(crate::domain::history::as_number(m));
            }
            if !f.words.is_empty() {
                q.push(format!(" AND {}", $adapter::TEXT_MATCH)).push_bind($adapter::text_query(&f.words)).push(")");
            }
        }

        fn push_audit_filters(q: &mut sqlx::QueryBuilder<'_, $db>, query: &crate::store::AuditQuery) {
            let (scope, f) = (&query.scope, &query.filter);
            q.push(" WHERE (");
            if scope.tenants.is_empty() {
                q.push("FALSE");
            } else {
                q.push("tenant_id IN (");
                let mut ids = q.separated(", ");
                scope.tenants.iter().for_each(|t| {
                    ids.push_bind(*t);
                });
                q.push(")");
            }
            if !scope.people.is_empty() {
                q.push(" OR (tenant_id IS NULL AND subject IN (");
                let mut subjects = q.separated(", ");
                scope.people.iter().for_each(|s| {
                    subjects.push_bind(s.clone());
                });
                q.push("))");
            }
            q.push(")");
            if let Some(k) = &f.kind {
                q.push(" AND kind = ").push_bind(k.clone());
            }
            if let Some(a) = &f.actor {
                q.push(" AND actor = ").push_bind(a.clone());
            }
            if let Some(s) = &f.target {
                q.push(" AND subject = ").push_bind(s.clone());
            }
            if let Some(t) = f.tenant {
                q.push(" AND tenant_id = ").push_bind(t);
            }
            // Stored times are RFC 3339 with a variable fraction: their first 19 characters sort as time does.
            let second = |t: time::OffsetDateTime| {
                let t = t.to_offset(time::UtcOffset::UTC);
                format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute(), t.second())
            };
            if let Some(t) = f.from {
                q.push(" AND substr(at, 1, 19) >= ").push_bind(second(t));
            }
            if let Some(t) = f.to {
                q.push(" AND substr(at, 1, 19) < ").push_bind(second(t));
            }
            if let Some(b) = f.before {
                q.push(" AND seq < ").push_bind(b);
            }
        }

        #[async_trait::async_trait]
        impl crate::store::HistoryStore for $adapter {
            async fn history(&self, query: &crate::store::HistoryQuery) -> __Result<Vec<crate::store::HeldAction>> {
                if query.tenants.is_empty() {
                    return Ok(Vec::new());
                }
                let from = self.history_source(&query.filter).await?;
                let mut q = QueryBuilder::<$db>::new(format!("SELECT {HISTORY_COLUMNS} FROM {from}"));
                push_history_filters(&mut q, query);
                // A row value, so both databases seek the index to the cursor; the same test spelt with OR made
                // SQLite walk every newer entry again on each page.
                if let Some((at, id)) = query.after {
                    q.push(" AND (received_at, id) < (").push_bind(at).push(", ").push_bind(id).push(")");
                }
                q.push(" ORDER BY received_at DESC, id DESC LIMIT ").push_bind(query.limit);
                let expected = usize::try_from(query.limit).unwrap_or(0);
                let rows = q.build_query_as().fetch(&self.pool);
                held(crate::store::bulk::collect(rows, expected, $adapter::ROWS_FROM_A_THREAD).await?)
            }

            async fn audit_events(&self, query: &crate::store::AuditQuery) -> __Result<Vec<__Record>> {
                let mut q = QueryBuilder::<$db>::new(format!("SELECT {AUDIT_COLUMNS} FROM audit_events"));
                push_audit_filters(&mut q, query);
                q.push(" ORDER BY seq DESC LIMIT ").push_bind(query.limit);
                let rows: Vec<AuditRow> = q.build_query_as().fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(__Record::from).collect())
            }

            async fn audit_about(&self, subject: &str) -> __Result<Vec<__Record>> {
                let rows: Vec<AuditRow> =
                    sqlx::query_as(&format!("SELECT {AUDIT_COLUMNS} FROM audit_events WHERE subject = $1 ORDER BY seq"))
                        .bind(subject)
                        .fetch_all(&self.pool)
                        .await?;
                Ok(rows.into_iter().map(__Record::from).collect())
            }

            async fn action_deliveries(&self, action: Uuid) -> __Result<Vec<crate::store::Delivery>> {
                let rows: Vec<crate::store::rows::DeliveryRow> = sqlx::query_as(
                    "SELECT * FROM webhook_deliveries WHERE held_action_id = $1 AND channel = 'webhook' ORDER BY created_at, id",
                )
                .bind(action)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn audit_head(&self) -> __Result<i64> {
                let head: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM audit_events").fetch_one(&self.pool).await?;
                Ok(head.unwrap_or(0))
            }

            async fn keep_chain_check(&self, c: &crate::domain::chain_check::ChainCheck) -> __Result<()> {
                let counts = serde_json::to_string(&c.counts).map_err(|e| crate::store::StoreError::Corrupt(e.to_string()))?;
                sqlx::query(
                    "INSERT INTO chain_checks (id, started_by, started_at, finished_at, checked, head_seq, head_hash, \
                     broken_seq, broken_reason, counts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(c.id)
                .bind(&c.started_by)
                .bind(c.started_at)
                .bind(c.finished_at.unwrap_or(c.started_at))
                .bind(i64::try_from(c.checked).unwrap_or(i64::MAX))
                .bind(c.head.as_ref().map(|h| h.0))
                .bind(c.head.as_ref().map(|h| h.1.clone()))
                .bind(c.broken.as_ref().map(|b| b.seq))
                .bind(c.broken.as_ref().map(|b| b.reason.clone()))
                .bind(counts)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn last_chain_check(&self) -> __Result<Option<crate::domain::chain_check::ChainCheck>> {
                let row: Option<crate::store::rows::ChainCheckRow> =
                    sqlx::query_as("SELECT * FROM chain_checks ORDER BY finished_at DESC, id DESC LIMIT 1")
                        .fetch_optional(&self.pool)
                        .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn row_facts(
                &self,
                after: Option<Uuid>,
                limit: i64,
            ) -> __Result<Vec<crate::domain::consistency::RowFacts>> {
                let mut q = QueryBuilder::<$db>::new(
                    "SELECT id, status, content_hash, idempotency_key FROM held_actions",
                );
                if let Some(after) = after {
                    q.push(" WHERE id > ").push_bind(after);
                }
                q.push(" ORDER BY id LIMIT ").push_bind(limit);
                let rows: Vec<(Uuid, String, String, String)> = q.build_query_as().fetch_all(&self.pool).await?;
                if rows.is_empty() {
                    return Ok(vec![]);
                }
                let mut v = QueryBuilder::<$db>::new(
                    "SELECT held_action_id, reviewer_id, approve FROM reviews WHERE held_action_id IN (",
                );
                let mut ids = v.separated(", ");
                rows.iter().for_each(|r| {
                    ids.push_bind(r.0);
                });
                v.push(")");
                let votes: Vec<(Uuid, Uuid, bool)> = v.build_query_as().fetch_all(&self.pool).await?;
                rows.into_iter()
                    .map(|(id, status, content_hash, idempotency_key)| {
                        let status = crate::domain::HeldStatus::parse(&status)
                            .ok_or_else(|| StoreError::Corrupt(format!("held action {id}: status {status}")))?;
                        let votes = votes.iter().filter(|v| v.0 == id).map(|v| (v.1, v.2)).collect();
                        Ok(crate::domain::consistency::RowFacts { id, status, content_hash, idempotency_key, votes })
                    })
                    .collect()
            }

            async fn audit_about_all(&self, subjects: &[String]) -> __Result<Vec<__Record>> {
                if subjects.is_empty() {
                    return Ok(vec![]);
                }
                let mut q = QueryBuilder::<$db>::new(format!("SELECT {AUDIT_COLUMNS} FROM audit_events WHERE subject IN ("));
                let mut each = q.separated(", ");
                subjects.iter().for_each(|s| {
                    each.push_bind(s.clone());
                });
                q.push(") ORDER BY seq");
                let rows: Vec<AuditRow> = q.build_query_as().fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(__Record::from).collect())
            }

            async fn add_checkpoint(&self, c: &crate::domain::checkpoint::Checkpoint) -> __Result<()> {
                sqlx::query(
                    "INSERT INTO audit_checkpoints (seq, hash, at, key_id, signature) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (seq) DO NOTHING",
                )
                .bind(c.seq)
                .bind(&c.hash)
                .bind(c.at)
                .bind(&c.key_id)
                .bind(&c.signature)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn last_checkpoint_seq(&self) -> __Result<Option<i64>> {
                Ok(sqlx::query_scalar("SELECT MAX(seq) FROM audit_checkpoints").fetch_one(&self.pool).await?)
            }

            async fn checkpoints(&self) -> __Result<Vec<crate::domain::checkpoint::Checkpoint>> {
                let rows: Vec<(i64, String, time::OffsetDateTime, String, String)> =
                    sqlx::query_as("SELECT seq, hash, at, key_id, signature FROM audit_checkpoints ORDER BY seq")
                        .fetch_all(&self.pool)
                        .await?;
                Ok(rows
                    .into_iter()
                    .map(|(seq, hash, at, key_id, signature)| crate::domain::checkpoint::Checkpoint {
                        seq,
                        hash,
                        at,
                        key_id,
                        signature,
                    })
                    .collect())
            }
        }
    };
}
