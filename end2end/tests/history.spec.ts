import { expect, test, type Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import { as, base, credential, held, hydrated, submit } from "../support";

/** RFC 4180 records: quoted cells may hold commas, quotes and newlines. */
function csvRecords(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { record.push(cell); cell = ""; }
    else if (c === "\n") { record.push(cell); records.push(record); record = []; cell = ""; }
    else if (c !== "\r") cell += c;
  }
  return records;
}

/** Opens a held action's case view and approves or denies it with the keyboard. */
async function decide(page: Page, id: string, verdict: "approve" | "deny") {
  await page.goto(`${base()}/queue/${id}`);
  await hydrated(page);
  await expect(page.getByText("You are reviewing this.")).toBeVisible();
  if (verdict === "approve") {
    await page.keyboard.press("a");
    await page.getByRole("button", { name: "Confirm approval" }).click();
  } else {
    await page.keyboard.press("d");
    await page.getByLabel("Reason (returned to the agent)").selectOption({ index: 1 });
    await page.getByRole("button", { name: "Confirm denial" }).click();
  }
  await expect(page.locator(".outcome p.status")).toContainText(verdict === "approve" ? "approved" : "denied");
}

const ids = (page: Page) => page.locator("table.history tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-id")));

test("an auditor filters the history, shares the view by its address, reads a record and exports it", async ({ browser }) => {
  const token = await credential(browser, "billing-assistant");
  const sam = await as(browser, "supervisor");
  const customer = `cus_hist_${Date.now()}`;
  const approved = await submit(sam, token, { ...held("refund", customer), idempotency_key: `${customer}-1` });
  const denied = await submit(sam, token, { ...held("refund", customer), idempotency_key: `${customer}-2` });
  await decide(sam, approved, "approve");
  await decide(sam, denied, "deny");

  const aiko = await as(browser, "auditor");
  await aiko.locator("header").getByRole("link", { name: "History" }).click();
  await expect(aiko.getByRole("heading", { name: "History" })).toBeVisible();
  await hydrated(aiko);
  await aiko.getByLabel("Agent").selectOption({ label: "billing-assistant" });
  await aiko.getByLabel("Outcome").selectOption({ label: "Approved" });
  await aiko.getByLabel("Customer").fill(customer);
  await aiko.getByRole("button", { name: "Filter" }).click();
  await expect(aiko).toHaveURL(/outcome=approved/);
  await expect(aiko.locator("table.history tbody tr")).toHaveCount(1);
  expect(await ids(aiko)).toEqual([approved]);
  await aiko.screenshot({ path: "test-results/history.png" });

  // The address is the view: pasted into a new page, it shows the same rows.
  const shared = aiko.url();
  const other = await (await browser.newContext({ storageState: await aiko.context().storageState() })).newPage();
  await other.goto(shared);
  await expect(other.locator("table.history tbody tr")).toHaveCount(1);
  expect(await ids(other)).toEqual(await ids(aiko));
  expect(await other.getByLabel("Outcome").inputValue()).toBe("approved");

  // The record: what the reviewer saw, the vote, an intact hash, and no way to decide.
  await aiko.getByRole("link", { name: "Refund" }).click();
  await expect(aiko).toHaveURL(`${base()}/history/${approved}`);
  await hydrated(aiko);
  await expect(aiko.getByText("I was charged twice!")).toBeVisible();
  await expect(aiko.locator(".reviews")).toContainText("Approved by Sam Supervisor");
  await expect(aiko.getByText("The stored body matches its hash")).toBeVisible();
  await expect(aiko.getByText("Verifies against the receipt key")).toBeVisible();
  await expect(aiko.getByRole("button", { name: /Approve|Deny|Confirm/ })).toHaveCount(0);
  await aiko.screenshot({ path: "test-results/record.png", fullPage: true });

  // The CSV of the filtered view has exactly its rows.
  await aiko.goBack();
  await expect(aiko.locator("table.history tbody tr")).toHaveCount(1);
  const [download] = await Promise.all([aiko.waitForEvent("download"), aiko.getByRole("link", { name: "CSV" }).click()]);
  const records = csvRecords(readFileSync((await download.path())!, "utf8"));
  expect(records[0].slice(0, 4)).toEqual(["id", "tenant", "received_at", "status"]);
  expect(records.slice(1).map((r) => r[0])).toEqual([approved]);

  // Auditors decide nothing: the queue is not theirs.
  const queue = await aiko.request.get(`${base()}/queue/${denied}`);
  expect(queue.status()).toBe(403);
});

test("a supervisor's history is their own decisions", async ({ browser }) => {
  const token = await credential(browser, "billing-assistant");
  const sam = await as(browser, "supervisor");
  const customer = `cus_mine_${Date.now()}`;
  const id = await submit(sam, token, { ...held("refund", customer), idempotency_key: `${customer}-1` });
  await decide(sam, id, "approve");
  await sam.goto(`${base()}/history?customer=${customer}`);
  await expect(sam.getByRole("heading", { name: "My decisions" })).toBeVisible();
  expect(await ids(sam)).toEqual([id]);

  const rui = await as(browser, "reviewer");
  await rui.goto(`${base()}/history?customer=${customer}`);
  await expect(rui.getByRole("heading", { name: "My decisions" })).toBeVisible();
  await expect(rui.getByText("No held actions match these filters.")).toBeVisible();
  await rui.goto(`${base()}/history/${id}`);
  await expect(rui.getByRole("alert")).toBeVisible(); // not theirs: refused, nothing shown
  await expect(rui.getByText("I was charged twice!")).toHaveCount(0);
});
