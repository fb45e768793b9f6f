import { Webhook } from 'standardwebhooks';
import { secretKey, verifySignature } from './signature';

describe('Standard Webhooks verification (node:crypto)', () => {
  // The specification's published vector (standard-webhooks/standard-webhooks, the libraries' tests).
  const vector = {
    secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
    timestamp: '1614265330',
    payload: '{"test": 2432232314}',
    signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
  };
  const at = 1614265330 * 1000;
  const verify = (overrides: Partial<typeof vector> = {}, now = at) => {
    const v = { ...vector, ...overrides };
    return verifySignature([secretKey(v.secret)], { id: v.id, timestamp: v.timestamp, signature: v.signature }, Buffer.from(v.payload), now);
  };

  it('accepts the published vector', () => expect(verify()).toBe('ok'));
  it('accepts any one valid entry among several', () => expect(verify({ signature: `v1,bm90LXRoaXM= v2,whatever ${vector.signature}` })).toBe('ok'));
  it('refuses another payload, id, timestamp or secret', () => {
    expect(verify({ payload: '{"test": 2432232315}' })).toBe('bad');
    expect(verify({ id: 'msg_other' })).toBe('bad');
    expect(verify({ timestamp: '1614265331' })).toBe('bad');
    expect(verify({ secret: 'whsec_' + Buffer.alloc(24, 1).toString('base64') })).toBe('bad');
  });
  it('refuses a signature of another version, a missing one and a malformed timestamp', () => {
    expect(verify({ signature: vector.signature.replace('v1,', 'v2,') })).toBe('bad');
    expect(verify({ signature: '' })).toBe('bad');
    expect(verify({ timestamp: '16142653e0' })).toBe('bad');
  });
  it('refuses a timestamp more than 300 s away, either way', () => {
    expect(verify({}, at + 301_000)).toBe('stale');
    expect(verify({}, at - 301_000)).toBe('stale');
    expect(verify({}, at + 299_000)).toBe('ok');
  });
  it('accepts what the standardwebhooks package signs, and only with the right secret', () => {
    const secret = 'whsec_' + Buffer.alloc(32, 9).toString('base64');
    const now = new Date();
    const payload = JSON.stringify([{ id: 'evt_1', type: 'user.created', data: { externalId: 'x', name: 'Zoë ✓' } }]);
    const signature = new Webhook(secret).sign('msg_1', now, payload);
    const headers = { id: 'msg_1', timestamp: String(Math.floor(now.getTime() / 1000)), signature };
    expect(verifySignature([secretKey(secret)], headers, Buffer.from(payload))).toBe('ok');
    expect(verifySignature([secretKey('whsec_' + Buffer.alloc(32, 8).toString('base64')), secretKey(secret)], headers, Buffer.from(payload))).toBe('ok');
    expect(verifySignature([secretKey('whsec_' + Buffer.alloc(32, 8).toString('base64'))], headers, Buffer.from(payload))).toBe('bad');
  });
});
