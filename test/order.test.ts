import { describe, expect, it } from 'vitest';
import { compareMigrationNames, sortMigrationNames } from '../src/migrations/order.js';

/** Prisma's order (its CLI sorts with localeCompare), with equal-collating names by their bytes, as order.ts documents. */
const prismaOrder = (names: string[]) => [...names].sort((a, b) => a.localeCompare(b) || Buffer.compare(Buffer.from(a), Buffer.from(b)));
const todoDbOrder = (names: string[]) => [...names].sort(compareMigrationNames);

/** A fixed pseudo-random sequence, so a failure always reproduces. */
function numbers(seed: number): () => number {
  let state = seed;
  return () => {
    // xorshift32: exact in 32-bit integers.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

const SUFFIXES = ['', '_init', '_Init', '_add_b', '_Add_c', '_ADD', '_é', '_e', '_z', '_Z', '_10', '_1', '-x', ' x', '_ß', '_日本', '.v2', '_a\u0301'];

/** Names starting with distinct 14-digit timestamps, many sharing long prefixes so every digit position decides somewhere. */
function timestampedNames(count: number, seed: number): string[] {
  const next = numbers(seed);
  const stamps = new Set<string>();
  while (stamps.size < count) {
    const base = next() < 0.5 ? '20260101000000' : String(Math.floor(next() * 1e14)).padStart(14, '0');
    const at = Math.floor(next() * 14);
    stamps.add(base.slice(0, at) + String(Math.floor(next() * 10)) + base.slice(at + 1));
  }
  return [...stamps].map((stamp) => stamp + SUFFIXES[Math.floor(next() * SUFFIXES.length)]);
}

describe("compareMigrationNames: exactly Prisma's order", () => {
  it("equals localeCompare's order on names with distinct 14-digit timestamps (the order decided without ICU)", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const names = timestampedNames(2000, seed);
      expect(todoDbOrder(names)).toEqual(prismaOrder(names));
    }
  });

  it('keeps localeCompare where names share a timestamp, or do not start with one', () => {
    const names = [
      '20260101000000_add_b',
      '20260101000000_Add_c',
      '20260101000000_add_a',
      '10_add',
      '1_init',
      'B_tag',
      'a_remove',
      '2026_x',
      '20260101000000',
      '2026010100000x_y',
      '20260101000001_é',
      '20260101000001_e',
    ];
    expect(todoDbOrder(names)).toEqual(prismaOrder(names));
    // Where byte order and collation differ, collation wins: a byte order would put Add_c (capital A) first.
    expect(compareMigrationNames('20260101000000_add_b', '20260101000000_Add_c')).toBeLessThan(0);
    expect(compareMigrationNames('1_init', '10_add')).toBeLessThan(0);
  });
});

describe('sortMigrationNames: the same order, by a native sort where it is the same', () => {
  it("gives Prisma's order for timestamped names, shuffled, and for names that a code-unit sort would misplace", () => {
    const mixed = ['1_init', '10_add', 'B_tag', 'a_remove', '20260101000000_add_b', '20260101000000_Add_c', '2026010100000x_y', '20260101000001_é'];
    for (const names of [timestampedNames(2000, 7), timestampedNames(2000, 8).reverse(), mixed, [...mixed].reverse(), ['only'], []]) {
      expect(sortMigrationNames([...names])).toEqual(prismaOrder(names));
    }
  });
});
