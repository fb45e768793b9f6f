import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { runMigrations } from '@tenantry/core';
import { TestApp } from './support/app';

/** First start on databases of their own: the run's shared database already has its superadmin. */
describe('superadmin bootstrap on first start', () => {
  const created: string[] = [];

  async function freshDatabase(): Promise<{ databaseUrl: string; databaseOwnerUrl: string }> {
    const name = `${process.env.TEST_DATABASE}_boot_${randomBytes(3).toString('hex')}`;
    const owner = new URL(process.env.DATABASE_OWNER_URL!);
    owner.pathname = `/${name}`;
    const app = new URL(process.env.DATABASE_URL!);
    app.pathname = `/${name}`;
    await runMigrations(owner.toString());
    created.push(name);
    return { databaseUrl: app.toString(), databaseOwnerUrl: owner.toString() };
  }

  async function superadmins(ownerUrl: string): Promise<Array<{ email: string }>> {
    const client = new Client({ connectionString: ownerUrl });
    await client.connect();
    const { rows } = await client.query('select email from platform_admins');
    await client.end();
    return rows;
  }

  afterAll(async () => {
    const url = new URL(process.env.DATABASE_OWNER_URL!);
    url.pathname = '/postgres';
    const client = new Client({ connectionString: url.toString() });
    await client.connect();
    for (const name of created) await client.query(`drop database if exists "${name}" with (force)`);
    await client.end();
  });

  it('creates the superadmin once; a second start with other values changes nothing', async () => {
    const db = await freshDatabase();
    const first = await TestApp.boot({ ...db, superadminEmail: 'first@platform.test', superadminPassword: 'First-Password-123!' });
    const login = (email: string, password: string) => first.post('/v1/auth/login', { email, password });
    expect((await login('first@platform.test', 'First-Password-123!')).status).toBe(200);
    await first.close();

    const second = await TestApp.boot({ ...db, superadminEmail: 'second@platform.test', superadminPassword: 'Second-Password-123!' });
    expect((await second.post('/v1/auth/login', { email: 'second@platform.test', password: 'Second-Password-123!' })).status).toBe(401);
    expect((await second.post('/v1/auth/login', { email: 'first@platform.test', password: 'Second-Password-123!' })).status).toBe(401);
    expect((await second.post('/v1/auth/login', { email: 'first@platform.test', password: 'First-Password-123!' })).status).toBe(200);
    await second.close();

    expect(await superadmins(db.databaseOwnerUrl)).toEqual([{ email: 'first@platform.test' }]);
  });

  it('creates one superadmin when two API processes start together', async () => {
    const db = await freshDatabase();
    const apps = await Promise.all([
      TestApp.boot({ ...db, superadminEmail: 'one@platform.test', superadminPassword: 'One-Password-1234!' }),
      TestApp.boot({ ...db, superadminEmail: 'two@platform.test', superadminPassword: 'Two-Password-1234!' }),
    ]);
    await Promise.all(apps.map((app) => app.close()));
    expect(await superadmins(db.databaseOwnerUrl)).toHaveLength(1);
  });

  it('refuses to start without the variables when there is no superadmin yet, and says why', async () => {
    const db = await freshDatabase();
    await expect(TestApp.boot({ ...db, superadminEmail: null, superadminPassword: null })).rejects.toThrow(
      /No superadmin exists yet: set SUPERADMIN_EMAIL and SUPERADMIN_PASSWORD/,
    );
  });
});
