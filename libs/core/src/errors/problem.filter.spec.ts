import { Logger } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DatabaseError } from 'pg';
import { QueryFailedError } from 'typeorm';
import { ProblemFilter } from './problem.filter';

const SECRET_VALUE = 'value-that-must-not-be-logged';
const request = { url: '/v1/users/1?x=1', id: 'req-1', method: 'PATCH', routeOptions: { url: '/v1/users/:id' } } as unknown as FastifyRequest;

function postgresError(code: string, extra: Partial<DatabaseError> = {}): QueryFailedError {
  const driverError = Object.assign(new DatabaseError(`invalid input for "${SECRET_VALUE}"`, 0, 'error'), { code, ...extra });
  return new QueryFailedError('update "users" set "name" = $1', [SECRET_VALUE], driverError);
}

describe('ProblemFilter and PostgreSQL errors', () => {
  let errors: jest.SpyInstance;

  beforeEach(() => {
    errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => errors.mockRestore());

  it.each([
    ['22P02', 'invalid_text_representation'],
    ['22003', 'numeric_value_out_of_range'],
    ['22021', 'character_not_in_repertoire (a NUL in text)'],
    ['22001', 'string_data_right_truncation'],
    ['23502', 'not_null_violation'],
  ])('answers %s (%s) with a 400 problem and logs it as a bug with the SQLSTATE, never the value', (code) => {
    const problem = new ProblemFilter().toProblem(postgresError(code, { table: 'users', column: 'name' }), request);

    expect(problem).toEqual({
      type: 'https://tenantry.dev/problems/invalid_value',
      title: 'Bad Request',
      status: 400,
      detail: expect.any(String),
      instance: '/v1/users/1',
      requestId: 'req-1',
    });
    expect(JSON.stringify(problem)).not.toContain(SECRET_VALUE);
    expect(errors).toHaveBeenCalledTimes(1);
    const [fields, message] = errors.mock.calls[0];
    expect(fields).toMatchObject({ sqlState: code, table: 'users', column: 'name', route: '/v1/users/:id' });
    expect(message).toMatch(/bug/i);
    expect(JSON.stringify(errors.mock.calls)).not.toContain(SECRET_VALUE);
  });

  it('maps a bare pg DatabaseError (a raw query, not through TypeORM) the same way', () => {
    const driverError = Object.assign(new DatabaseError(SECRET_VALUE, 0, 'error'), { code: '22008' });
    expect(new ProblemFilter().toProblem(driverError, request).status).toBe(400);
  });

  it.each([
    ['23505', 'unique_violation: a module maps it to its own 409'],
    ['40001', 'serialization_failure'],
    ['42P01', 'undefined_table'],
    ['08006', 'connection_failure'],
  ])('leaves %s (%s) a 500 with an errorId', (code) => {
    const problem = new ProblemFilter().toProblem(postgresError(code), request);
    expect(problem.status).toBe(500);
    expect(problem.errorId).toEqual(expect.any(String));
    expect(JSON.stringify(problem)).not.toContain(SECRET_VALUE);
  });

  it('leaves an error that merely carries a 22xxx code, without being a PostgreSQL error, a 500', () => {
    const problem = new ProblemFilter().toProblem(Object.assign(new Error('x'), { code: '22P02' }), request);
    expect(problem.status).toBe(500);
  });
});
