#!/usr/bin/env node
// The `bosun` command: runs the compiled CLI (npm run build produces dist/).
import { runCli } from '../dist/libs/bosun/src/cli/main.js';
await runCli(process.argv);
