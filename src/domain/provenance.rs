//! Provenance: who could have produced a held action, and who provisioned the person about to decide it.
//! Both are read from append-only history (see migrations `0018_provenance.sql`); one rule weighs them,
//! `independent`, which `review::may_decide` and `Facts::counting` both call.

use uuid::Uuid;

/// How a person could have produced a request (or set what it may ask).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Path {
    /// Owned the agent when it asked (the current owner is refused on its own account).
    Owner,
    Sponsor,
    /// Minted the credential the action was submitted with.
    MintedCredential,
    /// Minted the credential a case credential was exchanged from.
    MintedParentCredential,
    /// Registered (or changed) the issuer whose key signed the workload token.
    RegisteredIssuer,
    RegisteredAgent,
    /// Bound the agent to its workload subject: chose who may speak as it.
    BoundSubject,
    /// Widened what the agent may ask.
    ChangedScope,
}

impl Path {
    pub const ALL: [Path; 8] = [
        Path::Owner,
        Path::Sponsor,
        Path::MintedCredential,
        Path::MintedParentCredential,
        Path::RegisteredIssuer,
        Path::RegisteredAgent,
        Path::BoundSubject,
        Path::ChangedScope,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Path::Owner => "owner",
            Path::Sponsor => "sponsor",
            Path::MintedCredential => "minted_credential",
            Path::MintedParentCredential => "minted_parent_credential",
            Path::RegisteredIssuer => "registered_issuer",
            Path::RegisteredAgent => "registered_agent",
            Path::BoundSubject => "bound_subject",
            Path::ChangedScope => "changed_scope",
        }
    }

    pub fn parse(s: &str) -> Option<Path> {
        // An issuer changed after registration counts as registering it: its keys are theirs too.
        if s == "changed_issuer" {
            return Some(Path::RegisteredIssuer);
        }
        Path::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// What the person did, in the words the case view shows ("You …").
    pub fn deed(self) -> &'static str {
        match self {
            Path::Owner => "owned this agent when it asked",
            Path::Sponsor => "sponsored this agent when it asked",
            Path::MintedCredential => "issued the credential this action was submitted with",
            Path::MintedParentCredential => "minted the credential this case credential came from",
            Path::RegisteredIssuer => "registered the identity provider that vouched for this agent",
            Path::RegisteredAgent => "registered this agent",
            Path::BoundSubject => "bound this agent to its workload identity",
            Path::ChangedScope => "widened this agent's scope",
        }
    }
}

/// How a person's account came to be able to decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provision {
    CreatedAccount,
    SetPassword,
    GrantedSupervisor,
}

impl Provision {
    pub const ALL: [Provision; 3] = [Provision::CreatedAccount, Provision::SetPassword, Provision::GrantedSupervisor];

    pub fn as_str(self) -> &'static str {
        match self {
            Provision::CreatedAccount => "created_account",
            Provision::SetPassword => "set_password",
            Provision::GrantedSupervisor => "granted_supervisor",
        }
    }

    pub fn parse(s: &str) -> Option<Provision> {
        Provision::ALL.into_iter().find(|p| p.as_str() == s)
    }

    fn deed(self) -> &'static str {
        match self {
            Provision::CreatedAccount => "created your account",
            Provision::SetPassword => "set your password",
            Provision::GrantedSupervisor => "made you a supervisor",
        }
    }
}

/// One person's part in producing a request.
pub type Producer = (Uuid, Path);
/// `by` provisioned `user`'s account this way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Provisioned {
    pub user: Uuid,
    pub by: Uuid,
    pub how: Provision,
}

/// Why someone is not independent of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tie {
    /// They could have produced it.
    Produced(Path),
    /// Someone who could have produced it provisioned their account.
    ProvisionedBy(Provision, Path),
}

impl std::fmt::Display for Tie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tie::Produced(path) => write!(f, "you {}", path.deed()),
            Tie::ProvisionedBy(how, path) => {
                write!(f, "the person who {} also {}", how.deed(), path.deed().replace("this agent", "the agent"))
            }
        }
    }
}

/// Whether `user` is independent of a request `producers` could have made: neither one of them nor
/// provisioned by one of them. `provisioned` may hold rows of other people; only `user`'s are read.
pub fn independent(user: Uuid, producers: &[Producer], provisioned: &[Provisioned]) -> Result<(), Tie> {
    // The most telling path first: Path's order puts ownership before the rest.
    if let Some(path) = producers.iter().filter(|(p, _)| *p == user).map(|(_, path)| *path).min() {
        return Err(Tie::Produced(path));
    }
    for row in provisioned.iter().filter(|r| r.user == user) {
        if let Some(path) = producers.iter().filter(|(p, _)| *p == row.by).map(|(_, path)| *path).min() {
            return Err(Tie::ProvisionedBy(row.how, path));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_and_provision_reads_back() {
        for p in Path::ALL {
            assert_eq!(Path::parse(p.as_str()), Some(p));
        }
        for p in Provision::ALL {
            assert_eq!(Provision::parse(p.as_str()), Some(p));
        }
        assert_eq!(Path::parse("changed_issuer"), Some(Path::RegisteredIssuer));
        assert_eq!(Path::parse("nonsense"), None);
    }

    #[test]
    fn producers_and_those_they_provisioned_are_not_independent() {
        let (minter, approver, stranger) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        let producers = [(minter, Path::MintedParentCredential)];
        let made = [Provisioned { user: approver, by: minter, how: Provision::CreatedAccount }];
        assert_eq!(independent(minter, &producers, &made), Err(Tie::Produced(Path::MintedParentCredential)));
        assert_eq!(
            independent(approver, &producers, &made),
            Err(Tie::ProvisionedBy(Provision::CreatedAccount, Path::MintedParentCredential))
        );
        assert_eq!(independent(stranger, &producers, &made), Ok(()));
        assert_eq!(
            Tie::Produced(Path::MintedParentCredential).to_string(),
            "you minted the credential this case credential came from"
        );
        assert_eq!(
            Tie::ProvisionedBy(Provision::CreatedAccount, Path::MintedCredential).to_string(),
            "the person who created your account also issued the credential this action was submitted with"
        );
    }
}
