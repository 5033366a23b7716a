/** The `dashboards` plugin's routes (mounted at /api/v1/dashboards). */
import { api } from '../lib/api.ts';
import type { Role } from '@orrery/plugin-sdk/frontend';
import { normalizeDoc, type DashboardDoc } from './layout.ts';

export type LayoutSource = 'user' | 'department' | 'role' | 'none';

export interface MineAnswer {
  doc: DashboardDoc | null;
  source: LayoutSource;
  updated_at?: string;
}

const BASE = '/api/v1/dashboards';

function fix(a: { doc: unknown; source: LayoutSource; updated_at?: string }): MineAnswer {
  return { ...a, doc: a.doc ? normalizeDoc(a.doc) : null };
}

export const dashboardsApi = {
  mine: async (departmentId: string | null) => fix(await api.get(`${BASE}/mine`, { department_id: departmentId })),
  saveMine: (doc: DashboardDoc) => api.put<{ updated_at: string }>(`${BASE}/mine`, { doc }),
  resetMine: async (departmentId: string | null) => fix(await api.request('DELETE', `${BASE}/mine`, { query: { department_id: departmentId } })),
  saveRoleDefault: (role: Role, doc: DashboardDoc) => api.put(`${BASE}/defaults/role/${encodeURIComponent(role)}`, { doc }),
  saveDepartmentDefault: (departmentId: string, doc: DashboardDoc) => api.put(`${BASE}/defaults/department/${encodeURIComponent(departmentId)}`, { doc }),
};
