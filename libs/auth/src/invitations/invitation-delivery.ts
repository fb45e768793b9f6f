import { Injectable, Logger } from '@nestjs/common';
import { AppConfig, UnitOfWork } from '@tenantry/core';
import { IntegrationClients, describeFailure } from '@tenantry/integrations';
import { openInvitationToken } from './invitation-token';

export type DeliveryOutcome = { sent: true; messageId: string | null } | { sent: false; skipped: 'unknown' | 'sent' | 'used' | 'replaced' | 'expired' };

interface DeliveryRow {
  user_id: string;
  email: string;
  org_slug: string;
  org_name: string;
  expires_at: Date;
  token_ciphertext: Buffer | null;
  state: 'live' | 'sent' | 'used' | 'replaced' | 'expired';
}

/**
 * The worker's side of an invitation: reads the row (a replaced, used or expired invitation is never sent), opens its
 * sealed token, sends the message through the communication service's resilient client, and only once the service
 * accepted it marks it sent and drops the sealed token. A failure is recorded on the row and thrown, for Bull to
 * retry. Runs in the tenant context restored from the job's envelope.
 */
@Injectable()
export class InvitationDelivery {
  private readonly logger = new Logger('InvitationDelivery');

  constructor(
    private readonly uow: UnitOfWork,
    private readonly config: AppConfig,
    private readonly clients: IntegrationClients,
  ) {}

  async deliver(invitationId: string): Promise<DeliveryOutcome> {
    const [row] = await this.uow.run(() =>
      this.uow.query<DeliveryRow>(
        `select i.user_id, u.email, o.slug as org_slug, o.name as org_name, i.expires_at, i.token_ciphertext,
                case when i.sent_at is not null then 'sent' when i.used_at is not null then 'used'
                     when i.replaced_at is not null then 'replaced' when i.expires_at <= now() then 'expired' else 'live' end as state
           from invitations i join users u on u.id = i.user_id join organizations o on o.id = i.org_id
          where i.id = $1`,
        [invitationId],
      ),
    );
    if (!row) return { sent: false, skipped: 'unknown' };
    if (row.state !== 'live' || !row.token_ciphertext) return { sent: false, skipped: row.state === 'live' ? 'sent' : row.state };

    const token = openInvitationToken(this.config.encryptionKey, invitationId, row.token_ciphertext);
    try {
      const answer = await this.clients.sendMessage(row.org_slug, {
        recipient: row.email,
        channel: 'email',
        subject: `You are invited to ${row.org_name} on Tenantry`,
        body: messageBody(this.config.publicUrl, row.org_name, token, new Date(row.expires_at)),
      });
      await this.uow.run(() =>
        this.uow.query(
          `update invitations set sent_at = now(), token_ciphertext = null, delivery_attempts = delivery_attempts + 1, last_error = null
            where id = $1 and sent_at is null`,
          [invitationId],
        ),
      );
      const messageId = typeof answer?.messageId === 'string' ? answer.messageId : null;
      this.logger.log({ event: 'invitation.sent', invitationId, userId: row.user_id, messageId });
      return { sent: true, messageId };
    } catch (error) {
      const reason = describeFailure(error);
      await this.uow
        .run(() => this.uow.query(`update invitations set delivery_attempts = delivery_attempts + 1, last_error = $2 where id = $1`, [invitationId, reason]))
        .catch(() => undefined);
      throw error;
    }
  }
}

function messageBody(publicUrl: string, orgName: string, token: string, expiresAt: Date): string {
  return [
    `You have been invited to join ${orgName} on Tenantry.`,
    '',
    `Your invitation token (single use, valid until ${expiresAt.toISOString()}):`,
    token,
    '',
    'To accept it, choose a password (at least 12 characters) and send:',
    `POST ${publicUrl}/v1/auth/invitations/accept`,
    `{"token": "${token}", "password": "<your new password>"}`,
  ].join('\n');
}
