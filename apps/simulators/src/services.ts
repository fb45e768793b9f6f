import { randomUUID } from 'node:crypto';

import { Change, ChangeContext } from './change-context';
import { SeedContext } from './seeded-random';
import { createServiceSimulator, ServiceSimulator, SimRecord } from './service-simulator';

export interface ServiceOptions {
  /** The same seed always yields the same data per organization slug. */
  seed?: string;
  /** The platform's base URL, where `POST /__control/emit` sends webhook events. */
  platformUrl?: string;
}

export const USER_ROLES = ['admin', 'member', 'viewer'] as const;
export const PLANS = ['starter', 'team', 'business', 'enterprise'] as const;
export const SUBSCRIPTION_STATUSES = ['active', 'trialing', 'past_due', 'canceled'] as const;
export const INVOICE_STATUSES = ['draft', 'open', 'paid', 'void', 'uncollectible'] as const;
export const CURRENCIES = ['EUR', 'USD', 'GBP'] as const;
export const CHANNELS = ['email', 'sms', 'push'] as const;
export const MESSAGE_STATUSES = ['queued', 'sent', 'delivered', 'failed', 'bounced'] as const;

const FIRST_NAMES = ['Ada', 'Grace', 'Alan', 'Linus', 'Margaret', 'Ken', 'Barbara', 'Dennis', 'Frances', 'Edsger', 'Radia', 'Donald', 'Hedy', 'John', 'Katherine', 'Tim', 'Sophie', 'Niklaus', 'Lynn', 'Guido'];
const LAST_NAMES = ['Lovelace', 'Hopper', 'Turing', 'Torvalds', 'Hamilton', 'Thompson', 'Liskov', 'Ritchie', 'Allen', 'Dijkstra', 'Perlman', 'Knuth', 'Lamarr', 'McCarthy', 'Johnson', 'Berners-Lee', 'Wilson', 'Wirth', 'Conway', 'van Rossum'];
const PLAN_PRICES_CENTS: Record<(typeof PLANS)[number], number> = { starter: 1900, team: 4900, business: 14900, enterprise: 49900 };
const FAILURE_REASONS = ['mailbox full', 'invalid recipient', 'carrier rejected', 'device token expired'];
const BOUNCE_REASONS = ['mailbox full', 'invalid recipient'];
const SUBJECTS = ['Welcome aboard', 'Your invoice is ready', 'Password reset', 'Weekly summary', 'New sign-in detected'];

export const USER_COUNT = 25;
export const SUBSCRIPTION_COUNT = 10;
export const MESSAGE_COUNT = 40;

function domainOf(slug: string): string {
  return `${slug.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'org'}.example.com`;
}

function emailLocal(name: string): string {
  return name.toLowerCase().replace(/[^a-z ]/g, '').replace(/ +/g, '.');
}

function recipientFor(channel: (typeof CHANNELS)[number], domain: string, integer: (min: number, max: number) => number, deviceId: () => string): string {
  if (channel === 'email') return `user${integer(1, USER_COUNT)}@${domain}`;
  return channel === 'sms' ? `+4930${integer(1_000_000, 9_999_999)}` : deviceId();
}

export function generateUsers(context: SeedContext): Record<string, SimRecord[]> {
  const domain = domainOf(context.slug);
  const users = Array.from({ length: USER_COUNT }, (_, index) => {
    const name = `${context.pick(FIRST_NAMES)} ${context.pick(LAST_NAMES)}`;
    return {
      externalId: context.id('user', index),
      // The index keeps e-mails unique when two users draw the same name.
      email: `${emailLocal(name)}${index + 1}@${domain}`,
      name,
      role: index === 0 ? 'admin' : context.pick(USER_ROLES),
      updatedAt: context.pastTimestamp(365),
    };
  });
  return { users };
}

export function generatePayments(context: SeedContext): Record<string, SimRecord[]> {
  const subscriptions: SimRecord[] = [];
  const invoices: SimRecord[] = [];
  for (let index = 0; index < SUBSCRIPTION_COUNT; index++) {
    const plan = context.pick(PLANS);
    const subscriptionId = context.id('subscription', index);
    subscriptions.push({ subscriptionId, plan, status: context.pick(SUBSCRIPTION_STATUSES), updatedAt: context.pastTimestamp(365) });
    const currency = context.pick(CURRENCIES);
    const invoiceCount = context.integer(2, 3);
    for (let n = 0; n < invoiceCount; n++) {
      invoices.push({
        invoiceId: context.id('invoice', index * 10 + n),
        subscriptionId,
        amount: PLAN_PRICES_CENTS[plan] * context.integer(1, 5),
        currency,
        status: context.pick(INVOICE_STATUSES),
        updatedAt: context.pastTimestamp(365),
      });
    }
  }
  return { subscriptions, invoices };
}

