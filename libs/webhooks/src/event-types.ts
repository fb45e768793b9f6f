import { IntegrationProvider } from '@tenantry/core';
import { ID_FIELD, SyncChange, SyncedCollection } from '@tenantry/integrations';

/** Every event type a service may send (the contract's list). */
export const EVENT_TYPES: Record<IntegrationProvider, readonly string[]> = {
  'user-service': ['user.created', 'user.updated', 'user.deleted'],
  'payment-service': ['subscription.created', 'subscription.updated', 'subscription.canceled', 'invoice.paid', 'invoice.payment_failed'],
  'communication-service': ['message.sent', 'message.delivered', 'message.bounced', 'message.failed'],
};

const MAX_EVENT_ID_LENGTH = 200;
const MAX_ID_LENGTH = 200;

/** An event as the sender posted it, once its shape is known to be right. */
export interface InboundEvent {
  id: string;
  type: string;
  occurredAt: string;
  data: Record<string, unknown>;
}

/** The collection an event type writes, and the data field that names the record. */
export function targetOf(type: string, data: Record<string, unknown>): { collection: SyncedCollection; idField: string } {
  if (type.startsWith('user.')) return { collection: 'users', idField: ID_FIELD.users };
  if (type.startsWith('subscription.')) return { collection: 'subscriptions', idField: ID_FIELD.subscriptions };
  if (type.startsWith('invoice.')) {
    // An invoice event that names only its subscription is a thin event about that subscription.
    return typeof data.invoiceId === 'string' ? { collection: 'invoices', idField: ID_FIELD.invoices } : { collection: 'subscriptions', idField: ID_FIELD.subscriptions };
  }
  return { collection: 'messages', idField: ID_FIELD.messages };
}

/** Why an event cannot be accepted, or null when its shape is right for this provider. */
export function rejectionOf(provider: IntegrationProvider, event: unknown): string | null {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return 'an event must be an object';
  const { id, type, occurredAt, data, ...rest } = event as Record<string, unknown>;
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_EVENT_ID_LENGTH) return `id must be a string of 1 to ${MAX_EVENT_ID_LENGTH} characters`;
  if (Object.keys(rest).length > 0) return `unknown field: ${Object.keys(rest).join(', ')}`;
  if (typeof type !== 'string' || !EVENT_TYPES[provider].includes(type)) return `type must be one of ${EVENT_TYPES[provider].join(', ')}`;
  if (typeof occurredAt !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(occurredAt) || Number.isNaN(Date.parse(occurredAt))) {
    return 'occurredAt must be an ISO 8601 timestamp';
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'data must be an object';
  const { idField } = targetOf(type, data as Record<string, unknown>);
  const recordId = (data as Record<string, unknown>)[idField];
  if (typeof recordId !== 'string' || recordId.length === 0 || recordId.length > MAX_ID_LENGTH) return `data.${idField} must be a string of 1 to ${MAX_ID_LENGTH} characters`;
  return null;
}

/** Thin: `data` holds the record's identifier and nothing else; only then is the record fetched from the service. */
export function isThin(type: string, data: Record<string, unknown>): boolean {
  const keys = Object.keys(data);
  return keys.length === 1 && keys[0] === targetOf(type, data).idField;
}

/** Status an event type implies when its data does not say. */
const IMPLIED_STATUS: Record<string, string> = {
  'subscription.canceled': 'canceled',
  'invoice.paid': 'paid',
  'message.sent': 'sent',
  'message.delivered': 'delivered',
  'message.bounced': 'bounced',
  'message.failed': 'failed',
};

/** The change an event (as sent, not thin) makes: a deletion, or the fields it states. */
export function changeOf(event: { type: string; occurredAt: Date; data: Record<string, unknown> }): { collection: SyncedCollection; change: SyncChange } {
  const { collection, idField } = targetOf(event.type, event.data);
  const externalId = event.data[idField] as string;
  if (event.type === 'user.deleted') return { collection, change: { externalId, fields: event.data, occurredAt: event.occurredAt, removed: true } };
  const implied = IMPLIED_STATUS[event.type];
  const fields = implied && event.data.status === undefined ? { ...event.data, status: implied } : event.data;
  return { collection, change: { externalId, fields, occurredAt: event.occurredAt } };
}

/**
 * A thin event completed by the service's record: its current state, as of its own `updatedAt`. When the service no
 * longer has the record, a deletion or cancellation removes ours; any other event has nothing to apply (null).
 */
export function changeFromRecord(type: string, externalId: string, record: Record<string, unknown> | null, occurredAt: Date): SyncChange | null {
  if (record === null) return type === 'user.deleted' || type === 'subscription.canceled' ? { externalId, fields: null, occurredAt } : null;
  const updatedAt = typeof record.updatedAt === 'string' ? new Date(record.updatedAt) : occurredAt;
  return { externalId, fields: record, occurredAt: Number.isNaN(updatedAt.getTime()) ? occurredAt : updatedAt };
}
