import { afterEach, beforeEach, describe, expect, expectTypeOf, it, vi } from "vitest";
import { createTask, gather, run, sleep, Timer, TimerError, Timers } from "../src/node.js";
import { formatValue } from "../src/timer/format.js";

// Fixtures of codetiming's tests/test_codetiming.py.
const TIME_MESSAGE = "Wasted time: {:.4f} seconds";
const RE_TIME = /^Wasted time: 0\.\d{4} seconds/;

/** A short CPU-bound loop, as `waste_time()` upstream. */
function wasteTime(num = 1000): number {
  let sum = 0;
  for (let n = 0; n < num; n++) sum += n ** 2;
  return sum;
}

/** Blocks the thread for `ms` real milliseconds (upstream's `time.sleep` in TM-08). */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy wait
  }
}

let stdout: string;
let stderr: string;

beforeEach(() => {
  Timer.timers.clear();
  stdout = "";
  stderr = "";
  // "prints" means console.log: the message and a newline on stdout.
  vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    stdout += `${args.join(" ")}\n`;
  });
  vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
    stderr += `${args.join(" ")}\n`;
  });
});

afterEach(() => {
  vi.restoreAllMocks();
});

const decoratedTimewaste = new Timer({ text: TIME_MESSAGE }).wrap(wasteTime);
const accumulatedTimewaste = new Timer({ name: "accumulator", text: TIME_MESSAGE }).wrap(wasteTime);

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

