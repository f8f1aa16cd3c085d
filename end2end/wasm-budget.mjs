// The WebAssembly budget: what a page load fetches — the main module plus the chunks of the page's island
// (from cargo-leptos' split manifest; each page has at most one), gzip-compressed, for every island. A page
// without an island fetches the main module alone. Run by `make test`; prints every island's figure, the
// largest first, and fails when any page load is over the budget.
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
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
// What the server actually sends a browser that takes brotli: the build's `.br` copies (`make build`).
const served = (file) => {
  const br = join(pkg, `${file}.br`);
  return existsSync(br) ? statSync(br).size : NaN;
};
const mainServed = served("countersign.wasm");
const islands = Object.entries(manifest)
  .map(([island, chunks]) => [
    island.replace(/^__/, "").replace(/_loader_\d+$/, ""),
    main + chunks.reduce((sum, c) => sum + chunk(c), 0),
    mainServed + chunks.reduce((sum, c) => sum + served(`${c}.wasm`), 0),
  ])
  .sort((a, b) => b[1] - a[1]);
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(`wasm per page load (gzip): budget ${kb(BUDGET)}; main module ${kb(main)} (a page without an island)`);
for (const [island, total, br] of islands) {
  console.log(`  ${island.padEnd(24)} ${kb(total).padStart(10)}${Number.isNaN(br) ? "" : `   (served as brotli: ${kb(br)})`}`);
}
const worst = islands.length ? islands[0][1] : main;
console.log(`largest page load ${kb(worst)}: ${kb(BUDGET - worst)} under the budget`);
if (worst > BUDGET) {
  console.error(`error: a page load fetches ${kb(worst)} of WebAssembly (gzip), over the ${kb(BUDGET)} budget`);
  process.exit(1);
}
