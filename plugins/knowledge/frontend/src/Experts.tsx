import { defineWidget, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { personName, type Expert, type Names } from './api.ts';
import { experts } from '../../widgets.ts';

interface Options { agent_name?: string; artifact_type?: string }

/** Authors whose artifacts others reuse most widely, with their most reused artifacts as the evidence. */
function Experts({ options }: WidgetProps<Options>) {
  const q = useWidgetData<{ experts: Expert[]; names: Names }>(
    '/experts',
    { limit: 10, ...(options.agent_name ? { agent_name: options.agent_name } : {}), ...(options.artifact_type ? { artifact_type: options.artifact_type } : {}) },
    { isEmpty: (d) => d.experts.length === 0 },
  );
  return (
    <WidgetState query={q} emptyText="Nobody's artifacts were reused by others in this time range.">
      {(d) => (
        <table className="orrery-table" aria-label="Experts">
          <thead>
            <tr><th>Person</th><th>Reusers</th><th>Reuses</th><th>Artifacts</th><th>Departments</th><th>Most reused</th></tr>
          </thead>
          <tbody>
            {d.experts.map((e) => (
              <tr key={e.user_id}>
                <td title={e.user_id}>{personName(d.names, e.user_id)}</td>
                <td>{e.reusers}</td>
                <td>{e.reuses}</td>
                <td>{e.artifacts}</td>
                <td>{e.departments_reached}</td>
                <td>{e.top_artifacts.map((a) => `${a.artifact_id} (${a.artifact_type}, ${a.agent_name}: ${a.reusers})`).join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </WidgetState>
  );
}

export default defineWidget<Options>({ component: Experts, declaration: experts });
