import { SeedContext } from './seeded-random';
import { createServiceSimulator, ServiceSimulator, SimRecord } from './service-simulator';

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
    const recipient =
      channel === 'email' ? `user${context.integer(1, USER_COUNT)}@${domain}` : channel === 'sms' ? `+4930${context.integer(1_000_000, 9_999_999)}` : context.id('device', index);
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

export function createUserService(seed?: string): ServiceSimulator {
  return createServiceSimulator({
    name: 'user-service',
    seed,
    generate: generateUsers,
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

export function createPaymentService(seed?: string): ServiceSimulator {
  return createServiceSimulator({
    name: 'payment-service',
    seed,
    generate: generatePayments,
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
export function createCommunicationService(seed?: string): ServiceSimulator {
  return createServiceSimulator({
    name: 'communication-service',
    seed,
    generate: generateMessages,
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
