//! What a valid email, display name and tenant slug look like.

use super::Invalid;

/// Trims and lower-cases an email so one person has one spelling; refuses what cannot be an address.
pub fn normalize_email(raw: &str) -> Result<String, Invalid> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(email)
    } else {
        Err(Invalid::new(format!("\"{}\" is not an email address", raw.trim())))
    }
}

pub fn display_name(raw: &str) -> Result<String, Invalid> {
    let name = raw.trim();
    match name.chars().count() {
        0 => Err(Invalid::new("a name is required")),
        1..=100 if name.chars().any(char::is_control) => Err(Invalid::new("a name may not contain control characters")),
        1..=100 => match super::hostile::in_text(name) {
            None => Ok(name.to_string()),
            Some(c) => Err(Invalid::new(format!(
                "a name may not contain {}, a character that hides or reorders text",
                super::hostile::code(c)
            ))),
        },
        _ => Err(Invalid::new("a name may have at most 100 characters")),
    }
}

/// Slugs name tenants in URLs and on the command line: 2–40 of a–z, 0–9 and inner hyphens.
pub fn slug(raw: &str) -> Result<String, Invalid> {
    let ok = (2..=40).contains(&raw.len())
        && raw.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !raw.starts_with('-')
        && !raw.ends_with('-');
    if ok {
        Ok(raw.to_string())
    } else {
        Err(Invalid::new(format!(
            "\"{raw}\" is not a valid slug: use 2-40 lower-case letters, digits and inner hyphens"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_or_refused() {
        assert_eq!(normalize_email("  Dana@Example.COM ").as_deref(), Ok("dana@example.com"));
        for bad in ["", "dana", "dana@", "@example.com", "dana@example", "da na@example.com", "d@.com"] {
            assert!(normalize_email(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn names_and_slugs() {
        assert_eq!(display_name("  Ada  ").as_deref(), Ok("Ada"));
        assert!(display_name("   ").is_err());
        assert!(display_name(&"x".repeat(101)).is_err());
        assert!(slug("acme-retail").is_ok());
        for bad in ["a", "Acme", "-acme", "acme-", "ac me", "acmé"] {
            assert!(slug(bad).is_err(), "{bad} accepted");
        }
    }
}
