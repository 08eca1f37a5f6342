/**
 * Issue 11, "bad input, clear errors" and "ExceptionGroup shows its members": wrong arguments
 * fail where they are written, with a message that says what to write instead.
 */
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { createTask, ExceptionGroup, run, Timer } from "../src/node.js";
import { thrownBy, virtualClock } from "./support.js";

describe("createTask's options", () => {
  it("a name given as a string says to pass { name }", async () => {
    await run(async () => {
      const e = thrownBy(() => createTask(async () => 1, "fetcher" as never));
      expect(e).toBeInstanceOf(TypeError);
      expect((e as Error).message).toContain('createTask(fn, { name: "fetcher" })');
    }, virtualClock);
  });

  it("null options are a TypeError naming createTask's options, not a crash reading .name", async () => {
    await run(async () => {
      const e = thrownBy(() => createTask(async () => 1, null as never));
      expect(e).toBeInstanceOf(TypeError);
      expect((e as Error).message).toMatch(/createTask's options to be an object.*null/);
    }, virtualClock);
  });

  it("a non-boolean eagerStart is refused", async () => {
    await run(async () => {
      expect(() => createTask(async () => 1, { eagerStart: "yes" as never })).toThrow(/`eagerStart` to be a boolean/);
    }, virtualClock);
  });
});

describe("Timer checks its templates when it is made (codetiming checks them only at stop)", () => {
  it.each([
    ["{:.1q}", /Unknown format code 'q'/],
    ["{foo}", /'foo' is not a field/],
    ["Elapsed {", /Single '\{'/],
  ])("text %s throws from the constructor", (text, message) => {
    expect(() => new Timer({ text, logger: null })).toThrow(message);
  });

  it("a bad initialText throws from the constructor too", () => {
    expect(() => new Timer({ initialText: "starting {nope}", logger: null })).toThrow(/'nope' is not a field/);
  });

  it("good templates still print what they did", () => {
    const lines: string[] = [];
    const t = new Timer({ name: "x", text: "{name}: {milliseconds:.0f} ms", logger: (l) => lines.push(l) });
    t.start();
    t.stop();
    expect(lines[0]).toMatch(/^x: \d+ ms$/);
    Timer.timers.clear();
  });
});

describe("ExceptionGroup shows each sub-exception, as Python's traceback does", () => {
  const group = new ExceptionGroup("unhandled errors in a TaskGroup (3 sub-exceptions)", [
    new RangeError("bad page"),
    "a thrown string",
    new ExceptionGroup("inner (1 sub-exception)", [new TypeError("fetch failed")]),
  ]);

  it("String(group) lists every member's name and message, nested groups indented", () => {
    expect(String(group).split("\n")).toEqual([
      "ExceptionGroup: unhandled errors in a TaskGroup (3 sub-exceptions)",
      "  1. RangeError: bad page",
      '  2. "a thrown string"',
      "  3. ExceptionGroup: inner (1 sub-exception)",
      "       1. TypeError: fetch failed",
    ]);
  });

  it("console output (util.inspect) carries each member's message and stack", () => {
    const text = inspect(group);
    expect(text).toContain("ExceptionGroup: unhandled errors in a TaskGroup (3 sub-exceptions)");
    expect(text).toMatch(/\| RangeError: bad page\n\s+\|\s+at /);
    expect(text).toContain("| 'a thrown string'");
    expect(text).toContain("| TypeError: fetch failed");
  });

  it("a member whose toString throws does not break String(group)", () => {
    const hostile = {
      toString() {
        throw new Error("no");
      },
    };
    const g = new ExceptionGroup("g (2 sub-exceptions)", [Object.create(null), hostile]);
    expect(String(g)).toContain("1. [object Object]");
    expect(String(g)).toContain("2. [object Object]");
  });
});
