//! Representation is not authority: an agent acting for a customer is held to what the customer consented
//! to. Consent entries read `<action type>` or `<action type>:<kind>:<reference>` ("refund:order:A-1009");
//! an entry with a reference covers only actions whose parameters name that reference.

use super::ActionType;
use serde_json::Value;

/// How the action goes beyond the consented scope, or `None` when an entry covers it.
pub fn beyond(action: ActionType, parameters: &Value, consented: &[String]) -> Option<String> {
    if consented.is_empty() {
        return Some("no consent from the customer was recorded".into());
    }
    let values: Vec<String> = match parameters {
        Value::Object(map) => map.values().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string)).collect(),
        _ => Vec::new(),
    };
    let mut same_type = consented.iter().filter(|e| e.split(':').next() == Some(action.as_str())).peekable();
    if same_type.peek().is_none() {
        return Some(format!("the customer consented to {}, not to {}", consented.join(", "), action.as_str()));
    }
    let covered = same_type.any(|entry| match entry.splitn(3, ':').nth(2) {
        None => true,
        Some(reference) => values.iter().any(|v| v == reference),
    });
    (!covered).then(|| format!("the parameters name nothing the customer consented to ({})", consented.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn consent_covers_the_type_and_the_named_object() {
        let params = json!({ "order_id": "A-1009", "card_last4": "4242" });
        let scope = |s: &[&str]| s.iter().map(|e| e.to_string()).collect::<Vec<_>>();
        assert_eq!(beyond(ActionType::Refund, &params, &scope(&["refund:order:A-1009"])), None);
        assert_eq!(beyond(ActionType::Refund, &params, &scope(&["refund"])), None);
        assert!(beyond(ActionType::Refund, &params, &scope(&["refund:order:A-2000"])).is_some());
        assert!(beyond(ActionType::Refund, &params, &scope(&["password_reset"])).is_some());
        assert!(beyond(ActionType::Refund, &params, &[]).is_some());
    }
}
