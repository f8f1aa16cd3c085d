import { expect, test, type Page } from "@playwright/test";

const base = () => process.env.BASE_URL!;

async function signIn(page: Page, email: string, password: string) {
  await page.goto(`${base()}/login`);
  await page.locator("body[data-hydrated]").waitFor({ state: "attached" });
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator("header")).toContainText("Sign out");
}

function heldAction(key: string) {
  return {
    idempotency_key: key,
    action: { type: "refund", parameters: { order_id: "A-1009" }, amount: { value: "129.90", currency: "EUR" } },
    intent: "Refund the duplicate charge on order A-1009.",
    case: { id: "CS-8812", customer: { id: "cus_123", display_name: "Dana K." } },
    transcript: [{ role: "customer", at: "2026-11-23T10:00:00Z", text: "I was charged twice!" }],
    policy: { rule_id: "refund-over-100", reason: "Refunds above 100 EUR need a human" },
  };
}

test("an owner mints a credential, the agent uses it, and a revoked one is refused", async ({ page, context, request }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base() });
  await signIn(page, "owner@countersign.demo", "owner-demo-password");
  await page.locator("header").getByRole("link", { name: "Agents" }).click();
  await expect(page.getByRole("heading", { name: "Agents" })).toBeVisible();
  await page.getByRole("link", { name: "billing-assistant" }).click();
  await expect(page.getByRole("heading", { name: "billing-assistant" })).toBeVisible();
  await page.locator("body[data-hydrated]").waitFor({ state: "attached" });

  await page.getByRole("button", { name: "Mint credential" }).click();
  const secret = page.locator("#new-secret");
  await expect(secret).toContainText("csa_");
  await page.getByRole("button", { name: "Copy", exact: true }).click();
  await expect(page.getByRole("button", { name: "Copied" })).toBeVisible();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  expect(copied).toBe((await secret.textContent())!.trim());
  await page.screenshot({ path: "test-results/agent-minted.png", fullPage: true });

  const submitted = await request.post(`${base()}/api/v1/held-actions`, {
    headers: { authorization: `Bearer ${copied}` },
    data: heldAction(`e2e-${Date.now()}`),
  });
  expect(submitted.status()).toBe(201);

  await page.reload();
  const row = page.locator("section[aria-labelledby=credentials-title] tr", { hasText: copied.slice(0, 12) });
  await expect(row.locator(".last-used")).not.toHaveText("never");
  await expect(row).toContainText("active");

  await page.locator("body[data-hydrated]").waitFor({ state: "attached" });
  await row.getByRole("button", { name: /Revoke/ }).click();
  await expect(page.locator("section[aria-labelledby=credentials-title] tr", { hasText: copied.slice(0, 12) })).toContainText("revoked");
  const refused = await request.post(`${base()}/api/v1/held-actions`, {
    headers: { authorization: `Bearer ${copied}` },
    data: heldAction(`e2e-late-${Date.now()}`),
  });
  expect(refused.status()).toBe(401);
  await page.screenshot({ path: "test-results/agent-revoked.png", fullPage: true });
});

test("a supervisor cannot open the agents section", async ({ page }) => {
  await signIn(page, "supervisor@countersign.demo", "supervisor-demo-password");
  await expect(page.locator("header").getByRole("link", { name: "Agents" })).toHaveCount(0);
  const response = await page.goto(`${base()}/agents`);
  expect(response!.status()).toBe(403);
});
