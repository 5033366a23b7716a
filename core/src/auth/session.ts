import { HttpError } from '@orrery/plugin-sdk';
import type { Internals } from '../internals.ts';
import type { SessionMeta } from './tokens.ts';

/** The kernel services this module uses (a part of the container, not all of it). */
export type IssueTokenDeps = Pick<Internals, 'callers' | 'config' | 'tokens'>;

/**
 * Starts a session for a user in an org and answers the token pair every
 * login path returns (password, single sign-on, accepted invitation). The
 * access token carries the org, role and departments as claims.
 */
export async function issueTokenPair(s: IssueTokenDeps, userId: string, orgId: string, meta: SessionMeta) {
  const org = await s.callers.org(orgId);
  const caller = org && (await s.callers.caller(org, userId, 'access_token'));
  if (!org || !caller) throw new HttpError(401, 'unauthorized', 'user is deactivated or not a member');
  const { refresh, sessionId } = await s.tokens.startSession(userId, orgId, meta);
  const access = await s.tokens.issueAccess({ sub: userId, org: orgId, role: caller.role, depts: caller.departments.map((d) => d.id), sid: sessionId });
  return { access_token: access, refresh_token: refresh, token_type: 'Bearer', expires_in: s.config.auth.accessTokenTtlSeconds };
}
