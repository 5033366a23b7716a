/**
 * Which setup steps the server already shows as done, whatever this browser's wizard
 * recorded: an org set up through the API, by another Admin, or loaded with demo data has
 * its departments, people and events without anyone opening the wizard here. Each fact is
 * read from the route its step uses; a route the server lacks (or refuses) leaves that
 * step to the wizard's own record.
 */
import { useEffect, useState } from 'react';
import { api } from '../lib/api.ts';
import { useSession } from '../lib/session.tsx';
import type { StepId } from './progress.ts';
import { stepsDoneOnServer, type ServerFacts } from './facts.ts';

const quietly = <T,>(p: Promise<T>): Promise<T | undefined> => p.catch(() => undefined);

/**
 * Each step's fact from the kernel's own routes and, when the adoption plugin is on for the
 * org, its settings (`customized`). Asked directly rather than through the API description:
 * the banner runs on every Admin dashboard load, and that document is large.
 */
export async function loadServerFacts(adoptionSettings: string | null): Promise<ServerFacts> {
  const [departments, providers, tokens, quality, members, invitations, adoption] = await Promise.all([
    quietly(api.get<{ departments: unknown[] }>('/api/v1/departments')),
    quietly(api.get<{ providers?: unknown[] }>('/api/v1/auth/providers')),
    quietly(api.get<{ tokens: Array<{ kind?: string }> }>('/api/v1/tokens')),
    quietly(api.get<{ freshness?: { agents?: unknown[] } }>('/api/v1/ingestion/quality')),
    quietly(api.get<{ members: unknown[]; total?: number }>('/api/v1/members', { limit: 2 })),
    quietly(api.get<{ invitations: unknown[] }>('/api/v1/invitations')),
    adoptionSettings ? quietly(api.get<{ customized?: boolean }>(adoptionSettings)) : Promise.resolve(undefined),
  ]);
  return {
    departments: departments?.departments.length,
    adoptionCustomized: adoption?.customized === true,
    providers: providers?.providers?.length,
    hookTokens: tokens?.tokens.filter((t) => t.kind === 'hook').length,
    agentsSending: quality?.freshness?.agents?.length,
    members: members ? (members.total ?? members.members.length) : undefined,
    invitations: invitations?.invitations.length,
  };
}

/** Runs `fn` once the browser is idle (after a dashboard's widgets asked for their data). */
function whenIdle(fn: () => void): () => void {
  if (typeof requestIdleCallback === 'function') {
    const id = requestIdleCallback(fn, { timeout: 3000 });
    return () => cancelIdleCallback(id);
  }
  const id = setTimeout(fn, 1000);
  return () => clearTimeout(id);
}

/**
 * The steps done on the server, for an Admin (null while loading, or for other roles).
 * `defer`: ask only once the page is idle, so the banner never competes with the widgets;
 * `after`: and once what it resolves has happened (null: wait until it is given).
 */
export function useStepsDoneOnServer({ defer = false, after }: { defer?: boolean; after?: (() => Promise<void>) | null } = {}): Set<StepId> | null {
  const s = useSession();
  const [done, setDone] = useState<Set<StepId> | null>(null);
  const admin = s.me.role === 'Admin';
  const plugin = s.plugins.find((p) => p.id === 'adoption' && p.enabled !== false);
  const settings = plugin ? `/api/v1/${(plugin.routePrefix ?? 'adoption').replace(/^\/+|\/+$/g, '')}/settings` : null;
  const waiting = after === null;
  useEffect(() => {
    if (!admin || !s.pluginsLoaded || waiting) return;
    let alive = true;
    let cancel = () => {};
    const load = () => void loadServerFacts(settings).then((f) => alive && setDone(stepsDoneOnServer(f)), () => alive && setDone(new Set()));
    const start = () => {
      if (!alive) return;
      if (defer) cancel = whenIdle(load);
      else load();
    };
    if (after) after().then(start, start);
    else start();
    return () => { alive = false; cancel(); };
    // `after` is read once it is given: a new function for the same page does not ask again
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [admin, settings, defer, waiting, s.pluginsLoaded, s.me.org.id]);
  return done;
}
