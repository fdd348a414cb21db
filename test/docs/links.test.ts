// The README and docs/ stand alone: every relative link and every repository path they cite in
// backticks exists, every #anchor names a heading of its page, and no file outside the
// repository is cited (here nor in source comments).
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

function markdownFiles(): string[] {
  const docs = fs.readdirSync(path.join(ROOT, 'docs'), { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.md'))
  return ['README.md', ...docs.map((file) => path.join('docs', file))]
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(markdown: string): Set<string> {
  const withoutCode = markdown.replace(/```[\s\S]*?```/g, '')
  return new Set(
    [...withoutCode.matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
      m[1]!
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replace(/ /g, '-'),
    ),
  )
}

const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8')

test('every relative link in README.md and docs/ points at a file (and heading) that exists', () => {
  const problems: string[] = []
  for (const file of markdownFiles()) {
    const text = read(file).replace(/```[\s\S]*?```/g, '')
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target!)) continue // http:, https:, mailto:
      const [where, anchor] = target!.split('#') as [string, string | undefined]
      const resolved = where === '' ? file : path.join(path.dirname(file), decodeURIComponent(where))
      if (!fs.existsSync(path.join(ROOT, resolved))) {
        problems.push(`${file}: ${target} → ${resolved} does not exist`)
        continue
      }
      if (anchor && resolved.endsWith('.md') && !anchors(read(resolved)).has(anchor))
        problems.push(`${file}: ${target} → no heading #${anchor} in ${resolved}`)
    }
  }
  assert.deepEqual(problems, [])
})

/** Folders the tools create when they run (not kept in the repository). */
const CREATED_AT_RUN_TIME = new Set(['bench/profiles/'])

test('every repository path README.md and docs/ cite in backticks exists', () => {
  const problems: string[] = []
  const cited =
    /`((?:src|test|docs|examples|bench|migrations|deploy|scripts|bin)\/[^`\s<>*…]+|(?:package\.json|Dockerfile|docker-compose\.yml|\.ci\/run))`/g
  for (const file of markdownFiles()) {
    for (const [, cite] of read(file).matchAll(cited)) {
      if (!CREATED_AT_RUN_TIME.has(cite!) && !fs.existsSync(path.join(ROOT, cite!))) problems.push(`${file}: \`${cite}\` does not exist`)
    }
  }
  assert.deepEqual(problems, [])
})

test('nothing cites a document that is not in the repository', () => {
  // Spelled in pieces so this file does not cite them itself.
  const outside = new RegExp(
    ['plusid', 'contract', 'line-login-v2\\.1', 'oidc-conformance', 'NOTES'].map((name) => `\\b${name}\\.md\\b`).join('|'),
  )
  const files = [
    ...markdownFiles(),
    ...['src', 'test', 'scripts', 'examples', 'bench'].flatMap((dir) =>
      fs
        .readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
        .filter((f) => /\.(ts|js|eta|md)$/.test(f))
        .map((f) => path.join(dir, f)),
    ),
  ]
  const problems = files.filter((file) => outside.test(read(file)))
  assert.deepEqual(problems, [])
})
