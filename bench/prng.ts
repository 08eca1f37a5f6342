/**
 * The seeded generator of src/internal/prng.ts, copied so that the benchmarks import nothing but
 * awaitress's public API (the package root): the same seed gives the same delays as before, and a
 * bundle of another revision's src/ (`--baseline`) needs no internal module.
 */

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

/** A permutation of 0..n-1 (Fisher–Yates with `seededRandom(seed)`): the same for every implementation. */
export function seededPermutation(n: number, seed: number): number[] {
  const random = seededRandom(seed);
  const items = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = items[i] as number;
    items[i] = items[j] as number;
    items[j] = tmp;
  }
  return items;
}
