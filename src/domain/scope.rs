//! What an agent may ask for: action types, each with an optional money limit, and the rules for checking
//! a request against them and for narrowing or widening them.

use super::{ActionType, Invalid};
use rust_decimal::Decimal;
use std::fmt;
use std::str::FromStr;

/// An amount of money in an ISO 4217 currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money {
    pub value: Decimal,
    pub currency: String,
}

impl Money {
    /// Parses a decimal string ("129.90") and a currency code ("EUR").
    pub fn parse(value: &str, currency: &str) -> Result<Money, Invalid> {
        let well_formed = !value.is_empty()
            && value.chars().all(|c| c.is_ascii_digit() || c == '.')
            && value.matches('.').count() <= 1
            && !value.starts_with('.')
            && !value.ends_with('.');
        let value = Decimal::from_str(value)
            .ok()
            .filter(|_| well_formed)
            .ok_or_else(|| Invalid::new(format!("\"{value}\" is not a decimal amount such as \"129.90\"")))?;
        if value.scale() > 4 {
            return Err(Invalid::new("an amount may have at most 4 decimal places"));
        }
        if !(currency.len() == 3 && currency.chars().all(|c| c.is_ascii_uppercase())) {
            return Err(Invalid::new(format!("\"{currency}\" is not an ISO 4217 currency code such as \"EUR\"")));
        }
        Ok(Money { value, currency: currency.to_string() })
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.value, self.currency)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowance {
    pub action: ActionType,
    pub limit: Option<Money>,
}

impl Allowance {
    /// Parses `refund:500.00EUR` or `password_reset`.
    pub fn parse(spec: &str) -> Result<Allowance, Invalid> {
        let (name, limit) = spec.split_once(':').map_or((spec, None), |(n, l)| (n, Some(l)));
        let action = ActionType::parse(name.trim()).ok_or_else(|| {
            let known: Vec<&str> = ActionType::ALL.iter().map(|a| a.as_str()).collect();
            Invalid::new(format!("unknown action type \"{name}\" (known: {})", known.join(", ")))
        })?;
        let limit = match limit.map(str::trim) {
            None | Some("") => None,
            Some(l) if l.len() > 3 => {
                let (value, currency) = l.split_at(l.len() - 3);
                Some(Money::parse(value.trim(), currency)?)
            }
            Some(l) => return Err(Invalid::new(format!("\"{l}\" is not a limit such as 500.00EUR"))),
        };
        if limit.is_some() && !action.moves_money() {
            return Err(Invalid::new(format!("{} moves no money, so it cannot have a money limit", action.as_str())));
        }
        Ok(Allowance { action, limit })
    }

    pub fn spec(&self) -> String {
        match &self.limit {
            Some(m) => format!("{}:{}{}", self.action.as_str(), m.value, m.currency),
            None => self.action.as_str().to_string(),
        }
    }
}

/// An agent's allowances, one per action type.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scope(Vec<Allowance>);

impl Scope {
    pub fn new(mut allowances: Vec<Allowance>) -> Result<Scope, Invalid> {
        allowances.sort_by_key(|a| a.action);
        if let Some(w) = allowances.windows(2).find(|w| w[0].action == w[1].action) {
            return Err(Invalid::new(format!("{} is allowed twice", w[0].action.as_str())));
        }
        Ok(Scope(allowances))
    }

    pub fn parse_all(specs: &[String]) -> Result<Scope, Invalid> {
        Scope::new(specs.iter().map(|s| Allowance::parse(s)).collect::<Result<_, _>>()?)
    }

    pub fn allowances(&self) -> &[Allowance] {
        &self.0
    }

    fn get(&self, action: ActionType) -> Option<&Allowance> {
        self.0.iter().find(|a| a.action == action)
    }

    /// Why the agent may not request this, if it may not.
    pub fn refusal(&self, action: ActionType, amount: Option<&Money>) -> Option<String> {
        let Some(allowance) = self.get(action) else {
            return Some(format!("{} is outside this agent's scope", action.as_str()));
        };
        match (&allowance.limit, amount) {
            (Some(limit), Some(amount)) if amount.currency != limit.currency => Some(format!(
                "this agent's {} limit is in {}; the amount is in {}",
                action.as_str(),
                limit.currency,
                amount.currency
            )),
            (Some(limit), Some(amount)) if amount.value > limit.value => {
                Some(format!("{amount} is above this agent's {} limit of {limit}", action.as_str()))
            }
            _ => None,
        }
    }

    /// True when `self` allows nothing that `before` did not: no new type, no higher or removed limit.
    pub fn narrows(&self, before: &Scope) -> bool {
        self.0.iter().all(|now| match before.get(now.action) {
            None => false,
            Some(then) => match (&then.limit, &now.limit) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(t), Some(n)) => t.currency == n.currency && n.value <= t.value,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(specs: &[&str]) -> Scope {
        Scope::parse_all(&specs.iter().map(|s| s.to_string()).collect::<Vec<_>>()).expect("valid scope")
    }

    fn eur(v: &str) -> Money {
        Money::parse(v, "EUR").expect("money")
    }

    #[test]
    fn allowances_parse_and_print() {
        assert_eq!(Allowance::parse("refund:500.00EUR").map(|a| a.spec()), Ok("refund:500.00EUR".into()));
        assert_eq!(Allowance::parse("password_reset").map(|a| a.limit), Ok(None));
        for bad in ["refnd", "refund:500", "refund:abcEUR", "refund:-5EUR", "password_reset:10EUR", "refund:10eur"] {
            assert!(Allowance::parse(bad).is_err(), "{bad} accepted");
        }
        assert!(Scope::parse_all(&["refund".into(), "refund:5EUR".into()]).is_err());
    }

    #[test]
    fn requests_are_checked_against_type_limit_and_currency() {
        let s = scope(&["refund:500.00EUR", "password_reset"]);
        assert_eq!(s.refusal(ActionType::Refund, Some(&eur("500.00"))), None);
        assert!(s.refusal(ActionType::Refund, Some(&eur("500.01"))).is_some_and(|r| r.contains("above")));
        let usd = Money::parse("1", "USD").expect("money");
        assert!(s.refusal(ActionType::Refund, Some(&usd)).is_some_and(|r| r.contains("in EUR")));
        assert_eq!(s.refusal(ActionType::PasswordReset, None), None);
        assert!(s.refusal(ActionType::AccountClosure, None).is_some_and(|r| r.contains("outside")));
    }

    #[test]
    fn narrowing_and_widening() {
        let before = scope(&["refund:500.00EUR", "password_reset"]);
        assert!(scope(&["refund:100EUR"]).narrows(&before));
        assert!(scope(&[]).narrows(&before));
        assert!(!scope(&["refund:600EUR"]).narrows(&before));
        assert!(!scope(&["refund"]).narrows(&before), "removing a limit widens");
        assert!(!scope(&["refund:100EUR", "mfa_reset"]).narrows(&before));
        assert!(scope(&["refund:100EUR"]).narrows(&scope(&["refund"])));
    }

    #[test]
    fn money_is_strict() {
        assert!(Money::parse("129.90", "EUR").is_ok());
        for (v, c) in
            [("1e3", "EUR"), ("", "EUR"), ("1.", "EUR"), (".5", "EUR"), ("1", "EURO"), ("1", "eur"), ("1.00001", "EUR")]
        {
            assert!(Money::parse(v, c).is_err(), "{v} {c} accepted");
        }
    }
}
