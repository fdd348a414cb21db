// Liveness and readiness for load balancers and orchestrators.
import type { FastifyInstance } from 'fastify'
import { checkReadiness } from '../readiness.ts'

export default async function healthRoutes(app: FastifyInstance) {
  // The process is up and serving: no dependency is checked, so a database outage does not get
  // every process restarted at once.
  app.get('/healthz', async (_request, reply) => reply.header('cache-control', 'no-store').send({ status: 'ok' }))

  // Ready to serve traffic: the database answers.
  app.get('/readyz', async (request, reply) => {
    reply.header('cache-control', 'no-store')
    try {
      await checkReadiness(app.db)
      return reply.send({ status: 'ready' })
    } catch (error) {
      request.log.warn({ err: error }, 'readiness check failed: database unreachable')
      return reply.code(503).send({ status: 'unavailable', reason: 'database unreachable' })
    }
  })
}
