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
        }
    };
}
