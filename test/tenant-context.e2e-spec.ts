import { SYSTEM_ACTOR, TenantContext, UnitOfWork, asOrgId } from '@tenantry/core';
import { User, UsersRepository } from '@tenantry/users';
import { TestApp } from './support/app';
import { connect } from './support/db';
import { TestOrganization, createOrganization, loginSuperadmin } from './support/factories';

/** The context a worker restores per job from its envelope binds the unit of work exactly as a request does. */
describe('tenant context per job', () => {
  let t: TestApp;
  let a: TestOrganization;
  let b: TestOrganization;
  let context: TenantContext;
  let uow: UnitOfWork;
  let users: UsersRepository;

  beforeAll(async () => {
    t = await TestApp.boot();
    const superToken = await loginSuperadmin(t);
    a = await createOrganization(t, superToken);
    b = await createOrganization(t, superToken);
    context = t.app.get(TenantContext);
    uow = t.app.get(UnitOfWork);
    users = t.app.get(UsersRepository);
  });
  afterAll(() => t.close());

  const emailsSeenBy = (orgId: string) =>
    context.runWithEnvelope({ orgId, actor: SYSTEM_ACTOR, requestId: `job-${orgId}` }, () =>
      uow.run(async (manager) => (await manager.getRepository(User).find()).map((user) => user.email)),
    );

  it("sees only the envelope's organization, for concurrent jobs of different organizations", async () => {
    const [seenByA, seenByB] = await Promise.all([emailsSeenBy(a.id), emailsSeenBy(b.id)]);
    expect(seenByA).toEqual([a.admin.email]);
    expect(seenByB).toEqual([b.admin.email]);
  });

  it('restores the request id and actor of the envelope', async () => {
    const seen = await context.runWithEnvelope({ orgId: a.id, actor: SYSTEM_ACTOR, requestId: 'req-123' }, async () => context.envelope());
    expect(seen).toEqual({ orgId: a.id, actor: SYSTEM_ACTOR, requestId: 'req-123' });
  });

  it('fails closed without an organization: no unit of work opens', async () => {
    await expect(
      context.runWithEnvelope({ orgId: null, actor: SYSTEM_ACTOR, requestId: 'no-org' }, () => uow.run(async () => 'ran')),
    ).rejects.toThrow(/No organization in the current context/);
  });

  it('sees no tenant row outside a unit of work, even with the organization in the context', async () => {
    const adminId = (await t.get('/v1/auth/me', a.admin.token)).body.id;
    const inside = await context.runWithEnvelope({ orgId: a.id, actor: SYSTEM_ACTOR, requestId: 'inside' }, () =>
      uow.run(() => users.findById(asOrgId(a.id), adminId)),
    );
    expect(inside?.email).toBe(a.admin.email);
    const outside = await context.runWithEnvelope({ orgId: a.id, actor: SYSTEM_ACTOR, requestId: 'outside' }, () =>
      users.findById(asOrgId(a.id), adminId),
    );
    expect(outside).toBeNull();
  });

  it('rolls back an entity write and a fixed query together, on one connection', async () => {
    const job = { orgId: a.id, actor: SYSTEM_ACTOR, requestId: 'rollback' };
    const adminId = (await t.get('/v1/auth/me', a.admin.token)).body.id;
    await expect(
      context.runWithEnvelope(job, () =>
        uow.run(async (manager) => {
          await manager.getRepository(User).update({ id: adminId }, { name: 'Renamed Then Rolled Back' });
          const [seen] = await uow.query<{ name: string }>('select name from users where id = $1', [adminId]);
          expect(seen.name).toBe('Renamed Then Rolled Back');
          throw new Error('abort');
        }),
      ),
    ).rejects.toThrow('abort');
    const after = await context.runWithEnvelope(job, () => uow.run(() => users.findById(asOrgId(a.id), adminId)));
    expect(after?.name).not.toBe('Renamed Then Rolled Back');
  });

  it('fails the unit of work, not the process, when its connection is killed mid-transaction, and works again after', async () => {
    const job = { orgId: a.id, actor: SYSTEM_ACTOR, requestId: 'killed' };
    const owner = await connect('owner');
    try {
      await expect(
        context.runWithEnvelope(job, () =>
          uow.run(async () => {
            const [{ pid }] = await uow.query<{ pid: number }>('select pg_backend_pid() as pid');
            await owner.query('select pg_terminate_backend($1)', [pid]);
            await uow.query('select 1');
          }),
        ),
      ).rejects.toThrow();
    } finally {
      await owner.end();
    }
    const emails = await emailsSeenBy(a.id);
    expect(emails).toEqual([a.admin.email]);
  });
});
