#!/usr/bin/env node
/**
 * Entry point of the `awaitress` command (package.json `bin`): runs {@link cli} with the
 * process's arguments and exits with its code. Run `awaitress --help`.
 */
import { cli } from "./cli.js";

void cli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
