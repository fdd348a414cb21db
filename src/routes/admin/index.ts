// Administration: the review queue, channels (suspend a channel or an item), users, API tokens and
// the audit log — as HTML pages for an administrator's session (pages.ts), and as a JSON API under
// /admin/api/ for an administrator's session or API token (api.ts). Anyone else gets 403. Each
// handler parses, calls one use case under src/admin (or src/console/review.ts) and renders.
import type { FastifyInstance } from 'fastify'
import type { User } from '../../admin/users.ts'
import adminPages from './pages.ts'
import adminApi, { type AdminApiOptions } from './api.ts'

export default async function adminRoutes(app: FastifyInstance, options: AdminApiOptions) {
  await app.register(adminPages)
  await app.register(adminApi, { ...options, prefix: '/admin/api' })
}

declare module 'fastify' {
  interface FastifyRequest {
    adminUser?: User
    adminActorKind?: 'api' | 'admin'
  }
}