export function generateMessages(context: SeedContext): Record<string, SimRecord[]> {
  const domain = domainOf(context.slug);
  const messages = Array.from({ length: MESSAGE_COUNT }, (_, index) => {
    const channel = context.pick(CHANNELS);
    const status = context.pick(MESSAGE_STATUSES);
    const recipient = recipientFor(channel, domain, context.integer, () => context.id('device', index));
    const message: SimRecord = {
      messageId: context.id('message', index),
      recipient,
      channel,
      status,
      subject: context.pick(SUBJECTS),
      body: `Hello from ${context.slug}.`,
      updatedAt: context.pastTimestamp(90),
    };
    if (status === 'failed' || status === 'bounced') message.reason = context.pick(FAILURE_REASONS);
    return message;
  });
  return { messages };
}

// The mix of changes `/__control/emit` makes: mostly creates and updates, a few removals, and never so many that an
// organization's data runs low.
const MIN_USERS = 10;
const MIN_LIVE_SUBSCRIPTIONS = 3;
const NEW_USER_ROLES = ['member', 'member', 'member', 'viewer', 'admin'] as const;
const LIVE_SUBSCRIPTION_STATUSES = ['active', 'trialing', 'past_due'] as const;

function otherThan<T>(context: ChangeContext, values: readonly T[], current: unknown): T {
  return context.pick(values.filter((value) => value !== current));
}

function personName(context: ChangeContext): string {
  return `${context.pick(FIRST_NAMES)} ${context.pick(LAST_NAMES)}`;
}

/** A random suffix keeps e-mails unique among seeded and earlier emitted users. */
function freshEmail(name: string, slug: string): string {
  return `${emailLocal(name)}.${randomUUID().slice(0, 8)}@${domainOf(slug)}`;
}

function userChange(type: string, user: SimRecord, occurredAt: string, thinnable = true): Change {
  const data = { externalId: user.externalId, email: user.email, name: user.name, role: user.role };
  return { type, occurredAt, data, thinData: thinnable ? { externalId: user.externalId } : undefined };
}

/** user.created 20%, user.updated 70% (role, name or e-mail), user.deleted 10%. */
export function nextUserChange(context: ChangeContext): Change {
  const roll = context.random();
  const user = context.sample('users');
  // A thin user.deleted would send the platform to fetch a user that no longer exists.
  if (user && roll < 0.1 && context.size('users') > MIN_USERS) return userChange('user.deleted', user, context.remove('users', user), false);
  if (!user || roll < 0.3) {
    const name = personName(context);
    const created = context.create('users', { email: freshEmail(name, context.slug), name, role: context.pick(NEW_USER_ROLES) });
    return userChange('user.created', created, created.updatedAt);
  }
  const what = context.random();
  const name = personName(context);
  const changes = what < 0.4 ? { role: otherThan(context, USER_ROLES, user.role) } : what < 0.7 ? { name } : { email: freshEmail(String(user.name), context.slug) };
  const updated = context.update('users', user, changes);
  return userChange('user.updated', updated, updated.updatedAt);
}

const isLive = (subscription: SimRecord | undefined) => subscription !== undefined && subscription.status !== 'canceled';

function subscriptionChange(type: string, subscription: SimRecord): Change {
  const { subscriptionId, plan, status } = subscription;
  return { type, occurredAt: subscription.updatedAt, data: { subscriptionId, plan, status }, thinData: { subscriptionId } };
}

/** Invoice events are never thin: `{subscriptionId}` alone would name the subscription, not the invoice. */
function invoiceChange(type: string, invoice: SimRecord): Change {
  const { subscriptionId, invoiceId, amount, currency, status } = invoice;
  return { type, occurredAt: invoice.updatedAt, data: { subscriptionId, invoiceId, amount, currency, status } };
}

/** An existing open or draft invoice changes status, or a new invoice (in its subscription's currency) is issued. */
function invoiceEvent(context: ChangeContext, type: 'invoice.paid' | 'invoice.payment_failed'): Change | undefined {
  const status = type === 'invoice.paid' ? 'paid' : 'open';
  const ofLiveSubscription = (invoice: SimRecord) => isLive(context.get('subscriptions', String(invoice.subscriptionId)));
  if (context.random() < 0.5) {
    const pending = context.sample('invoices', (invoice) => (invoice.status === 'open' || invoice.status === 'draft') && ofLiveSubscription(invoice));
    if (pending) return invoiceChange(type, context.update('invoices', pending, { status }));
  }
  const sibling = context.sample('invoices', ofLiveSubscription);
  const subscription = sibling ? context.get('subscriptions', String(sibling.subscriptionId)) : context.sample('subscriptions', isLive);
  if (!subscription) return undefined;
  const plan = subscription.plan as (typeof PLANS)[number];
  const issued = context.create('invoices', {
    subscriptionId: subscription.subscriptionId,
    amount: PLAN_PRICES_CENTS[plan],
    currency: sibling ? sibling.currency : context.pick(CURRENCIES),
    status,
  });
  return invoiceChange(type, issued);
}

/**
 * subscription.created 10%, subscription.updated 30% (plan or status), subscription.canceled 5%, invoice.paid 35%,
 * invoice.payment_failed 20%; a change that finds nothing to act on creates a subscription instead.
 */
