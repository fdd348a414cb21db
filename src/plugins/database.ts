// Gives every route `app.database` (and `app.db`, its Kysely). A database the app opened itself
// is closed with the app; one handed in (tests share one per process) is left to its owner.
import fp from 'fastify-plugin'
import type { Kysely } from 'kysely'
import type { Database } from '../storage/database.ts'
import type { DB } from '../storage/schema.ts'

declare module 'fastify' {
  interface FastifyInstance {
    database: Database
    db: Kysely<DB>
  }
}

export default fp<{ database: Database; closeWithApp: boolean }>(
  async (app, { database, closeWithApp }) => {
    app.decorate('database', database)
    app.decorate('db', database.db)
    if (closeWithApp) app.addHook('onClose', () => database.close())
  },
  { name: 'plusid-database' },
)
