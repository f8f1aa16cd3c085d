import { expect, test, type Browser, type Page } from "@playwright/test";
import { as, base, hydrated, signIn } from "../support";

/** The admin registers a fresh agent owned by the demo owner; returns its id. */
async function register(browser: Browser, name: string): Promise<string> {
  const admin = await as(browser, "admin");
  await admin.goto(`${base()}/agents/new`);
  await hydrated(admin);
  await admin.getByLabel("Name").fill(name);
  await admin.getByLabel("Purpose").fill("Resolves returns chats");
  await admin.getByLabel("Owner (accountable person)").selectOption("owner@countersign.demo");
  await admin.getByLabel("May request (one per line)").fill("refund:500.00EUR\npassword_reset");
  await admin.getByRole("button", { name: "Register" }).click();
  const link = admin.getByRole("link", { name: "Open it to mint a credential" });
  await expect(link).toBeVisible();
  const id = (await link.getAttribute("href"))!.split("/").pop()!;
  await admin.context().close();
  return id;
}

function held(key: string) {
  return {
    idempotency_key: key,
    action: { type: "refund", parameters: { order_id: "A-1009" }, amount: { value: "129.90", currency: "EUR" } },
    intent: "Refund the duplicate charge on order A-1009.",
    case: { id: "CS-8812", customer: { id: `cus_${key}`, display_name: "Dana K." } },
    transcript: [{ role: "customer", at: "2026-11-23T10:00:00Z", text: "I was charged twice!" }],
    policy: { rule_id: "refund-over-100", reason: "Refunds above 100 EUR need a human" },
  };
}

test("an owner retires an agent: an open queue empties live, the agent is told, its credential is refused", async ({ browser }) => {
  const name = `returns-${Date.now()}`;
  const id = await register(browser, name);
  const owner = await as(browser, "owner");
  await owner.goto(`${base()}/agents/${id}`);
  await hydrated(owner);
  await owner.getByRole("button", { name: "Mint credential" }).click();
  const token = (await owner.locator("#new-secret").textContent())!.trim();
  const auth = { authorization: `Bearer ${token}` };
  const ids: string[] = [];
  for (const key of [`${name}-1`, `${name}-2`]) {
    const r = await owner.request.post(`${base()}/api/v1/held-actions`, { headers: auth, data: held(key) });
    expect(r.status()).toBe(201);
    ids.push((await r.json()).id);
  }

  const supervisor = await as(browser, "supervisor");
  await supervisor.goto(`${base()}/queue?agent=${id}`);
  await hydrated(supervisor);
  for (const action of ids) await expect(supervisor.locator(`tr[data-id="${action}"]`)).toBeVisible();
  const poll = supervisor.request.get(`${base()}/api/v1/held-actions/${ids[0]}?wait=30`, { headers: auth });

  await owner.reload();
  await hydrated(owner);
  await expect(owner.getByText("2 pending action(s) will be cancelled, 1 credential(s) revoked")).toBeVisible();
  await owner.getByLabel("Reason to retire").fill("Replaced by the new returns flow");
  await owner.getByLabel(`Type the agent's name, ${name}, to confirm`).fill(name);
  await owner.getByRole("button", { name: "Retire agent" }).click();
  await expect(owner.getByText(/Retired by Olu Owner on .*: Replaced by the new returns flow/)).toBeVisible();
  await owner.screenshot({ path: "test-results/agent-retired.png", fullPage: true });

  for (const action of ids) await expect(supervisor.locator(`tr[data-id="${action}"]`)).toHaveCount(0);
  const outcome = await (await poll).json();
  expect(outcome.status).toBe("cancelled");
  expect(outcome.decision.reason).toBe("agent retired");
  const refused = await owner.request.get(`${base()}/api/v1/held-actions/${ids[1]}`, { headers: auth });
  expect(refused.status()).toBe(401);
  await expect(owner.getByRole("cell", { name: "Retired", exact: true })).toBeVisible();
});

test("an admin adds a person with a one-time password; they must change it, then accept a hand-over", async ({ browser }) => {
  const stamp = Date.now();
  const email = `heir-${stamp}@countersign.demo`;
  const admin = await as(browser, "admin");
  await admin.goto(`${base()}/people`);
  await hydrated(admin);
  const add = admin.locator("form", { has: admin.getByRole("button", { name: "Add person" }) });
  await add.getByLabel("Email").fill(email);
  await add.getByLabel("Name").fill("Hana Heir");
  await add.getByLabel("owner").check();
  await add.getByLabel("acme-retail").check();
  await add.getByLabel("One-time password (at least 12 characters)").fill("first-time-password");
  await add.getByRole("button", { name: "Add person" }).click();
  await expect(admin.getByText("Added. Give them the one-time password")).toBeVisible();
  await expect(admin.locator("tr", { hasText: email })).toContainText("Must change one-time password");
  await admin.screenshot({ path: "test-results/people.png", fullPage: true });
  await admin.context().close();

  const heir = await (await browser.newContext()).newPage();
  await signIn(heir, email, "first-time-password");
  await heir.goto(`${base()}/agents`);
  await expect(heir).toHaveURL(/\/account$/);
  await hydrated(heir);
  await heir.getByLabel("Current password").fill("first-time-password");
  await heir.getByLabel("New password", { exact: true }).fill("my own long password");
  await heir.getByLabel("New password again").fill("my own long password");
  await heir.getByRole("button", { name: "Change password" }).click();
  await expect(heir.getByText("Password changed.")).toBeVisible();

  const id = await register(browser, `handed-${stamp}`);
  const owner = await as(browser, "owner");
  await owner.goto(`${base()}/agents/${id}`);
  await hydrated(owner);
  await owner.getByLabel("Propose a new owner (their email)").fill(email);
  await owner.getByRole("button", { name: "Propose hand-over" }).click();
  await expect(owner.locator("tr", { hasText: `→ ${email}` })).toContainText("pending");

  await heir.goto(`${base()}/agents`);
  await hydrated(heir);
  await heir.getByRole("button", { name: `Accept handed-${stamp}` }).click();
  await expect(heir.getByRole("link", { name: `handed-${stamp}` })).toBeVisible();
  await heir.screenshot({ path: "test-results/agents-after-handover.png", fullPage: true });
  // The agent is no longer theirs: the former owner sees nothing of it.
  await owner.reload();
  await expect(owner.getByRole("alert")).toHaveText("You do not have access to this.");
});

test("an owner's access review narrows the scope, with the evidence on the page", async ({ browser }) => {
  const name = `reviewed-${Date.now()}`;
  const id = await register(browser, name);
  const owner = await as(browser, "owner");
  await owner.goto(`${base()}/agents/${id}/review`);
  await hydrated(owner);
  await expect(owner.getByRole("heading", { name: `Access review: ${name}` })).toBeVisible();
  await expect(owner.getByText("password_reset allowance unused for 0 days — narrow it?")).toBeVisible();
  await owner.getByLabel("Keep with a narrower scope").check();
  await owner.getByLabel("Scope to keep (one per line; used when narrowing)").fill("refund:200.00EUR");
  await owner.getByLabel("Note").fill("Password resets moved to the identity team");
  await owner.getByRole("button", { name: "Record review" }).click();
  await expect(owner.getByText("Review recorded.")).toBeVisible();
  await owner.screenshot({ path: "test-results/access-review.png", fullPage: true });
  await owner.goto(`${base()}/agents/${id}`);
  await expect(owner.locator("dd", { hasText: "refund ≤ 200.00 EUR" })).toBeVisible();
  await expect(owner.getByRole("cell", { name: "Access reviewed" })).toBeVisible();
});
