import { metricsAccess } from './metrics-access';

describe('metricsAccess', () => {
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it('admits loopback, IPv4, IPv6 and IPv4-mapped, with or without a token configured', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) {
      expect(metricsAccess(null, address, {})).toBe('allowed');
      expect(metricsAccess('s3cret', address, {})).toBe('allowed');
    }
  });

  it('forbids a remote scrape when no token is configured, whatever it sends', () => {
    expect(metricsAccess(null, '10.0.0.1', {})).toBe('forbidden');
    expect(metricsAccess(null, '10.0.0.1', bearer('anything'))).toBe('forbidden');
    expect(metricsAccess(null, undefined, {})).toBe('forbidden');
  });

  it('admits a remote scrape with the token as a bearer only', () => {
    expect(metricsAccess('s3cret', '10.0.0.1', bearer('s3cret'))).toBe('allowed');
    expect(metricsAccess('s3cret', '10.0.0.1', { authorization: 'bearer s3cret' })).toBe('allowed');
    expect(metricsAccess('s3cret', '10.0.0.1', bearer('s3cre'))).toBe('unauthorized');
    expect(metricsAccess('s3cret', '10.0.0.1', bearer('s3cretx'))).toBe('unauthorized');
    expect(metricsAccess('s3cret', '10.0.0.1', { authorization: 's3cret' })).toBe('unauthorized');
    expect(metricsAccess('s3cret', '10.0.0.1', { authorization: 'Bearer s3cret extra' })).toBe('unauthorized');
    expect(metricsAccess('s3cret', '10.0.0.1', {})).toBe('unauthorized');
  });

  it('treats a proxied request as remote even on a loopback socket', () => {
    expect(metricsAccess(null, '127.0.0.1', { 'x-forwarded-for': '127.0.0.1' })).toBe('forbidden');
    expect(metricsAccess('s3cret', '127.0.0.1', { forwarded: 'for=127.0.0.1' })).toBe('unauthorized');
    expect(metricsAccess('s3cret', '127.0.0.1', { 'x-forwarded-for': '1.2.3.4', ...bearer('s3cret') })).toBe('allowed');
  });

  it('does not take 127.x look-alikes for loopback', () => {
    expect(metricsAccess(null, '1127.0.0.1', {})).toBe('forbidden');
    expect(metricsAccess(null, '::ffff:10.0.0.1', {})).toBe('forbidden');
  });
});
