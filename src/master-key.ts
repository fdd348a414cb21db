// The master key encrypts signing keys and Profile+ data (later issues). It never goes into the
// database, or a dump would unlock itself: it comes from PLUSID_MASTER_KEY, or is generated once
// into DATA_DIR/master.key with a warning.
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { Logger } from 'pino'
import type { Config } from './config.ts'

export function loadMasterKey(config: Config, log: Pick<Logger, 'warn'>): Buffer {
  if (config.masterKey) return config.masterKey
  const file = path.join(config.dataDir, 'master.key')
  if (fs.existsSync(file)) {
    const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'hex')
    if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte hex key; set PLUSID_MASTER_KEY or remove the file`)
    return key
  }
  const key = randomBytes(32)
  fs.mkdirSync(config.dataDir, { recursive: true })
  try {
    fs.writeFileSync(file, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' })
  } catch (error) {
    // Another process sharing the folder wrote it first: use that one.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return loadMasterKey(config, log)
    throw error
  }
  log.warn(`PLUSID_MASTER_KEY is not set: generated one in ${file}. Back it up; every plusid process sharing this database needs the same key.`)
  return key
}
