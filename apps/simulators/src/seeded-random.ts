import { createHash } from 'node:crypto';

/** mulberry32 over a 32-bit state taken from a SHA-256 of the key: the same key always draws the same sequence. */
export function createRandom(key: string): () => number {
  let state = createHash('sha256').update(key).digest().readUInt32BE(0);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A UUID-shaped (version 4 bits) id from a hash of the key, so that seeded records keep their ids. */
export function stableUuid(key: string): string {
  const hex = createHash('sha256').update(key).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export interface SeedContext {
  slug: string;
  random: () => number;
  /** A stable id for the index-th record of a kind in this organization. */
  id: (kind: string, index: number) => string;
  pick: <T>(values: readonly T[]) => T;
  integer: (min: number, max: number) => number;
  /** An ISO timestamp up to `maxDaysAgo` days before a fixed reference date, so that it never depends on the clock. */
  pastTimestamp: (maxDaysAgo: number) => string;
}

const REFERENCE_TIME = Date.parse('2026-01-01T00:00:00.000Z');
const DAY_MS = 86_400_000;

export function seedContext(seed: string, service: string, slug: string): SeedContext {
  const random = createRandom(`${seed}|${service}|${slug}`);
  const integer = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  return {
    slug,
    random,
    id: (kind, index) => stableUuid(`${seed}|${slug}|${kind}|${index}`),
    pick: (values) => values[Math.floor(random() * values.length)]!,
    integer,
    pastTimestamp: (maxDaysAgo) => new Date(REFERENCE_TIME - Math.floor(random() * maxDaysAgo * DAY_MS)).toISOString(),
  };
}
