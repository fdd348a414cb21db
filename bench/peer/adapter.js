// A PostgreSQL adapter for oidc-provider, for the side-by-side bench only: one table keyed by
// (model, id) holding each model's payload as jsonb, the way oidc-provider's documentation
// sketches a SQL adapter. Every statement is counted, so the bench can report statements per flow.
import pg from 'pg'

export const counter = { queries: 0 }
let pool

export async function connect(databaseUrl) {
  pool = new pg.Pool({ connectionString: databaseUrl, max: 10 })
  await query(`CREATE TABLE IF NOT EXISTS oidc_payloads (
    model text NOT NULL, id text NOT NULL, payload jsonb NOT NULL,
    grant_id text, user_code text, uid text, expires_at timestamptz, consumed_at timestamptz,
    PRIMARY KEY (model, id))`)
  await query('CREATE INDEX IF NOT EXISTS oidc_payloads_grant ON oidc_payloads (grant_id)')
  await query('CREATE INDEX IF NOT EXISTS oidc_payloads_uid ON oidc_payloads (uid)')
  await query('CREATE INDEX IF NOT EXISTS oidc_payloads_user_code ON oidc_payloads (user_code)')
  await query('CREATE TABLE IF NOT EXISTS peer_accounts (id text PRIMARY KEY, claims jsonb NOT NULL)')
}

export async function query(text, values) {
  counter.queries++
  return pool.query(text, values)
}

export const close = () => pool.end()

const live = 'AND (expires_at IS NULL OR expires_at > now())'
const payloadOf = (row) => row && { ...row.payload, ...(row.consumed_at ? { consumed: Math.floor(row.consumed_at.getTime() / 1000) } : {}) }

export class PostgresAdapter {
  constructor(model) {
    this.model = model
  }

  async upsert(id, payload, expiresIn) {
    await query(
      `INSERT INTO oidc_payloads (model, id, payload, grant_id, user_code, uid, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (model, id) DO UPDATE SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id,
         user_code = EXCLUDED.user_code, uid = EXCLUDED.uid, expires_at = EXCLUDED.expires_at`,
      [
        this.model,
        id,
        payload,
        payload.grantId ?? null,
        payload.userCode ?? null,
        payload.uid ?? null,
        expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
      ],
    )
  }

  async find(id) {
    const { rows } = await query(`SELECT payload, consumed_at FROM oidc_payloads WHERE model = $1 AND id = $2 ${live}`, [this.model, id])
    return payloadOf(rows[0])
  }

  async findByUid(uid) {
    const { rows } = await query(`SELECT payload, consumed_at FROM oidc_payloads WHERE model = $1 AND uid = $2 ${live}`, [this.model, uid])
    return payloadOf(rows[0])
  }

  async findByUserCode(userCode) {
    const { rows } = await query(`SELECT payload, consumed_at FROM oidc_payloads WHERE model = $1 AND user_code = $2 ${live}`, [
      this.model,
      userCode,
    ])
    return payloadOf(rows[0])
  }

  async consume(id) {
    await query('UPDATE oidc_payloads SET consumed_at = now() WHERE model = $1 AND id = $2', [this.model, id])
  }

  async destroy(id) {
    await query('DELETE FROM oidc_payloads WHERE model = $1 AND id = $2', [this.model, id])
  }

  async revokeByGrantId(grantId) {
    await query('DELETE FROM oidc_payloads WHERE grant_id = $1', [grantId])
  }
}
