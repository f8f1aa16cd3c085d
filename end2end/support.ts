// What every spec needs: the server's address, waiting for hydration, and signing in as a demo person.
import { expect, type Browser, type Page } from "@playwright/test";

export const base = () => process.env.BASE_URL!;

/** Waits until the WASM bundle has hydrated the page. */
export const hydrated = (page: Page) => page.locator("body[data-hydrated]").waitFor({ state: "attached" });

export async function signIn(page: Page, email: string, password: string) {
  await page.goto(`${base()}/login`);
  await hydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator("header")).toContainText("Sign out");
}

/** A demo person (`supervisor`, `owner`, …) signed in, in a browser context of their own. */
export async function as(browser: Browser, who: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, `${who}@countersign.demo`, `${who}-demo-password`);
  return page;
}

/** The demo owner mints a credential for one of their agents and hands it to the "agent". */
export async function credential(browser: Browser, agent: string): Promise<string> {
  const page = await as(browser, "owner");
  await page.goto(`${base()}/agents`);
  await page.getByRole("link", { name: agent }).click();
  await hydrated(page);
  await page.getByRole("button", { name: "Mint credential" }).click();
  const secret = (await page.locator("#new-secret").textContent())!.trim();
  await page.context().close();
  return secret;
}

export function held(kind: "refund" | "payment_method_change", customer: string) {
  const money = kind === "refund" ? { amount: { value: "129.90", currency: "EUR" } } : {};
  return {
    idempotency_key: `e2e-${customer}`,
    action: { type: kind, parameters: { order_id: "A-1009" }, ...money },
    intent: "Refund the duplicate charge on order A-1009.",
    case: { id: "CS-8812", customer: { id: customer, display_name: "Dana K." } },
    transcript: [
      { role: "customer", at: "2026-11-23T10:00:00Z", text: "I was charged twice!" },
      { role: "tool", at: "2026-11-23T10:00:05Z", name: "lookup_order", text: '{"charges": 2}' },
    ],
    on_behalf_of: { principal: customer, consented_scope: [`${kind}:order:A-1009`] },
    policy: { rule_id: "refund-over-100", reason: "Refunds above 100 EUR need a human" },
  };
}

export async function submit(page: Page, token: string, body: object): Promise<string> {
  const r = await page.request.post(`${base()}/api/v1/held-actions`, { headers: { authorization: `Bearer ${token}` }, data: body });
  expect(r.status()).toBe(201);
  return (await r.json()).id;
}
