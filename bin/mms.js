#!/usr/bin/env node
// Runs the compiled CLI when built, else the TypeScript sources through tsx.
const path = require('node:path');
const fs = require('node:fs');
const built = path.join(__dirname, '..', 'dist', 'src', 'client', 'cli', 'main.js');
if (fs.existsSync(built)) require(built);
else {
  require('tsx/cjs');
  require('../src/client/cli/main.ts');
}
