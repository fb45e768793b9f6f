import { QueryFailedError } from 'typeorm';

/** PostgreSQL's unique_violation (23505): the row collides with one that exists. */
export const isUniqueViolation = (error: unknown): boolean =>
  error instanceof QueryFailedError && (error as QueryFailedError & { code?: string }).code === '23505';