describe("codetiming's tests (spec section 8)", () => {
  it("TM-01 as a decorator: wrap() times every call and prints one line", () => {
    expect(decoratedTimewaste()).toBe(wasteTime());
    expect(stdout).toMatch(RE_TIME);
    expect(count(stdout, "\n")).toBe(1);
    expect(stderr).toBe("");
  });

  it("TM-02 as a context manager: a using scope prints once, and gives the Timer", () => {
    {
      using _ = new Timer({ text: TIME_MESSAGE }).start();
      wasteTime();
    }
    expect(stdout).toMatch(RE_TIME);
    expect(count(stdout, "\n")).toBe(1);
    expect(stderr).toBe("");
    {
      using t = new Timer({ text: TIME_MESSAGE }).start();
      expect(t).toBeInstanceOf(Timer);
      expect(t.text).toMatch(/^Wasted time:/);
    }
  });

  it("TM-03 explicit start() and stop()", () => {
    const t = new Timer({ text: TIME_MESSAGE });
    t.start();
    wasteTime();
    t.stop();
    expect(stdout).toMatch(RE_TIME);
    expect(count(stdout, "\n")).toBe(1);
    expect(stderr).toBe("");
  });

  it("TM-04 stop() before start() and start() while running throw TimerError", () => {
    expect(() => new Timer().stop()).toThrow(TimerError);
    expect(() => new Timer().stop()).toThrow("Timer is not running. Use .start() to start it");
    const t = new Timer({ text: TIME_MESSAGE });
    t.start();
    expect(() => t.start()).toThrow(TimerError);
    expect(() => t.start()).toThrow("Timer is running. Use .stop() to stop it");
  });

  it("TM-05 a custom logger gets the message without a newline; logger null prints nothing", () => {
    let messages = "";
    {
      using _ = new Timer({ text: TIME_MESSAGE, logger: (message) => (messages += message) }).start();
      wasteTime();
    }
    expect(messages).toMatch(RE_TIME);
    expect(messages).not.toContain("\n");
    expect(stdout).toBe("");
    {
      using _ = new Timer({ logger: null }).start();
      wasteTime();
    }
    expect(stdout).toBe("");
    expect(stderr).toBe("");
  });

  it("TM-06 named timers accumulate across uses, as a decorator and as a scope", () => {
    accumulatedTimewaste();
    accumulatedTimewaste();
    let lines = stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(RE_TIME);
    expect(lines[1]).toMatch(RE_TIME);
    expect(Timer.timers.count("accumulator")).toBe(2);

    stdout = "";
    const t = new Timer({ name: "accumulator", text: TIME_MESSAGE });
    for (let i = 0; i < 2; i++) {
      using _ = t.start();
      wasteTime();
    }
    lines = stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(RE_TIME);
    expect(lines[1]).toMatch(RE_TIME);
    expect(Timer.timers.count("accumulator")).toBe(4);
    expect(stderr).toBe("");
  });

  it("TM-07 stop() returns the elapsed seconds and the registry holds exactly their sum", () => {
    const t = new Timer({ name: "accumulated_explicit_timer", text: TIME_MESSAGE });
    let total = 0;
    t.start();
    wasteTime();
    total += t.stop();
    t.start();
    wasteTime();
    total += t.stop();
    const lines = stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(RE_TIME);
    expect(lines[1]).toMatch(RE_TIME);
    expect(stderr).toBe("");
    expect(Timer.timers.get("accumulated_explicit_timer")).toBe(total);
  });

  it("TM-08 last starts as NaN and holds the time of the last stop", () => {
    expect(new Timer().last).toBeNaN();
    let timer: Timer | undefined;
    {
      using t = new Timer({ logger: null }).start();
      timer = t;
      block(20);
    }
    expect(timer.last).toBeGreaterThanOrEqual(0.02);
  });

  it("TM-09 {name} and {seconds} in the text", () => {
    {
      using _ = new Timer({ name: "NamedTimer", text: "{name}: {:.2f}" }).start();
      wasteTime();
    }
    expect(stdout).toMatch(/^NamedTimer: 0\.\d{2}/);
    stdout = "";
    {
      using _ = new Timer({ name: "NamedTimer", text: "{name}: {seconds:.2f}" }).start();
      wasteTime();
    }
    expect(stdout.trim()).toMatch(/^NamedTimer: 0\.\d{2}/);
  });

  it("TM-10 {minutes} and {milliseconds} in the text", () => {
    {
      using _ = new Timer({ text: "{minutes:.1f} minutes" }).start();
      wasteTime();
    }
    expect(stdout.trim()).toBe("0.0 minutes");
    stdout = "";
    {
      using _ = new Timer({ text: "{milliseconds:.0f} {seconds:.3f}" }).start();
      wasteTime();
    }
    const [milliseconds, seconds] = stdout.trim().split(" ");
    expect(Number.parseInt(milliseconds as string, 10)).toBe(Math.round(Number(seconds) * 1000));
  });

  it("TM-11 text as a function of the seconds", () => {
    {
      using _ = new Timer({ text: (seconds) => `Function: ${formatValue(seconds + 1, ".0f")}` }).start();
      wasteTime();
    }
    expect(stdout.trim()).toBe("Function: 1");
    expect(stderr).toBe("");
  });

  it("TM-12 text as a class: constructed with the seconds, then stringified", () => {
    class TextFormatter {
      constructor(readonly seconds: number) {}
      toString(): string {
        return `Class: ${formatValue(this.seconds + 1, ".0f")}`;
      }
    }
    {
      using _ = new Timer({ text: TextFormatter }).start();
      wasteTime();
    }
    expect(stdout.trim()).toBe("Class: 1");
    expect(stderr).toBe("");
  });

  it("TM-13 clear() empties the registry", () => {
    {
      using _ = new Timer({ name: "timer_to_be_cleared", logger: null }).start();
      wasteTime();
    }
    expect(Timer.timers.has("timer_to_be_cleared")).toBe(true);
    Timer.timers.clear();
    expect(Timer.timers.size).toBe(0);
    expect(Timer.timers.has("timer_to_be_cleared")).toBe(false);
  });

  it("TM-14 timers keep recording after clear()", () => {
    const t = new Timer({ name: "timer_to_be_cleared" });
    Timer.timers.clear();
    accumulatedTimewaste();
    {
      using _ = t.start();
      wasteTime();
    }
    expect(Timer.timers.has("accumulator")).toBe(true);
    expect(Timer.timers.has("timer_to_be_cleared")).toBe(true);
  });

  it("TM-15 statistics of a named timer", async () => {
    const name = "timer_with_stats";
    await run(
      async () => {
        const t = new Timer({ name, logger: null });
        for (const seconds of [5, 6, 7, 8, 9]) {
          t.start();
          await sleep(seconds);
          t.stop();
        }
      },
      { clock: "virtual" },
    );
    const stats = Timer.timers;
    expect(stats.total(name)).toBe(stats.get(name));
    expect(stats.count(name)).toBe(5);
    expect(stats.min(name)).toBeLessThanOrEqual(stats.median(name));
    expect(stats.median(name)).toBeLessThanOrEqual(stats.max(name));
    expect(stats.mean(name)).toBeGreaterThanOrEqual(stats.min(name));
    expect(stats.stdev(name)).toBeGreaterThanOrEqual(0);
    // On the virtual clock the figures are exact (Python's statistics give the same).
    expect([stats.total(name), stats.min(name), stats.max(name), stats.mean(name), stats.median(name)]).toEqual([
      35, 5, 9, 7, 7,
    ]);
    expect(stats.stdev(name)).toBeCloseTo(Math.sqrt(2.5), 12);
  });

  it("TM-15 stdev is NaN with fewer than two timings", () => {
    Timer.timers.add("once", 1.5);
    expect(Timer.timers.stdev("once")).toBeNaN();
    expect(Timer.timers.median("once")).toBe(1.5);
  });

  it("TM-16 unknown names throw RangeError (codetiming's KeyError); assignment throws TypeError", () => {
    expect(() => Timer.timers.count("non_existent_timer")).toThrow(RangeError);
    expect(() => Timer.timers.stdev("non_existent_timer")).toThrow(RangeError);
    expect(() => Timer.timers.get("non_existent_timer")).toThrow(/No timings recorded for timer "non_existent_timer"/);
    expect(() => {
      (Timer.timers as unknown as Record<string, number>).set_timer = 1.23;
    }).toThrow(TypeError);
    expect(() => {
      (Timer as unknown as { timers: Timers }).timers = new Timers();
    }).toThrow(TypeError);
  });

  describe("TM-17 initialText is printed at start, in each usage form", () => {
    const forms: Array<[string, (t: Timer) => void]> = [
      ["decorator", (t) => t.wrap(wasteTime)()],
      [
        "context manager",
        (t) => {
          using _ = t.start();
          wasteTime();
        },
      ],
      [
        "explicit",
        (t) => {
          t.start();
          wasteTime();
          t.stop();
        },
      ],
    ];
    it.each(forms)("initialText: true (%s)", (_form, use) => {
      use(new Timer({ text: TIME_MESSAGE, initialText: true }));
      expect(stdout).toMatch(/^Timer started\nWasted time: 0\.\d{4} seconds/);
      expect(count(stdout, "\n")).toBe(2);
      expect(stderr).toBe("");
    });
    it.each(forms)("initialText: a string (%s)", (_form, use) => {
      use(new Timer({ text: TIME_MESSAGE, initialText: "Starting the party" }));
      expect(stdout).toMatch(/^Starting the party\nWasted time: 0\.\d{4} seconds/);
      expect(count(stdout, "\n")).toBe(2);
      expect(stderr).toBe("");
    });
  });

  it("TM-18 initialText with a name: 'Timer <name> started', or the template filled with {name}", () => {
    const t = new Timer({ name: "named", text: TIME_MESSAGE, initialText: true });
    t.start();
    wasteTime();
    t.stop();
    let lines = stdout.split("\n");
    expect(lines[0]).toBe("Timer named started");
    expect(lines[1]).toMatch(RE_TIME);

    stdout = "";
    const party = new Timer({ name: "the party", text: TIME_MESSAGE, initialText: "Starting {name}" });
    party.start();
    wasteTime();
    party.stop();
    lines = stdout.split("\n");
    expect(lines[0]).toBe("Starting the party");
    expect(lines[1]).toMatch(RE_TIME);
  });
});

