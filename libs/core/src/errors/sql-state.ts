import { DatabaseError } from 'pg';
import { QueryFailedError } from 'typeorm';

/** PostgreSQL's not_null_violation: a null reached a NOT NULL column. */
const NOT_NULL_VIOLATION = '23502';

/**
 * The SQLSTATE of a PostgreSQL error that a request's data caused: class 22 (data exception: a value out of range,
 * malformed for its type, a NUL in text, ...) or a NOT NULL violation. The edge (input-guard.ts, the validation pipe)
 * should have refused such input first; reaching here means a gap in it, so the caller gets a 400 and we log a bug.
 */
export function dataExceptionState(error: unknown): string | null {
  const driverError = error instanceof QueryFailedError ? error.driverError : error;
  if (!(driverError instanceof DatabaseError)) return null;
  const code = driverError.code;
  return code !== undefined && (code.startsWith('22') || code === NOT_NULL_VIOLATION) ? code : null;
}

/** What may be logged of such an error: where it happened, never the values (PostgreSQL's message quotes them). */
export function dataExceptionLogFields(error: unknown): Record<string, string | undefined> {
  const driverError = (error instanceof QueryFailedError ? error.driverError : error) as DatabaseError;
  return {
    sqlState: driverError.code,
    table: driverError.table,
    column: driverError.column,
    constraint: driverError.constraint,
    dataType: driverError.dataType,
    routine: driverError.routine,
  };
}
