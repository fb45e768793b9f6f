import { Injectable } from '@nestjs/common';
import { CLS_ID, ClsService, ClsStore } from 'nestjs-cls';
import type { TenantTransaction } from '../database/tenant-transaction';
import type { PendingTokenConfirmation } from '../database/token-state';
import { TraceCarrier, traceCarrier } from '../tracing/spans';

/** An organization id, branded so that a repository method cannot be handed an arbitrary string by mistake. */
export type OrgId = string & { readonly __brand: 'OrgId' };
export const asOrgId = (id: string): OrgId => id as OrgId;

export const ROLES = ['superadmin', 'admin', 'member', 'viewer'] as const;
export type Role = (typeof ROLES)[number];
export type OrgRole = Exclude<Role, 'superadmin'>;
export const ORG_ROLES: readonly OrgRole[] = ['admin', 'member', 'viewer'];

export type ActorType = 'user' | 'system' | 'integration' | 'anonymous';

export interface Actor {
  type: ActorType;
  id: string | null;
  role: Role | null;
}

export const SYSTEM_ACTOR: Actor = { type: 'system', id: null, role: null };
/** Who calls before authenticating: login, health, signed webhooks. */
export const ANONYMOUS_ACTOR: Actor = { type: 'anonymous', id: null, role: null };

/**
 * What a job carries so that the worker can restore the context it was created in.
 * Every job payload extends it (the "tenant envelope").
 */
export interface TenantEnvelope {
  orgId: string | null;
  actor: Actor;
  requestId: string;
  /** The trace the job was enqueued in, when tracing is on: the worker's span continues it. */
  trace?: TraceCarrier;
}

interface TenantStore extends ClsStore {
  orgId: OrgId | null;
  actor: Actor;
  ip: string | null;
  userAgent: string | null;
  /** A holder, shared by the request's nested contexts (transactions copy the store, not the holder). */
  tokenConfirmation?: { pending: PendingTokenConfirmation | null };
  /** The unit of work's open transaction, in the context it opened for it (opaque here: typed paths stay shallow). */
  transaction?: object;
}

export class MissingTenantContextError extends Error {
  constructor(what: string) {
    super(`No ${what} in the current context: this code must run inside a request or a job`);
  }
}

/**
 * The one tenant-context provider: a singleton over AsyncLocalStorage (nestjs-cls). Its values are per request
 * (set by the auth guard from the verified token) and per job (restored from the job's envelope).
 */
@Injectable()
export class TenantContext {
  constructor(private readonly cls: ClsService<TenantStore>) {}

  get active(): boolean {
    return this.cls.isActive();
  }

  get orgId(): OrgId | null {
    return this.cls.isActive() ? (this.cls.get('orgId') ?? null) : null;
  }

  requireOrgId(): OrgId {
    const orgId = this.orgId;
    if (!orgId) throw new MissingTenantContextError('organization');
    return orgId;
  }

  get actor(): Actor {
    return (this.cls.isActive() && this.cls.get('actor')) || ANONYMOUS_ACTOR;
  }

  get requestId(): string | null {
    return this.cls.isActive() ? (this.cls.getId() ?? null) : null;
  }

  get ip(): string | null {
    return this.cls.isActive() ? (this.cls.get('ip') ?? null) : null;
  }

  get userAgent(): string | null {
    return this.cls.isActive() ? (this.cls.get('userAgent') ?? null) : null;
  }

  setClient(ip: string | null, userAgent: string | null): void {
    this.cls.set('ip', ip);
    this.cls.set('userAgent', userAgent);
  }

  setPrincipal(orgId: OrgId | null, actor: Actor): void {
    this.cls.set('orgId', orgId);
    this.cls.set('actor', actor);
  }

  /** Asks the request's first transaction to confirm, in the round trip that binds it, the token state the guard used. */
  expectTokenConfirmation(pending: PendingTokenConfirmation): void {
    this.cls.set('tokenConfirmation', { pending });
  }

  /** The pending confirmation for `orgId` (null for the platform), if there is one, without taking it. */
  peekTokenConfirmation(orgId: string | null): PendingTokenConfirmation | null {
    if (!this.cls.isActive()) return null;
    const pending = this.cls.get('tokenConfirmation')?.pending;
    return pending && pending.orgId === orgId ? pending : null;
  }

  /** The pending confirmation for `orgId` (null for the platform), handed out once per request. */
  takeTokenConfirmation(orgId: string | null): PendingTokenConfirmation | null {
    const pending = this.peekTokenConfirmation(orgId);
    if (pending) this.cls.get('tokenConfirmation')!.pending = null;
    return pending;
  }

  /** The open transaction of this context, if any (the unit of work sets and reads it). */
  get transaction(): TenantTransaction | undefined {
    return this.cls.isActive() ? (this.cls.get('transaction') as TenantTransaction | undefined) : undefined;
  }

  set transaction(tx: TenantTransaction | undefined) {
    this.cls.set('transaction', tx);
  }

  /** Runs `fn` in a child context that starts as a copy of this one: what it sets stays inside. */
  runNested<T>(fn: () => Promise<T>): Promise<T> {
    return this.cls.run({ ifNested: 'inherit' }, fn);
  }

  envelope(): TenantEnvelope {
    return { orgId: this.orgId, actor: this.actor, requestId: this.requestId ?? 'none', trace: traceCarrier() };
  }

  /** Runs `fn` in a fresh context restored from a job's envelope: the worker's counterpart of a request. */
  runWithEnvelope<T>(envelope: TenantEnvelope, fn: () => Promise<T>): Promise<T> {
    return this.cls.run(() => {
      this.cls.set(CLS_ID, envelope.requestId);
      this.setPrincipal(envelope.orgId ? asOrgId(envelope.orgId) : null, envelope.actor);
      return fn();
    });
  }
}
