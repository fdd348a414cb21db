// The layers of src/ (README, Architecture): routes → use cases → (oauth, profile, auth) →
// storage → (crypto, config), arrows pointing down only. Reads the source files and their
// imports; no HTTP, no database.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'

const SRC = path.resolve(import.meta.dirname, '../../src')

// Known exceptions, each with what is left to do; a listed file that no longer needs its entry
// fails the last test, so the lists only shrink.
const ROUTES_IMPORTING_STORAGE = new Set<string>([])
const SQL_OUTSIDE_STORAGE = new Set<string>([])
const OVER_400_LINES = new Set([
  // the command line's channel commands are still to move onto the console's use cases
  'cli/main.ts',
  // the protocol's statements, to be split when they are folded (the hot-path work)
  'storage/oauth-tokens.ts',
])

// The message catalogues are long by nature; the generated schema is written by `npm run db:types`.
const LENGTH_EXEMPT = new Set(['i18n/en.ts', 'i18n/ja.ts', 'storage/schema.generated.ts'])
const MAX_LINES = 400

/** What storage may import besides itself: the layers under it, and the bottom modules. */
const BELOW_STORAGE = ['crypto/', 'domain/', 'config.ts', 'package-root.ts']

const SQL = /sql`|\.selectFrom\(|\.insertInto\(|\.updateTable\(|\.deleteFrom\(|\bsql\.(raw|ref|table|lit|join|id)\(/

interface SourceFile {
  /** Relative to src/, with forward slashes. */
  name: string
  text: string
  /** The src/ files it imports, relative to src/. */
  imports: string[]
}

function sourceFiles(dir = SRC): SourceFile[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(full)
    if (!entry.name.endsWith('.ts')) return []
    const text = fs.readFileSync(full, 'utf8')
    const imports = [
      ...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"`;]*?from\s+['"]([^'"]+)['"]|(?:^|\n)\s*import\s*\(?\s*['"]([^'"]+)['"]/g),
    ]
      .map((match) => match[1] ?? match[2]!)
      .filter((specifier) => specifier.startsWith('.'))
      .map((specifier) =>
        path
          .relative(SRC, path.resolve(path.dirname(full), specifier))
          .split(path.sep)
          .join('/'),
      )
    return [{ name: path.relative(SRC, full).split(path.sep).join('/'), text, imports }]
  })
}

const files = sourceFiles()

test('the import reader sees the imports (a check that reads nothing cannot fail)', () => {
  const app = files.find((file) => file.name === 'app.ts')
  assert.ok(app?.imports.includes('config.ts'), 'app.ts imports config.ts')
  assert.ok(files.filter((file) => file.name.startsWith('storage/')).some((file) => file.imports.includes('storage/database.ts')))
  assert.ok(files.length > 100)
})

test('no route imports storage/ (pages and APIs call use cases)', () => {
  const offenders = files
    .filter((file) => file.name.startsWith('routes/') && !ROUTES_IMPORTING_STORAGE.has(file.name))
    .filter((file) => file.imports.some((target) => target.startsWith('storage/')))
    .map((file) => `${file.name} imports ${file.imports.filter((target) => target.startsWith('storage/')).join(', ')}`)
  assert.deepEqual(offenders, [])
})

test('all SQL lives in storage/', () => {
  const offenders = files
    .filter((file) => !file.name.startsWith('storage/') && !SQL_OUTSIDE_STORAGE.has(file.name))
    .filter((file) => SQL.test(file.text))
    .map((file) => file.name)
  assert.deepEqual(offenders, [])
})

test('storage imports nothing above it: only storage, crypto, domain, config and package-root', () => {
  const offenders = files
    .filter((file) => file.name.startsWith('storage/'))
    .flatMap((file) =>
      file.imports
        .filter((target) => !target.startsWith('storage/') && !BELOW_STORAGE.some((allowed) => target.startsWith(allowed)))
        .map((target) => `${file.name} imports ${target}`),
    )
  assert.deepEqual(offenders, [])
})

test('the bottom layers import nothing above them: crypto only crypto, domain nothing', () => {
  const offenders = files
    .filter((file) => file.name.startsWith('crypto/') || file.name.startsWith('domain/'))
    .flatMap((file) =>
      file.imports
        .filter((target) => !(file.name.startsWith('crypto/') ? target.startsWith('crypto/') : target.startsWith('domain/')))
        .map((target) => `${file.name} imports ${target}`),
    )
  assert.deepEqual(offenders, [])
})

test(`no source file is over ${MAX_LINES} lines (the message catalogues aside)`, () => {
  const offenders = files
    .filter((file) => !LENGTH_EXEMPT.has(file.name) && !OVER_400_LINES.has(file.name))
    .map((file) => ({ name: file.name, lines: file.text.split('\n').length - (file.text.endsWith('\n') ? 1 : 0) }))
    .filter((file) => file.lines > MAX_LINES)
    .map((file) => `${file.name}: ${file.lines} lines`)
  assert.deepEqual(offenders, [])
})

test('the allow-lists name only files that still need them (the lead empties them)', () => {
  const byName = new Map(files.map((file) => [file.name, file]))
  const stale = [
    ...[...ROUTES_IMPORTING_STORAGE].filter((name) => !byName.get(name)?.imports.some((target) => target.startsWith('storage/'))),
    ...[...SQL_OUTSIDE_STORAGE].filter((name) => !SQL.test(byName.get(name)?.text ?? '')),
    ...[...OVER_400_LINES].filter((name) => (byName.get(name)?.text.split('\n').length ?? 0) <= MAX_LINES + 1),
  ]
  assert.deepEqual(stale, [])
})
