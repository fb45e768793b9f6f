import { randomBytes } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { SECRET_BOX_VERSION, SecretBox, SecretBoxError, openWithKey, sealWithKey } from './secret-box';

const boxWith = (key: Buffer) => new SecretBox({ encryptionKey: key } as AppConfig);

describe('SecretBox', () => {
  const key = randomBytes(32);
  const box = boxWith(key);

  it('opens what it sealed, for text and for bytes', () => {
    expect(box.openString(box.seal('whsec_c2VjcmV0'))).toBe('whsec_c2VjcmV0');
    const bytes = randomBytes(100);
    expect(box.open(box.seal(bytes, 'ctx'), 'ctx').equals(bytes)).toBe(true);
    expect(box.openString(box.seal(''))).toBe('');
  });

  it('writes a versioned value that never contains the plaintext, with a fresh IV each time', () => {
    const plaintext = 'whsec_' + randomBytes(32).toString('base64');
    const first = box.seal(plaintext);
    const second = box.seal(plaintext);
    expect(first[0]).toBe(SECRET_BOX_VERSION);
    expect(first.length).toBe(1 + 12 + 16 + Buffer.byteLength(plaintext));
    expect(first.includes(Buffer.from(plaintext))).toBe(false);
    expect(first.equals(second)).toBe(false);
  });

  it('refuses a value with any byte altered', () => {
    const sealed = box.seal('top secret');
    for (const index of [1, 13, 29, sealed.length - 1]) {
      const tampered = Buffer.from(sealed);
      tampered[index] ^= 0x01;
      expect(() => box.open(tampered)).toThrow(SecretBoxError);
    }
  });

  it('refuses a truncated value and an unknown version', () => {
    const sealed = box.seal('top secret');
    expect(() => box.open(sealed.subarray(0, 20))).toThrow(SecretBoxError);
    const future = Buffer.from(sealed);
    future[0] = 2;
    expect(() => box.open(future)).toThrow(/version 2/);
  });

  it('refuses to open with another key', () => {
    expect(() => boxWith(randomBytes(32)).open(box.seal('top secret'))).toThrow(SecretBoxError);
  });

  it('refuses to open under another context (a value copied to another row)', () => {
    const sealed = box.seal('top secret', 'webhook-secret:org-a:user-service');
    expect(() => box.open(sealed, 'webhook-secret:org-b:user-service')).toThrow(SecretBoxError);
    expect(() => box.open(sealed)).toThrow(SecretBoxError);
  });

  it('refuses a key that is not 32 bytes, and its errors never carry the plaintext', () => {
    expect(() => boxWith(randomBytes(16))).toThrow(/32 bytes/);
    expect(() => sealWithKey(Buffer.alloc(31), 'x')).toThrow(SecretBoxError);
    const sealed = sealWithKey(key, 'do-not-leak-me');
    try {
      openWithKey(randomBytes(32), sealed);
      throw new Error('opened');
    } catch (error) {
      expect(String((error as Error).message)).not.toContain('do-not-leak-me');
    }
  });
});
