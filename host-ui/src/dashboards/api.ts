/** The `dashboards` plugin's named-dashboard routes (mounted at /api/v1/dashboards). */
import { api } from '../lib/api.ts';
import { normalizeDoc, type DashboardDoc } from '../dashboard/layout.ts';

export type ShareScope = 'private' | 'department' | 'org';
export interface Share { scope: ShareScope; department_id: string | null; access: 'view' | 'edit' }
export interface Filters { department_id?: string; agent_name?: string }

export interface NamedSummary {
  id: string;
  name: string;
  description: string;
  owner_id: string;
  share: Share;
  filters: Filters;
  refresh_seconds: number;
  template: string | null;
  widgets: number;
  can_edit: boolean;
  is_owner: boolean;
  updated_at: string;
}
export interface Named extends NamedSummary { doc: DashboardDoc }
/** What the filters bar offers (`GET /dashboards/filter-options`): departments by role, the org's agents busiest first. */
export interface FilterOptions {
  departments: Array<{ id: string; name: string }>;
  agents: Array<{ name: string; events: number }>;
  agents_source: 'metrics' | 'none';
}
export interface Template { id: string; name: string; description: string; kind: 'builtin' | 'role'; doc: DashboardDoc }

const BASE = '/api/v1/dashboards';
const fix = (d: Named): Named => ({ ...d, doc: normalizeDoc(d.doc) });

export const namedApi = {
  list: async () => (await api.get<{ dashboards: NamedSummary[] }>(BASE)).dashboards,
  templates: async () => (await api.get<{ templates: Template[] }>(`${BASE}/templates`)).templates,
  get: async (id: string) => fix(await api.get<Named>(`${BASE}/${encodeURIComponent(id)}`)),
  create: async (body: { name: string; template?: string; doc?: DashboardDoc; share?: Partial<Share>; filters?: Filters; refresh_seconds?: number }) => fix(await api.post<Named>(BASE, body)),
  update: async (id: string, body: Partial<{ name: string; doc: DashboardDoc; share: Partial<Share>; filters: Filters; refresh_seconds: number }>) =>
    fix(await api.put<Named>(`${BASE}/${encodeURIComponent(id)}`, body)),
  filterOptions: (departmentId?: string) =>
    api.get<FilterOptions>(`${BASE}/filter-options${departmentId ? `?department_id=${encodeURIComponent(departmentId)}` : ''}`),
  remove: (id: string) => api.request('DELETE', `${BASE}/${encodeURIComponent(id)}`),
};
