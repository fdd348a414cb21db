#!/usr/bin/env node
// The `plusid` command: runs the TypeScript CLI through tsx, as `npm start` runs the server.
import { register } from 'tsx/esm/api'

register()
const { runCli } = await import('../src/cli/main.ts')
process.exitCode = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
})
