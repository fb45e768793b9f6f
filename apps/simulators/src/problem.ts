import { FastifyReply } from 'fastify';

/** An error that leaves the simulator as a problem document with its own status. */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
  ) {
    super(detail);
  }
}

export const badRequest = (detail: string) => new ProblemError(400, 'Bad Request', detail);
export const notFound = (detail: string) => new ProblemError(404, 'Not Found', detail);

export function sendProblem(reply: FastifyReply, status: number, title: string, detail: string): FastifyReply {
  return reply
    .status(status)
    .header('content-type', 'application/problem+json; charset=utf-8')
    .send({ type: 'about:blank', title, status, detail });
}

export function asObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the body must be a JSON object');
  return body as Record<string, unknown>;
}

export function refuseUnknownFields(input: Record<string, unknown>, known: readonly string[], what: string): void {
  const unknown = Object.keys(input).filter((key) => !known.includes(key));
  if (unknown.length > 0) throw badRequest(`unknown ${what}: ${unknown.join(', ')}`);
}
