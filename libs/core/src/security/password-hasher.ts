import { Injectable } from '@nestjs/common';
import { hash, verify } from '@node-rs/argon2';

/** argon2id on libuv's thread pool, so hashing never blocks the event loop. */
@Injectable()
export class PasswordHasher {
  // A real hash of a random string: verifying against it costs what a real check costs, so an unknown e-mail
  // takes as long as a wrong password.
  private readonly decoy = hash(crypto.randomUUID());

  hash(password: string): Promise<string> {
    return hash(password);
  }

  async verify(passwordHash: string | null | undefined, password: string): Promise<boolean> {
    if (!passwordHash) {
      await verify(await this.decoy, password).catch(() => false);
      return false;
    }
    return verify(passwordHash, password).catch(() => false);
  }
}
