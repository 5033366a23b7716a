import { defineWidget, useWidgetData, WidgetState, Stat, formatters, type WidgetProps } from '@orrery/plugin-sdk/frontend';

interface Answer {
  events: number;
  notes: Array<{ id: number; text: string; created_at: string }>;
}

function Notes({ context }: WidgetProps<Record<string, never>>) {
  // `live`: a note added anywhere in the org refetches, throttled
  const query = useWidgetData<Answer>('/', {}, { live: ['notes'], isEmpty: (d) => d.events === 0 && d.notes.length === 0 });
  const fmt = formatters(context.locale, context.tz);
  return (
    <WidgetState query={query} emptyText="No notes or events yet: POST /api/v1/alerts to add a note.">
      {(d) => (
        <div>
          <Stat label="Events in this organization" value={d.events} />
          <ul aria-label="Notes">
            {d.notes.map((n) => (
              <li key={n.id}>
                {n.text} <time dateTime={n.created_at}>{fmt.dateTime(n.created_at)}</time>
              </li>
            ))}
          </ul>
        </div>
      )}
    </WidgetState>
  );
}

export default defineWidget<Record<string, never>>({ component: Notes, defaults: {}, optionsVersion: 1 });
