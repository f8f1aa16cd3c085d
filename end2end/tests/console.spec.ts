import { expect, test, type Page } from "@playwright/test";

const base = () => process.env.BASE_URL!;

async function signIn(page: Page, email: string, password: string) {
  await page.goto(`${base()}/login`);
  await hydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** Waits until the WASM bundle has hydrated the page. */
async function hydrated(page: Page) {
  await page.locator("body[data-hydrated]").waitFor({ state: "attached" });
}

test("the demo supervisor signs in, uses the console, and signs out", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));

  await signIn(page, "supervisor@countersign.demo", "supervisor-demo-password");
  await expect(page).toHaveURL(`${base()}/`);
  const header = page.locator("header");
  await expect(header.getByText("Sam Supervisor")).toBeVisible();
  await expect(header.getByRole("link", { name: "Overview" })).toBeVisible();
  await expect(header.getByRole("link", { name: "Audit log" })).toHaveCount(0);
  await page.screenshot({ path: "test-results/overview.png", fullPage: true });

  // A plain form: the browser itself holds back a new password under the minimum, and says why.
  await header.getByRole("link", { name: "Account" }).click();
  await expect(page).toHaveURL(`${base()}/account`);
  await hydrated(page);
  await expect(page.locator("#new-hint")).toHaveText("At least 12 characters.");
  await expect(page.getByLabel("New password", { exact: true })).toHaveAttribute("minlength", "12");
  await page.screenshot({ path: "test-results/account.png", fullPage: true });

  await header.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(`${base()}/login`);
  await page.goto(`${base()}/account`);
  await expect(page).toHaveURL(`${base()}/login`);
  expect(errors).toEqual([]);
});

test("a wrong password shows the error and keeps the visitor out", async ({ page }) => {
  await signIn(page, "supervisor@countersign.demo", "not-the-password");
  await expect(page.getByRole("alert")).toContainText("Sign-in failed");
  await expect(page).toHaveURL(`${base()}/login`);
  await page.screenshot({ path: "test-results/login-error.png", fullPage: true });
});

test("the sign-in form works from the keyboard alone", async ({ page }) => {
  await page.goto(`${base()}/login`);
  await hydrated(page);
  await expect(page.getByLabel("Email")).toBeFocused();
  await page.keyboard.type("auditor@countersign.demo");
  await page.keyboard.press("Tab");
  await page.keyboard.type("auditor-demo-password");
  await page.keyboard.press("Enter");
  await expect(page.locator("header").getByRole("link", { name: "Audit log" })).toBeVisible();
  await page.locator("header").getByRole("link", { name: "Audit log" }).click();
  await expect(page.getByRole("table")).toBeVisible();
  await page.getByRole("button", { name: "Verify chain" }).click();
  await expect(page.getByRole("status")).toContainText("Intact");
  await page.screenshot({ path: "test-results/audit.png", fullPage: true });
});

test("a sign-in posted before the page is live comes back with its error, and the page still hydrates", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  // What the form sends when it is submitted before its island has hydrated: a plain post, answered with a
  // redirect back to the form carrying the error in the address.
  const posted = await page.request.post(`${base()}/api/login`, {
    form: { email: "nobody@countersign.demo", password: "not-the-password" },
    headers: { accept: "text/html", referer: `${base()}/login` },
    maxRedirects: 0,
  });
  expect([302, 303]).toContain(posted.status());
  await page.goto(new URL(posted.headers()["location"], base()).toString());
  await expect(page.getByRole("alert")).toContainText("Sign-in failed");
  await hydrated(page);
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page.getByLabel("Password", { exact: true })).toHaveAttribute("type", "text");
  expect(errors).toEqual([]);
});

test("the browser bundle arrives compressed, and the page still hydrates from it", async ({ page }) => {
  const bundle = page.waitForResponse((r) => new URL(r.url()).pathname === "/pkg/countersign.wasm");
  await page.goto(`${base()}/login`);
  const wasm = await bundle;
  expect(wasm.status()).toBe(200);
  expect(wasm.headers()["content-encoding"]).toBe("br");
  expect(wasm.headers()["content-type"]).toBe("application/wasm");
  await hydrated(page);
});
