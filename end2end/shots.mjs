// Not a test: screenshots of the auditor's pages for a person to look at. BASE_URL=… node shots.mjs OUT_DIR
import { chromium } from "playwright-core";
const base = process.env.BASE_URL;
const out = process.argv[2] ?? "/tmp";
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
const errors = [];
page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
page.on("pageerror", (e) => errors.push(String(e)));
await page.goto(`${base}/login`);
await page.locator("body[data-hydrated]").waitFor({ state: "attached" });
await page.getByLabel("Email").fill("auditor@countersign.demo");
await page.getByLabel("Password", { exact: true }).fill("auditor-demo-password");
await page.getByRole("button", { name: "Sign in" }).click();
await page.locator("header").getByText("Sign out").waitFor();
for (const [name, path] of [["history", "/history"], ["history-filtered", "/history?outcome=denied&amount_min=200"], ["insights", "/insights?days=30"], ["audit", "/audit?kind=held_action.approved"]]) {
  await page.goto(`${base}${path}`);
  await page.locator("body[data-hydrated]").waitFor({ state: "attached" });
  await page.waitForTimeout(800);
  await page.screenshot({ path: `${out}/${name}.png` });
}
await page.goto(`${base}/history`);
await page.locator("table.history tbody tr a").first().click();
await page.waitForURL(/\/history\/.+/);
await page.locator("body[data-hydrated]").waitFor({ state: "attached" });
await page.waitForTimeout(800);
await page.screenshot({ path: `${out}/record.png` });
await page.screenshot({ path: `${out}/record-full.png`, fullPage: true });
console.log("console errors:", errors.length ? errors : "none");
await browser.close();
