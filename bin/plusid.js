#!/usr/bin/env node
// The `plusid` command: runs the TypeScript CLI through tsx (the server, `npm start`, runs compiled: scripts/build.js).
import { register } from 'tsx/esm/api'

register()
const { runCli } = await import('../src/cli/main.ts')
process.exitCode = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
})
