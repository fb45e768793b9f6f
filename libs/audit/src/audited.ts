/** How an entity is audited: declared on the entity, read by the audit subscriber. */
export interface AuditOptions<T = any> {
  /** What `entityType` the rows say: `user`, `organization`, ... */
  entityType: string;
  /** The organization a row belongs to. */
  orgOf: (entity: T) => string;
  /** Fields whose values never reach `changes`: the row says that they changed, as `[redacted]`. */
  redact?: readonly (keyof T & string)[];
  /** Fields left out of `changes` altogether (bookkeeping such as `updatedAt`). */
  ignore?: readonly (keyof T & string)[];
  /** An update that is really a deletion (a soft delete): the row's action is then `delete`. */
  deletedWhen?: (entity: T, before: T) => boolean;
}

const AUDITED = Symbol('tenantry:audited');

/** Marks an entity as audited: every insert, update and removal through the entity path writes an audit row. */
export function Audited<T>(options: AuditOptions<T>): ClassDecorator {
  return (target) => {
    Reflect.defineMetadata(AUDITED, options, target);
  };
}

export function auditOptionsOf(target: unknown): AuditOptions | undefined {
  return typeof target === 'function' ? (Reflect.getMetadata(AUDITED, target) as AuditOptions | undefined) : undefined;
}

export const REDACTED = '[redacted]';
