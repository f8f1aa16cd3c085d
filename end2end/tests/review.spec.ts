import { expect, test, type Page } from "@playwright/test";
import { as, base, credential, held, hydrated, submit } from "../support";

async function agentSees(page: Page, token: string, id: string): Promise<any> {
  const r = await page.request.get(`${base()}/api/v1/held-actions/${id}`, { headers: { authorization: `Bearer ${token}` } });
  return r.json();
}

test("a held action appears in an open queue live, and a supervisor approves it with the keyboard", async ({ browser }) => {
  const token = await credential(browser, "billing-assistant");
  const page = await as(browser, "supervisor");
  await page.locator("header").getByRole("link", { name: "Queue" }).click();
  await expect(page.getByRole("heading", { name: "Queue" })).toBeVisible();
  await hydrated(page);
  await expect(page.getByText("Updates live.")).toBeVisible(); // the event stream is connected

  const customer = `cus_live_${Date.now()}`;
  const id = await submit(page, token, held("refund", customer));
  const row = page.locator("table.queue tr", { hasText: customer });
  await expect(row).toBeVisible({ timeout: 5_000 }); // no reload
  await page.screenshot({ path: "test-results/queue.png" });

  // j moves down until our row is selected (and its link focused, which a live re-read keeps); Enter opens it.
  for (let i = 0; i < 60 && !(await row.getAttribute("aria-selected"))?.includes("true"); i++) {
    await page.keyboard.press("j");
  }
  await expect(row).toHaveAttribute("aria-selected", "true");
  await expect(row.getByRole("link")).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(`${base()}/queue/${id}`);
  await hydrated(page);
  await expect(page.getByText("What the agent wants, and why")).toBeVisible();
  await expect(page.getByText("You are reviewing this.")).toBeVisible();
  await page.screenshot({ path: "test-results/case.png" });

  await page.keyboard.press("a");
  const confirm = page.getByRole("button", { name: "Confirm approval" });
  await expect(confirm).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(confirm).toHaveCount(0); // a stray keystroke changes nothing
  await page.keyboard.press("a");
  await expect(confirm).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.locator(".outcome p.status")).toHaveText("approved by Sam Supervisor");
  expect((await agentSees(page, token, id)).decision.outcome).toBe("approved");
});

test("a critical action needs two supervisors, each re-entering their password", async ({ browser }) => {
  const token = await credential(browser, "billing-assistant");
  const sam = await as(browser, "supervisor");
  const id = await submit(sam, token, held("payment_method_change", `cus_crit_${Date.now()}`));

  for (const [page, who] of [[sam, "supervisor"], [await as(browser, "reviewer"), "reviewer"]] as const) {
    await page.goto(`${base()}/queue/${id}`);
    await hydrated(page);
    await expect(page.getByText("Critical risk")).toBeVisible();
    await page.keyboard.press("a");
    const password = page.getByLabel("Critical: re-enter your password");
    await expect(password).toBeFocused();
    await password.fill(`${who}-demo-password`);
    await page.keyboard.press("Enter");
    if (who === "supervisor") {
      await expect(page.getByText("1 of 2 approvals")).toBeVisible();
      expect((await agentSees(page, token, id)).status).toBe("pending");
      await page.screenshot({ path: "test-results/case-critical.png" });
    } else {
      await expect(page.locator(".outcome p.status")).toHaveText("approved by Rui Reviewer");
    }
  }
  const seen = await agentSees(sam, token, id);
  expect([seen.status, seen.decision.approvals]).toEqual(["approved", 2]);
});

test("the agent's owner sees no decision controls, and the server refuses their forged decision", async ({ browser }) => {
  const token = await credential(browser, "billing-assistant");
  const owner = await as(browser, "owner");
  const id = await submit(owner, token, held("refund", `cus_sod_${Date.now()}`));
  await owner.goto(`${base()}/queue/${id}`);
  await hydrated(owner);
  await expect(owner.getByText("you own this agent")).toBeVisible();
  await expect(owner.getByRole("button", { name: /Approve/ })).toHaveCount(0);
  await owner.keyboard.press("a");
  await expect(owner.getByRole("button", { name: "Confirm approval" })).toHaveCount(0);

  const forged = await owner.evaluate(async (id) => {
    const body = new URLSearchParams({ id, "form[verdict]": "approve", "form[amount]": "", "form[preset]": "", "form[reason]": "" });
    const r = await fetch("/api/queue/decide", { method: "POST", body });
    return { status: r.status, text: await r.text() };
  }, id);
  expect(forged.status).toBe(403);
  expect(forged.text).toContain("own this agent");
  expect((await agentSees(owner, token, id)).status).toBe("pending");
});
