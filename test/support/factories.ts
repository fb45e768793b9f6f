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

export type TestOrgRole = 'admin' | 'member' | 'viewer';

export interface TestUser {
  id: string;
  email: string;
  name: string;
  role: TestOrgRole;
  /** Set when the user was created with a password (and is therefore active and can log in). */
  password?: string;
}

/** Creates a user through POST /v1/users as `adminToken`; with `password: true` a generated one is set. */
export async function createUser(
  t: TestApp,
  adminToken: string,
  overrides: { role?: TestOrgRole; email?: string; name?: string; password?: string | boolean } = {},
): Promise<TestUser> {
  const suffix = randomBytes(4).toString('hex');
  const password = overrides.password === true ? `User-Password-${suffix}!` : overrides.password || undefined;
  const body = {
    email: overrides.email ?? `user-${suffix}@users.test`,
    name: overrides.name ?? `User ${suffix}`,
    role: overrides.role ?? 'member',
    ...(password ? { password } : {}),
  };
  const response = await t.post('/v1/users', body, adminToken);
  if (response.status !== 201) throw new Error(`create user failed: ${response.status} ${response.text}`);
  return { id: response.body.id, email: body.email, name: body.name, role: body.role, password };
}

/** Logs a user of `org` in and returns their access token. */
export function loginAs(t: TestApp, org: { slug: string }, user: { email: string; password?: string }): Promise<string> {
  if (!user.password) throw new Error(`${user.email} has no password to log in with`);
  return login(t, { organization: org.slug, email: user.email, password: user.password });
}

/** A user with a password, created by the organization's admin and logged in. */
export async function createUserWithToken(
  t: TestApp,
  org: TestOrganization,
  role: TestOrgRole,
): Promise<TestUser & { password: string; token: string }> {
  const user = await createUser(t, org.admin.token, { role, password: true });
  const token = await loginAs(t, org, user);
  return { ...user, password: user.password!, token };
}
