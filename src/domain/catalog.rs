//! The action-type catalog: each type's risk tier (a floor the policy may raise, never lower) and each
//! tier's default and maximum time to live.

use super::{ActionType, RiskTier};
use std::collections::BTreeMap;
use time::Duration;

pub fn default_tier(action: ActionType) -> RiskTier {
    match action {
        ActionType::Refund | ActionType::PasswordReset | ActionType::AddressChange => RiskTier::High,
        ActionType::MfaReset
        | ActionType::AccountClosure
        | ActionType::DataExport
        | ActionType::PaymentMethodChange => RiskTier::Critical,
    }
}

/// The shortest wait an agent may ask for (`expires_at`): sooner, and no reviewer could act in time.
pub const MIN_TTL: Duration = Duration::minutes(1);

/// How long a held action of a tier waits for people: (default, maximum).
pub fn ttl(tier: RiskTier) -> (Duration, Duration) {
    match tier {
        RiskTier::High => (Duration::minutes(30), Duration::hours(24)),
        RiskTier::Critical => (Duration::minutes(60), Duration::hours(24)),
    }
}

/// The catalog in force: the defaults above with configured overrides.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    overrides: BTreeMap<ActionType, RiskTier>,
}

impl Catalog {
    /// `overrides` maps action-type names to tier names, as configured.
    pub fn with_overrides(overrides: &BTreeMap<String, String>) -> Result<Catalog, super::Invalid> {
        let mut parsed = BTreeMap::new();
        for (action, tier) in overrides {
            let a = ActionType::parse(action)
                .ok_or_else(|| super::Invalid::new(format!("unknown action type \"{action}\" in action_tiers")))?;
            let t = RiskTier::parse(tier).ok_or_else(|| {
                super::Invalid::new(format!("unknown risk tier \"{tier}\" for {action} (high or critical)"))
            })?;
            parsed.insert(a, t);
        }
        Ok(Catalog { overrides: parsed })
    }

    pub fn tier(&self, action: ActionType) -> RiskTier {
        self.overrides.get(&action).copied().unwrap_or_else(|| default_tier(action))
    }

    /// The tier a held action gets: the catalog's, raised by the policy's when that is higher.
    pub fn effective_tier(&self, action: ActionType, requested: Option<RiskTier>) -> RiskTier {
        requested.map_or(self.tier(action), |r| r.max(self.tier(action)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_raises_but_never_lowers_the_tier() {
        let c = Catalog::default();
        assert_eq!(c.effective_tier(ActionType::Refund, Some(RiskTier::Critical)), RiskTier::Critical);
        assert_eq!(c.effective_tier(ActionType::MfaReset, Some(RiskTier::High)), RiskTier::Critical);
        assert_eq!(c.effective_tier(ActionType::Refund, None), RiskTier::High);
    }

    #[test]
    fn configuration_overrides_the_default_tier() {
        let c = Catalog::with_overrides(&[("refund".to_string(), "critical".to_string())].into()).expect("valid");
        assert_eq!(c.tier(ActionType::Refund), RiskTier::Critical);
        assert!(Catalog::with_overrides(&[("refnd".to_string(), "high".to_string())].into()).is_err());
        assert!(Catalog::with_overrides(&[("refund".to_string(), "low".to_string())].into()).is_err());
    }
}