export function nextPaymentChange(context: ChangeContext): Change {
  const roll = context.random();
  let change: Change | undefined;
  if (roll >= 0.1 && roll < 0.4) {
    const subscription = context.sample('subscriptions', isLive);
    if (subscription) {
      const changes = context.random() < 0.5 ? { plan: otherThan(context, PLANS, subscription.plan) } : { status: otherThan(context, LIVE_SUBSCRIPTION_STATUSES, subscription.status) };
      change = subscriptionChange('subscription.updated', context.update('subscriptions', subscription, changes));
    }
  } else if (roll >= 0.4 && roll < 0.45) {
    const subscription = context.sample('subscriptions', isLive);
    if (subscription && context.count('subscriptions', isLive) > MIN_LIVE_SUBSCRIPTIONS) {
      change = subscriptionChange('subscription.canceled', context.update('subscriptions', subscription, { status: 'canceled' }));
    }
  } else if (roll >= 0.45) {
    change = invoiceEvent(context, roll < 0.8 ? 'invoice.paid' : 'invoice.payment_failed');
  }
  if (change) return change;
  const created = context.create('subscriptions', { plan: context.pick(PLANS), status: context.pick(['active', 'active', 'trialing'] as const) });
  return subscriptionChange('subscription.created', created);
}

function messageChange(type: string, message: SimRecord): Change {
  const { messageId, recipient, channel, status, reason } = message;
  const data: Record<string, unknown> = { messageId, recipient, channel, status };
  if (reason !== undefined) data.reason = reason;
  return { type, occurredAt: message.updatedAt, data, thinData: { messageId } };
}

/**
 * message.sent 35% (a new message), then for a queued or sent one: message.delivered 40%, message.bounced 10% (e-mail
 * only), message.failed 15%; with no such message at hand, a new one is sent instead.
 */
export function nextMessageChange(context: ChangeContext): Change {
  const roll = context.random();
  const pending = (message: SimRecord) => message.status === 'queued' || message.status === 'sent';
  if (roll >= 0.35) {
    const outcome = roll < 0.75 ? 'delivered' : roll < 0.85 ? 'bounced' : 'failed';
    const message = context.sample('messages', outcome === 'bounced' ? (m) => pending(m) && m.channel === 'email' : pending);
    if (message) {
      const reason = outcome === 'delivered' ? undefined : context.pick(outcome === 'bounced' ? BOUNCE_REASONS : FAILURE_REASONS);
      return messageChange(`message.${outcome}`, context.update('messages', message, { status: outcome, reason }));
    }
  }
  const channel = context.pick(CHANNELS);
  const sent = context.create('messages', {
    recipient: recipientFor(channel, domainOf(context.slug), context.integer, () => randomUUID()),
    channel,
    status: 'sent',
    subject: context.pick(SUBJECTS),
    body: `Hello from ${context.slug}.`,
  });
  return messageChange('message.sent', sent);
}

/** A bare string is the seed, as before the options existed. */
function optionsOf(options: ServiceOptions | string | undefined): ServiceOptions {
  return typeof options === 'string' ? { seed: options } : (options ?? {});
}

export function createUserService(options?: ServiceOptions | string): ServiceSimulator {
  return createServiceSimulator({
    name: 'user-service',
    ...optionsOf(options),
    generate: generateUsers,
    nextChange: nextUserChange,
    collections: [
      {
        name: 'users',
        idField: 'externalId',
        fields: {
          email: { type: 'string', required: true },
          name: { type: 'string', required: true },
          role: { type: 'string', default: 'member', oneOf: USER_ROLES },
        },
      },
    ],
  });
}

export function createPaymentService(options?: ServiceOptions | string): ServiceSimulator {
  return createServiceSimulator({
    name: 'payment-service',
    ...optionsOf(options),
    generate: generatePayments,
    nextChange: nextPaymentChange,
    collections: [
      {
        name: 'subscriptions',
        idField: 'subscriptionId',
        fields: {
          plan: { type: 'string', required: true, oneOf: PLANS },
          status: { type: 'string', default: 'active', oneOf: SUBSCRIPTION_STATUSES },
        },
      },
      {
        name: 'invoices',
        idField: 'invoiceId',
        fields: {
          subscriptionId: { type: 'string', required: true },
          amount: { type: 'integer', required: true },
          currency: { type: 'string', required: true, oneOf: CURRENCIES },
          status: { type: 'string', default: 'open', oneOf: INVOICE_STATUSES },
        },
      },
    ],
  });
}

/** POST /orgs/{orgSlug}/messages sends a message: it is stored as `sent` with its subject and body. */
export function createCommunicationService(options?: ServiceOptions | string): ServiceSimulator {
  return createServiceSimulator({
    name: 'communication-service',
    ...optionsOf(options),
    generate: generateMessages,
    nextChange: nextMessageChange,
    collections: [
      {
        name: 'messages',
        idField: 'messageId',
        fields: {
          recipient: { type: 'string', required: true },
          channel: { type: 'string', required: true, oneOf: CHANNELS },
          subject: { type: 'string', required: true },
          body: { type: 'string', required: true },
          status: { type: 'string', default: 'sent', oneOf: MESSAGE_STATUSES },
          reason: { type: 'string' },
        },
      },
    ],
  });
}
