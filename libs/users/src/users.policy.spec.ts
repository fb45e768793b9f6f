import { ROLES, Role } from '@tenantry/core';
import { PATCH_FIELD_POLICY, PatchField, TargetRelation, UserAction, forbiddenPatchFields, isAllowed, raisesOwnRole, rolesFor } from './users.policy';

const ACTIONS: readonly UserAction[] = ['list', 'create', 'bulkCreate', 'read', 'update', 'delete'];
const RELATIONS: readonly TargetRelation[] = ['self', 'other'];
const FIELDS: readonly PatchField[] = ['name', 'role', 'status', 'password'];

/** The contract's users table, restated by hand: action -> role -> [on self, on another user]. */
const EXPECTED: Record<UserAction, Record<Role, [boolean, boolean]>> = {
  list: { superadmin: [false, false], admin: [true, true], member: [false, false], viewer: [true, true] },
  create: { superadmin: [false, false], admin: [true, true], member: [false, false], viewer: [false, false] },
  bulkCreate: { superadmin: [false, false], admin: [true, true], member: [false, false], viewer: [false, false] },
  read: { superadmin: [false, false], admin: [true, true], member: [true, false], viewer: [true, true] },
  update: { superadmin: [false, false], admin: [true, true], member: [true, false], viewer: [true, false] },
  delete: { superadmin: [false, false], admin: [true, true], member: [false, false], viewer: [false, false] },
};

describe('users policy', () => {
  const cases = ACTIONS.flatMap((action) =>
    ROLES.flatMap((role) => RELATIONS.map((relation, i) => [action, role, relation, EXPECTED[action][role][i]] as const)),
  );

  it.each(cases)('%s by %s on %s: allowed=%s', (action, role, relation, allowed) => {
    expect(isAllowed(action, role, relation)).toBe(allowed);
  });

  it('refuses a caller with no role at all', () => {
    for (const action of ACTIONS) for (const relation of RELATIONS) expect(isAllowed(action, null, relation)).toBe(false);
  });

  it('admits to each route exactly the roles that may do something there', () => {
    expect(rolesFor('list').sort()).toEqual(['admin', 'viewer']);
    expect(rolesFor('create')).toEqual(['admin']);
    expect(rolesFor('bulkCreate')).toEqual(['admin']);
    expect(rolesFor('read').sort()).toEqual(['admin', 'member', 'viewer']);
    expect(rolesFor('update').sort()).toEqual(['admin', 'member', 'viewer']);
    expect(rolesFor('delete')).toEqual(['admin']);
    for (const action of ACTIONS) expect(rolesFor(action)).not.toContain('superadmin');
  });

  it.each([
    ['admin', 'other', ['password']],
    ['admin', 'self', []],
    ['member', 'self', ['role', 'status']],
    ['member', 'other', ['name', 'role', 'status', 'password']],
    ['viewer', 'self', ['role', 'status']],
    ['viewer', 'other', ['name', 'role', 'status', 'password']],
    ['superadmin', 'other', ['name', 'role', 'status', 'password']],
  ] as const)('forbids %s on %s the PATCH fields %j', (role, relation, forbidden) => {
    expect(forbiddenPatchFields(role, relation, FIELDS)).toEqual(forbidden);
  });

  it('never lets anyone but an admin touch role or status, on anyone', () => {
    for (const [role, byRelation] of Object.entries(PATCH_FIELD_POLICY)) {
      for (const fields of Object.values(byRelation)) {
        if (role !== 'admin') expect(fields.filter((field) => field === 'role' || field === 'status')).toEqual([]);
      }
    }
  });

  it.each([
    ['member', 'admin', true],
    ['viewer', 'admin', true],
    ['admin', 'superadmin', true],
    ['admin', 'member', false],
    ['admin', 'viewer', false],
    ['member', 'viewer', false],
  ] as const)('raising own role from %s to %s: %s', (from, to, raises) => {
    expect(raisesOwnRole(from, to)).toBe(raises);
  });
});
