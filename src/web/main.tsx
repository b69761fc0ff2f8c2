// The page's entry: reads what the server says of the system (/dashboard.json), then renders the app.
import { render } from 'preact';
import { App } from './app.tsx';
import { loadDescription } from './description.ts';
import './style.css';

async function start(root: HTMLElement): Promise<void> {
  try {
    render(<App description={await loadDescription()} />, root);
  } catch (error) {
    root.textContent = `The dashboard could not start: ${error instanceof Error ? error.message : String(error)}`;
  }
}

const root = document.getElementById('app');
if (root !== null) void start(root);
