/** The shapes of the plugin's routes, as the widgets read them (see backend/params.ts). */
export interface Summary {
  created: number | null;
  annotated: number | null;
  reused: number | null;
  reuse_rate: number | null;
  cross_department_reuse_rate: number | null;
  artifacts_created: number | null;
  suppressed: boolean;
  reason?: string;
}
export interface TimelineRow { bucket: string; group: string; created: number; annotated: number; reused: number; users: number }
export interface Expert {
  user_id: string;
  artifacts: number;
  reusers: number;
  reuses: number;
  departments_reached: number;
  top_artifacts: Array<{ artifact_id: string; artifact_type: string; agent_name: string; reusers: number; reuses: number }>;
}
export interface FlowLink { from_department_id: string; to_department_id: string; reuses: number; reusers: number }

/** Names of the ids in an answer, from the directory; an id without a name is shown as itself. */
export interface Names { departments: Record<string, string>; people: Record<string, string> }
export const deptName = (n: Names | undefined, id: string) => (id ? n?.departments[id] ?? id : 'No department');
export const personName = (n: Names | undefined, id: string) => n?.people[id] ?? id;
