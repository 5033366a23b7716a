import { defineWidget, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { welcome } from '../../widgets.ts';

interface Options {
  showChecklist: boolean;
  greeting: string;
}

const STEPS = [
  { href: '/tokens', title: 'Create a hook token', text: 'Agents and editors send their events with it.' },
  { href: '/catalogue', title: 'Add widgets', text: 'Pick charts from the plugins your organization has on.' },
  { href: '/me', title: 'Set your time zone', text: 'Every time on every chart follows it.' },
];

function Welcome({ context, options }: WidgetProps<Options>) {
  const first = context.user.displayName.split(' ')[0] || context.user.email;
  return (
    <div style={{ display: 'flex', flexDirection: 'column', gap: 12, height: '100%' }}>
      <div>
        <p style={{ margin: 0, fontSize: '1.15rem', fontWeight: 600 }}>{options.greeting || 'Welcome to Orrery'}, {first}.</p>
        <p style={{ margin: '4px 0 0', color: 'var(--muted, #5f6b7a)' }}>
          You are looking at <strong>{context.department?.name ?? context.org.name}</strong> as {article(context.role)} {context.role}.
          Drag a widget by its handle, resize it from its edges, and everything is saved as you go.
        </p>
      </div>
      {options.showChecklist && (
        <ol style={{ listStyle: 'none', margin: 0, padding: 0, display: 'grid', gap: 8 }} aria-label="Getting started">
          {STEPS.map((s, i) => (
            <li key={s.href} style={{ display: 'flex', gap: 10, alignItems: 'flex-start' }}>
              <span aria-hidden="true" style={{ flex: '0 0 24px', height: 24, borderRadius: 12, background: 'var(--accent-soft, #e8effc)', color: 'var(--accent-ink, #2451b3)', display: 'grid', placeItems: 'center', fontWeight: 600, fontSize: 12 }}>{i + 1}</span>
              <span><a href={s.href}>{s.title}</a><br /><span style={{ color: 'var(--muted, #5f6b7a)', fontSize: '.85rem' }}>{s.text}</span></span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

const article = (role: string) => (/^[AEIOU]/.test(role) ? 'an' : 'a');

export default defineWidget<Options>({ component: Welcome, declaration: welcome });
