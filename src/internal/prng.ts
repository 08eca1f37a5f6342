/**
 * A small seeded pseudo-random generator for schedule fuzzing: the same seed gives the same
 * sequence on every run and every platform (integer arithmetic only), so a failing interleaving
 * can be replayed from its seed.
 */
import { describe } from "../errors.js";

/** Checks a shuffle seed: an integer between 0 and 2^53 - 1. Returns it. */
export function checkSeed(seed: unknown, what: string): number {
  if (typeof seed !== "number" || !Number.isSafeInteger(seed) || seed < 0) {
    throw new TypeError(`Expected ${what} to be a non-negative integer seed, got ${describe(seed)}`);
  }
  return seed;
}

/**
 * Returns a generator of numbers in [0, 1) seeded with `seed` (sfc32, seeded through
 * splitmix32 so that neighbouring seeds give unrelated sequences).
 *
 * @example
 * const random = seededRandom(42);
 * random(); // the same number for seed 42, every run
 */
export function seededRandom(seed: number): () => number {
  const low = seed >>> 0;
  const high = Math.floor(seed / 2 ** 32) >>> 0;
  let s = low ^ Math.imul(high, 0x9e3779b9);
  const next32 = (): number => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = next32();
  let b = next32();
  let c = next32();
  let d = 1;
  const random = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  // Discard the first outputs: sfc32 mixes its state in the first few rounds.
  for (let i = 0; i < 12; i++) random();
  return random;
}

/**
 * Permutes `items[start..end)` in place (Fisher–Yates) with `random`: every order equally likely.
 */
export function shuffleRange<T>(items: T[], start: number, end: number, random: () => number): void {
  for (let i = end - 1; i > start; i--) {
    const j = start + Math.floor(random() * (i - start + 1));
    const tmp = items[i] as T;
    items[i] = items[j] as T;
    items[j] = tmp;
  }
}