describe("Timer on the loop's clock", () => {
  it("prints exact figures on a virtual clock", async () => {
    const lines: string[] = [];
    const elapsed = await run(
      async () => {
        const t = new Timer({ text: "Task {name} elapsed time: {:.1f}", name: "One", logger: (m) => lines.push(m) });
        t.start();
        await sleep(15);
        return t.stop();
      },
      { clock: "virtual" },
    );
    expect(elapsed).toBe(15);
    expect(lines).toEqual(["Task One elapsed time: 15.0"]);
  });

  it("a using scope in an async function stops when the block ends, after its awaits", async () => {
    const lines: string[] = [];
    await run(
      async () => {
        {
          using _ = new Timer({ text: "\nTotal elapsed time: {:.1f}", logger: (m) => lines.push(m) }).start();
          await sleep(10);
          await sleep(7);
        }
        lines.push("after");
      },
      { clock: "virtual" },
    );
    expect(lines).toEqual(["\nTotal elapsed time: 17.0", "after"]);
  });

  it("a using scope stops the timer when the block throws", async () => {
    const t = new Timer({ logger: null });
    await expect(
      run(
        async () => {
          using _ = t.start();
          await sleep(2);
          throw new Error("boom");
        },
        { clock: "virtual" },
      ),
    ).rejects.toThrow("boom");
    expect(t.running).toBe(false);
    expect(t.last).toBe(2);
  });

  it("outside any loop it measures real time (performance.now)", () => {
    const t = new Timer({ logger: null }).start();
    block(5);
    const seconds = t.stop();
    expect(seconds).toBeGreaterThanOrEqual(0.005);
    expect(seconds).toBeLessThan(1);
  });

  it("keeps reading the clock it started on", async () => {
    const t = new Timer({ logger: null });
    await run(
      async () => {
        t.start();
        await sleep(100);
      },
      { clock: "virtual" },
    );
    // The virtual loop has closed; its clock still reads 100.
    expect(t.stop()).toBe(100);
  });
});

