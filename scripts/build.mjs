// Builds dist/esm (ESM) and dist/cjs (CommonJS), each with .d.ts, using only the TypeScript compiler.
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";

const tsc = ["node_modules/typescript/bin/tsc"];
rmSync("dist", { recursive: true, force: true });
execFileSync(process.execPath, [...tsc, "-p", "tsconfig.build.json"], { stdio: "inherit" });
execFileSync(
  process.execPath,
  [...tsc, "-p", "tsconfig.build.json", "--module", "commonjs", "--moduleResolution", "node10", "--outDir", "dist/cjs"],
  { stdio: "inherit" },
);
mkdirSync("dist/cjs", { recursive: true });
writeFileSync("dist/cjs/package.json", `${JSON.stringify({ type: "commonjs" })}\n`);
writeFileSync("dist/esm/package.json", `${JSON.stringify({ type: "module" })}\n`);
