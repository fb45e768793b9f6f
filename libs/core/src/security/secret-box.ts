import { Injectable } from '@nestjs/common';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppConfig } from '../config/app-config';

/** The first byte of every sealed value: the format (AES-256-GCM, 12-byte IV, 16-byte tag) it was written in. */
export const SECRET_BOX_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + IV_BYTES + TAG_BYTES;
const KEY_BYTES = 32;

export class SecretBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

/**
 * Seals `plaintext` with AES-256-GCM under `key`: `version (1) | iv (12) | tag (16) | ciphertext`, one buffer that
 * fits a bytea column. `context` is authenticated but not stored (GCM's additional data): a value sealed for one row
 * (say `webhook-secret:{orgId}:{provider}`) does not open as another's, so copying ciphertext between rows fails.
 */
export function sealWithKey(key: Buffer, plaintext: string | Buffer, context = ''): Buffer {
  assertKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([SECRET_BOX_VERSION]), iv, cipher.getAuthTag(), ciphertext]);
}

/** Opens what `sealWithKey` sealed; throws SecretBoxError when the key, the context or any byte is not the same. */
export function openWithKey(key: Buffer, sealed: Buffer, context = ''): Buffer {
  assertKey(key);
  if (!Buffer.isBuffer(sealed) || sealed.length < HEADER_BYTES) throw new SecretBoxError('Sealed value is truncated');
  if (sealed[0] !== SECRET_BOX_VERSION) throw new SecretBoxError(`Sealed value has unknown format version ${sealed[0]}`);
  const iv = sealed.subarray(1, 1 + IV_BYTES);
  const tag = sealed.subarray(1 + IV_BYTES, HEADER_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(sealed.subarray(HEADER_BYTES)), decipher.final()]);
  } catch {
    // Never the plaintext or the key in the message: only that authentication failed.
    throw new SecretBoxError('Sealed value does not authenticate (wrong ENCRYPTION_KEY, wrong context, or altered bytes)');
  }
}

function assertKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) throw new SecretBoxError(`The encryption key must be ${KEY_BYTES} bytes`);
}

/**
 * Secrets at rest (webhook secrets, OIDC client secrets, replayable answers that hold them), sealed with
 * `ENCRYPTION_KEY`. Provided globally by ConfigModule.
 */
@Injectable()
export class SecretBox {
  private readonly key: Buffer;

  constructor(config: AppConfig) {
    assertKey(config.encryptionKey);
    this.key = config.encryptionKey;
  }

  seal(plaintext: string | Buffer, context = ''): Buffer {
    return sealWithKey(this.key, plaintext, context);
  }

  open(sealed: Buffer, context = ''): Buffer {
    return openWithKey(this.key, sealed, context);
  }

  openString(sealed: Buffer, context = ''): string {
    return this.open(sealed, context).toString('utf8');
  }
}
