// Entry point of `npm start`: read the config, check the port is free, open and migrate the
// database, listen, and on SIGTERM/SIGINT stop accepting, let running requests finish, close the
// database, exit. What a person starting it reads (progress, ready, what to do next) is plain
// lines on stdout; logs are pino's (readable in a terminal, JSON otherwise).
import net from 'node:net'
import { ConfigError, loadConfig, type Config } from './config.ts'
import { serverLogger } from './logger.ts'

let config: Config
try {
  config = loadConfig()
} catch (error) {
  if (!(error instanceof ConfigError)) throw error
  console.error(error.message)
  process.exit(2)
}

/** A reason not to start that the message alone explains (no stack trace to log). */
class StartError extends Error {}

/**
 * Binds the port once and lets it go: a port in use is reported now, not after the database has
 * started and migrated (which takes seconds on the embedded database's first start).
 */
async function checkPortIsFree(host: string, port: number): Promise<void> {
  const probe = net.createServer()
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject)
      probe.listen({ host, port, exclusive: true }, resolve)
    })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE')
      throw new StartError(`port ${port} on ${host} is already in use (another plusid?): stop that program or set PORT to a free port`)
    if (code === 'EACCES') throw new StartError(`no permission to listen on port ${port}: set PORT to a port above 1023`)
    throw new StartError(`cannot listen on ${host}:${port} (${code ?? (error as Error).message}): check HOST and PORT`)
  }
  await new Promise((resolve) => probe.close(resolve))
}

const log = await serverLogger(config)
try {
  await checkPortIsFree(config.host, config.port)
  // The application is loaded after the port check, so that answer comes at once.
  const [
    { buildApp },
    { startCleanup },
    { MasterKeyError, rememberMasterKey, resolveMasterKey },
    { embeddedDatabaseExists, openDatabase },
    { migrate },
    { hasAdministrator },
  ] = await Promise.all([
    import('./app.ts'),
    import('./maintenance.ts'),
    import('./master-key.ts'),
    import('./storage/database.ts'),
    import('./storage/migrate.ts'),
    import('./storage/users.ts'),
  ])
  if (!config.databaseUrl) {
    console.log(
      embeddedDatabaseExists(config.dataDir)
        ? `Starting the embedded database in ${config.dataDir}…`
        : `Creating the embedded database in ${config.dataDir} (first start: a few seconds)…`,
    )
  }
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
  const app = await buildApp(config, {
    database,
    closeDatabase: true,
    logger: log,
    masterKey,
    refreshKeysEveryMs: config.keyRefreshSeconds * 1000,
  })
  const stopCleanup = startCleanup(
    database.db,
    log,
    { usedCodeSeconds: config.refreshTokenTtlSeconds },
    config.cleanupIntervalSeconds * 1000,
  )
  app.addHook('onClose', async () => stopCleanup())
  // Asked before the ready line, so the hint comes with it.
  const needsAdministrator = !(await hasAdministrator(database.db))
  await app.listen({ host: config.host, port: config.port })
  const where = database.kind === 'embedded' ? `embedded database in ${config.dataDir}` : 'PostgreSQL server'
  // performance.now() counts from the process's start, module loading included. One write, so
  // whoever waits for the ready line has the hint with it.
  const ready = [`plusid is ready at ${config.publicUrl} (${where}, started in ${(performance.now() / 1000).toFixed(1)} s)`]
  if (needsAdministrator) {
    const stopFirst = database.kind === 'embedded' ? ' (stop the server first: the embedded database belongs to one process at a time)' : ''
    ready.push(`No administrator yet: create one with  npx plusid admin create --email you@example.com --password '…'${stopFirst}`)
  }
  console.log(ready.join('\n'))

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
  if (!(error instanceof StartError)) log.fatal({ err: error }, 'plusid could not start')
  console.error(`plusid could not start: ${(error as Error).message}`)
  process.exit(1)
}
