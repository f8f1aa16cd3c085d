//! Agents and their credentials, in the SQL both adapters share (see `sql.rs` for why a macro). Expanded in
//! the adapter's module after `sql_store!`, whose `append_in` it uses.

macro_rules! sql_agents {
    ($adapter:ident, $db:ty) => {
        impl $adapter {
            async fn agents_where(&self, q: &mut sqlx::QueryBuilder<'_, $db>) -> crate::store::Result<Vec<crate::store::Agent>> {
                use crate::store::rows::{AgentRow, AllowanceRow};
                let rows: Vec<AgentRow> = q.build_query_as().fetch_all(&self.pool).await?;
                if rows.is_empty() {
                    return Ok(Vec::new());
                }
                let mut a = sqlx::QueryBuilder::<$db>::new(
                    "SELECT agent_id, action_type, limit_value, limit_currency FROM agent_allowances WHERE agent_id IN (",
                );
                let mut ids = a.separated(", ");
                rows.iter().for_each(|r| {
                    ids.push_bind(r.id);
                });
                a.push(")");
                let allowances: Vec<AllowanceRow> = a.build_query_as().fetch_all(&self.pool).await?;
                rows.into_iter().map(|r| r.into_agent(&allowances)).collect()
            }

            async fn write_scope(
                tx: &mut sqlx::Transaction<'static, $db>,
                agent: &crate::store::Agent,
            ) -> crate::store::Result<()> {
                sqlx::query("DELETE FROM agent_allowances WHERE agent_id = $1").bind(agent.id).execute(&mut **tx).await?;
                for allowance in agent.scope.allowances() {
                    sqlx::query(
                        "INSERT INTO agent_allowances (agent_id, action_type, limit_value, limit_currency) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(agent.id)
                    .bind(allowance.action.as_str())
                    .bind(allowance.limit.as_ref().map(|m| m.value.to_string()))
                    .bind(allowance.limit.as_ref().map(|m| m.currency.clone()))
                    .execute(&mut **tx)
                    .await?;
                }
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl crate::store::AgentStore for $adapter {
            async fn create_agent(&self, agent: &crate::store::Agent, event: crate::domain::audit::Event) -> crate::store::Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO agents (id, tenant_id, name, purpose, owner_id, sponsor_id, state, webhook_url, webhook_secret, created_at, \
                     review_due_at, registered_by, scope_changed_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                )
                .bind(agent.id)
                .bind(agent.tenant_id)
                .bind(&agent.name)
                .bind(&agent.purpose)
                .bind(agent.owner_id)
                .bind(agent.sponsor_id)
                .bind(agent.state.as_str())
                .bind(&agent.webhook_url)
                .bind(&agent.webhook_secret)
                .bind(agent.created_at)
                .bind(agent.life.review_due_at)
                .bind(agent.life.registered_by)
                .bind(agent.life.scope_changed_by)
                .execute(&mut *tx)
                .await
                .map_err(crate::store::map_unique(&format!("agent {}", agent.name)))?;
                Self::write_scope(&mut tx, agent).await?;
                use crate::domain::provenance::Path;
                agent_authority_in(&mut tx, agent.id, agent.life.registered_by, Path::RegisteredAgent, agent.created_at)
                    .await?;
                agent_authority_in(&mut tx, agent.id, agent.life.scope_changed_by, Path::ChangedScope, agent.created_at)
                    .await?;
                append_in(&mut tx, &event, agent.created_at).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn update_agent(
                &self,
                agent: &crate::store::Agent,
                event: crate::domain::audit::Event,
                at: time::OffsetDateTime,
            ) -> crate::store::Result<()> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "UPDATE agents SET purpose = $1, sponsor_id = $2, webhook_url = $3, webhook_secret = $4, review_due_at = $5, \
                     last_reviewed_at = $6, scope_changed_by = $7 WHERE id = $8",
                )
                .bind(&agent.purpose)
                .bind(agent.sponsor_id)
                .bind(&agent.webhook_url)
                .bind(&agent.webhook_secret)
                .bind(agent.life.review_due_at)
                .bind(agent.life.last_reviewed_at)
                .bind(agent.life.scope_changed_by)
                .bind(agent.id)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    return Err(crate::store::StoreError::NotFound(format!("agent {}", agent.id)));
                }
                Self::write_scope(&mut tx, agent).await?;
                // The column keeps the last author; the history keeps them all (a repeat adds nothing).
                let path = crate::domain::provenance::Path::ChangedScope;
                agent_authority_in(&mut tx, agent.id, agent.life.scope_changed_by, path, at).await?;
                append_in(&mut tx, &event, at).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn agent(&self, id: uuid::Uuid) -> crate::store::Result<Option<crate::store::Agent>> {
                let mut q = sqlx::QueryBuilder::<$db>::new("SELECT * FROM agents WHERE id = ");
                q.push_bind(id);
                Ok(self.agents_where(&mut q).await?.pop())
            }

            async fn agents(&self, tenants: &[uuid::Uuid], owner: Option<uuid::Uuid>) -> crate::store::Result<Vec<crate::store::Agent>> {
                if tenants.is_empty() {
                    return Ok(Vec::new());
                }
                let mut q = sqlx::QueryBuilder::<$db>::new("SELECT * FROM agents WHERE tenant_id IN (");
                let mut ids = q.separated(", ");
                tenants.iter().for_each(|t| {
                    ids.push_bind(*t);
                });
                q.push(")");
                if let Some(person) = owner {
                    q.push(" AND (owner_id = ").push_bind(person).push(" OR sponsor_id = ").push_bind(person).push(")");
                }
                q.push(" ORDER BY name");
                self.agents_where(&mut q).await
            }

            async fn create_credential(
                &self,
                credential: &crate::store::Credential,
                event: crate::domain::audit::Event,
            ) -> crate::store::Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO agent_credentials (id, agent_id, prefix, secret_hash, created_at, expires_at, issued_by, \
                     case_id, action_types, subject, parent_id, issuer_id) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(credential.id)
                .bind(credential.agent_id)
                .bind(&credential.prefix)
                .bind(&credential.secret_hash)
                .bind(credential.created_at)
                .bind(credential.expires_at)
                .bind(credential.issued_by)
                .bind(&credential.case_id)
                .bind(credential.action_types.as_ref().map(|types| {
                    serde_json::json!(types.iter().map(|t| t.as_str()).collect::<Vec<_>>()).to_string()
                }))
                .bind(&credential.subject)
                .bind(credential.parent_id)
                .bind(credential.issuer_id)
                .execute(&mut *tx)
                .await?;
                append_in(&mut tx, &event, credential.created_at).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn credential(&self, id: uuid::Uuid) -> crate::store::Result<Option<crate::store::Credential>> {
                let row: Option<crate::store::rows::CredentialRow> =
                    sqlx::query_as("SELECT * FROM agent_credentials WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
                Ok(row.map(Into::into))
            }

            async fn credentials(&self, agent: uuid::Uuid) -> crate::store::Result<Vec<crate::store::Credential>> {
                let rows: Vec<crate::store::rows::CredentialRow> =
                    sqlx::query_as("SELECT * FROM agent_credentials WHERE agent_id = $1 ORDER BY created_at DESC")
                        .bind(agent)
                        .fetch_all(&self.pool)
                        .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn revoke_credential(
                &self,
                id: uuid::Uuid,
                event: crate::domain::audit::Event,
                at: time::OffsetDateTime,
            ) -> crate::store::Result<bool> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query("UPDATE agent_credentials SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                    .bind(at)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Ok(false);
                }
                // Case credentials exchanged from it end with it.
                sqlx::query("UPDATE agent_credentials SET revoked_at = $1 WHERE parent_id = $2 AND revoked_at IS NULL")
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
