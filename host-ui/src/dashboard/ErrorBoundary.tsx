import { Component, type ReactNode } from 'react';

/** One broken widget never blanks the dashboard: its cell shows the error and a retry. */
export class ErrorBoundary extends Component<{ children: ReactNode; label: string; resetKey?: unknown }, { error: Error | null; key: unknown }> {
  state = { error: null as Error | null, key: undefined as unknown };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  static getDerivedStateFromProps(props: { resetKey?: unknown }, state: { error: Error | null; key: unknown }) {
    // a refresh or new options is a fresh start for a widget that failed
    return props.resetKey !== state.key ? { error: null, key: props.resetKey } : null;
  }

  componentDidCatch(error: Error) {
    console.error(`widget "${this.props.label}" failed`, error);
  }

  render() {
    if (this.state.error) {
      return (
        <div className="orrery-state orrery-state--error" role="alert">
          <p><strong>This widget stopped working.</strong></p>
          <p className="small">{this.state.error.message}</p>
          <button type="button" className="btn btn--small" onClick={() => this.setState({ error: null })}>Try again</button>
        </div>
      );
    }
    return this.props.children;
  }
}
