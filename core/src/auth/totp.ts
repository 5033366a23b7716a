import { Secret, TOTP } from 'otpauth';
import type { KeyValueStore } from '../types.ts';

/** RFC 6238 defaults every authenticator app understands: SHA-1, 6 digits, 30 s. */
export function totpFor(secretBase32: string, label = '', issuer = 'Orrery') {
  return new TOTP({ issuer, label, algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secretBase32) });
}

export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/**
 * Checks a code with one step of clock drift either way. A code is accepted
 * once: a code seen on the wire (shoulder, proxy log) cannot be replayed in
 * the rest of its 30 s window.
 */
export async function checkTotp(kv: KeyValueStore, userId: string, secretBase32: string | null, code: string): Promise<boolean> {
  if (!secretBase32) return false;
  const totp = totpFor(secretBase32);
  const delta = totp.validate({ token: code, window: 1 });
  if (delta === null) return false;
  const counter = totp.counter() + delta;
  return kv.setIfAbsent(`totp-used:${userId}:${counter}`, '1', 120);
}
