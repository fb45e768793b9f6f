import { Foundation1732550000000 } from './1732550000000-foundation';
import { RefreshTokens1732560000000 } from './1732560000000-refresh-tokens';
import { TokenState1732570000000 } from './1732570000000-token-state';
import { AuditLogs1732580000000 } from './1732580000000-audit-logs';
import { SyncedData1732590000000 } from './1732590000000-synced-data';
import { Invitations1732600000000 } from './1732600000000-invitations';
import { WebhookSecrets1732610000000 } from './1732610000000-webhook-secrets';
import { WebhookEvents1732620000000 } from './1732620000000-webhook-events';
import { SsoConnections1732630000000 } from './1732630000000-sso-connections';
import { WebhookInboxInsert1732640000000 } from './1732640000000-webhook-inbox-insert';
import { DeadLetterCounts1732645000000 } from './1732645000000-dead-letter-counts';

/** Every migration, in order. Listed explicitly so that the compiled app, the CLI and the tests run the same set. */
export const MIGRATIONS = [
  Foundation1732550000000,
  RefreshTokens1732560000000,
  TokenState1732570000000,
  AuditLogs1732580000000,
  SyncedData1732590000000,
  Invitations1732600000000,
  WebhookSecrets1732610000000,
  WebhookEvents1732620000000,
  SsoConnections1732630000000,
  WebhookInboxInsert1732640000000,
  DeadLetterCounts1732645000000,
];
