//! Reading a held-action submission (the JSON contract in docs/api.md): every bad field is reported, by path,
//! in one pass; unknown fields are refused; the content hash covers the bytes as received.

use super::hostile;
use super::scope::Money;
use super::{ActionType, RiskTier};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const MAX_KEY: usize = 200;
const MAX_TEXT: usize = 20_000;
const MAX_TURNS: usize = 1_000;
const ROLES: [&str; 4] = ["customer", "agent", "tool", "system"];

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// A submission that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct Submission {
    pub idempotency_key: String,
    pub action: ActionType,
    pub amount: Option<Money>,
    pub case_id: String,
    pub customer_id: String,
    pub requested_tier: Option<RiskTier>,
    pub expires_at: Option<OffsetDateTime>,
    /// The submission exactly as received.
    pub body: String,
    /// SHA-256 of the bytes as received: a retry with the same idempotency key must send the same bytes.
    pub content_hash: String,
}

/// Reads a submission from the body as received.
pub fn parse(raw: &str) -> Result<Submission, Vec<FieldError>> {
    use hostile::Unreadable::{DuplicateKey, NotJson};
    let value = hostile::parse_unique(raw).map_err(|e| match e {
        NotJson(e) => vec![FieldError { field: "(body)".into(), message: format!("not valid JSON: {e}") }],
        DuplicateKey(field) => vec![FieldError { field, message: "appears twice in one object".into() }],
    })?;
    check(&value, raw)
}

fn check(value: &Value, raw: &str) -> Result<Submission, Vec<FieldError>> {
    let mut c = Checker::default();
    let empty = Map::new();
    let top = c.object(
        Some(value),
        "",
        &["idempotency_key", "action", "intent", "case", "transcript", "on_behalf_of", "policy", "expires_at"],
        true,
    );
    let Some(top) = top else {
        return Err(c.errors);
    };
    let key = c.text(top, "idempotency_key", "", true, MAX_KEY);
    let action = c.object(top.get("action"), "action", &["type", "parameters", "amount"], true).unwrap_or(&empty);
    let action_type = c.text(action, "type", "action", true, 64).and_then(|t| {
        let parsed = ActionType::parse(t);
        if parsed.is_none() {
            c.fail("action.type", format!("\"{t}\" is not a known action type"));
        }
        parsed
    });
    c.free_form(action.get("parameters"), "action.parameters", true);
    let amount = c.amount(action.get("amount"), action_type);
    c.text(top, "intent", "", true, MAX_TEXT);
    let case =
        c.object(top.get("case"), "case", &["id", "channel", "summary", "customer", "facts"], true).unwrap_or(&empty);
    let case_id = c.text(case, "id", "case", true, MAX_KEY);
    c.text(case, "channel", "case", false, 64);
    c.text(case, "summary", "case", false, MAX_TEXT);
    c.free_form(case.get("facts"), "case.facts", false);
    let customer =
        c.object(case.get("customer"), "case.customer", &["id", "display_name", "tier"], true).unwrap_or(&empty);
    let customer_id = c.text(customer, "id", "case.customer", true, MAX_KEY);
    c.text(customer, "display_name", "case.customer", false, 200);
    c.text(customer, "tier", "case.customer", false, 64);
    c.transcript(top.get("transcript"));
    if let Some(obo) = c.object(top.get("on_behalf_of"), "on_behalf_of", &["principal", "consented_scope"], false) {
        c.text(obo, "principal", "on_behalf_of", true, MAX_KEY);
        c.strings(obo.get("consented_scope"), "on_behalf_of.consented_scope");
    }
    let policy = c
        .object(top.get("policy"), "policy", &["rule_id", "reason", "risk_tier", "risk_score"], true)
        .unwrap_or(&empty);
    c.text(policy, "rule_id", "policy", true, MAX_KEY);
    c.text(policy, "reason", "policy", true, MAX_TEXT);
    let requested_tier = c.text(policy, "risk_tier", "policy", false, 16).and_then(|t| {
        let tier = RiskTier::parse(t);
        if tier.is_none() {
            c.fail("policy.risk_tier", format!("\"{t}\" is not a risk tier (high or critical)"));
        }
        tier
    });
    match policy.get("risk_score") {
        None | Some(Value::Null) => {}
        Some(Value::Number(n)) if n.as_f64().is_some_and(|s| (0.0..=1.0).contains(&s)) => {}
        Some(_) => c.fail("policy.risk_score", "must be a number from 0 to 1"),
    }
    let expires_at = c.time(top.get("expires_at"), "expires_at", false);

    match (key, action_type, case_id, customer_id) {
        (Some(idempotency_key), Some(action), Some(case_id), Some(customer_id)) if c.errors.is_empty() => {
            let body = raw.to_string();
            let content_hash = hex::encode(Sha256::digest(raw.as_bytes()));
            Ok(Submission {
                idempotency_key: idempotency_key.to_string(),
                action,
                amount,
                case_id: case_id.to_string(),
                customer_id: customer_id.to_string(),
                requested_tier,
                expires_at,
                body,
                content_hash,
            })
        }
        _ => Err(c.errors),
    }
}

