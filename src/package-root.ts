// The folder holding plusid's package.json, found by walking up from this module: the same folder
// whether the code runs from src/ (tests, through tsx) or bundled into dist/server.js (`npm start`),
// so migrations/ and src/views/ are found from either.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`)
  }
}

export const PACKAGE_ROOT = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)))