describe("Timer.wrap", () => {
  it("times an async function until its promise settles, keeping its result and this", async () => {
    const lines: string[] = [];
    const timer = new Timer({ name: "fetch", text: "fetched in {:.2f} s", logger: (m) => lines.push(m) });
    const client = {
      base: "https://example.test",
      fetch: timer.wrap(async function (this: { base: string }, path: string) {
        await sleep(0.25);
        return `${this.base}${path}`;
      }),
    };
    const url = await run(() => client.fetch("/a"), { clock: "virtual" });
    expect(url).toBe("https://example.test/a");
    expect(lines).toEqual(["fetched in 0.25 s"]);
    expect(timer.last).toBe(0.25);
  });

  it("times overlapping calls each on its own (tasks running the same function)", async () => {
    const timer = new Timer({ name: "job", logger: null });
    const job = timer.wrap(async (seconds: number) => {
      await sleep(seconds);
      return seconds;
    });
    const results = await run(() => gather(job(3), job(1), job(2)), { clock: "virtual" });
    expect(results).toEqual([3, 1, 2]);
    expect(Timer.timers.count("job")).toBe(3);
    expect(Timer.timers.total("job")).toBe(6);
    expect(timer.last).toBe(3); // the last call to finish
  });

  it("stops when an async function rejects, and passes the error on", async () => {
    const timer = new Timer({ name: "failing", logger: null });
    const fail = timer.wrap(async () => {
      await sleep(1);
      throw new Error("nope");
    });
    await expect(run(() => fail(), { clock: "virtual" })).rejects.toThrow("nope");
    expect(Timer.timers.get("failing")).toBe(1);
  });

  it("stops when a sync function throws, and passes the error on", () => {
    const timer = new Timer({ name: "sync", logger: null });
    const fail = timer.wrap(() => {
      throw new RangeError("bad");
    });
    expect(() => fail()).toThrow(RangeError);
    expect(Timer.timers.count("sync")).toBe(1);
  });

  it("times a function returning a task until the task is done, returning the task itself", async () => {
    const timer = new Timer({ logger: null });
    await run(
      async () => {
        const spawn = timer.wrap(() => createTask(() => sleep(4, "done")));
        const task = spawn();
        expect(typeof task.cancel).toBe("function");
        expect(await task).toBe("done");
      },
      { clock: "virtual" },
    );
    expect(timer.last).toBe(4);
  });

  it("rejects a non-function", () => {
    expect(() => new Timer().wrap(42 as unknown as () => void)).toThrow(TypeError);
  });

  it("keeps the wrapped function's parameter and return types", () => {
    const timer = new Timer({ logger: null });
    const parse = timer.wrap((text: string, radix: number) => Number.parseInt(text, radix));
    expectTypeOf(parse).parameters.toEqualTypeOf<[string, number]>();
    expectTypeOf(parse).returns.toEqualTypeOf<number>();
    const load = timer.wrap(async (id: number) => ({ id }));
    expectTypeOf(load).returns.toEqualTypeOf<Promise<{ id: number }>>();
    expect(parse("ff", 16)).toBe(255);
  });
});

