import { FieldError } from '../errors/domain-error';

/**
 * How deep a request's JSON may nest. Our deepest body today is 3 levels (bulk users: object, array, row); webhook
 * events carry a `data` object a few levels more. Anything near this is not a real client, and far deeper input
 * overflows class-transformer's recursion (a 500) before validation even starts.
 */
export const MAX_INPUT_DEPTH = 32;

/** PostgreSQL's text holds no NUL, and a lone surrogate is not Unicode (it would be stored as U+FFFD). */
const isStorable = (value: string): boolean => !value.includes('\u0000') && value.isWellFormed();

interface Pending {
  value: object;
  depth: number;
  path: string;
}

/**
 * The first thing wrong with a parsed input (body, query or path parameters) that no route can store or validate:
 * nesting deeper than MAX_INPUT_DEPTH, or a string (value or property name) holding a NUL character, which
 * PostgreSQL's text cannot hold, or a lone surrogate, which is not Unicode and would be stored as U+FFFD.
 * It runs for every request on every value, so it is iterative (no stack to overflow), and builds a field path only
 * for nested objects and for the problem it reports.
 */
export function findHostileInput(input: unknown, label: 'body' | 'query' | 'path'): FieldError | null {
  if (typeof input === 'string') return stringProblem(input, label);
  if (typeof input !== 'object' || input === null) return null;
  const pending: Pending[] = [{ value: input, depth: 1, path: '' }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, depth, path } = next;
    if (depth > MAX_INPUT_DEPTH) return { field: path || label, message: `${path || label} nests deeper than ${MAX_INPUT_DEPTH} levels` };
    if (Array.isArray(value)) {
      for (let index = 0; index < value.length; index++) {
        const problem = visit(value[index], String(index), depth, path, pending);
        if (problem) return problem;
      }
      continue;
    }
    // for...in is several times faster than Object.keys here; parsed JSON and Fastify's query have no inherited keys.
    for (const key in value) {
      if (!isStorable(key)) {
        return { field: path || label, message: `${path || label} has a property name with a NUL character or a lone surrogate` };
      }
      const problem = visit((value as Record<string, unknown>)[key], key, depth, path, pending);
      if (problem) return problem;
    }
  }
  return null;
}

/** Checks a string child now, or queues an object child; the child's path is built only when it is needed. */
function visit(child: unknown, key: string, depth: number, path: string, pending: Pending[]): FieldError | null {
  if (typeof child === 'string') return isStorable(child) ? null : stringProblem(child, path ? `${path}.${key}` : key);
  if (typeof child === 'object' && child !== null) pending.push({ value: child, depth: depth + 1, path: path ? `${path}.${key}` : key });
  return null;
}

function stringProblem(value: string, field: string): FieldError | null {
  if (value.includes('\u0000')) return { field, message: `${field} must not contain a NUL character` };
  if (!value.isWellFormed()) return { field, message: `${field} must be well-formed Unicode (no lone surrogates)` };
  return null;
}
