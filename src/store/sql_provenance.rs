//! Provenance, in the SQL both adapters share (see `sql.rs` for why a macro): append-only history of who
//! could have produced a request and who provisioned each account. The `*_in` functions write in the
//! caller's transaction, so each fact commits with the change that makes it true.

macro_rules! sql_provenance {
    ($adapter:ident, $db:ty) => {
        /// Remembers `user`'s part in what `agent` may ask; a repeat of the same part changes nothing.
        async fn agent_authority_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            agent: uuid::Uuid,
            user: Option<uuid::Uuid>,
            path: crate::domain::provenance::Path,
            at: time::OffsetDateTime,
        ) -> crate::store::Result<()> {
            let Some(user) = user else { return Ok(()) };
            sqlx::query(
                "INSERT INTO agent_authority (agent_id, user_id, path, at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(agent)
            .bind(user)
            .bind(path.as_str())
            .bind(at)
            .execute(&mut **tx)
            .await?;
            Ok(())
        }

        /// Remembers who registered (`registered_issuer`) or changed (`changed_issuer`) a trusted issuer.
        async fn issuer_authority_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            issuer: uuid::Uuid,
            user: Option<uuid::Uuid>,
            path: &str,
            at: time::OffsetDateTime,
        ) -> crate::store::Result<()> {
            let Some(user) = user else { return Ok(()) };
            sqlx::query(
                "INSERT INTO issuer_authority (issuer_id, user_id, path, at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(issuer)
            .bind(user)
            .bind(path)
            .bind(at)
            .execute(&mut **tx)
            .await?;
            Ok(())
        }

        /// Remembers that the person `actor` names provisioned `user`'s account (nobody else's change, such
        /// as a person setting their own password or the command line, provisions anything).
        async fn account_provenance_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            user: uuid::Uuid,
            actor: &crate::domain::audit::Actor,
            how: crate::domain::provenance::Provision,
            at: time::OffsetDateTime,
        ) -> crate::store::Result<()> {
            let crate::domain::audit::Actor::User(by) = actor else { return Ok(()) };
            if *by == user {
                return Ok(());
            }
            sqlx::query(
                "INSERT INTO account_provenance (user_id, by_user, path, at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(user)
            .bind(*by)
            .bind(how.as_str())
            .bind(at)
            .execute(&mut **tx)
            .await?;
            Ok(())
        }

        /// Records who could have produced each of `held` (just inserted), as things stand in this
        /// transaction: the agent's owner and sponsor and authority history, the credential's minter (a case
        /// credential carries its parent's), and whoever registered or changed the issuer that vouched.
        async fn record_provenance_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            held: &[uuid::Uuid],
        ) -> crate::store::Result<()> {
            const SOURCES: [&str; 5] = [
                "SELECT h.id, a.owner_id, 'owner' FROM held_actions h JOIN agents a ON a.id = h.agent_id",
                "SELECT h.id, a.sponsor_id, 'sponsor' FROM held_actions h JOIN agents a ON a.id = h.agent_id \
                 WHERE a.sponsor_id IS NOT NULL AND",
                "SELECT h.id, g.user_id, g.path FROM held_actions h JOIN agent_authority g ON g.agent_id = h.agent_id",
                "SELECT h.id, c.issued_by, CASE WHEN c.parent_id IS NULL THEN 'minted_credential' \
                 ELSE 'minted_parent_credential' END FROM held_actions h \
                 JOIN agent_credentials c ON c.id = h.credential_id WHERE c.issued_by IS NOT NULL AND",
                "SELECT h.id, g.user_id, g.path FROM held_actions h JOIN issuer_authority g ON g.issuer_id = h.issuer_id",
            ];
            for chunk in held.chunks(1_000) {
                for source in SOURCES {
                    let mut q = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO held_action_provenance (held_action_id, user_id, path) ",
                    );
                    q.push(source);
                    q.push(if source.ends_with("AND") { " h.id IN (" } else { " WHERE h.id IN (" });
                    let mut ids = q.separated(", ");
                    chunk.iter().for_each(|id| {
                        ids.push_bind(*id);
                    });
                    q.push(") ON CONFLICT DO NOTHING");
                    q.build().execute(&mut **tx).await?;
                }
            }
            Ok(())
        }

        #[async_trait::async_trait]
        impl crate::store::ProvenanceStore for $adapter {
            async fn producers(
                &self,
                held_action: uuid::Uuid,
            ) -> crate::store::Result<Vec<crate::domain::provenance::Producer>> {
                // As recorded at intake, and the agent's authority history since (a scope widened after the
                // request makes it approvable, so its author is no more independent than the requester).
                let rows: Vec<(uuid::Uuid, String)> = sqlx::query_as(
                    "SELECT user_id, path FROM held_action_provenance WHERE held_action_id = $1 \
                     UNION SELECT g.user_id, g.path FROM agent_authority g \
                     JOIN held_actions h ON h.agent_id = g.agent_id WHERE h.id = $1",
                )
                .bind(held_action)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|(user, path)| match crate::domain::provenance::Path::parse(&path) {
                        Some(path) => Ok((user, path)),
                        None => Err(crate::store::StoreError::Corrupt(format!("unknown provenance path {path}"))),
                    })
                    .collect()
            }

            async fn provisioned(
                &self,
                users: &[uuid::Uuid],
            ) -> crate::store::Result<Vec<crate::domain::provenance::Provisioned>> {
                if users.is_empty() {
                    return Ok(Vec::new());
                }
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "SELECT user_id, by_user, path FROM account_provenance WHERE user_id IN (",
                );
                let mut ids = q.separated(", ");
                users.iter().for_each(|u| {
                    ids.push_bind(*u);
                });
                q.push(")");
                let rows: Vec<(uuid::Uuid, uuid::Uuid, String)> = q.build_query_as().fetch_all(&self.pool).await?;
                rows.into_iter()
                    .map(|(user, by, how)| match crate::domain::provenance::Provision::parse(&how) {
                        Some(how) => Ok(crate::domain::provenance::Provisioned { user, by, how }),
                        None => Err(crate::store::StoreError::Corrupt(format!("unknown provision {how}"))),
                    })
                    .collect()
            }
        }
    };
}
