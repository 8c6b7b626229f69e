import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { client } from './api/client';
import { App } from './App';
import { useStore } from './store';
import { startSyncFeed } from './store/sync-feed';
import './styles.css';

// Sync progress and events reach the store from the start, whichever screen is shown.
startSyncFeed(client, useStore);

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
