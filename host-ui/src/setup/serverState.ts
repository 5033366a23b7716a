/**
 * Which setup steps the server already shows as done, whatever this browser's wizard
 * recorded: an org set up through the API, by another Admin, or loaded with demo data has
 * its departments, people and events without anyone opening the wizard here. Each fact is
 * read from the route its step uses; a route the server lacks (or refuses) leaves that
 * step to the wizard's own record.
 */
import { useEffect, useState } from 'react';
import { api } from '../lib/api.ts';
import { loadRoutes, type RouteCatalogue } from '../lib/routes.ts';
import { useSession } from '../lib/session.tsx';
import { settingsRoutes } from './AdoptionStep.tsx';
import type { StepId } from './progress.ts';
import { stepsDoneOnServer, type ServerFacts } from './facts.ts';

const quietly = <T,>(p: Promise<T>): Promise<T | undefined> => p.catch(() => undefined);

export async function loadServerFacts(routes: RouteCatalogue, adoptionPrefix: string): Promise<ServerFacts> {
  const get = <T,>(path: string) => (routes.has('get', path.split('?')[0]!) ? quietly(api.get<T>(path)) : Promise.resolve(undefined));
  const [departments, providers, tokens, quality, members, invitations, adoption] = await Promise.all([
    get<{ departments: unknown[] }>('/api/v1/departments'),
    get<{ providers?: unknown[] }>('/api/v1/auth/providers'),
    get<{ tokens: Array<{ kind?: string }> }>('/api/v1/tokens'),
    get<{ freshness?: { agents?: unknown[] } }>('/api/v1/ingestion/quality'),
    get<{ members: unknown[]; total?: number }>('/api/v1/members?limit=2'),
    get<{ invitations: unknown[] }>('/api/v1/invitations'),
    Promise.all(settingsRoutes(routes, adoptionPrefix).map((r) => quietly(api.get<{ customized?: boolean }>(r.path)))),
  ]);
  return {
    departments: departments?.departments.length,
    adoptionCustomized: adoption.some((a) => a?.customized === true),
    providers: providers?.providers?.length,
    hookTokens: tokens?.tokens.filter((t) => t.kind === 'hook').length,
    agentsSending: quality?.freshness?.agents?.length,
    members: members ? (members.total ?? members.members.length) : undefined,
    invitations: invitations?.invitations.length,
  };
}

/** The steps done on the server, for an Admin (null while loading, or for other roles). */
export function useStepsDoneOnServer(): Set<StepId> | null {
  const s = useSession();
  const [done, setDone] = useState<Set<StepId> | null>(null);
  const admin = s.me.role === 'Admin';
  const plugin = s.plugins.find((p) => p.id === 'adoption');
  const prefix = `/api/v1/${(plugin?.routePrefix ?? 'adoption').replace(/^\/+|\/+$/g, '')}`;
  useEffect(() => {
    if (!admin) return;
    let alive = true;
    loadRoutes()
      .then((routes) => loadServerFacts(routes, prefix))
      .then((f) => alive && setDone(stepsDoneOnServer(f)), () => alive && setDone(new Set()));
    return () => { alive = false; };
  }, [admin, prefix, s.me.org.id]);
  return done;
}