#[derive(Default)]
struct Checker {
    errors: Vec<FieldError>,
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

impl Checker {
    fn fail(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError { field: field.into(), message: message.into() });
    }

    /// An object at `path`; `allowed` empty means any keys (free-form parameters and facts).
    fn object<'v>(
        &mut self,
        v: Option<&'v Value>,
        path: &str,
        allowed: &[&str],
        required: bool,
    ) -> Option<&'v Map<String, Value>> {
        match v {
            None | Some(Value::Null) => {
                if required {
                    self.fail(path, "is required");
                }
                None
            }
            Some(Value::Object(map)) => {
                if !allowed.is_empty() {
                    for key in map.keys().filter(|k| !allowed.contains(&k.as_str())) {
                        self.fail(join(path, key), "is not a known field");
                    }
                }
                Some(map)
            }
            Some(_) => {
                self.fail(if path.is_empty() { "(body)" } else { path }, "must be an object");
                None
            }
        }
    }

    /// A free-form object (any keys), within a depth and a size.
    fn free_form(&mut self, v: Option<&Value>, path: &str, required: bool) {
        if let Some(map) = self.object(v, path, &[], required) {
            if let Some(why) = hostile::oversized(map.values()) {
                self.fail(path, why);
            }
        }
    }

    /// A string field; its path is only spelled out when there is something to report.
    fn text<'v>(
        &mut self,
        obj: &'v Map<String, Value>,
        key: &str,
        parent: &str,
        required: bool,
        max: usize,
    ) -> Option<&'v str> {
        let problem = match obj.get(key) {
            None | Some(Value::Null) if required => "is required".to_string(),
            None | Some(Value::Null) => return None,
            Some(Value::String(s)) if s.trim().is_empty() && required => "must not be empty".to_string(),
            Some(Value::String(s)) if s.len() > max && s.chars().count() > max => {
                format!("may have at most {max} characters")
            }
            Some(Value::String(s)) => {
                // Free text may need joiners and direction marks; what keys related history may not.
                let free = matches!(key, "intent" | "summary" | "reason" | "text");
                match if free { hostile::in_text(s) } else { hostile::in_identifier(s) } {
                    None => return Some(s),
                    Some(c) => format!("contains {}, a character that hides or reorders text", hostile::code(c)),
                }
            }
            Some(_) => "must be a string".to_string(),
        };
        self.fail(join(parent, key), problem);
        None
    }

    fn time(&mut self, v: Option<&Value>, path: &str, required: bool) -> Option<OffsetDateTime> {
        match v {
            None | Some(Value::Null) => {
                if required {
                    self.fail(path, "is required");
                }
                None
            }
            // A time that has no UTC equivalent (year 9999 at -23:59) is out of range, not a crash later.
            Some(Value::String(s)) => OffsetDateTime::parse(s, &Rfc3339)
                .ok()
                .filter(|t| t.checked_to_offset(time::UtcOffset::UTC).is_some())
                .or_else(|| {
                    self.fail(path, format!("\"{s}\" is not an RFC 3339 time such as 2026-11-23T10:30:00Z"));
                    None
                }),
            Some(_) => {
                self.fail(path, "must be an RFC 3339 time string");
                None
            }
        }
    }

    fn strings(&mut self, v: Option<&Value>, path: &str) {
        match v {
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    match item.as_str().map(hostile::in_identifier) {
                        None => self.fail(format!("{path}[{i}]"), "must be a string"),
                        Some(Some(c)) => self.fail(format!("{path}[{i}]"), format!("contains {}", hostile::code(c))),
                        Some(None) => {}
                    }
                }
            }
            None | Some(Value::Null) => self.fail(path, "is required"),
            Some(_) => self.fail(path, "must be an array of strings"),
        }
    }

    fn amount(&mut self, v: Option<&Value>, action: Option<ActionType>) -> Option<Money> {
        let moves_money = action.map(ActionType::moves_money);
        let present = !matches!(v, None | Some(Value::Null));
        match (moves_money, present) {
            (Some(true), false) => {
                self.fail("action.amount", "is required for an action that moves money");
                return None;
            }
            (Some(false), true) => {
                self.fail("action.amount", "is not allowed: this action type moves no money");
                return None;
            }
            _ => {}
        }
        let amount = self.object(v, "action.amount", &["value", "currency"], false)?;
        let value = self.text(amount, "value", "action.amount", true, 40);
        let currency = self.text(amount, "currency", "action.amount", true, 3);
        let (value, currency) = (value?, currency?);
        Money::parse(value, currency)
            .map_err(|e| {
                let field = if e.0.contains("currency") { "action.amount.currency" } else { "action.amount.value" };
                self.fail(field, e.0);
            })
            .ok()
    }

    fn transcript(&mut self, v: Option<&Value>) {
        let turns = match v {
            Some(Value::Array(turns)) => turns,
            None | Some(Value::Null) => return self.fail("transcript", "is required (it may be empty)"),
            Some(_) => return self.fail("transcript", "must be an array of messages"),
        };
        if turns.len() > MAX_TURNS {
            return self.fail("transcript", format!("may have at most {MAX_TURNS} messages"));
        }
        for (i, turn) in turns.iter().enumerate() {
            let path = format!("transcript[{i}]");
            let Some(turn) = self.object(Some(turn), &path, &["role", "at", "text", "name"], true) else {
                continue;
            };
            if let Some(role) = self.text(turn, "role", &path, true, 16) {
                if !ROLES.contains(&role) {
                    self.fail(
                        format!("{path}.role"),
                        format!("\"{role}\" is not a role (customer, agent, tool or system)"),
                    );
                }
            }
            self.time(turn.get("at"), &format!("{path}.at"), true);
            self.text(turn, "text", &path, false, MAX_TEXT);
            if !turn.contains_key("text") {
                self.fail(format!("{path}.text"), "is required");
            }
            self.text(turn, "name", &path, false, 200);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub fn example() -> Value {
        json!({
            "idempotency_key": "CS-8812-refund-1",
            "action": { "type": "refund", "parameters": { "order_id": "A-1009" }, "amount": { "value": "129.90", "currency": "EUR" } },
            "intent": "Refund the duplicate charge.",
            "case": { "id": "CS-8812", "channel": "chat", "customer": { "id": "cus_123", "display_name": "Dana K." }, "facts": { "age": 3 } },
            "transcript": [ { "role": "customer", "at": "2026-11-23T10:00:00Z", "text": "Charged twice!" },
                            { "role": "tool", "at": "2026-11-23T10:00:05Z", "name": "lookup_order", "text": "{}" } ],
            "on_behalf_of": { "principal": "cus_123", "consented_scope": ["refund:order:A-1009"] },
            "policy": { "rule_id": "refund-over-100", "reason": "Refunds above 100 EUR need a human", "risk_tier": "high", "risk_score": 0.72 },
            "expires_at": "2026-11-23T10:30:00Z"
        })
    }

    fn fields(v: &Value) -> Vec<String> {
        parse(&v.to_string()).err().unwrap_or_default().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn the_design_example_is_accepted() {
        let s = parse(&example().to_string()).expect("valid");
        assert_eq!(s.action, ActionType::Refund);
        assert_eq!(s.amount.map(|m| m.to_string()).as_deref(), Some("129.90 EUR"));
        assert_eq!((s.case_id.as_str(), s.customer_id.as_str()), ("CS-8812", "cus_123"));
        assert_eq!(s.requested_tier, Some(RiskTier::High));
        assert_eq!(s.content_hash.len(), 64);
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let mut v = example();
        v["idempotency_key"] = json!("");
        v["action"]["amount"]["value"] = json!("12,50");
        v["case"]["customer"] = json!({});
        v["transcript"][1]["role"] = json!("robot");
        v["policy"]["risk_score"] = json!(7);
        v["surprise"] = json!(true);
        let mut got = fields(&v);
        got.sort();
        assert_eq!(
            got,
            [
                "action.amount.value",
                "case.customer.id",
                "idempotency_key",
                "policy.risk_score",
                "surprise",
                "transcript[1].role"
            ]
        );
    }

    #[test]
    fn amounts_follow_the_action_type() {
        let mut v = example();
        v["action"]["amount"] = Value::Null;
        assert_eq!(fields(&v), ["action.amount"]);
        let mut v = example();
        v["action"]["type"] = json!("password_reset");
        assert_eq!(fields(&v), ["action.amount"]);
        v["action"].as_object_mut().map(|a| a.remove("amount"));
        assert!(parse(&v.to_string()).is_ok());
    }

    #[test]
    fn the_hash_covers_the_bytes_as_received() {
        let a = parse(&example().to_string()).expect("valid");
        assert_eq!(parse(&example().to_string()).expect("valid").content_hash, a.content_hash);
        let pretty = serde_json::to_string_pretty(&example()).expect("json");
        assert_eq!(parse(&pretty).expect("valid").body, pretty, "stored as received");
        let mut changed = example();
        changed["intent"] = json!("Something else.");
        assert_ne!(parse(&changed.to_string()).expect("valid").content_hash, a.content_hash);
    }

    #[test]
    fn non_objects_are_refused_plainly() {
        assert_eq!(fields(&json!([1, 2])), ["(body)"]);
        assert_eq!(parse("{not json").err().map(|e| e[0].field.clone()).as_deref(), Some("(body)"));
        assert_eq!(fields(&json!("x")), ["(body)"]);
    }
}
