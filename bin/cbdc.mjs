#!/usr/bin/env node
// The `cbdc` command runs the TypeScript sources directly through tsx (a runtime dependency).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
