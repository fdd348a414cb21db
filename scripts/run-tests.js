// `npm test`: runs every test/**/*.test.ts file with node's test runner through tsx.
// Node 20 does not expand globs itself. Arguments narrow the run: `npm test -- test/http`.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

function testFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) return testFiles(full)
    return entry.name.endsWith('.test.ts') ? [full] : []
  })
}

const filters = process.argv.slice(2).filter((arg) => !arg.startsWith('--'))
const options = process.argv.slice(2).filter((arg) => arg.startsWith('--'))
const files = testFiles('test')
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .sort()
if (files.length === 0) {
  console.error(`No test file matches ${filters.join(' ')}`)
  process.exit(1)
}
const where = process.env.DATABASE_URL
  ? 'a fresh database per test file on the PostgreSQL server of DATABASE_URL'
  : 'embedded PostgreSQL (PGlite), one in-memory database per test file'
console.log(`Running ${files.length} test files against ${where}`)
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...options, ...files], { stdio: 'inherit' })
process.exit(result.status ?? 1)
