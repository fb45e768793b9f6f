import { randomUUID } from 'node:crypto';

import type { CollectionSpec, SimRecord } from './service-simulator';

const SAMPLE_DRAWS = 20;

/**
 * What a service's change generator may do to one organization's data while `/__control/emit` runs. Every write
 * moves the record's `updatedAt` strictly forward, and that instant is the event's `occurredAt`.
 */
export interface ChangeContext {
  slug: string;
  random: () => number;
  pick: <T>(values: readonly T[]) => T;
  integer: (min: number, max: number) => number;
  size: (collection: string) => number;
  get: (collection: string, id: string) => SimRecord | undefined;
  /** A random record that `accept` takes, from a few draws; undefined when none turned up. */
  sample: (collection: string, accept?: (record: SimRecord) => boolean) => SimRecord | undefined;
  /** Every record that `accept` takes (a full scan: for rare checks). */
  count: (collection: string, accept: (record: SimRecord) => boolean) => number;
  /** Stores a new record under a fresh UUID. */
  create: (collection: string, fields: Record<string, unknown>) => SimRecord;
  /** Applies `changes` (an undefined value removes the field). */
  update: (collection: string, record: SimRecord, changes: Record<string, unknown>) => SimRecord;
  /** Removes the record; answers the instant of the removal, later than its last change. */
  remove: (collection: string, record: SimRecord) => string;
}

/** One change, as the event that tells of it. */
export interface Change {
  type: string;
  occurredAt: string;
  data: Record<string, unknown>;
  /** The thin form of `data` (only the identifier), when this type of event may be sent thin. */
  thinData?: Record<string, unknown>;
}

/** Strictly later than the previous value, so that a change in the same millisecond still moves it. */
export function nextUpdatedAt(previous: string): string {
  return new Date(Math.max(Date.now(), Date.parse(previous) + 1)).toISOString();
}

/**
 * The change context of one organization's data for one emit. It keeps an array of each collection's ids beside its
 * map, so that a random draw costs O(1) across 20,000 changes; nothing else writes the data while an emit generates
 * its changes, which it does synchronously.
 */
export function createChangeContext(
  slug: string,
  data: Map<string, Map<string, SimRecord>>,
  collections: CollectionSpec[],
  random: () => number,
): ChangeContext {
  const idFieldOf = (name: string): string => {
    const spec = collections.find((collection) => collection.name === name);
    if (!spec) throw new Error(`no collection ${name}`);
    return spec.idField;
  };
  const ids = new Map([...data].map(([name, records]) => [name, [...records.keys()]]));
  const positions = new Map([...ids].map(([name, list]) => [name, new Map(list.map((id, index) => [id, index]))]));
  const recordsOf = (name: string) => {
    const records = data.get(name);
    if (!records) throw new Error(`no collection ${name}`);
    return records;
  };
  const idOf = (name: string, record: SimRecord) => String(record[idFieldOf(name)]);
  return {
    slug,
    random,
    pick: (values) => values[Math.floor(random() * values.length)]!,
    integer: (min, max) => min + Math.floor(random() * (max - min + 1)),
    size: (name) => recordsOf(name).size,
    get: (name, id) => recordsOf(name).get(id),
    sample: (name, accept) => {
      const list = ids.get(name)!;
      for (let i = 0; i < SAMPLE_DRAWS && list.length > 0; i++) {
        const record = recordsOf(name).get(list[Math.floor(random() * list.length)]!)!;
        if (!accept || accept(record)) return record;
      }
      return undefined;
    },
    count: (name, accept) => {
      let n = 0;
      for (const record of recordsOf(name).values()) if (accept(record)) n += 1;
      return n;
    },
    create: (name, fields) => {
      const id = randomUUID();
      const record: SimRecord = { [idFieldOf(name)]: id, ...fields, updatedAt: new Date().toISOString() };
      recordsOf(name).set(id, record);
      positions.get(name)!.set(id, ids.get(name)!.push(id) - 1);
      return record;
    },
    update: (_name, record, changes) => {
      for (const [field, value] of Object.entries(changes)) {
        if (value === undefined) delete record[field];
        else record[field] = value;
      }
      record.updatedAt = nextUpdatedAt(record.updatedAt);
      return record;
    },
    remove: (name, record) => {
      const id = idOf(name, record);
      recordsOf(name).delete(id);
      const list = ids.get(name)!;
      const position = positions.get(name)!;
      const index = position.get(id)!;
      const last = list.pop()!;
      if (last !== id) {
        list[index] = last;
        position.set(last, index);
      }
      position.delete(id);
      return nextUpdatedAt(record.updatedAt);
    },
  };
}
