#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm ci` through the `prepare` script).
// Ctrl-C aborts the running conversion cleanly (nothing partial is written) instead of killing it.
import { main } from '../dist/src/cli/main.js';

const controller = new AbortController();
process.once('SIGINT', () => controller.abort());
process.exitCode = await main(process.argv.slice(2), undefined, controller.signal);
