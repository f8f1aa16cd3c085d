// Starts the release server on a free port with a fresh SQLite database and the demo data, waits until it
// is ready, and stops it when the run ends.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(__dirname, "..");

export default async function globalSetup(): Promise<() => Promise<void>> {
  const dir = mkdtempSync(join(tmpdir(), "countersign-e2e-"));
  const server = spawn(join(root, "target/release/countersign"), ["serve", "--demo"], {
    cwd: root,
    env: {
      ...process.env,
      COUNTERSIGN_DATABASE_URL: `sqlite://${join(dir, "e2e.db")}`,
      COUNTERSIGN_SECRET_KEY_FILE: join(dir, "e2e.key"),
      COUNTERSIGN_LISTEN: "127.0.0.1:0",
      RUST_LOG: "warn",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const base = await new Promise<string>((ok, fail) => {
    let seen = "";
    server.stdout!.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
      const found = seen.match(/listening on (http:\/\/\S+)/);
      if (found) ok(found[1]);
    });
    server.on("exit", (code) => fail(new Error(`server exited early with ${code}:\n${seen}`)));
    setTimeout(() => fail(new Error(`server did not start:\n${seen}`)), 30_000);
  });
  // Listening is not the same as ready: poll until the database answers.
  for (let i = 0; ; i++) {
    const ready = await fetch(`${base}/readyz`).then((r) => r.ok, () => false);
    if (ready) break;
    if (i > 100) throw new Error("server never became ready");
    await new Promise((r) => setTimeout(r, 100));
  }
  process.env.BASE_URL = base;
  return async () => {
    server.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  };
}
