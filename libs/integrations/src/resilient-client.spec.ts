import { pathTemplate } from './resilient-client';

describe('pathTemplate', () => {
  it('names a service route without the organization, the record or the query', () => {
    expect(pathTemplate('/orgs/acme/subscriptions/sub-123')).toBe('/orgs/{org}/subscriptions/{id}');
    expect(pathTemplate('/orgs/acme/users?page=2&limit=100')).toBe('/orgs/{org}/users');
    expect(pathTemplate('/orgs/acme/messages')).toBe('/orgs/{org}/messages');
    expect(pathTemplate('/health')).toBe('/health');
  });
});
