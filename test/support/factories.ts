import { randomBytes } from 'node:crypto';
import { TestApp } from './app';

export const SUPERADMIN = { email: 'root@platform.test', password: 'Root-Password-123!' };

export const uniqueSlug = (prefix = 'org') => `${prefix}-${randomBytes(4).toString('hex')}`;

export async function login(t: TestApp, credentials: { organization?: string; email: string; password: string }): Promise<string> {
  const response = await t.post('/v1/auth/login', credentials);
  if (response.status !== 200) throw new Error(`login failed: ${response.status} ${response.text}`);
  return response.body.accessToken;
}

export const loginSuperadmin = (t: TestApp) => login(t, SUPERADMIN);

export interface TestOrganization {
  id: string;
  slug: string;
  name: string;
  admin: { email: string; password: string; token: string };
}

/** Builds an organization through the API, with its first admin logged in. */
export async function createOrganization(t: TestApp, superToken: string, overrides: { slug?: string; name?: string } = {}): Promise<TestOrganization> {
  const slug = overrides.slug ?? uniqueSlug();
  const admin = { email: `admin@${slug}.test`, name: 'Ada Admin', password: 'Admin-Password-123!' };
  const response = await t.post('/v1/organizations', { name: overrides.name ?? `Org ${slug}`, slug, admin }, superToken);
  if (response.status !== 201) throw new Error(`create organization failed: ${response.status} ${response.text}`);
  const token = await login(t, { organization: slug, email: admin.email, password: admin.password });
  return { id: response.body.id, slug, name: response.body.name, admin: { email: admin.email, password: admin.password, token } };
}
