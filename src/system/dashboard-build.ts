// Builds the monitoring room's page (src/web/, Preact and uPlot) with Vite into a folder that the
// dashboard server serves. `cbdc start` and the browser tests build on every start, so the page is
// never older than its source and a fresh clone needs no extra build step; the build is a second or
// two, and it needs nothing from outside (no CDN: every byte of the page comes from node_modules).
import { resolve } from 'node:path';
import { build } from 'vite';

export const dashboardSource = resolve(import.meta.dirname, '../web');

/** Builds the page into `outDir` (emptied first): index.html and its hashed assets. */
export async function buildDashboard(outDir: string): Promise<void> {
  await build({
    root: dashboardSource,
    configFile: false,
    logLevel: 'warn',
    base: './',
    // The page's JSX is Preact's (the same setting as src/web/tsconfig.json).
    oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
    build: { outDir, emptyOutDir: true, target: 'es2022', reportCompressedSize: false },
  });
}
