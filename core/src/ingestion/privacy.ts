/**
 * Per-org privacy of stored payloads: keep them, keep them with PII masked, or
 * drop them. Masking happens before the row is built, so unmasked PII never
 * reaches ClickHouse, the bus or plugin handlers.
 */

export type PayloadMode = 'store' | 'mask' | 'drop';

export interface PrivacySettings {
  payloads: PayloadMode;
  /** which kinds of PII to mask when `payloads` is `mask` */
  mask: { emails: boolean; phones: boolean; cards: boolean; api_keys: boolean };
}

export const DEFAULT_PRIVACY: PrivacySettings = {
  payloads: 'store',
  mask: { emails: true, phones: true, cards: true, api_keys: true },
};

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
// well-known key shapes first (provider prefixes), then bearer tokens and long key=value secrets
const API_KEY = /\b(?:sk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|xox[abpr]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}|glpat-[A-Za-z0-9_-]{20,})\b|\b(?:Bearer\s+)[A-Za-z0-9._~+/-]{20,}=*|(?<=(?:api[_-]?key|secret|token|password)["']?\s*[:=]\s*["']?)[A-Za-z0-9._~+/-]{12,}/gi;
// 13–19 digits with optional spaces/dashes; confirmed by the Luhn check so order ids are not masked
const CARD = /\b\d(?:[ -]?\d){12,18}\b/g;
// international or North-American shapes; at least 9 digits so years and counts stay
const PHONE = /(?<![\w.])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?)?\d{2,4}[ .-]\d{3,4}[ .-]?\d{3,4}(?![\w.])/g;

function luhn(digits: string): boolean {
  let sum = 0;
  let alt = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (alt) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    alt = !alt;
  }
  return sum % 10 === 0;
}

export function maskPii(text: string, kinds: PrivacySettings['mask']): string {
  let out = text;
  if (kinds.api_keys) out = out.replace(API_KEY, '[REDACTED:api_key]');
  if (kinds.emails) out = out.replace(EMAIL, '[REDACTED:email]');
  if (kinds.cards) {
    out = out.replace(CARD, (m) => {
      const d = m.replace(/\D/g, '');
      return d.length >= 13 && d.length <= 19 && luhn(d) ? '[REDACTED:card]' : m;
    });
  }
  if (kinds.phones) {
    out = out.replace(PHONE, (m) => (m.replace(/\D/g, '').length >= 9 ? '[REDACTED:phone]' : m));
  }
  return out;
}

const PAYLOAD_FIELDS = ['input_payload', 'output_payload', 'comment', 'error_message'] as const;

/**
 * Applies the org's privacy settings to an event in place; returns notes for
 * the row's `fixes` column so it is visible that a payload was altered.
 * Error messages and comments are masked too (they often quote the input),
 * but never dropped: they are what the error analytics group by.
 */
export function applyPrivacy(e: Record<string, unknown>, s: PrivacySettings): string[] {
  if (s.payloads === 'store') return [];
  const notes: string[] = [];
  for (const f of PAYLOAD_FIELDS) {
    const v = e[f];
    if (typeof v !== 'string' || v === '') continue;
    if (s.payloads === 'drop' && (f === 'input_payload' || f === 'output_payload')) {
      delete e[f];
      notes.push(`${f}:dropped_by_privacy`);
    } else {
      const masked = maskPii(v, s.mask);
      if (masked !== v) {
        e[f] = masked;
        notes.push(`${f}:pii_masked`);
      }
    }
  }
  return notes;
}
