/**
 * The setup wizard for a new organization, in the order an Admin needs things: the
 * departments people belong to, the adoption thresholds that flag who needs support,
 * how people sign in, a hook that sends events (proven by a test event arriving live),
 * and finally the people themselves. Every step uses the server's real routes; a step
 * whose route the server lacks says so and can be skipped.
 */
import { useCallback, useEffect, useRef, useState, type ComponentType } from 'react';
import { Link, navigate, useSearch } from '../lib/router.tsx';
import { loadRoutes, type RouteCatalogue } from '../lib/routes.ts';
import { useSession } from '../lib/session.tsx';
import { Icon } from '../shell/Icon.tsx';
import { AdoptionStep } from './AdoptionStep.tsx';
import { DepartmentsStep } from './DepartmentsStep.tsx';
import { HookStep } from './HookStep.tsx';
import { PeopleStep } from './PeopleStep.tsx';
import { readProgress, writeProgress, type SetupProgress, type StepId } from './progress.ts';
import { stepState } from './facts.ts';
import { useStepsDoneOnServer } from './serverState.ts';
import { SsoStep } from './SsoStep.tsx';
import { STEPS as STEP_INFO, type StepInfo } from './steps.ts';

type StepDef = StepInfo & { Component: ComponentType<{ routes: RouteCatalogue; onDone(): void }> };

const FORMS: Record<StepId, StepDef['Component']> = { departments: DepartmentsStep, adoption: AdoptionStep, sso: SsoStep, hook: HookStep, people: PeopleStep };
const STEPS: StepDef[] = STEP_INFO.map((x) => ({ ...x, Component: FORMS[x.id] }));

export function SetupPage() {
  const s = useSession();
  const search = useSearch();
  const [routes, setRoutes] = useState<RouteCatalogue | null>(null);
  const [routesError, setRoutesError] = useState<string | null>(null);
  const [progress, setProgress] = useState<SetupProgress>(() => readProgress(s.me.org.id, s.me.user.id));
  const stepParam = search.get('step');
  const index = Math.max(0, STEPS.findIndex((x) => x.id === stepParam));
  const finished = stepParam === 'done';
  const step = STEPS[index]!;
  const headingRef = useRef<HTMLHeadingElement>(null);
  const reported = useRef(new Set<StepId>());
  // done on the server (another Admin, the API, demo data) counts as done here too
  const onServer = useStepsDoneOnServer();

  useEffect(() => {
    loadRoutes().then(setRoutes, (e: Error) => setRoutesError(e.message));
  }, []);

  // a new step is announced by moving focus to its heading, as a new page would be
  useEffect(() => { headingRef.current?.focus(); }, [index, finished]);

  const save = useCallback((p: SetupProgress) => {
    setProgress(p);
    writeProgress(s.me.org.id, s.me.user.id, p);
  }, [s.me.org.id, s.me.user.id]);

  // stable per step, so a step can call it from an effect without looping
  const onDone = useCallback(() => {
    if (reported.current.has(step.id)) return;
    reported.current.add(step.id);
    setProgress((p) => {
      const next = { ...p, steps: { ...p.steps, [step.id]: 'done' as const } };
      writeProgress(s.me.org.id, s.me.user.id, next);
      return next;
    });
  }, [step.id, s.me.org.id, s.me.user.id]);

  const state = (id: StepId) => stepState(id, progress, onServer ?? new Set());
  const go = (i: number | 'done') => navigate(`/setup?step=${i === 'done' ? 'done' : STEPS[i]!.id}`);
  const next = (skip: boolean) => {
    if (skip || !progress.steps[step.id]) save({ ...progress, steps: { ...progress.steps, [step.id]: state(step.id) === 'done' && !skip ? 'done' : 'skipped' } });
    if (index + 1 < STEPS.length) go(index + 1);
    else {
      save({ ...readProgress(s.me.org.id, s.me.user.id), finished: true });
      go('done');
    }
  };

  if (s.me.role !== 'Admin') {
    return <div className="page"><h1>Set up {s.me.org.name}</h1><p className="notice">Only Admins set up the organization. Ask an Admin of {s.me.org.name} if something here needs changing.</p></div>;
  }

  const stateLabel = (id: StepId) => (state(id) === 'done' ? 'Done' : state(id) === 'skipped' ? 'Skipped' : 'To do');

  return (
    <div className="page setup">
      <div className="page__head">
        <div>
          <h1>Set up {s.me.org.name}</h1>
          <p className="muted">Five short steps. You can leave at any time; each step can be done again later.</p>
        </div>
        <Link to="/" className="btn btn--ghost">Leave setup</Link>
      </div>
      <div className="setup__layout">
        <nav aria-label="Setup steps" className="setup__nav">
          <ol>
            {STEPS.map((x, i) => (
              <li key={x.id}>
                <a href={`/setup?step=${x.id}`} aria-current={!finished && i === index ? 'step' : undefined}
                  className={`setup__step setup__step--${state(x.id) ?? 'todo'}`}
                  onClick={(e) => { e.preventDefault(); go(i); }}>
                  <span className="setup__num" aria-hidden="true">{state(x.id) === 'done' ? <Icon name="check" size={14} /> : i + 1}</span>
                  <span className="setup__label">{x.title}<span className="sr-only">, step {i + 1} of {STEPS.length}</span><span className="setup__state">{stateLabel(x.id)}</span></span>
                </a>
              </li>
            ))}
          </ol>
        </nav>
        <section className="card setup__main" aria-labelledby="setup-step-h">
          {finished ? (
            <>
              <h2 id="setup-step-h" ref={headingRef} tabIndex={-1}>{s.me.org.name} is set up</h2>
              <ul className="rows">
                {STEPS.map((x, i) => (
                  <li key={x.id} className="rows__row">
                    <span className="rows__main">{x.title}</span>
                    <span className={`chip${state(x.id) === 'done' ? ' chip--ok' : ' chip--muted'}`}>{stateLabel(x.id)}</span>
                    <button type="button" className="btn btn--small btn--ghost" onClick={() => go(i)} aria-label={`Open ${x.title}`}>Open</button>
                  </li>
                ))}
              </ul>
              <p className="muted small">Skipped steps stay in Settings → Set up the organization.</p>
              <div className="modal__foot setup__foot">
                <Link to="/" className="btn btn--primary">Go to the dashboard</Link>
              </div>
            </>
          ) : (
            <>
              <p className="muted small setup__count">Step {index + 1} of {STEPS.length}</p>
              <h2 id="setup-step-h" ref={headingRef} tabIndex={-1}>{step.title}</h2>
              <p className="muted setup__intro">{step.intro}</p>
              <div className="setup__body">
                {routesError ? <p role="alert" className="form-error">Could not read what this server offers ({routesError}). Reload to try again.</p>
                  : !routes ? <p className="muted" role="status">Checking what this server offers…</p>
                  : <step.Component key={step.id} routes={routes} onDone={onDone} />}
              </div>
              <div className="setup__foot">
                <button type="button" className="btn btn--ghost" onClick={() => go(index - 1)} disabled={index === 0}>Back</button>
                <span className="setup__spacer" />
                {state(step.id) !== 'done' && <button type="button" className="btn" onClick={() => next(true)}>Skip this step</button>}
                <button type="button" className="btn btn--primary" onClick={() => next(false)}>{index + 1 < STEPS.length ? 'Continue' : 'Finish'}</button>
              </div>
            </>
          )}
        </section>
      </div>
    </div>
  );
}
