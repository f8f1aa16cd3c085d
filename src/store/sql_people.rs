//! Changes to people that can orphan agents, in the SQL both adapters share (see `sql.rs` for why a macro).
//! Expanded after `sql_store!`, whose `append_in` it uses.

macro_rules! sql_people {
    ($adapter:ident, $db:ty) => {
        /// Re-marks whether each live agent `owner` owns is orphaned, after a change to that person, and
        /// records each newly orphaned agent; in the caller's transaction.
        async fn refresh_orphans_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            owner: Uuid,
            actor: &crate::domain::audit::Actor,
            at: OffsetDateTime,
        ) -> crate::store::Result<()> {
            use crate::domain::audit::{Event, Kind};
            let agents: Vec<(Uuid, Uuid, Option<OffsetDateTime>)> = sqlx::query_as(
                "SELECT id, tenant_id, orphaned_at FROM agents WHERE owner_id = $1 AND state <> 'retired'",
            )
            .bind(owner)
            .fetch_all(&mut **tx)
            .await?;
            if agents.is_empty() {
                return Ok(());
            }
            let active: Option<(bool,)> =
                sqlx::query_as("SELECT active FROM users WHERE id = $1").bind(owner).fetch_optional(&mut **tx).await?;
            let roles: Vec<(String,)> = sqlx::query_as("SELECT role FROM user_roles WHERE user_id = $1 AND role = 'owner'")
                .bind(owner)
                .fetch_all(&mut **tx)
                .await?;
            let tenants: Vec<(Uuid,)> = sqlx::query_as("SELECT tenant_id FROM memberships WHERE user_id = $1")
                .bind(owner)
                .fetch_all(&mut **tx)
                .await?;
            let mut events = Vec::new();
            for (agent, tenant, orphaned_at) in agents {
                let standing = crate::domain::lifecycle::OwnerStanding {
                    active: active.is_some_and(|(a,)| a),
                    has_owner_role: !roles.is_empty(),
                    in_tenant: tenants.iter().any(|(t,)| *t == tenant),
                };
                let mark = match (standing.cause(), orphaned_at) {
                    (Some(cause), None) => {
                        events.push(
                            Event::new(Kind::AgentOrphaned, actor.clone(), format!("agent:{agent}"))
                                .tenant(tenant)
                                .data(serde_json::json!({ "owner": owner, "cause": cause })),
                        );
                        Some(at)
                    }
                    (None, Some(_)) => None,
                    _ => continue,
                };
                sqlx::query("UPDATE agents SET orphaned_at = $1 WHERE id = $2")
                    .bind(mark)
                    .bind(agent)
                    .execute(&mut **tx)
                    .await?;
            }
            append_all_in(tx, &events, at).await?;
            Ok(())
        }

        #[async_trait::async_trait]
        impl crate::store::PeopleStore for $adapter {
            async fn update_person(&self, change: &crate::store::PersonChange, at: OffsetDateTime) -> __Result<()> {
                let mut tx = self.begin_write().await?;
                // Whoever makes someone a supervisor chose an approver: remembered for separation of duties.
                if change.roles.contains(&crate::domain::Role::Supervisor) {
                    let how = crate::domain::provenance::Provision::GrantedSupervisor;
                    let had: Option<(String,)> =
                        sqlx::query_as("SELECT role FROM user_roles WHERE user_id = $1 AND role = 'supervisor'")
                            .bind(change.user)
                            .fetch_optional(&mut *tx)
                            .await?;
                    if had.is_none() {
                        account_provenance_in(&mut tx, change.user, &change.event.actor, how, at).await?;
                    }
                }
                sqlx::query("DELETE FROM user_roles WHERE user_id = $1").bind(change.user).execute(&mut *tx).await?;
                for role in &change.roles {
                    sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
                        .bind(change.user)
                        .bind(role.as_str())
                        .execute(&mut *tx)
                        .await?;
                }
                sqlx::query("DELETE FROM memberships WHERE user_id = $1").bind(change.user).execute(&mut *tx).await?;
                for tenant in &change.tenants {
                    sqlx::query("INSERT INTO memberships (user_id, tenant_id) VALUES ($1, $2)")
                        .bind(change.user)
                        .bind(*tenant)
                        .execute(&mut *tx)
                        .await?;
                }
                append_in(&mut tx, &change.event, at).await?;
                refresh_orphans_in(&mut tx, change.user, &change.event.actor, at).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn set_person_active(&self, user: Uuid, active: bool, event: __Event, at: OffsetDateTime) -> __Result<bool> {
                let mut tx = self.begin_write().await?;
                // Disabling moves the session epoch on, so every session of the person ends at its next request.
                let sql = if active {
                    "UPDATE users SET active = TRUE WHERE id = $1 AND active = FALSE"
                } else {
                    "UPDATE users SET active = FALSE, session_epoch = session_epoch + 1 WHERE id = $1 AND active = TRUE"
                };
                let done = sqlx::query(sql).bind(user).execute(&mut *tx).await?;
                if done.rows_affected() != 1 {
                    return Ok(false);
                }
                append_in(&mut tx, &event, at).await?;
                refresh_orphans_in(&mut tx, user, &event.actor, at).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn unlock_person(&self, user: Uuid, event: __Event, at: OffsetDateTime) -> __Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "UPDATE users SET failed_sign_ins = 0, failure_window_start = NULL, locked_until = NULL WHERE id = $1",
                )
                .bind(user)
                .execute(&mut *tx)
                .await?;
                append_in(&mut tx, &event, at).await?;
                tx.commit().await?;
                Ok(())
            }
        }
    };
}
