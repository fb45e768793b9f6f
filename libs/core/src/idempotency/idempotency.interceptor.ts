import { CallHandler, ExecutionContext, Injectable, Logger, NestInterceptor, Optional } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash, randomUUID } from 'node:crypto';
import { Observable, catchError, from, mergeMap, of, switchMap } from 'rxjs';
import { TenantContext } from '../context/tenant-context';
import { DomainError } from '../errors/domain-error';
import { RedisService } from '../redis/redis.service';
import { SecretBox } from '../security/secret-box';
import { canonicalJson } from './canonical-json';
import { IdempotencyError, ReplayedProblemError, StoredProblem } from './idempotency.errors';

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
export const IDEMPOTENCY_REPLAYED_HEADER = 'Idempotency-Replayed';
/** Route metadata set by `@Idempotent({ sealResponse: true })`. */
export const IDEMPOTENCY_SEALED = 'tenantry:idempotency-sealed';

/** How long a completed request's answer is kept and replayed. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/**
 * How long a claim lasts while its request runs. Longer than any request takes (a bulk create of 1000 users
 * included), shorter than a day, so that a process that dies mid-request does not block its key for 24 h.
 */
export const IDEMPOTENCY_PENDING_TTL_MS = 5 * 60 * 1000;
const WAIT_MS = 10_000;
const POLL_MS = 40;
const KEY_FORMAT = /^[\x20-\x7e]{1,255}$/;

type Pending = { state: 'pending'; hash: string; owner: string };
type Done =
  | { state: 'done'; hash: string; owner: string; status: number; body: unknown }
  | { state: 'done'; hash: string; owner: string; status: number; sealedBody: string }
  | { state: 'done'; hash: string; owner: string; status: number; problem: StoredProblem };
type StoredRecord = Pending | Done;

