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
            let roles: Vec<(Uuid,)> =
                sqlx::query_as("SELECT tenant_id FROM membership_roles WHERE user_id = $1 AND role = 'owner'")
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
                    has_owner_role: roles.iter().any(|(t,)| *t == tenant),
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

        /// Replaces a person's memberships and their roles; roles outside tenants are kept only for someone
        /// who belongs to none. In the caller's transaction.
        async fn write_memberships_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            user: Uuid,
            memberships: &crate::domain::access::Memberships,
        ) -> crate::store::Result<()> {
            sqlx::query("DELETE FROM membership_roles WHERE user_id = $1").bind(user).execute(&mut **tx).await?;
            sqlx::query("DELETE FROM memberships WHERE user_id = $1").bind(user).execute(&mut **tx).await?;
            sqlx::query("DELETE FROM user_roles WHERE user_id = $1").bind(user).execute(&mut **tx).await?;
            for (tenant, roles) in &memberships.tenants {
                sqlx::query("INSERT INTO memberships (user_id, tenant_id) VALUES ($1, $2)")
                    .bind(user)
                    .bind(*tenant)
                    .execute(&mut **tx)
                    .await?;
                for role in roles {
                    sqlx::query("INSERT INTO membership_roles (user_id, tenant_id, role) VALUES ($1, $2, $3)")
                        .bind(user)
                        .bind(*tenant)
                        .bind(role.as_str())
                        .execute(&mut **tx)
                        .await?;
                }
            }
            if memberships.tenants.is_empty() {
                for role in &memberships.outside {
                    sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
                        .bind(user)
                        .bind(role.as_str())
                        .execute(&mut **tx)
                        .await?;
                }
            }
            Ok(())
        }

        /// Refuses (changing nothing) when one of `tenants` has no active admin as the transaction sees it:
        /// the last-admin rule, re-checked after the change and before its commit. The tenant rows are locked
        /// first, so two racing demotions in one tenant run one after the other.
        async fn admins_remain_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            tenants: &[Uuid],
        ) -> crate::store::Result<()> {
            for tenant in tenants {
                let slug: Option<(String,)> =
                    sqlx::query_as(&format!("SELECT slug FROM tenants WHERE id = $1{ROW_LOCK}"))
                        .bind(*tenant)
                        .fetch_optional(&mut **tx)
                        .await?;
                let (admins,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) FROM membership_roles r JOIN users u ON u.id = r.user_id \
                     WHERE r.tenant_id = $1 AND r.role = 'admin' AND u.active = TRUE",
                )
                .bind(*tenant)
                .fetch_one(&mut **tx)
                .await?;
                if admins == 0 {
                    let name = slug.map_or_else(|| tenant.to_string(), |(s,)| s);
                    return Err(crate::store::StoreError::Invalid(crate::domain::Invalid::new(format!(
                        "that would leave {name} without an admin; make someone else an admin first"
                    ))));
                }
            }
            Ok(())
        }

        #[async_trait::async_trait]
        impl crate::store::PeopleStore for $adapter {
            async fn update_person(&self, change: &crate::store::PersonChange, at: OffsetDateTime) -> __Result<()> {
                let mut tx = self.begin_write().await?;
                // Whoever makes someone a supervisor in a tenant chose an approver: remembered for separation of
                // duties.
                let was: Vec<(Uuid,)> = sqlx::query_as(
                    "SELECT tenant_id FROM membership_roles WHERE user_id = $1 AND role = 'supervisor'",
                )
                .bind(change.user)
                .fetch_all(&mut *tx)
                .await?;
                let granted = change.memberships.tenants_with(&[crate::domain::Role::Supervisor]);
                if granted.iter().any(|t| !was.iter().any(|(w,)| w == t)) {
                    let how = crate::domain::provenance::Provision::GrantedSupervisor;
                    account_provenance_in(&mut tx, change.user, &change.event.actor, how, at).await?;
                }
                write_memberships_in(&mut tx, change.user, &change.memberships).await?;
                admins_remain_in(&mut tx, &change.keep_admins).await?;
                append_in(&mut tx, &change.event, at).await?;
                refresh_orphans_in(&mut tx, change.user, &change.event.actor, at).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn set_person_active(
                &self,
                user: Uuid,
                active: bool,
                keep_admins: &[Uuid],
                event: __Event,
                at: OffsetDateTime,
            ) -> __Result<bool> {
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
                admins_remain_in(&mut tx, keep_admins).await?;
                append_in(&mut tx, &event, at).await?;
                refresh_orphans_in(&mut tx, user, &event.actor, at).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn unlock_person(&self, user: Uuid, event: __Event, at: OffsetDateTime) -> __Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("DELETE FROM sign_in_failures WHERE user_id = $1").bind(user).execute(&mut *tx).await?;
                append_in(&mut tx, &event, at).await?;
                tx.commit().await?;
                Ok(())
            }
        }
    };
}
