import { fastify, FastifyInstance } from 'fastify';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

export interface ForgeInput {
  issuer: string;
  clientId: string;
  nonce: string;
}

/**
 * A test-only OpenID provider that issues whatever ID token a test asks for: discovery, a JWKS with one key, an
 * authorization endpoint that hands back a code, and a token endpoint that answers `forge(...)`. It exists to drive
 * the relying party's checks (issuer, audience, expiry, signature) with tokens no honest provider would issue.
 */
export class FakeIdp {
  private app?: FastifyInstance;
  private signing?: KeyPair;
  private stranger?: KeyPair;
  issuer = '';
  /** What the next token request answers with (the nonce is the one the authorization request carried). */
  forge: (input: ForgeInput, keys: { signing: KeyPair['privateKey']; stranger: KeyPair['privateKey'] }) => Promise<string> = (input, keys) =>
    this.sign(input, keys.signing);
  private lastNonce = '';

  async listen(): Promise<string> {
    this.signing = await generateKeyPair('RS256');
    this.stranger = await generateKeyPair('RS256');
    const app = fastify();
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))));
    app.get('/.well-known/openid-configuration', async () => ({
      issuer: this.issuer,
      authorization_endpoint: `${this.issuer}/authorize`,
      token_endpoint: `${this.issuer}/token`,
      jwks_uri: `${this.issuer}/jwks`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    }));
    app.get('/jwks', async () => ({ keys: [{ ...(await exportJWK(this.signing!.publicKey)), kid: 'fake-1', alg: 'RS256', use: 'sig' }] }));
    app.get('/authorize', async (request, reply) => {
      const query = request.query as Record<string, string>;
      this.lastNonce = query.nonce;
      return reply.redirect(`${query.redirect_uri}?code=fake-code&state=${encodeURIComponent(query.state)}`, 302);
    });
    app.post('/token', async (request) => {
      const body = request.body as Record<string, string>;
      const idToken = await this.forge({ issuer: this.issuer, clientId: body.client_id, nonce: this.lastNonce }, { signing: this.signing!.privateKey, stranger: this.stranger!.privateKey });
      return { access_token: 'fake-access', token_type: 'Bearer', expires_in: 300, id_token: idToken };
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    this.app = app;
    this.issuer = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    return this.issuer;
  }

  /** An honest token: right issuer, audience, nonce and lifetime, signed with the published key. */
  sign(input: ForgeInput, key: KeyPair['privateKey'], overrides: { iss?: string; aud?: string; exp?: number; iat?: number } = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ nonce: input.nonce, email: `forged-${input.nonce.slice(0, 6).toLowerCase()}@fake.test`, name: 'Forged' })
      .setProtectedHeader({ alg: 'RS256', kid: 'fake-1' })
      .setSubject('fake-subject')
      .setIssuer(overrides.iss ?? input.issuer)
      .setAudience(overrides.aud ?? input.clientId)
      .setIssuedAt(overrides.iat ?? now)
      .setExpirationTime(overrides.exp ?? now + 300)
      .sign(key);
  }

  async close(): Promise<void> {
    await this.app?.close();
  }
}
