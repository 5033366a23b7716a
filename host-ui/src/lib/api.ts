/**
 * The one HTTP client of the portal. Holds the token pair, refreshes it before it expires
 * and once more on a 401, and turns `{error:{code,message}}` answers into ApiError.
 *
 * Refresh tokens rotate (the old one dies on use), so two tabs refreshing at once would
 * log one of them out: the refresh runs under a Web Lock shared by all tabs, and a tab that
 * finds the stored pair already replaced by another tab just adopts it.
 */
import { downloadBlob } from '@orrery/plugin-sdk/frontend';

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  /** epoch ms when the access token expires */
  expires_at: number;
}

export class ApiError extends Error {
  constructor(public readonly status: number, public readonly code: string, message: string, public readonly details?: unknown) {
    super(message);
    this.name = 'ApiError';
  }
}

export type QueryValue = string | number | boolean | null | undefined | Array<string | number>;

const STORE_KEY = 'orrery.session';

/**
 * The URL of a plugin's route: `path` relative to its main prefix (`/api/v1/<routePrefix>`), or
 * an absolute `/api/v1/…` path for the routes under the plugin's other prefixes
 * (`extraRoutePrefixes`, e.g. exports' `/api/v1/reports`).
 */
export function pluginPath(prefix: string, path: string): string {
  if (path.startsWith('/api/v1/')) return path;
  return path === '/' || path === '' ? prefix : `${prefix}${path.startsWith('/') ? '' : '/'}${path}`;
}

export function buildUrl(path: string, query?: Record<string, QueryValue>): string {
  const base = path.startsWith('/') ? path : `/${path}`;
  if (!query) return base;
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) v.forEach((x) => sp.append(k, String(x)));
    else sp.set(k, String(v));
  }
  const qs = sp.toString();
  return qs ? `${base}${base.includes('?') ? '&' : '?'}${qs}` : base;
}

type Listener = (pair: TokenPair | null) => void;

export class ApiClient {
  private pair: TokenPair | null;
  private refreshing: Promise<TokenPair | null> | null = null;
  private listeners = new Set<Listener>();

  constructor() {
    this.pair = readPair();
    // another tab logged in, refreshed or logged out
    window.addEventListener('storage', (e) => {
      if (e.key !== STORE_KEY) return;
      this.pair = readPair();
      this.emit();
    });
  }

  get tokens(): TokenPair | null { return this.pair; }

