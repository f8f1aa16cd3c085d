//! The insights rollups, in the SQL both adapters share (see `sql.rs` for why a macro): `rollup_in` sums a
//! transaction's tallies and adds them in that same transaction, so the pictures always agree with the record.

macro_rules! sql_insights {
    ($adapter:ident, $db:ty) => {
        /// Adds `tallies` to the rollups, in the caller's transaction, one upsert per distinct key.
        async fn rollup_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            tallies: &[crate::store::Tally],
        ) -> crate::store::Result<()> {
            use crate::store::Tally;
            use std::collections::BTreeMap;
            let mut decided: BTreeMap<(Uuid, &str, &str, &str, i64), i64> = BTreeMap::new();
            let mut voted: BTreeMap<(Uuid, &str, Uuid, &str), (i64, i64, i64)> = BTreeMap::new();
            for t in tallies {
                match t {
                    Tally::Decided { tenant, day, action, outcome, bucket } => {
                        *decided.entry((*tenant, day, action, outcome, *bucket)).or_default() += 1;
                    }
                    Tally::Voted { tenant, day, reviewer, action, approve, fast } => {
                        let e = voted.entry((*tenant, day, *reviewer, action)).or_default();
                        e.0 += i64::from(*approve);
                        e.1 += i64::from(!*approve);
                        e.2 += i64::from(*fast);
                    }
                }
            }
            for ((tenant, day, action, outcome, bucket), n) in decided {
                sqlx::query(
                    "INSERT INTO rollup_decisions (tenant_id, day, action_type, outcome, bucket, n) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (tenant_id, day, action_type, outcome, bucket) DO UPDATE SET n = rollup_decisions.n + excluded.n",
                )
                .bind(tenant).bind(day).bind(action).bind(outcome).bind(bucket).bind(n)
                .execute(&mut **tx)
                .await?;
            }
            for ((tenant, day, reviewer, action), (approvals, denials, fast)) in voted {
                sqlx::query(
                    "INSERT INTO rollup_votes (tenant_id, day, reviewer_id, action_type, approvals, denials, fast_approvals) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (tenant_id, day, reviewer_id, action_type) DO UPDATE SET \
                     approvals = rollup_votes.approvals + excluded.approvals, denials = rollup_votes.denials + excluded.denials, \
                     fast_approvals = rollup_votes.fast_approvals + excluded.fast_approvals",
                )
                .bind(tenant).bind(day).bind(reviewer).bind(action).bind(approvals).bind(denials).bind(fast)
                .execute(&mut **tx)
                .await?;
            }
            Ok(())
        }

        const QA_SELECT: &str = "SELECT s.id, s.tenant_id, s.held_action_id, s.drawn_by, s.drawn_at, s.verdict, s.note, \
            s.reviewed_by, s.reviewed_at, h.decided_by, h.status, h.action_type FROM qa_samples s \
            JOIN held_actions h ON h.id = s.held_action_id";

        fn push_in(q: &mut sqlx::QueryBuilder<'_, $db>, tenants: &[Uuid]) {
            q.push("tenant_id IN (");
            let mut ids = q.separated(", ");
            tenants.iter().for_each(|t| {
                ids.push_bind(*t);
            });
            q.push(")");
        }

        #[async_trait::async_trait]
        impl crate::store::InsightsStore for $adapter {
            async fn decision_counts(&self, tenants: &[Uuid], from: &str, to: &str) -> __Result<Vec<crate::store::DecisionCount>> {
                if tenants.is_empty() {
                    return Ok(Vec::new());
                }
                let mut q = QueryBuilder::<$db>::new(
                    "SELECT tenant_id, day, action_type, outcome, bucket, n FROM rollup_decisions WHERE ",
                );
                push_in(&mut q, tenants);
                q.push(" AND day >= ").push_bind(from.to_string()).push(" AND day <= ").push_bind(to.to_string());
                Ok(q.build_query_as().fetch_all(&self.pool).await?)
            }

            async fn vote_counts(&self, tenants: &[Uuid], from: &str, to: &str) -> __Result<Vec<crate::store::VoteCount>> {
                if tenants.is_empty() {
                    return Ok(Vec::new());
                }
                let mut q = QueryBuilder::<$db>::new(
                    "SELECT tenant_id, day, reviewer_id, action_type, approvals, denials, fast_approvals FROM rollup_votes WHERE ",
                );
                push_in(&mut q, tenants);
                q.push(" AND day >= ").push_bind(from.to_string()).push(" AND day <= ").push_bind(to.to_string());
                Ok(q.build_query_as().fetch_all(&self.pool).await?)
            }

            async fn outcomes_per_day(&self, tenants: &[Uuid], from: &str, to: &str) -> __Result<Vec<(String, String, i64)>> {
                if tenants.is_empty() {
                    return Ok(Vec::new());
                }
                let mut q = QueryBuilder::<$db>::new("SELECT day, outcome, CAST(SUM(n) AS BIGINT) FROM rollup_decisions WHERE ");
                push_in(&mut q, tenants);
                q.push(" AND day >= ").push_bind(from.to_string()).push(" AND day <= ").push_bind(to.to_string());
                q.push(" GROUP BY day, outcome");
                Ok(q.build_query_as().fetch_all(&self.pool).await?)
            }

            async fn decision_latency(&self, tenants: &[Uuid], from: &str, to: &str) -> __Result<Vec<(String, i64, i64)>> {
                if tenants.is_empty() {
                    return Ok(Vec::new());
                }
                let mut q = QueryBuilder::<$db>::new(
                    "SELECT action_type, bucket, CAST(SUM(n) AS BIGINT) FROM rollup_decisions WHERE outcome IN ('approved', 'denied') AND ",
                );
                push_in(&mut q, tenants);
                q.push(" AND day >= ").push_bind(from.to_string()).push(" AND day <= ").push_bind(to.to_string());
                q.push(" GROUP BY action_type, bucket");
                Ok(q.build_query_as().fetch_all(&self.pool).await?)
            }

            async fn pending_older_than(&self, tenants: &[Uuid], cutoffs: &[OffsetDateTime]) -> __Result<Vec<i64>> {
                let mut counts = Vec::with_capacity(cutoffs.len());
                for cutoff in cutoffs {
                    if tenants.is_empty() {
                        counts.push(0);
                        continue;
                    }
                    let mut q = QueryBuilder::<$db>::new("SELECT COUNT(*) FROM held_actions WHERE status = 'pending' AND ");
                    push_in(&mut q, tenants);
                    q.push(" AND received_at < ").push_bind(*cutoff);
                    let (n,): (i64,) = q.build_query_as().fetch_one(&self.pool).await?;
                    counts.push(n);
                }
                Ok(counts)
            }

            async fn sample_candidates(&self, tenants: &[Uuid], since: OffsetDateTime, n: i64) -> __Result<Vec<(Uuid, Uuid)>> {
                if tenants.is_empty() {
                    return Ok(Vec::new());
                }
                let mut q = QueryBuilder::<$db>::new(
                    "SELECT id, tenant_id FROM held_actions WHERE status IN ('approved', 'denied') AND ",
                );
                push_in(&mut q, tenants);
                q.push(" AND decided_at >= ").push_bind(since);
                q.push(" AND NOT EXISTS (SELECT 1 FROM qa_samples s WHERE s.held_action_id = held_actions.id)");
                q.push(" ORDER BY random() LIMIT ").push_bind(n);
                Ok(q.build_query_as().fetch_all(&self.pool).await?)
            }

            async fn insert_samples(&self, samples: &[crate::store::QaSample], events: Vec<__Event>, at: OffsetDateTime) -> __Result<()> {
                let mut tx = self.begin_write().await?;
                for s in samples {
                    sqlx::query(
                        "INSERT INTO qa_samples (id, tenant_id, held_action_id, drawn_by, drawn_at) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(s.id).bind(s.tenant_id).bind(s.held_action_id).bind(s.drawn_by).bind(s.drawn_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_unique("a sample of this held action"))?;
                }
                append_all_in(&mut tx, &events, at).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn samples(&self, tenants: &[Uuid], since: OffsetDateTime) -> __Result<Vec<crate::store::QaSample>> {
                if tenants.is_empty() {
                    return Ok(Vec::new());
                }
                let mut q = QueryBuilder::<$db>::new(format!("{QA_SELECT} WHERE s."));
                push_in(&mut q, tenants);
                q.push(" AND s.drawn_at >= ").push_bind(since).push(" ORDER BY s.drawn_at DESC, s.id");
                Ok(q.build_query_as().fetch_all(&self.pool).await?)
            }

            async fn sample(&self, id: Uuid) -> __Result<Option<crate::store::QaSample>> {
                Ok(sqlx::query_as(&format!("{QA_SELECT} WHERE s.id = $1")).bind(id).fetch_optional(&self.pool).await?)
            }

            async fn record_verdict(&self, id: Uuid, agree: bool, note: &str, by: Uuid, event: __Event, at: OffsetDateTime) -> __Result<bool> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "UPDATE qa_samples SET verdict = $1, note = $2, reviewed_by = $3, reviewed_at = $4 WHERE id = $5 AND verdict IS NULL",
                )
                .bind(if agree { "agree" } else { "disagree" }).bind(note).bind(by).bind(at).bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected() == 1;
                if done {
                    append_all_in(&mut tx, std::slice::from_ref(&event), at).await?;
                    tx.commit().await?;
                }
                Ok(done)
            }
        }
    };
}
