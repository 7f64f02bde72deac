// Builds DSOM's front-end assets into src/dsom/web/static/vendor/ (`npm run build`,
// run by `make install`): our frontend/qes.js bundled with PKI.js and asn1js by
// esbuild, and htmx and ECharts copied as their packages ship them, minified.
import { copyFile, mkdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const vendor = join(root, "src", "dsom", "web", "static", "vendor");

await rm(vendor, { recursive: true, force: true });
await mkdir(vendor, { recursive: true });

await build({
  entryPoints: [join(root, "frontend", "qes.js")],
  outfile: join(vendor, "qes.js"),
  bundle: true,
  format: "iife",
  platform: "browser",
  target: ["es2022"],
  minify: true,
  sourcemap: true,
  legalComments: "eof",
  logLevel: "warning",
});

const copies = {
  "htmx.org/dist/htmx.min.js": "htmx.min.js",
  "echarts/dist/echarts.min.js": "echarts.min.js",
};
for (const [from, to] of Object.entries(copies)) {
  await copyFile(join(root, "node_modules", from), join(vendor, to));
}
console.log(`front-end assets built in ${vendor}`);