  onChange(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private emit() { this.listeners.forEach((l) => l(this.pair)); }

  setTokens(t: { access_token: string; refresh_token: string; expires_in: number } | null) {
    this.pair = t ? { access_token: t.access_token, refresh_token: t.refresh_token, expires_at: Date.now() + t.expires_in * 1000 } : null;
    if (this.pair) localStorage.setItem(STORE_KEY, JSON.stringify(this.pair));
    else localStorage.removeItem(STORE_KEY);
    this.emit();
  }

  async login(email: string, password: string, org?: string): Promise<void> {
    const t = await this.raw<{ access_token: string; refresh_token: string; expires_in: number }>('POST', '/api/v1/auth/login', { email, password, ...(org ? { org } : {}) }, null);
    this.setTokens(t);
  }

  logout() { this.setTokens(null); }

  /** A valid access token, refreshed first when it is about to expire. */
  async accessToken(): Promise<string | null> {
    if (!this.pair) return null;
    if (this.pair.expires_at - Date.now() < 30_000) await this.refresh();
    return this.pair?.access_token ?? null;
  }

  refresh(): Promise<TokenPair | null> {
    this.refreshing ??= this.doRefresh().finally(() => { this.refreshing = null; });
    return this.refreshing;
  }

  private async doRefresh(): Promise<TokenPair | null> {
    const used = this.pair?.refresh_token;
    if (!used) return null;
    const run = async () => {
      const stored = readPair();
      if (stored && stored.refresh_token !== used) {
        this.pair = stored; // another tab already rotated it
        this.emit();
        return stored;
      }
      try {
        const t = await this.raw<{ access_token: string; refresh_token: string; expires_in: number }>('POST', '/api/v1/auth/refresh', { refresh_token: used }, null);
        this.setTokens(t);
      } catch (e) {
        if (e instanceof ApiError && (e.status === 401 || e.status === 400 || e.status === 403)) this.setTokens(null);
        else throw e;
      }
      return this.pair;
    };
    const locks = (navigator as Navigator & { locks?: { request<T>(name: string, cb: () => Promise<T>): Promise<T> } }).locks;
    return locks ? locks.request('orrery-refresh', run) : run();
  }

  async request<T>(method: string, path: string, opts: { query?: Record<string, QueryValue>; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
    const url = buildUrl(path, opts.query);
    const token = await this.accessToken();
    try {
      return await this.raw<T>(method, url, opts.body, token, opts.signal);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401 && this.pair) {
        const next = await this.refresh();
        if (next) return this.raw<T>(method, url, opts.body, next.access_token, opts.signal);
      }
      throw e;
    }
  }

  get<T>(path: string, query?: Record<string, QueryValue>, signal?: AbortSignal) { return this.request<T>('GET', path, { query, signal }); }
  post<T>(path: string, body?: unknown) { return this.request<T>('POST', path, { body }); }
  put<T>(path: string, body?: unknown) { return this.request<T>('PUT', path, { body }); }
  del<T>(path: string) { return this.request<T>('DELETE', path); }

  private async raw<T>(method: string, url: string, body: unknown, token: string | null, signal?: AbortSignal): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const early = method === 'GET' && token ? takeBootResponse(url, token) : null;
    const res = (early && (await early.catch(() => null))) || (await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal }));
    const text = await res.text();
    let json: unknown = undefined;
    if (text) {
      try { json = JSON.parse(text); } catch { /* not JSON: reported below if the status is bad */ }
    }
    if (!res.ok) {
      const err = (json as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
      throw new ApiError(res.status, err?.code ?? `http_${res.status}`, err?.message ?? (res.statusText || `HTTP ${res.status}`), err?.details);
    }
    return json as T;
  }
}

/**
 * Responses to the boot requests index.html started before the bundles ran, each taken once
 * by the first GET of the same URL with the same token; anything else goes to the network.
 */
function takeBootResponse(url: string, token: string): Promise<Response> | null {
  const boot = (window as { __orreryBoot?: { token: string; responses: Record<string, Promise<Response> | undefined> } }).__orreryBoot;
  if (!boot || boot.token !== token) return null;
  const res = boot.responses[url];
  if (res) delete boot.responses[url];
  return res ?? null;
}

function readPair(): TokenPair | null {
  try {
    const raw = localStorage.getItem(STORE_KEY);
    if (!raw) return null;
    const p = JSON.parse(raw) as TokenPair;
    return p.access_token && p.refresh_token ? p : null;
  } catch {
    return null;
  }
}

export const api = new ApiClient();

/**
 * Fetches a file the platform makes (an export, a report, the dashboard's PDF) with the
 * caller's token and saves it under the answer's `Content-Disposition` name (else
 * `fallbackName`); an error answer becomes an Error with the route's message. Returns the name.
 */
export async function downloadFile(path: string, query?: Record<string, QueryValue>, fallbackName = 'export'): Promise<string> {
  const token = await api.accessToken();
  const res = await fetch(buildUrl(path, query), { headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (!res.ok) {
    const err = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
    throw new Error(err?.error?.message ?? `HTTP ${res.status}`);
  }
  const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? fallbackName;
  downloadBlob(name, await res.blob());
  return name;
}

/** A plugin route's file, for the `download` of a widget's or a plugin page's context. */
export async function downloadPluginFile(prefix: string, path: string, query?: Record<string, QueryValue>): Promise<void> {
  await downloadFile(pluginPath(prefix, path), query);
}
