/**
 * A funnel definition limited to one department: every step and exclusion also asks
 * `department_id`, so only events recorded in that department count. The saved funnel's results
 * route applies it to the dashboard's department, and the widgets that post a definition
 * (time to convert, paths after a drop) apply it before they post, so all agree.
 */
type Step = { where?: Record<string, unknown> };

export function inDepartment<D extends { steps: Step[]; exclusions?: Step[] }>(d: D, departmentId: string): D {
  const within = <T extends Step>(s: T): T => ({ ...s, where: { ...s.where, department_id: departmentId } });
  return { ...d, steps: d.steps.map(within), ...(d.exclusions ? { exclusions: d.exclusions.map(within) } : {}) };
}
