//! The SQL both adapters share, written once. `sql_store!(Adapter, Database)` implements [`Store`] for an
//! adapter that has a `pool` field, `begin_write()` (a transaction holding the store's write lock, so audit
//! appends are serialised) and a `MIGRATOR`.
//!
//! A macro rather than generics: sqlx's executor bounds do not survive `async_trait`'s `Send` futures
//! when written over an abstract `Database`, and the two concrete expansions are checked by the compiler.

macro_rules! sql_store {
    ($adapter:ident, $db:ty) => {
        use crate::domain::audit::{self as __audit, Event as __Event, Record as __Record};
        use crate::domain::throttle::Verdict as __Verdict;
        use crate::store::rows::{AuditRow, MembershipRow, RoleRow, TenantRoleRow, TenantRow, UserRow};
        use crate::store::{map_unique, Core, NewUser, Result as __Result, SessionBackend, StoreError, Tenant, User};
        use sqlx::{QueryBuilder, Transaction};
        use time::OffsetDateTime;
        use uuid::Uuid;

        const AUDIT_COLUMNS: &str = "seq, at, actor, kind, subject, tenant_id, data, prev_hash, hash";

        /// Seals and inserts `event` after the newest record; the caller holds the write lock.
        async fn append_in(tx: &mut Transaction<'static, $db>, event: &__Event, at: OffsetDateTime) -> __Result<__Record> {
            let mut sealed = append_all_in(tx, std::slice::from_ref(event), at).await?;
            sealed.pop().ok_or_else(|| StoreError::Corrupt("an appended event vanished".into()))
        }

        /// Seals `events` as the next links of the chain and inserts them with one statement per chunk.
        async fn append_all_in(tx: &mut Transaction<'static, $db>, events: &[__Event], at: OffsetDateTime) -> __Result<Vec<__Record>> {
            let mut last: Option<(i64, String)> =
                sqlx::query_as("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
                    .fetch_optional(&mut **tx)
                    .await?;
            let mut sealed = Vec::with_capacity(events.len());
            for event in events {
                let record = __audit::seal(last.take(), event, at);
                last = Some((record.seq, record.hash.clone()));
                sealed.push(record);
            }
            // 9 parameters a row; SQLite allows 32,766 per statement.
            for chunk in sealed.chunks(1_000) {
                let mut q = QueryBuilder::<$db>::new(
                    "INSERT INTO audit_events (seq, at, actor, kind, subject, tenant_id, data, prev_hash, hash) ",
                );
                q.push_values(chunk, |mut row, r| {
                    row.push_bind(r.seq)
                        .push_bind(r.at.clone())
                        .push_bind(r.actor.clone())
                        .push_bind(r.kind.clone())
                        .push_bind(r.subject.clone())
                        .push_bind(r.tenant)
                        .push_bind(r.data.clone())
                        .push_bind(r.prev_hash.clone())
                        .push_bind(r.hash.clone());
                });
                q.build().execute(&mut **tx).await?;
            }
            Ok(sealed)
        }

        impl $adapter {
            /// Attaches roles and tenants to user rows with two queries, whatever the number of users.
            async fn complete(&self, rows: Vec<UserRow>) -> __Result<Vec<User>> {
                if rows.is_empty() {
                    return Ok(Vec::new());
                }
                let mut q = QueryBuilder::<$db>::new("SELECT user_id, role FROM user_roles WHERE user_id IN (");
                let mut ids = q.separated(", ");
                rows.iter().for_each(|r| { ids.push_bind(r.id); });
                q.push(") ORDER BY role");
                let roles: Vec<RoleRow> = q.build_query_as().fetch_all(&self.pool).await?;
                let mut q = QueryBuilder::<$db>::new(
                    "SELECT user_id, tenant_id, role FROM membership_roles WHERE user_id IN (",
                );
                let mut ids = q.separated(", ");
                rows.iter().for_each(|r| { ids.push_bind(r.id); });
                q.push(") ORDER BY role");
                let tenant_roles: Vec<TenantRoleRow> = q.build_query_as().fetch_all(&self.pool).await?;
                let mut q = QueryBuilder::<$db>::new(
                    "SELECT user_id, failures, last_failure_at FROM sign_in_failures WHERE user_id IN (",
                );
                let mut ids = q.separated(", ");
                rows.iter().for_each(|r| { ids.push_bind(r.id); });
                q.push(")");
                let slowed: Vec<(Uuid, i64, OffsetDateTime)> = q.build_query_as().fetch_all(&self.pool).await?;
                let mut q = QueryBuilder::<$db>::new(
                    "SELECT m.user_id, t.id, t.slug, t.name, t.created_at FROM memberships m \
                     JOIN tenants t ON t.id = m.tenant_id WHERE m.user_id IN (",
                );
                let mut ids = q.separated(", ");
                rows.iter().for_each(|r| { ids.push_bind(r.id); });
                q.push(") ORDER BY t.name");
                let memberships: Vec<MembershipRow> = q.build_query_as().fetch_all(&self.pool).await?;
                rows.into_iter()
                    .map(|row| {
                        let mut outside = roles
                            .iter()
                            .filter(|r| r.user_id == row.id)
                            .map(RoleRow::role)
                            .collect::<__Result<Vec<_>>>()?;
                        outside.sort();
                        let tenants: Vec<Tenant> = memberships
                            .iter()
                            .filter(|m| m.user_id == row.id)
                            .map(|m| Tenant { id: m.id, slug: m.slug.clone(), name: m.name.clone(), created_at: m.created_at })
                            .collect();
                        let mut per_tenant = Vec::with_capacity(tenants.len());
                        for t in &tenants {
                            let mut held = tenant_roles
                                .iter()
                                .filter(|r| r.user_id == row.id && r.tenant_id == t.id)
                                .map(TenantRoleRow::role)
                                .collect::<__Result<Vec<_>>>()?;
                            held.sort();
                            per_tenant.push((t.id, held));
                        }
                        // Roles outside tenants count only for someone who belongs to none.
                        let memberships = crate::domain::access::Memberships {
                            outside: if tenants.is_empty() { outside } else { Vec::new() },
                            tenants: per_tenant,
                        };
                        // The account shows as locked until its most slowed-down client may try again.
                        let locked_until = slowed
                            .iter()
                            .filter(|(u, _, _)| *u == row.id)
                            .filter_map(|(_, failures, at)| {
                                let failures = u32::try_from(*failures).unwrap_or(u32::MAX);
                                crate::domain::throttle::SlowDown { failures, last_failure_at: Some(*at) }.ready_at()
                            })
                            .max();
                        Ok(User {
                            throttle: crate::domain::throttle::Throttle { locked_until, ..Default::default() },
                            id: row.id,
                            email: row.email,
                            name: row.display_name,
                            password_hash: row.password_hash,
                            active: row.active,
                            session_epoch: row.session_epoch,
                            must_change_password: row.must_change_password,
                            roles: memberships.all_roles(),
                            tenants,
                            memberships,
                            created_at: row.created_at,
                        })
                    })
                    .collect()
            }

            async fn one_user(&self, row: Option<UserRow>) -> __Result<Option<User>> {
                Ok(self.complete(row.into_iter().collect()).await?.pop())
            }
        }

        #[async_trait::async_trait]
        impl Core for $adapter {
            fn backend(&self) -> &'static str {
                Self::BACKEND
            }

            async fn migrate(&self) -> __Result<()> {
                Self::MIGRATOR.run(&self.pool).await?;
                Ok(())
            }

            async fn pending_migrations(&self) -> __Result<usize> {
                let applied: Vec<(i64,)> = sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success")
                    .fetch_all(&self.pool)
                    .await?;
                Ok(Self::MIGRATOR.iter().filter(|m| !applied.iter().any(|(v,)| *v == m.version)).count())
            }

            fn sessions(&self) -> SessionBackend {
                SessionBackend::from(self.pool.clone())
            }

            async fn refresh_statistics(&self) -> __Result<()> {
                sqlx::raw_sql(Self::ANALYZE).execute(&self.pool).await?;
                Ok(())
            }

            async fn listen(&self, into: tokio::sync::broadcast::Sender<crate::delivery::Change>) -> __Result<bool> {
                self.listen_for_changes(into).await
            }

            async fn create_tenant(&self, tenant: &Tenant, event: __Event) -> __Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("INSERT INTO tenants (id, slug, name, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(tenant.id)
                    .bind(&tenant.slug)
                    .bind(&tenant.name)
                    .bind(tenant.created_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_unique(&format!("tenant {}", tenant.slug)))?;
                append_in(&mut tx, &event, tenant.created_at).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn tenants(&self) -> __Result<Vec<Tenant>> {
                let rows: Vec<TenantRow> =
                    sqlx::query_as("SELECT id, slug, name, created_at FROM tenants ORDER BY name")
                        .fetch_all(&self.pool)
                        .await?;
                Ok(rows.into_iter().map(Tenant::from).collect())
            }

            async fn tenant_by_slug(&self, slug: &str) -> __Result<Option<Tenant>> {
                let row: Option<TenantRow> =
                    sqlx::query_as("SELECT id, slug, name, created_at FROM tenants WHERE slug = $1")
                        .bind(slug)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map(Tenant::from))
            }

            async fn create_user(&self, user: &NewUser, event: __Event) -> __Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO users (id, email, display_name, password_hash, created_at, must_change_password) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(user.id)
                .bind(&user.email)
                .bind(&user.name)
                .bind(&user.password_hash)
                .bind(user.created_at)
                .bind(user.must_change_password)
                .execute(&mut *tx)
                .await
                .map_err(map_unique(&format!("user {}", user.email)))?;
                let memberships = crate::domain::access::Memberships::uniform(&user.roles, &user.tenants);
                write_memberships_in(&mut tx, user.id, &memberships).await?;
                let how = crate::domain::provenance::Provision::CreatedAccount;
                account_provenance_in(&mut tx, user.id, &event.actor, how, user.created_at).await?;
                append_in(&mut tx, &event, user.created_at).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn user_by_email(&self, email: &str) -> __Result<Option<User>> {
                let row: Option<UserRow> = sqlx::query_as("SELECT * FROM users WHERE email = $1")
                    .bind(email)
                    .fetch_optional(&self.pool)
                    .await?;
                self.one_user(row).await
            }

            async fn user_by_id(&self, id: Uuid) -> __Result<Option<User>> {
                let row: Option<UserRow> = sqlx::query_as("SELECT * FROM users WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                self.one_user(row).await
            }

            async fn users_in(&self, tenants: &[Uuid]) -> __Result<Vec<User>> {
                if tenants.is_empty() {
                    return Ok(Vec::new());
                }
                let mut q = QueryBuilder::<$db>::new(
                    "SELECT * FROM users WHERE id IN (SELECT user_id FROM memberships WHERE tenant_id IN (",
                );
                let mut ids = q.separated(", ");
                tenants.iter().for_each(|t| { ids.push_bind(*t); });
                q.push(")) ORDER BY display_name");
                let rows: Vec<UserRow> = q.build_query_as().fetch_all(&self.pool).await?;
                self.complete(rows).await
            }

            async fn sign_in_attempt(&self, user: Uuid, client: &str, password_ok: bool, at: OffsetDateTime) -> __Result<__Verdict> {
                use crate::domain::throttle::SlowDown;
                let mut tx = self.begin_write().await?;
                let row: Option<UserRow> = sqlx::query_as("SELECT * FROM users WHERE id = $1")
                    .bind(user)
                    .fetch_optional(&mut *tx)
                    .await?;
                let row = row.ok_or_else(|| StoreError::NotFound(format!("user {user}")))?;
                let stored: Option<(i64, OffsetDateTime)> = sqlx::query_as(
                    "SELECT failures, last_failure_at FROM sign_in_failures WHERE user_id = $1 AND client = $2",
                )
                .bind(user)
                .bind(client)
                .fetch_optional(&mut *tx)
                .await?;
                let state = stored.map_or(SlowDown::default(), |(failures, at)| SlowDown {
                    failures: u32::try_from(failures).unwrap_or(u32::MAX),
                    last_failure_at: Some(at),
                });
                let (next, verdict) = state.attempt(password_ok, at);
                if next != state {
                    sqlx::query("DELETE FROM sign_in_failures WHERE user_id = $1 AND client = $2")
                        .bind(user)
                        .bind(client)
                        .execute(&mut *tx)
                        .await?;
                    if let Some(last) = next.last_failure_at {
                        sqlx::query(
                            "INSERT INTO sign_in_failures (user_id, client, failures, last_failure_at) VALUES ($1, $2, $3, $4)",
                        )
                        .bind(user)
                        .bind(client)
                        .bind(i64::from(next.failures))
                        .bind(last)
                        .execute(&mut *tx)
                        .await?;
                    }
                }
                for event in verdict.sign_in_events(user, &row.email, client, next) {
                    append_in(&mut tx, &event, at).await?;
                }
                tx.commit().await?;
                Ok(verdict)
            }

            async fn set_password(&self, user: Uuid, password_hash: &str, event: __Event, at: OffsetDateTime) -> __Result<i64> {
                let mut tx = self.begin_write().await?;
                let epoch: Option<(i64,)> = sqlx::query_as(
                    "UPDATE users SET password_hash = $1, session_epoch = session_epoch + 1, must_change_password = FALSE \
                     WHERE id = $2 RETURNING session_epoch",
                )
                .bind(password_hash)
                .bind(user)
                .fetch_optional(&mut *tx)
                .await?;
                let (epoch,) = epoch.ok_or_else(|| StoreError::NotFound(format!("user {user}")))?;
                let how = crate::domain::provenance::Provision::SetPassword;
                account_provenance_in(&mut tx, user, &event.actor, how, at).await?;
                append_in(&mut tx, &event, at).await?;
                tx.commit().await?;
                Ok(epoch)
            }

            async fn append(&self, event: __Event, at: OffsetDateTime) -> __Result<__Record> {
                let mut tx = self.begin_write().await?;
                let record = append_in(&mut tx, &event, at).await?;
                tx.commit().await?;
                Ok(record)
            }

            async fn append_all(&self, events: Vec<__Event>, at: OffsetDateTime) -> __Result<Vec<__Record>> {
                let mut tx = self.begin_write().await?;
                let records = append_all_in(&mut tx, &events, at).await?;
                tx.commit().await?;
                Ok(records)
            }

            async fn audit_chain(&self, after: i64, limit: i64) -> __Result<Vec<__Record>> {
                let rows: Vec<AuditRow> = sqlx::query_as(&format!(
                    "SELECT {AUDIT_COLUMNS} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2"
                ))
                .bind(after)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(__Record::from).collect())
            }
        }
    };
}
