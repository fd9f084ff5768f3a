import '@parley/react/styles.css';
import './styles/base.css';
import './styles/auth.css';
import './styles/shell.css';
import './styles/dialogs.css';
import './styles/assistant.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.js';
import { rememberTransportChoice } from './hooks/use-workspace-client.js';
import { followVisualViewport } from './lib/layout.js';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
rememberTransportChoice();
followVisualViewport();
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

// Installable and able to start offline (see public/sw.js); only in builds, never in `vite dev`.
if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js').catch((e: unknown) => console.warn('No service worker', e));
  });
}
