//! What simulated agents and customers say: the action catalog and the phrase banks the generator draws from.

/// One catalog entry. Phrase banks are '|'-separated; the first two customer lines open a conversation.
/// Placeholders: {o} object id, {d} the detail said out loud, {x} an extra specific, {c} card digits.
pub(super) struct Kind {
    pub(super) name: &'static str,
    pub(super) tier: &'static str,
    pub(super) rule: [&'static str; 2], // policy rule id and reason
    pub(super) customer: &'static str,
    pub(super) agent: &'static str,
    pub(super) tools: &'static str,
    pub(super) intent: &'static str,
    pub(super) summary: &'static str,
}

#[rustfmt::skip]
pub(super) const CATALOG: [Kind; 7] = [
    Kind { name: "refund", tier: "high", rule: ["refund-over-100", "Refunds above 100 EUR need a human"],
        customer: "I was charged twice for order {o}!|Order {o} arrived damaged and I want my money back.|\
            Please refund the {d} to my card.|I've been waiting weeks for this refund.",
        agent: "I can see order {o}; I'll request a refund of {d}.|I've found the charge on {o}.",
        tools: "lookup_order|list_payment_methods|check_identity", summary: "Refund for {x} on order {o}",
        intent: "Customer reports a {x} on order {o}; refund {d} to the card ending {c}." },
    Kind { name: "password_reset", tier: "high", rule: ["credential-change", "Password resets need a human"],
        customer: "I can't log in, my password doesn't work anymore.|I think someone changed the password on {o}.|\
            Please send the reset link by {d}.|I've tried three times already.",
        agent: "I'll send a password reset link by {d} once it's approved.|I can see failed logins on {o}.",
        tools: "get_account|check_identity|list_sessions", summary: "Locked out of account {o}",
        intent: "Customer is locked out of account {o}; send a password reset link by {d}." },
    Kind { name: "address_change", tier: "high", rule: ["address-change", "A new address can redirect goods"],
        customer: "I moved, can you update my shipping address?|My parcels need to go to my new place in {d}.|\
            The new address is in {d}.|My next order should go there too.",
        agent: "I'll update the address on {o} to your new one in {d}.|I see an older address on file for {o}.",
        tools: "get_account|check_identity", summary: "Address change to {d}",
        intent: "Customer moved; update the address on account {o} to {x}." },
    Kind { name: "mfa_reset", tier: "critical", rule: ["mfa-reset", "Removing a second factor enables takeover"],
        customer: "I lost my phone and can't get my login codes.|My {d} second factor stopped working.|\
            I no longer have my {d} device.|I'm completely locked out.",
        agent: "I'll request an MFA reset for {o} so you can set up {d} again.|Resetting MFA on {o} needs approval.",
        tools: "get_account|check_identity|list_sessions", summary: "Lost {d} factor on account {o}",
        intent: "Customer lost their {d} second factor; reset MFA on account {o} so they can re-enrol." },
    Kind { name: "account_closure", tier: "critical", rule: ["account-closure", "Closing an account is irreversible"],
        customer: "Please close my account.|I want to delete my account {o}.|The reason is: {d}.|\
            Please confirm once it's gone.",
        agent: "I've noted the reason ({d}) and requested closure of {o}.|Closing {o} is permanent; are you sure?",
        tools: "get_account|lookup_order|check_identity", summary: "Close account {o}",
        intent: "Customer asked to close account {o} ({d})." },
    Kind { name: "data_export", tier: "critical", rule: ["personal-data-export", "Personal data leaves the system"],
        customer: "I want a copy of all the data you hold about me.|Under GDPR I'm requesting my personal data.|\
            I need {d}.|Can you send it by email?",
        agent: "I'll request an export of {d} for {o}.|Exports from {o} are checked by a colleague first.",
        tools: "get_account|check_identity", summary: "Data export for account {o}",
        intent: "Customer requested a {x} export of their {d} data from account {o}." },
    Kind { name: "payment_method_change", tier: "critical", rule: ["payment-change", "Payment changes need a human"],
        customer: "I got a new card, please update my payment details.|My old card expired, please use my {d}.|\
            It's a {d}.|Please remove the old card.",
        agent: "I'll switch the default payment method on {o} to the {d}.|I can see the current card on {o}.",
        tools: "get_account|list_payment_methods|check_identity", summary: "New payment card for account {o}",
        intent: "Replace the default card on account {o} with a {d}." },
];
/// Refund rules by amount, replacing the catalog's: over the agent's limit, or small but still held.
pub(super) const OVER_LIMIT: [&str; 2] = ["refund-over-agent-limit", "Refund exceeds the agent's refund limit"];
pub(super) const REPEAT: [&str; 2] = ["refund-repeat", "Repeat refunds within 90 days need a human"];
pub(super) const AGENT: &str =
    "Thanks for reaching out, let me look into this.|One moment while I check your account.|\
    For security, can you confirm the email address on the account?|Thanks, you're verified.|\
    This needs sign-off from a colleague; I've requested it and will update you shortly.";
pub(super) const CUSTOMER: &str =
    "Yes, that's me.|It's the address I always use.|How long will this take?|Okay, thank you.|\
    Is there anything else you need from me?|Please hurry, this is urgent.";
pub(super) const SYSTEM: &str =
    "Identity verification passed.|Approval requested from a human reviewer.|Action held for human approval.";
pub(super) const NAMES: &str = "Dana K.|Luis M.|Amira B.|Jonas W.|Mei L.|Priya S.|Tom R.|Elif D.";
pub(super) const PLACES: [[&str; 4]; 4] = [
    ["Hauptstrasse", "Berlin", "10115", "DE"],
    ["Rue Merciere", "Lyon", "69002", "FR"],
    ["Oudegracht", "Utrecht", "3511 AL", "NL"],
    ["Rua das Flores", "Porto", "4050-262", "PT"],
];
