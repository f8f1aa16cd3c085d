//! Workload identity, in the SQL both adapters share (see `sql.rs` for why a macro). Expanded after
//! `sql_agents!`, whose `agents_where` it uses.

macro_rules! sql_workload {
    ($adapter:ident, $db:ty) => {
        #[async_trait::async_trait]
        impl crate::store::WorkloadStore for $adapter {
            async fn create_issuer(
                &self,
                issuer: &crate::domain::workload::Issuer,
                event: crate::domain::audit::Event,
            ) -> crate::store::Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO trusted_issuers (id, tenant_id, issuer, audience, jwks_url, jwks, created_at, created_by) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(issuer.id)
                .bind(issuer.tenant_id)
                .bind(&issuer.issuer)
                .bind(&issuer.audience)
                .bind(&issuer.jwks_url)
                .bind(&issuer.jwks)
                .bind(issuer.created_at)
                .bind(issuer.created_by)
                .execute(&mut *tx)
                .await
                .map_err(crate::store::map_unique(&format!("the issuer {} for this tenant", issuer.issuer)))?;
                issuer_authority_in(&mut tx, issuer.id, issuer.created_by, "registered_issuer", issuer.created_at).await?;
                append_in(&mut tx, &event, issuer.created_at).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn issuer(&self, id: uuid::Uuid) -> crate::store::Result<Option<crate::domain::workload::Issuer>> {
                let row: Option<crate::store::workload::IssuerRow> =
                    sqlx::query_as("SELECT * FROM trusted_issuers WHERE id = $1 AND removed_at IS NULL")
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map(Into::into))
            }

            async fn update_issuer(
                &self,
                issuer: &crate::domain::workload::Issuer,
                by: Option<uuid::Uuid>,
                event: crate::domain::audit::Event,
                at: time::OffsetDateTime,
            ) -> crate::store::Result<()> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "UPDATE trusted_issuers SET audience = $1, jwks_url = $2, jwks = $3, changed_at = $4, changed_by = $5 \
                     WHERE id = $6 AND removed_at IS NULL",
                )
                .bind(&issuer.audience)
                .bind(&issuer.jwks_url)
                .bind(&issuer.jwks)
                .bind(at)
                .bind(by)
                .bind(issuer.id)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    return Err(crate::store::StoreError::NotFound(format!("issuer {}", issuer.id)));
                }
                // Whoever sets an issuer's keys can sign its tokens: remembered like its registrant.
                issuer_authority_in(&mut tx, issuer.id, by, "changed_issuer", at).await?;
                append_in(&mut tx, &event, at).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn remove_issuer(
                &self,
                id: uuid::Uuid,
                by: Option<uuid::Uuid>,
                event: crate::domain::audit::Event,
                at: time::OffsetDateTime,
            ) -> crate::store::Result<()> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "UPDATE trusted_issuers SET removed_at = $1, removed_by = $2 WHERE id = $3 AND removed_at IS NULL",
                )
                .bind(at)
                .bind(by)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    return Err(crate::store::StoreError::NotFound(format!("issuer {id}")));
                }
                // Case credentials its tokens obtained end with it.
                sqlx::query("UPDATE agent_credentials SET revoked_at = $1 WHERE issuer_id = $2 AND revoked_at IS NULL")
                    .bind(at)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                append_in(&mut tx, &event, at).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn issuers(&self, tenants: &[uuid::Uuid]) -> crate::store::Result<Vec<crate::domain::workload::Issuer>> {
                if tenants.is_empty() {
                    return Ok(Vec::new());
                }
                let mut q = sqlx::QueryBuilder::<$db>::new("SELECT * FROM trusted_issuers WHERE removed_at IS NULL AND tenant_id IN (");
                let mut ids = q.separated(", ");
                tenants.iter().for_each(|t| {
                    ids.push_bind(*t);
                });
                q.push(") ORDER BY issuer");
                let rows: Vec<crate::store::workload::IssuerRow> = q.build_query_as().fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn issuers_named(&self, issuer: &str) -> crate::store::Result<Vec<crate::domain::workload::Issuer>> {
                let rows: Vec<crate::store::workload::IssuerRow> =
                    sqlx::query_as("SELECT * FROM trusted_issuers WHERE issuer = $1 AND removed_at IS NULL ORDER BY created_at, id")
                        .bind(issuer)
                        .fetch_all(&self.pool)
                        .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn bind_workload(
                &self,
                agent: uuid::Uuid,
                binding: crate::store::Binding<'_>,
                event: crate::domain::audit::Event,
                at: time::OffsetDateTime,
            ) -> crate::store::Result<()> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "UPDATE agents SET workload_subject = $1, workload_only = $2, scope_changed_by = $3 WHERE id = $4",
                )
                .bind(binding.subject)
                .bind(binding.only)
                .bind(binding.changed_by)
                .bind(agent)
                    .execute(&mut *tx)
                    .await
                    .map_err(crate::store::map_unique("an agent of this tenant bound to that subject"))?;
                if done.rows_affected() != 1 {
                    return Err(crate::store::StoreError::NotFound(format!("agent {agent}")));
                }
                let path = crate::domain::provenance::Path::BoundSubject;
                agent_authority_in(&mut tx, agent, binding.bound_by, path, at).await?;
                append_in(&mut tx, &event, at).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn agent_by_subject(
                &self,
                tenant: uuid::Uuid,
                subject: &str,
            ) -> crate::store::Result<Option<crate::store::Agent>> {
                let mut q = sqlx::QueryBuilder::<$db>::new("SELECT * FROM agents WHERE tenant_id = ");
                q.push_bind(tenant).push(" AND workload_subject = ").push_bind(subject.to_string());
                Ok(self.agents_where(&mut q).await?.pop())
            }

            async fn close_case(
                &self,
                agent: uuid::Uuid,
                case_id: &str,
                event: crate::domain::audit::Event,
                at: time::OffsetDateTime,
            ) -> crate::store::Result<u64> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "UPDATE agent_credentials SET revoked_at = $1 \
                     WHERE agent_id = $2 AND case_id = $3 AND revoked_at IS NULL AND expires_at > $1",
                )
                .bind(at)
                .bind(agent)
                .bind(case_id)
                .execute(&mut *tx)
                .await?;
                append_in(&mut tx, &event, at).await?;
                tx.commit().await?;
                Ok(done.rows_affected())
            }
        }
    };
}
