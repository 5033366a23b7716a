/** Cell ids; `crypto.randomUUID` exists only in secure contexts (not plain-http LAN hosts). */
export function newId(): string {
  if (typeof crypto !== 'undefined' && 'randomUUID' in crypto && window.isSecureContext) return crypto.randomUUID().slice(0, 13);
  return Math.random().toString(36).slice(2, 10) + Date.now().toString(36).slice(-4);
}
