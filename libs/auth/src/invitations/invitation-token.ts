import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Invitation tokens are opaque: `inv_<43 base64url chars of 32 random bytes>`. The database keeps their SHA-256 hash
 * (what accept looks up), and, until the message carrying the token was accepted by the communication service, the
 * token sealed with AES-256-GCM under ENCRYPTION_KEY, bound to its invitation's id: that is how a job retried, or
 * queued again by the relay after a crash, can still send it, without a plaintext token in Redis or in a table.
 */
const FORMAT = /^inv_[A-Za-z0-9_-]{43}$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export const hashInvitationToken = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

export function mintInvitationToken(): { token: string; hash: Buffer } {
  const token = `inv_${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashInvitationToken(token) };
}

/** The hash of a well-formed token, or null for anything else (refused without touching the database). */
export function parseInvitationToken(token: unknown): Buffer | null {
  return typeof token === 'string' && FORMAT.test(token) ? hashInvitationToken(token) : null;
}

/** `iv ‖ tag ‖ ciphertext`, with the invitation's id as associated data: a sealed token moved to another row fails to open. */
export function sealInvitationToken(key: Buffer, invitationId: string, token: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(invitationId, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]);
}

export function openInvitationToken(key: Buffer, invitationId: string, sealed: Buffer): string {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(invitationId, 'utf8'));
  decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
}
