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
