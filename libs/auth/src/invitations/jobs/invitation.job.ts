import { TenantEnvelope } from '@tenantry/core';

/** Sends one invitation's message; on the communication service's queue. */
export const INVITATION_JOB = 'invitation';

/** No token here: the processor opens the sealed one from the invitation's row (see invitation-token.ts). */
export interface InvitationJobData {
  envelope: TenantEnvelope;
  invitationId: string;
}
