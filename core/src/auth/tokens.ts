import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import type { Knex } from 'knex';

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const randomSecret = (bytes = 32) => randomBytes(bytes).toString('base64url');

export interface AccessClaims {
  sub: string;
  org: string;
  role: string;
  depts: string[];
  /** the session (refresh-token family) this access token was issued for; revoking it ends the token early */
  sid?: string;
  /** expiry (seconds since the epoch), set on verified tokens */
  exp?: number;
}

/** Where revoked session ids are kept until their last access token has expired (shared by all nodes). */
export interface RevocationStore {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlSeconds?: number): Promise<void>;
}

export interface SessionMeta {
  ip?: string | null;
  userAgent?: string | null;
  /** how the session began: password, password+totp, oidc:<provider>, invitation */
  method?: string;
}

/**
 * Short-lived JWT access tokens (HS256) and rotating refresh tokens. A refresh
 * token is single-use: presenting one that was already used revokes its whole
 * family, because that is what a stolen token looks like.
 */
export class TokenService {
  private key: Uint8Array;
  constructor(
    private knex: Knex,
    secret: string,
    private accessTtl: number,
    private refreshTtl: number,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  private revocations: RevocationStore | null = null;

  /** Set by the identity module: session revocation is checked on every access token. */
  useRevocationStore(store: RevocationStore) {
    this.revocations = store;
  }

  /** Ends a session now: its refresh tokens die, and its access tokens are refused until they expire anyway. */
  async revokeSession(familyId: string, trx: Knex = this.knex) {
    await trx.withSchema('public').table('refresh_tokens').where({ family_id: familyId }).whereNull('revoked_at').update({ revoked_at: new Date() });
    await this.revocations?.set(`revoked-session:${familyId}`, '1', this.accessTtl + 5);
    this.sessionCache.set(familyId, { at: Date.now(), revoked: true });
  }

  /**
   * Checked on every request that carries an access token. The answer is
   * cached for 5 s per session, so with Redis it is one round trip per
   * session per 5 s, not one per request; a revocation on any node clears
   * every node's cache through the bus (kernel.auth.changed → forgetSessions).
   */
  async isSessionRevoked(familyId: string): Promise<boolean> {
    if (!this.revocations) return false;
    const hit = this.sessionCache.get(familyId);
    if (hit && Date.now() - hit.at < 5000) return hit.revoked;
    const revoked = (await this.revocations.get(`revoked-session:${familyId}`)) !== null;
    if (this.sessionCache.size > 50_000) this.sessionCache.clear();
    this.sessionCache.set(familyId, { at: Date.now(), revoked });
    return revoked;
  }

  private sessionCache = new Map<string, { at: number; revoked: boolean }>();

  forgetSessions() {
    this.sessionCache.clear();
  }

  get accessTtlSeconds() {
    return this.accessTtl;
  }

  async issueAccess(claims: AccessClaims): Promise<string> {
    return new SignJWT({ org: claims.org, role: claims.role, depts: claims.depts, ...(claims.sid ? { sid: claims.sid } : {}) })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(claims.sub)
      .setIssuedAt()
      .setIssuer('orrery')
      .setExpirationTime(`${this.accessTtl}s`)
      .sign(this.key);
  }

  async verifyAccess(token: string): Promise<AccessClaims | null> {
    // Fast path for our own tokens: one synchronous HMAC. jose's verify goes
    // through WebCrypto's async API, which cost more than half of a no-op
    // request's throughput (scripts/bench/auth.ts). Anything that is not
    // exactly our header falls through to jose, which decides.
    const fast = this.verifyOwn(token);
    if (fast !== undefined) return fast;
    try {
      const { payload } = await jwtVerify(token, this.key, { issuer: 'orrery', algorithms: ['HS256'] });
      return {
        sub: payload.sub!,
        org: payload.org as string,
        role: payload.role as string,
        depts: (payload.depts as string[]) ?? [],
        ...(typeof payload.sid === 'string' ? { sid: payload.sid } : {}),
        ...(typeof payload.exp === 'number' ? { exp: payload.exp } : {}),
      };
    } catch {
      return null;
    }
  }

  private static readonly HEADER = Buffer.from(JSON.stringify({ alg: 'HS256' })).toString('base64url');

  /** undefined: not in our exact format (let jose judge); null: ours but invalid or expired. */
  private verifyOwn(token: string): AccessClaims | null | undefined {
    const [h, p, sig, extra] = token.split('.');
    if (h !== TokenService.HEADER || !p || !sig || extra !== undefined) return undefined;
    const expected = createHmac('sha256', this.key).update(`${h}.${p}`).digest();
    const got = Buffer.from(sig, 'base64url');
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) return null;
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
    } catch {
      return null;
    }
    const now = Math.floor(Date.now() / 1000);
    if (payload.iss !== 'orrery' || typeof payload.exp !== 'number' || payload.exp <= now || typeof payload.sub !== 'string' || typeof payload.org !== 'string') return null;
    if (typeof payload.nbf === 'number' && payload.nbf > now) return null;
    return {
      sub: payload.sub,
      org: payload.org,
      role: String(payload.role ?? ''),
      depts: Array.isArray(payload.depts) ? (payload.depts as string[]) : [],
      ...(typeof payload.sid === 'string' ? { sid: payload.sid } : {}),
      exp: payload.exp,
    };
  }

  async issueRefresh(userId: string, orgId: string, familyId: string = randomUUID(), trx: Knex = this.knex, meta: SessionMeta = {}): Promise<string> {
    const token = `orr_rt_${randomSecret()}`;
    await trx.withSchema('public').table('refresh_tokens').insert({
      ...(this.sessionColumns ? { ip: meta.ip?.slice(0, 64) ?? null, user_agent: meta.userAgent?.slice(0, 300) ?? null, method: meta.method ?? null } : {}),
      id: randomUUID(),
      family_id: familyId,
      user_id: userId,
      org_id: orgId,
      token_hash: sha256(token),
      expires_at: new Date(Date.now() + this.refreshTtl * 1000),
    });
    return token;
  }

  /** true once the identity module's migration has added ip / user_agent / method to refresh_tokens */
  sessionColumns = false;

  /** Starts a session: a new refresh-token family. Returns the refresh token and the session id. */
  async startSession(userId: string, orgId: string, meta: SessionMeta = {}) {
    const familyId = randomUUID();
    const refresh = await this.issueRefresh(userId, orgId, familyId, this.knex, meta);
    return { refresh, sessionId: familyId };
  }

  /** Consumes a refresh token; returns who it belonged to and a fresh one, or why it failed. */
  async rotateRefresh(
    token: string,
    meta: SessionMeta = {},
  ): Promise<{ userId: string; orgId: string; refresh: string; sessionId: string } | { error: 'invalid' | 'reused' | 'expired' }> {
    return this.knex.transaction(async (trx) => {
      const row = await trx.withSchema('public').table('refresh_tokens').where({ token_hash: sha256(token) }).forUpdate().first();
      if (!row) return { error: 'invalid' as const };
      if (row.revoked_at) return { error: 'invalid' as const };
      if (row.used_at) {
        await this.revokeSession(row.family_id, trx);
        return { error: 'reused' as const };
      }
      if (new Date(row.expires_at).getTime() < Date.now()) return { error: 'expired' as const };
      await trx.withSchema('public').table('refresh_tokens').where({ id: row.id }).update({ used_at: new Date() });
      const refresh = await this.issueRefresh(row.user_id, row.org_id, row.family_id, trx, { ...meta, method: row.method ?? meta.method });
      return { userId: row.user_id as string, orgId: row.org_id as string, refresh, sessionId: row.family_id as string };
    });
  }

  /** Creates an API or hook token; the secret is returned once and stored only as a hash. */
  async createApiToken(input: { orgId: string; userId: string; name: string; kind: 'api' | 'hook'; expiresAt?: Date | null }) {
    const secret = `orr_${input.kind}_${randomSecret()}`;
    const id = randomUUID();
    await this.knex.withSchema('public').table('api_tokens').insert({
      id,
      org_id: input.orgId,
      user_id: input.userId,
      name: input.name,
      kind: input.kind,
      token_hash: sha256(secret),
      prefix: secret.slice(0, 12),
      expires_at: input.expiresAt ?? null,
    });
    return { id, token: secret };
  }

  async findApiToken(secret: string) {
    const row = await this.knex.withSchema('public').table('api_tokens').where({ token_hash: sha256(secret) }).first();
    if (!row || row.revoked_at) return null;
    if (row.expires_at && new Date(row.expires_at).getTime() < Date.now()) return null;
    // "last used" to the minute is enough for people deciding what to revoke, and keeps a
    // busy hook token from writing on every request (this runs once per cache period)
    if (!row.last_used_at || Date.now() - new Date(row.last_used_at).getTime() > 60_000) {
      await this.knex.withSchema('public').table('api_tokens').where({ id: row.id }).update({ last_used_at: new Date() });
    }
    return row as { id: string; org_id: string; user_id: string; kind: 'api' | 'hook'; name: string };
  }
}

export { randomSecret };
