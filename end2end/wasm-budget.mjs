// The WebAssembly budget: what a page load fetches — the main module plus the chunks of the route it opens
// (from cargo-leptos' split manifest) — must stay within BUDGET bytes gzip-compressed, for every route.
// Run by `make test`; prints every route's figure, the largest first.
import { readFileSync, readdirSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";

const BUDGET = 300 * 1024;
const pkg = process.argv[2] ?? "target/site/pkg";
const gz = (file) => gzipSync(readFileSync(join(pkg, file)), { level: 9 }).length;
const main = gz("countersign.wasm");
const manifestFile = join(pkg, "__wasm_split_manifest.json");
const manifest = readdirSync(pkg).includes("__wasm_split_manifest.json") ? JSON.parse(readFileSync(manifestFile, "utf8")) : {};
const sizes = new Map();
const chunk = (name) => {
  if (!sizes.has(name)) sizes.set(name, gz(`${name}.wasm`));
  return sizes.get(name);
};
const routes = Object.entries(manifest)
  .map(([route, chunks]) => [route.replace(/^__/, "").replace(/_view_\d+$/, ""), main + chunks.reduce((sum, c) => sum + chunk(c), 0)])
  .sort((a, b) => b[1] - a[1]);
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(`wasm budget ${kb(BUDGET)} gzip per page load; main module ${kb(main)}`);
for (const [route, total] of routes) console.log(`  ${route.padEnd(24)} ${kb(total).padStart(10)}`);
const worst = routes.length ? routes[0][1] : main;
if (worst > BUDGET) {
  console.error(`error: a page load fetches ${kb(worst)} of WebAssembly (gzip), over the ${kb(BUDGET)} budget`);
  process.exit(1);
}
console.log(`largest page load ${kb(worst)}: within budget`);
