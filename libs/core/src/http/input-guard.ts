import { FieldError } from '../errors/domain-error';

/**
 * How deep a request's JSON may nest. Our deepest body today is 3 levels (bulk users: object, array, row); webhook
 * events carry a `data` object a few levels more. Anything near this is not a real client, and far deeper input
 * overflows class-transformer's recursion (a 500) before validation even starts.
 */
export const MAX_INPUT_DEPTH = 32;

/**
 * The first thing wrong with a parsed input (body, query or path parameters) that no route can store or validate:
 * nesting deeper than MAX_INPUT_DEPTH, or a string (value or key) holding a NUL character, which PostgreSQL's text
 * cannot hold, or a lone surrogate, which is not Unicode and would be stored as U+FFFD. Iterative and allocation-light:
 * it runs for every request, on every value.
 */
export function findHostileInput(input: unknown, label: 'body' | 'query' | 'path'): FieldError | null {
  if (typeof input === 'string') return stringProblem(input, label);
  if (typeof input !== 'object' || input === null) return null;
  const values: unknown[] = [input];
  const depths: number[] = [1];
  const paths: string[] = [''];
  while (values.length > 0) {
    const value = values.pop() as object;
    const depth = depths.pop() as number;
    const path = paths.pop() as string;
    if (depth > MAX_INPUT_DEPTH) return { field: path || label, message: `${path || label} nests deeper than ${MAX_INPUT_DEPTH} levels` };
    const isArray = Array.isArray(value);
    for (const key in value) {
      if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
      const child = (value as Record<string, unknown>)[key];
      const childPath = path ? `${path}.${key}` : key;
      if (!isArray && stringProblem(key, key)) {
        return { field: path || label, message: `${path || label} has a property name with a NUL character or a lone surrogate` };
      }
      if (typeof child === 'string') {
        const problem = stringProblem(child, childPath);
        if (problem) return problem;
      } else if (typeof child === 'object' && child !== null) {
        values.push(child);
        depths.push(depth + 1);
        paths.push(childPath);
      }
    }
  }
  return null;
}

function stringProblem(value: string, field: string): FieldError | null {
  if (value.includes('\u0000')) return { field, message: `${field} must not contain a NUL character` };
  if (!value.isWellFormed()) return { field, message: `${field} must be well-formed Unicode (no lone surrogates)` };
  return null;
}
