import { createRoot } from 'react-dom/client';
import 'react-grid-layout/css/styles.css';
import 'react-resizable/css/styles.css';
import './styles.css';
import { App } from './App.tsx';
import { warmDashboardWidgets } from './dashboard/warmup.ts';

warmDashboardWidgets();
createRoot(document.getElementById('root')!).render(<App />);