describe("Timer options", () => {
  it("defaults: codetiming's text and console.log", () => {
    const t = new Timer();
    expect(t.text).toBe("Elapsed time: {:0.4f} seconds");
    t.start();
    t.stop();
    expect(stdout).toMatch(/^Elapsed time: \d+\.\d{4} seconds\n$/);
  });

  it("an unnamed timer prints {name} as None and records nothing", () => {
    const t = new Timer({ text: "{name}" });
    t.start();
    t.stop();
    expect(stdout).toBe("None\n");
    expect(Timer.timers.size).toBe(0);
  });

  it("a plain function whose prototype has its own toString is constructed; others are called", () => {
    function Legacy(this: { s: number }, seconds: number) {
      this.s = seconds;
    }
    Legacy.prototype.toString = function (this: { s: number }) {
      return `legacy ${this.s}`;
    };
    const lines: string[] = [];
    const t = new Timer({ text: Legacy as unknown as new (s: number) => unknown, logger: (m) => lines.push(m) });
    t.start();
    t.stop();
    function plain(seconds: number) {
      return `plain ${seconds >= 0}`;
    }
    const u = new Timer({ text: plain, logger: (m) => lines.push(m) });
    u.start();
    u.stop();
    expect(lines[0]).toMatch(/^legacy \d/);
    expect(lines[1]).toBe("plain true");
  });

  it.each([
    [{ name: 5 }, /Expected the timer `name` to be a string, got `5` \(number\)/],
    [{ text: 5 }, /Expected `text` to be a template string or a function/],
    [{ logger: "console" }, /Expected `logger` to be a function or null/],
    [{ initialText: 1 }, /Expected `initialText` to be a boolean or a template string/],
  ])("rejects bad options %j", (options, message) => {
    expect(() => new Timer(options as never)).toThrow(TypeError);
    expect(() => new Timer(options as never)).toThrow(message);
  });
});

describe("Timer.timers", () => {
  it("add() records samples; iteration gives [name, total] pairs", () => {
    Timer.timers.add("a", 1);
    Timer.timers.add("b", 2);
    Timer.timers.add("a", 3);
    expect([...Timer.timers]).toEqual([
      ["a", 4],
      ["b", 2],
    ]);
    expect(Timer.timers.names()).toEqual(["a", "b"]);
    expect(Timer.timers.apply((values) => values.join(","), "a")).toBe("1,3");
  });

  it("add() rejects a bad name or a non-number", () => {
    expect(() => Timer.timers.add(1 as unknown as string, 1)).toThrow(TypeError);
    expect(() => Timer.timers.add("x", Number.NaN)).toThrow(TypeError);
  });

  it("summary() prints one row per timer with count, total, mean, min, max and stdev", async () => {
    await run(
      async () => {
        const one = new Timer({ name: "Task One", logger: null });
        for (const s of [15, 2]) {
          one.start();
          await sleep(s);
          one.stop();
        }
        const two = new Timer({ name: "Task Two", logger: null });
        two.start();
        await sleep(10);
        two.stop();
      },
      { clock: "virtual" },
    );
    expect(Timer.timers.summary()).toBe(
      [
        "name      count    total     mean      min      max   stdev",
        "Task One      2  17.0000   8.5000   2.0000  15.0000  9.1924",
        "Task Two      1  10.0000  10.0000  10.0000  10.0000       -",
      ].join("\n"),
    );
    expect(Timer.timers.summary(1).split("\n")[1]).toBe("Task One      2   17.0   8.5   2.0  15.0    9.2");
  });

  it("summary() of an empty registry, and a bad digits argument", () => {
    expect(Timer.timers.summary()).toBe("(no timings)");
    expect(() => Timer.timers.summary(-1)).toThrow(RangeError);
  });
});
