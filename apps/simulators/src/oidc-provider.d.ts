/**
 * The part of oidc-provider 9 that the identity-provider simulators use. The package ships no types, and its
 * DefinitelyTyped package would be one more dependency for a handful of signatures.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface AdapterPayload {
    [key: string]: unknown;
    grantId?: string;
    uid?: string;
    userCode?: string;
    consumed?: number;
  }

  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export interface Account {
    accountId: string;
    claims(use: string, scope: string): Promise<Record<string, unknown>>;
  }

  export interface Grant {
    readonly jti: string;
    accountId?: string;
    addOIDCScope(scope: string): void;
    save(): Promise<string>;
  }

  export interface GrantConstructor {
    new (properties: { clientId: string; accountId: string | undefined }): Grant;
    find(id: string): Promise<Grant | undefined>;
  }

  export interface OIDCContext {
    readonly provider: Provider;
    readonly client?: { readonly clientId: string };
    readonly session?: { readonly accountId?: string; grantIdFor(clientId: string): string | undefined };
    readonly result?: { consent?: { grantId?: string } };
    readonly requestParamOIDCScopes: Set<string>;
  }

  export interface KoaContextWithOIDC {
    type: string;
    body: unknown;
    status: number;
    readonly oidc: OIDCContext;
  }

  export interface Interaction {
    readonly uid: string;
    readonly prompt: { name: string; reasons: string[]; details: Record<string, unknown> };
    readonly params: Record<string, unknown>;
    readonly returnTo: string;
  }

  export interface InteractionResults {
    login?: { accountId: string; remember?: boolean };
    consent?: { grantId?: string };
    error?: string;
    error_description?: string;
  }

  export type FindAccount = (ctx: KoaContextWithOIDC, sub: string) => Promise<Account | undefined>;

  export interface Configuration {
    adapter?: new (name: string) => Adapter;
    findAccount?: FindAccount;
    claims?: Record<string, string[] | null>;
    conformIdTokenClaims?: boolean;
    clientDefaults?: Record<string, unknown>;
    features?: Record<string, { enabled: boolean; [option: string]: unknown }>;
    interactions?: { url(ctx: KoaContextWithOIDC, interaction: Interaction): Promise<string> | string };
    loadExistingGrant?: (ctx: KoaContextWithOIDC) => Promise<Grant | undefined>;
    cookies?: { keys?: string[]; [option: string]: unknown };
    jwks?: { keys: Record<string, unknown>[] };
    ttl?: Record<string, number>;
    renderError?: (ctx: KoaContextWithOIDC, out: Record<string, string>, error: Error) => Promise<void>;
  }

  export class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    readonly Grant: GrantConstructor;
    readonly Client: { validate(metadata: Record<string, unknown>): Promise<void> };
    callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: InteractionResults,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>;
  }

  export default Provider;
}
