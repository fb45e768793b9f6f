import { ORG_ROLES, OrgRole, Role } from '@tenantry/core';

/**
 * Who may do what to users, written once. The controller derives its `@Roles()` from this table, the service asks
 * it before every read and write, and the tests enumerate it. Nothing else in the module decides on roles.
 *
 * The superadmin appears nowhere: the platform operator belongs to no organization and manages organizations, not
 * their people, so every users route answers it 403.
 */
export type UserAction = 'list' | 'create' | 'bulkCreate' | 'read' | 'update' | 'delete';
/** How the target user relates to the caller. Collection actions (list, create, bulk) have no target: `other`. */
export type TargetRelation = 'self' | 'other';
export type PatchField = 'name' | 'role' | 'status' | 'password';

const ANYONE_IN_ORG: readonly TargetRelation[] = ['self', 'other'];
const SELF_ONLY: readonly TargetRelation[] = ['self'];

export const USER_POLICY: Readonly<Record<UserAction, Readonly<Partial<Record<Role, readonly TargetRelation[]>>>>> = {
  list: { admin: ANYONE_IN_ORG, viewer: ANYONE_IN_ORG },
  create: { admin: ANYONE_IN_ORG },
  bulkCreate: { admin: ANYONE_IN_ORG },
  read: { admin: ANYONE_IN_ORG, viewer: ANYONE_IN_ORG, member: SELF_ONLY },
  // A viewer reads the organization but writes nothing of it; their own name and password are theirs to keep.
  update: { admin: ANYONE_IN_ORG, member: SELF_ONLY, viewer: SELF_ONLY },
  delete: { admin: ANYONE_IN_ORG },
};

/** PATCH, field by field: what each role may change on itself and on others. `password` always needs `currentPassword`. */
export const PATCH_FIELD_POLICY: Readonly<Record<OrgRole, Readonly<Record<TargetRelation, readonly PatchField[]>>>> = {
  admin: { self: ['name', 'role', 'status', 'password'], other: ['name', 'role', 'status'] },
  member: { self: ['name', 'password'], other: [] },
  viewer: { self: ['name', 'password'], other: [] },
};

/** Roles an organization's admin may give (on create or PATCH): never superadmin. */
export const ASSIGNABLE_ROLES: readonly OrgRole[] = ORG_ROLES;

/** Used only to stop anyone raising their own role. member and viewer are different, not higher or lower. */
const ROLE_RANK: Readonly<Record<Role, number>> = { viewer: 1, member: 1, admin: 2, superadmin: 3 };

export function isAllowed(action: UserAction, role: Role | null, relation: TargetRelation): boolean {
  if (!role) return false;
  return USER_POLICY[action][role]?.includes(relation) ?? false;
}

/** The roles that reach a route at all: the guard refuses everyone else before any query runs. */
export function rolesFor(action: UserAction): Role[] {
  return (Object.keys(USER_POLICY[action]) as Role[]).filter((role) => (USER_POLICY[action][role]?.length ?? 0) > 0);
}

/** The PATCH fields `role` may not change on a target with this relation (empty when all are allowed). */
export function forbiddenPatchFields(role: Role | null, relation: TargetRelation, fields: readonly PatchField[]): PatchField[] {
  const allowed = role && role !== 'superadmin' ? PATCH_FIELD_POLICY[role][relation] : [];
  return fields.filter((field) => !allowed.includes(field));
}

/** Nobody raises their own role; lowering it (an admin stepping down) is allowed. */
export function raisesOwnRole(from: Role, to: Role): boolean {
  return ROLE_RANK[to] > ROLE_RANK[from];
}