/** Replaces or deletes the record only while it is still this request's claim (a lease that expired is not ours). */
const SETTLE_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
if cjson.decode(current).owner ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `Idempotency-Key` for one route (apply it with `@Idempotent()`): the first request with a key claims it in Redis
 * (`SET NX`) and runs; its answer (2xx, or a 4xx domain error) is stored for 24 h and replayed, status and body, to
 * every retry with the same key and body, with `Idempotency-Replayed: true`. A retry while the first still runs waits
 * for it (up to 10 s, then 409). The same key with another body answers 422. A 5xx or unexpected error releases the
 * key, so that a retry does the work. Keys are scoped to the caller's organization (the superadmin's to the platform,
 * an unauthenticated caller's to the route).
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly logger = new Logger(IdempotencyInterceptor.name);

  constructor(
    private readonly redis: RedisService,
    private readonly context: TenantContext,
    private readonly reflector: Reflector,
    // Optional so that a module without ConfigModule (a test's probe) can use @Idempotent(); sealing then refuses.
    @Optional() private readonly secretBox?: SecretBox,
  ) {}

  private get box(): SecretBox {
    if (!this.secretBox) throw new Error('@Idempotent({ sealResponse: true }) needs SecretBox (ConfigModule provides it)');
    return this.secretBox;
  }

  intercept(execution: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = execution.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const header = request.headers[IDEMPOTENCY_KEY_HEADER];
    if (header === undefined) return next.handle();
    if (typeof header !== 'string' || !KEY_FORMAT.test(header)) throw IdempotencyError.invalidKey();

    const key = this.redis.key('idempotency', this.scope(request), header);
    const hash = this.fingerprint(request);
    const sealed = this.reflector.get<boolean>(IDEMPOTENCY_SEALED, execution.getHandler()) === true;
    return from(this.claim(key, hash)).pipe(
      switchMap((claim) => {
        if ('record' in claim) return this.replay(claim.record, reply, key);
        return next.handle().pipe(
          mergeMap(async (body: unknown) => {
            const stored = sealed
              ? { sealedBody: this.box.seal(JSON.stringify(body ?? null), key).toString('base64') }
              : { body: body ?? null };
            await this.settle(key, claim.owner, { state: 'done', hash, owner: claim.owner, status: reply.statusCode, ...stored });
            return body;
          }),
          catchError(async (error: unknown) => {
            const problem = storableProblem(error);
            await this.settle(key, claim.owner, problem ? { state: 'done', hash, owner: claim.owner, status: problem.status, problem } : null);
            throw error;
          }),
        );
      }),
    );
  }

  private scope(request: FastifyRequest): string {
    if (this.context.actor.role === 'superadmin') return 'platform';
    const orgId = this.context.orgId;
    if (orgId) return `org:${orgId}`;
    return `public:${request.method}:${request.routeOptions?.url ?? request.url}`;
  }

  /** SHA-256 of the method, the path with its query, and the body as canonical JSON. */
  private fingerprint(request: FastifyRequest): string {
    return createHash('sha256')
      .update(`${request.method}\n${request.url}\n${canonicalJson(request.body)}`)
      .digest('hex');
  }

  /** Claims the key, or waits for the request that holds it and answers its stored record. */
  private async claim(key: string, hash: string): Promise<{ owner: string } | { record: Done }> {
    const owner = randomUUID();
    const pending = JSON.stringify({ state: 'pending', hash, owner } satisfies Pending);
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      let raw: string | null;
      try {
        if ((await this.redis.client.set(key, pending, 'PX', IDEMPOTENCY_PENDING_TTL_MS, 'NX')) === 'OK') return { owner };
        raw = await this.redis.client.get(key);
      } catch (error) {
        this.logger.error({ err: error }, 'Idempotency store unavailable');
        throw IdempotencyError.unavailable();
      }
      if (raw !== null) {
        const record = JSON.parse(raw) as StoredRecord;
        if (record.hash !== hash) throw IdempotencyError.keyReused();
        if (record.state === 'done') return { record };
      } else {
        continue; // the holder failed and released the key: claim it
      }
      if (Date.now() >= deadline) throw IdempotencyError.inProgress();
      await sleep(POLL_MS);
    }
  }

  /** Stores the final record (or releases the key when `record` is null) if the claim is still ours. */
  private async settle(key: string, owner: string, record: Done | null): Promise<void> {
    try {
      await this.redis.client.eval(SETTLE_SCRIPT, 1, key, owner, record ? JSON.stringify(record) : '', String(IDEMPOTENCY_TTL_MS));
    } catch (error) {
      // The work is done (or failed) either way; the caller gets its answer, and a retry may redo the work.
      this.logger.error({ err: error, released: record === null }, 'Could not settle an idempotency key');
    }
  }

  /**
   * A stored success goes through Nest's normal send path, whose status is the route's (@HttpCode or the method's
   * default), the one the first answer had; a stored 4xx is thrown again for the problem filter.
   */
  private replay(record: Done, reply: FastifyReply, key: string): Observable<unknown> {
    void reply.header(IDEMPOTENCY_REPLAYED_HEADER, 'true');
    if ('problem' in record) throw new ReplayedProblemError(record.problem);
    // A sealed body opens only under its own key: copied to another key (another organization's), it does not open.
    const body = 'sealedBody' in record ? (JSON.parse(this.box.openString(Buffer.from(record.sealedBody, 'base64'), key)) as unknown) : record.body;
    void reply.status(record.status);
    return of(body === null ? undefined : body);
  }
}

/** A 4xx domain error answers the same on a retry, so it is stored; anything else releases the key. */
function storableProblem(error: unknown): StoredProblem | null {
  if (!(error instanceof DomainError)) return null;
  const shape = error.problem();
  if (shape.status < 400 || shape.status >= 500) return null;
  return { code: error.code, message: error.message, status: shape.status, title: shape.title, ...(shape.errors ? { errors: shape.errors } : {}) };
}
