// Entry point of `npm start`: read the config, open and migrate the database, listen, and on
// SIGTERM/SIGINT stop accepting, let running requests finish, close the database, exit.
import { pino } from 'pino'
import { buildApp } from './app.ts'
import { ConfigError, loadConfig, type Config } from './config.ts'
import { loggerOptions } from './logger.ts'
import { startCleanup } from './maintenance.ts'
import { MasterKeyError, rememberMasterKey, resolveMasterKey } from './master-key.ts'
import { openDatabase } from './storage/database.ts'
import { migrate } from './storage/migrate.ts'

let config: Config
try {
  config = loadConfig()
} catch (error) {
  if (!(error instanceof ConfigError)) throw error
  console.error(error.message)
  process.exit(2)
}

const log = pino(loggerOptions(config))
try {
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir })
  // The key is checked against the database before anything is written to it (master-key.ts).
  const startDatabase = async () => {
    const masterKey = await resolveMasterKey(config, database.db, log)
    const applied = await migrate(database)
    if (applied.length > 0) log.info({ applied }, 'database migrated')
    await rememberMasterKey(database.db, masterKey)
    return masterKey
  }
  const masterKey = await startDatabase().catch(async (error) => {
    await database.close()
    if (error instanceof MasterKeyError) {
      console.error(`plusid could not start: ${error.message}`)
      process.exit(2)
    }
    throw error
  })
  const app = await buildApp(config, { database, closeDatabase: true, logger: log, masterKey, refreshKeysEveryMs: config.keyRefreshSeconds * 1000 })
  const stopCleanup = startCleanup(database.db, log, { usedCodeSeconds: config.refreshTokenTtlSeconds }, config.cleanupIntervalSeconds * 1000)
  app.addHook('onClose', async () => stopCleanup())
  await app.listen({ host: config.host, port: config.port })
  const where = database.kind === 'embedded' ? `embedded database in ${config.dataDir}` : 'PostgreSQL server'
  console.log(`plusid is ready at ${config.publicUrl} (${where})`)

  let closing = false
  const shutdown = (signal: string) => {
    if (closing) {
      log.warn(`${signal} again: exiting without waiting`)
      process.exit(1)
    }
    closing = true
    log.info(`${signal} received: finishing running requests, then closing`)
    // A request that never ends must not keep the process alive forever.
    setTimeout(() => {
      log.error('shutdown took longer than 10 seconds: exiting')
      process.exit(1)
    }, 10_000).unref()
    app.close().then(
      () => process.exit(0),
      (error) => {
        log.error({ err: error }, 'error while closing')
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
} catch (error) {
  log.fatal({ err: error }, 'plusid could not start')
  console.error(`plusid could not start: ${(error as Error).message}`)
  process.exit(1)
}
