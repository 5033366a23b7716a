/**
 * The kernel's directory as plugins see it (`ctx.directory`): the org's
 * members, departments, who is in which and who manages it, and what the
 * caller may see. Plugins read people only through it, never the kernel's
 * tables.
 */
import type { Role } from '../types.ts';

export interface DirectoryMember {
  id: string;
  email: string;
  displayName: string;
  role: Role;
  /** false once removed from the org (their events stay) */
  active: boolean;
}

export interface DirectoryDepartment {
  id: string;
  name: string;
  /** per-user rows of a restricted department are seen only by Admins and its managers */
  restricted: boolean;
}

export interface DirectoryMembership {
  departmentId: string;
  userId: string;
  manager: boolean;
}

export interface Directory {
  /** active members (with `includeInactive`, removed ones too); `ids` narrows to those ids (any string; non-members are absent) */
  members(opts?: { ids?: readonly string[]; includeInactive?: boolean }): Promise<DirectoryMember[]>;
  /** departments, by name */
  departments(): Promise<DirectoryDepartment[]>;
  /** department id → name, for labelling rows that carry a `department_id` (an id not in it was deleted, or never was one) */
  departmentNames(): Promise<Map<string, string>>;
  /** who is in which department; `departmentIds` narrows to those */
  memberships(opts?: { departmentIds?: readonly string[] }): Promise<DirectoryMembership[]>;
  /** managers of every department the user is in, without the user */
  managersOf(userId: string): Promise<string[]>;
  /** department ids whose per-user rows the caller may see (null = all: Admins, jobs, no restricted department) */
  visibleDepartments(): Promise<string[] | null>;
}
