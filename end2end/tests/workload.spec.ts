import { expect, test } from "@playwright/test";
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT } from "jose";
import { as, base, held, hydrated } from "../support";

// The identity provider is this test: its key signs the agent's workload token; jose (an independent JOSE
// implementation) also verifies the receipt against the published JWKS.
const ISSUER = "https://idp.e2e.example";
const AUDIENCE = "countersign-e2e";
const SUBJECT = "spiffe://acme.example/support/billing-assistant";

test("an admin trusts an issuer, an owner binds an agent, and a workload token's action shows its subject", async ({ browser }) => {
  const { publicKey, privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
  const jwk = { ...(await exportJWK(publicKey)), kid: "e2e-1", alg: "EdDSA" };

  const admin = await as(browser, "admin");
  await admin.goto(`${base()}/agents`);
  await hydrated(admin);
  await admin.getByText("Register an issuer").click();
  await admin.getByLabel("Tenant").selectOption("acme-retail");
  await admin.getByLabel(/^Issuer/).fill(ISSUER);
  await admin.getByLabel(/^Audience/).fill(AUDIENCE);
  await admin.getByLabel("Or paste its JWKS").fill(JSON.stringify({ keys: [jwk] }));
  await admin.getByRole("button", { name: "Register issuer" }).click();
  await expect(admin.getByText("Issuer registered.")).toBeVisible();
  await expect(admin.getByRole("cell", { name: ISSUER })).toBeVisible();
  await admin.screenshot({ path: "test-results/issuers.png", fullPage: true });

  const owner = await as(browser, "owner");
  await owner.goto(`${base()}/agents`);
  await owner.getByRole("link", { name: "billing-assistant" }).click();
  await hydrated(owner);
  await owner.getByLabel("Workload subject (SPIFFE ID or OIDC sub)").fill(SUBJECT);
  await owner.getByRole("button", { name: "Save", exact: true }).click();
  await expect(owner.getByText("Saved.")).toBeVisible();
  await expect(owner.locator("dd", { hasText: SUBJECT })).toBeVisible();
  await owner.screenshot({ path: "test-results/workload.png", fullPage: true });

  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: "EdDSA", kid: "e2e-1" })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(SUBJECT)
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .sign(privateKey);
  const customer = `cus_wl_${Date.now()}`;
  const submitted = await owner.request.post(`${base()}/api/v1/held-actions`, {
    headers: { authorization: `Bearer ${token}` },
    data: { ...held("refund", customer), idempotency_key: `e2e-wl-${customer}` },
  });
  expect(submitted.status()).toBe(201);
  const id = (await submitted.json()).id;

  const sam = await as(browser, "supervisor");
  await sam.goto(`${base()}/queue/${id}`);
  await hydrated(sam);
  await expect(sam.locator("dd", { hasText: SUBJECT })).toBeVisible();
  await sam.keyboard.press("a");
  await sam.getByRole("button", { name: "Confirm approval" }).click();
  await expect(sam.locator(".outcome p.status")).toHaveText("approved by Sam Supervisor");

  const read = await owner.request.get(`${base()}/api/v1/held-actions/${id}`, { headers: { authorization: `Bearer ${token}` } });
  const receipt = (await read.json()).decision.receipt as string;
  const jwks = await (await owner.request.get(`${base()}/.well-known/jwks.json`)).json();
  const { payload, protectedHeader } = await jwtVerify(receipt, createLocalJWKSet(jwks), { issuer: "countersign" });
  expect(protectedHeader.alg).toBe("EdDSA");
  expect(payload.sub).toBe(id);
  expect(payload.status).toBe("approved");
});
