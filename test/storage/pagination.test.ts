// Paginated lists (users, channels, audit log, review queue) stay fast with 100,000 rows: each page
// is one query that an index serves — no sequential scan of the big table, no count — and its
// cursor leads to the next page without re-reading the pages before it (keyset, not OFFSET).
//
// Every list function is run once while its SQL and parameters are captured (watchQueries); that
// exact statement is then EXPLAINed (ANALYZE, FORMAT JSON) with the same parameters, and the plan is
// checked: the expected index is scanned, no big table is read sequentially, nothing is aggregated,
// and the rows read stay near the page size however deep the cursor (for a prefix search, near the
// number of matching rows). A page's duration is only a soft check.
import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { test, type TestContext } from 'node:test'
import { sql } from 'kysely'
import { testDatabase } from '../helpers/database.ts'
import { keyring } from '../../src/crypto/keyring.ts'
import { installKeyring } from '../../src/storage/data-keys.ts'
import { listApplications } from '../../src/storage/applications.ts'
import { listAudit } from '../../src/storage/audit.ts'
import { searchChannels, searchUsers } from '../../src/storage/console.ts'

const database = await testDatabase()
await installKeyring(database.db, randomBytes(32))

const ROWS = 100_000
/** Applications are fewer (their seeding costs PGlite as much as a big table): the queue holds half. */
const APPLICATIONS = 20_000
const PAGE = 50
/** Soft sanity bound for one page query, on PGlite too; the plan is the real assertion. */
const PAGE_QUERY_MS = 200
const BIG_TABLES = ['users', 'channels', 'audit_log', 'permission_applications']
const ACTOR = '00000000-0000-4000-8000-000000000001'
const OBJECT = '1000000007'

// ---------- seeding: set-based INSERT ... SELECT, then ANALYZE ----------

const seedStarted = performance.now()

// Users: emails are sealed (AES-GCM with the row's id as associated data) and found by their HMAC,
// so they are made here, in chunks bound as arrays. Ten first names (some capitalised, as entered);
// created_at in groups of three equal instants, so the id tiebreak of the keyset matters.
const FIRST_NAMES = ['Hanako', 'taro', 'Jiro', 'yuki', 'Aiko', 'ken', 'Sora', 'mei', 'Riku', 'nao']
const seededEmail = (i: number) => `${FIRST_NAMES[i % 10]}.${String(i).padStart(6, '0')}@example.com`
for (let start = 1; start <= ROWS; start += 10_000) {
  const ids: string[] = []
  const emails: string[] = []
  const hmacs: Buffer[] = []
  const created: Date[] = []
  for (let i = start; i < Math.min(start + 10_000, ROWS + 1); i++) {
    const id = randomUUID()
    ids.push(id)
    emails.push(keyring().seal(seededEmail(i), `users.email:${id}`))
    hmacs.push(keyring().emailHmac(seededEmail(i)))
    created.push(new Date(Date.UTC(2023, 0, 1) + Math.floor(i / 3) * 60_000))
  }
  await sql`
    INSERT INTO users (id, email, email_hmac, password_hash, display_name, created_at, updated_at)
    SELECT id, email, hmac, '$argon2id$v=19$m=19456,t=2,p=1$c2VlZA$c2VlZA', 'User', created, created
    FROM unnest(${ids}::uuid[], ${emails}::text[], ${hmacs}::bytea[], ${created}::timestamptz[]) AS u(id, email, hmac, created)`.execute(
    database.db,
  )
}
await database.withRawConnection((c) =>
  c.exec(`
    INSERT INTO providers (id, name, pairwise_secret)
    SELECT gen_random_uuid(), 'Provider ' || p, decode(md5(p::text), 'hex') FROM generate_series(1, 5) p;

    INSERT INTO channels (id, provider_id, name, kind, callback_urls, id_token_alg, status, created_at, updated_at)
    SELECT (1000000000 + i)::text, p.ids[i % 5 + 1],
           (ARRAY['Alpha','Beta','Gamma','Delta','Epsilon','Zeta','Eta','Theta','Iota','Kappa'])[i % 10 + 1] || ' Shop ' || i,
           'web', ARRAY['https://rp' || i || '.example.com/callback'], 'ES256', 'published',
           timestamptz '2023-01-01 00:00:00+00' + (i / 3) * interval '1 minute',
           timestamptz '2023-01-01 00:00:00+00' + (i / 3) * interval '1 minute'
    FROM generate_series(1, ${ROWS}) i,
         (SELECT array_agg(id ORDER BY name) AS ids FROM providers) p;

    -- Ids follow i (a fresh bigserial). 'channel.suspend' is rare (100 rows), 'user.login' common (40%);
    -- one actor and one object own a few hundred rows each.
    INSERT INTO audit_log (at, actor_id, actor_kind, action, object_type, object_id, ip, details)
    SELECT timestamptz '2023-01-01 00:00:00+00' + i * interval '10 seconds',
           CASE WHEN i % 500 = 1 THEN '${ACTOR}'::uuid WHEN i % 2 = 0 THEN gen_random_uuid() END,
           'user',
           CASE WHEN i % 1000 = 999 THEN 'channel.suspend'
                ELSE (ARRAY['user.login','user.login','user.login','user.login','consent.grant','consent.grant',
                            'profile.update','user.register','application.apply','channel.create'])[i % 10 + 1] END,
           CASE WHEN i % 7 = 0 THEN 'channel' END,
           CASE WHEN i % 250 = 7 THEN '${OBJECT}' WHEN i % 7 = 0 THEN (1000000000 + i)::text END,
           '192.0.2.' || (i % 250),
           '{}'
    FROM generate_series(1, ${ROWS}) i;

    -- Applications of the first channels; half of them wait in the queue ('applied'), four at a time
    -- on one instant.
    INSERT INTO permission_applications (id, channel_id, item, purpose, policy_url, state, created_at, decided_at)
    SELECT gen_random_uuid(), (1000000000 + i)::text,
           (ARRAY['email','real_name','gender','birthdate','phone','address'])[i % 6 + 1],
           'To send receipts', 'https://rp' || i || '.example.com/privacy',
           CASE WHEN i % 2 = 0 THEN 'applied' ELSE (ARRAY['approved','rejected','suspended'])[i % 3 + 1] END,
           timestamptz '2023-01-01 00:00:00+00' + (i / 8) * interval '1 minute',
           CASE WHEN i % 2 = 1 THEN timestamptz '2024-01-01 00:00:00+00' END
    FROM generate_series(1, ${APPLICATIONS}) i;

    ANALYZE providers, users, channels, audit_log, permission_applications;
  `),
)
const seedMs = performance.now() - seedStarted

// ---------- capturing a page query and explaining it ----------

interface CapturedQuery {
  sql: string
  parameters: unknown[]
  ms: number
}

/** Runs `fn`, returning its result and every query it sent (with Kysely's measured duration). */
async function capture<T>(fn: () => Promise<T>): Promise<{ result: T; queries: CapturedQuery[] }> {
  const queries: CapturedQuery[] = []
  const stop = database.watchQueries((event) => {
    if (event.level === 'query')
      queries.push({ sql: event.query.sql, parameters: [...event.query.parameters], ms: event.queryDurationMillis })
  })
  try {
    return { result: await fn(), queries }
  } finally {
    stop()
  }
}

interface PlanNode {
  'Node Type': string
  'Relation Name'?: string
  'Index Name'?: string
  'Index Cond'?: string
  Filter?: string
  'Actual Rows'?: number
  'Actual Loops'?: number
  'Rows Removed by Filter'?: number
  'Rows Removed by Index Recheck'?: number
  Plans?: PlanNode[]
}

function nodesOf(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(nodesOf)]
}

/** One line per node, indented: for failure messages and diagnostics. */
function describePlan(node: PlanNode, depth = 0): string {
  const parts = [node['Node Type']]
  if (node['Index Name']) parts.push(`using ${node['Index Name']}`)
  if (node['Relation Name']) parts.push(`on ${node['Relation Name']}`)
  if (node['Actual Rows'] !== undefined) parts.push(`(rows=${node['Actual Rows']} loops=${node['Actual Loops']})`)
  if (node['Index Cond']) parts.push(`Index Cond: ${node['Index Cond']}`)
  if (node.Filter) parts.push(`Filter: ${node.Filter}`)
  if (node['Rows Removed by Filter']) parts.push(`Rows Removed by Filter: ${node['Rows Removed by Filter']}`)
  return [`${'  '.repeat(depth)}-> ${parts.join(' ')}`, ...(node.Plans ?? []).map((child) => describePlan(child, depth + 1))].join('\n')
}

/** EXPLAIN (ANALYZE, FORMAT JSON) of the captured statement, with its own parameters. */
async function explain(query: CapturedQuery): Promise<PlanNode> {
  const rows = await database.withRawConnection((c) =>
    c.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${query.sql}`, query.parameters),
  )
  const raw = rows[0]!['QUERY PLAN']
  const document = (typeof raw === 'string' ? JSON.parse(raw) : raw) as [{ Plan: PlanNode }]
  return document[0].Plan
}

/** Rows the plan read from the big tables, filtered-out ones included (actual, over all loops). */
function rowsRead(plan: PlanNode): number {
  return nodesOf(plan)
    .filter((node) => node['Relation Name'] !== undefined && BIG_TABLES.includes(node['Relation Name']))
    .reduce(
      (sum, node) =>
        sum +
        ((node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0)) *
          (node['Actual Loops'] ?? 1),
      0,
    )
}

interface PlanExpectation {
  /** The page must be read through one of these indexes... */
  index: string | readonly string[]
  /** ...over a range of it (an Index Cond), not by walking the whole index and filtering. */
  ranged?: boolean
  /** At most this many rows read from the big tables, filtered-out ones included. */
  maxRowsRead: number
  /** The index also gives the order: no Sort node. */
  indexOrder?: boolean
}

/**
 * Runs one page through `fn`, checks it is a single statement, EXPLAINs that very statement with
 * its parameters and checks the plan; the statement's own duration is a soft bound (best of three).
 */
async function checkPlan(t: TestContext, fn: () => Promise<unknown>, expected: PlanExpectation): Promise<void> {
  const { queries } = await capture(fn)
  assert.equal(queries.length, 1, `one statement per page, got ${queries.map((q) => q.sql).join(' ; ')}`)
  const query = queries[0]!
  const plan = await explain(query)
  const nodes = nodesOf(plan)
  const read = rowsRead(plan)
  const shown = `${query.sql}\nparameters: ${JSON.stringify(query.parameters)}\n${describePlan(plan)}\nrows read from the big tables: ${read}`
  for (const line of shown.split('\n')) t.diagnostic(line)
  // Soft: the statement as the application runs it, best of three (checked last: the plan matters more).
  const times = [query.ms]
  for (let i = 0; i < 2; i++) times.push((await capture(fn)).queries[0]!.ms)
  const best = Math.min(...times)
  t.diagnostic(`page query: ${best.toFixed(1)} ms (best of ${times.map((ms) => ms.toFixed(1)).join(', ')})`)

  const indexes: readonly string[] = typeof expected.index === 'string' ? [expected.index] : expected.index
  const scans = nodes.filter(
    (node) =>
      ['Index Scan', 'Index Only Scan', 'Bitmap Index Scan'].includes(node['Node Type']) && indexes.includes(node['Index Name'] ?? ''),
  )
  assert.ok(scans.length > 0, `the plan scans none of ${indexes.join(', ')}\n${shown}`)
  if (expected.ranged)
    assert.ok(
      scans.some((node) => node['Index Cond']),
      `the plan walks ${scans[0]!['Index Name']} whole instead of a range of it\n${shown}`,
    )
  const seqScans = nodes.filter((node) => node['Node Type'] === 'Seq Scan' && BIG_TABLES.includes(node['Relation Name'] ?? ''))
  assert.deepEqual(
    seqScans.map((node) => node['Relation Name']),
    [],
    `sequential scan of a big table\n${shown}`,
  )
  const aggregates = nodes.filter((node) => /Aggregate/.test(node['Node Type']))
  assert.deepEqual(
    aggregates.map((node) => node['Node Type']),
    [],
    `the page query aggregates (counts) rows\n${shown}`,
  )
  if (expected.indexOrder) {
    const sorts = nodes.filter((node) => /Sort/.test(node['Node Type']))
    assert.deepEqual(
      sorts.map((node) => node['Node Type']),
      [],
      `the index should give the order, yet the plan sorts\n${shown}`,
    )
  }
  assert.ok(
    read <= expected.maxRowsRead,
    `read ${read} rows of the big tables for one page (at most ${expected.maxRowsRead} expected)\n${shown}`,
  )

  assert.ok(best < PAGE_QUERY_MS, `the page query took ${best.toFixed(1)} ms (soft bound ${PAGE_QUERY_MS} ms)\n${shown}`)
}

interface Keyed {
  createdAt: Date
  id: string
}

/** Keyset order of the console lists: newest first by (createdAt, id). */
function newerFirst(a: Keyed, b: Keyed): boolean {
  return a.createdAt.getTime() > b.createdAt.getTime() || (a.createdAt.getTime() === b.createdAt.getTime() && a.id > b.id)
}

function assertStrictly<T>(items: readonly T[], before: (a: T, b: T) => boolean, label: string): void {
  for (let i = 1; i < items.length; i++) assert.ok(before(items[i - 1]!, items[i]!), `${label}: rows ${i - 1} and ${i} are out of order`)
}

const ids = (items: readonly { id: string }[]) => items.map((item) => item.id)
const auditIds = (page: { items: readonly { id: string }[] }) => page.items.map((item) => Number(item.id))
const countdown = (from: number, step: number, length = PAGE) => Array.from({ length }, (_, i) => from - i * step)

/** `count` rows of a keyset list from position `offset` (0-based), by the list's own ORDER BY. */
async function keysetRows(table: 'users' | 'channels', offset: number, count: number): Promise<{ created_at: Date; id: string }[]> {
  const result = await sql<{ created_at: Date; id: string }>`
    SELECT created_at, id FROM ${sql.table(table)} ORDER BY created_at DESC, id DESC OFFSET ${offset} LIMIT ${count}`.execute(database.db)
  return result.rows
}

test('the seed: 100,000 users, channels and audit entries, 20,000 applications', async (t) => {
  t.diagnostic(`seeded in ${(seedMs / 1000).toFixed(1)} s on ${database.kind}`)
  const counts = await sql<{ users: string; channels: string; audit: string; applications: string }>`
    SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM channels) AS channels,
           (SELECT count(*) FROM audit_log) AS audit, (SELECT count(*) FROM permission_applications) AS applications`.execute(database.db)
  assert.deepEqual(
    counts.rows.map((row) => [row.users, row.channels, row.audit, row.applications].map(Number)),
    [[ROWS, ROWS, ROWS, APPLICATIONS]],
  )
})

// ---------- users ----------

test('users, newest first: keyset pages through users_created_idx', async (t) => {
  const head = await keysetRows('users', 0, 2 * PAGE)
  const deep = await keysetRows('users', 90_000, PAGE + 1)
  const last = { createdAt: head[PAGE - 1]!.created_at, id: head[PAGE - 1]!.id }
  const far = { createdAt: deep[0]!.created_at, id: deep[0]!.id }

  await t.test('pages hold the right rows, in order, each page after the one before', async () => {
    const page1 = await searchUsers(database.db, '', { limit: PAGE })
    assert.equal(page1.length, PAGE)
    assertStrictly(page1, newerFirst, 'page 1')
    assert.deepEqual(ids(page1), ids(head.slice(0, PAGE)))
    const page2 = await searchUsers(database.db, '', {
      after: { createdAt: page1[PAGE - 1]!.createdAt, id: page1[PAGE - 1]!.id },
      limit: PAGE,
    })
    assert.equal(page2.length, PAGE)
    assertStrictly([...page1, ...page2], newerFirst, 'page 1 then page 2')
    assert.deepEqual(ids(page2), ids(head.slice(PAGE)), 'page 2 follows page 1, no row skipped or repeated')
    assert.deepEqual(ids(await searchUsers(database.db, '', { after: far, limit: PAGE })), ids(deep.slice(1)))
  })
  const expected = { index: 'users_created_idx', maxRowsRead: PAGE, indexOrder: true }
  await t.test('plan of page 1', (t) => checkPlan(t, () => searchUsers(database.db, '', { limit: PAGE }), expected))
  await t.test('plan of page 2', (t) =>
    checkPlan(t, () => searchUsers(database.db, '', { after: last, limit: PAGE }), { ...expected, ranged: true }),
  )
  await t.test('plan of the page after row 90,000', (t) =>
    checkPlan(t, () => searchUsers(database.db, '', { after: far, limit: PAGE }), { ...expected, ranged: true }),
  )
})

test('a user by exact email: one lookup in users_email_hmac_key, case ignored', async (t) => {
  await t.test('the account of that email, whatever its case; none for an unknown one', async () => {
    assert.deepEqual(
      (await searchUsers(database.db, 'HANAKO.000010@EXAMPLE.COM', { limit: PAGE })).map((user) => user.email),
      [seededEmail(10)],
    )
    assert.deepEqual(await searchUsers(database.db, 'nobody@example.com', { limit: PAGE }), [])
  })
  await t.test('plan', (t) =>
    checkPlan(t, () => searchUsers(database.db, 'yuki.000013@example.com', { limit: PAGE }), {
      index: 'users_email_hmac_key',
      maxRowsRead: 1,
    }),
  )
})

// ---------- channels ----------

test('channels, newest first: keyset pages through channels_created_idx', async (t) => {
  const head = await keysetRows('channels', 0, 2 * PAGE)
  const deep = await keysetRows('channels', 90_000, PAGE + 1)
  const last = { createdAt: head[PAGE - 1]!.created_at, id: head[PAGE - 1]!.id }
  const far = { createdAt: deep[0]!.created_at, id: deep[0]!.id }
  const keyed = (rows: readonly { created_at: Date; id: string }[]) => rows.map((row) => ({ createdAt: row.created_at, id: row.id }))

  await t.test('pages hold the right rows, in order, each page after the one before', async () => {
    const page1 = await searchChannels(database.db, '', { limit: PAGE })
    assert.equal(page1.length, PAGE)
    assertStrictly(keyed(page1), newerFirst, 'page 1')
    assert.deepEqual(ids(page1), ids(head.slice(0, PAGE)))
    for (const channel of page1) assert.match(channel.provider_name, /^Provider [1-5]$/)
    const page2 = await searchChannels(database.db, '', {
      after: { createdAt: page1[PAGE - 1]!.created_at, id: page1[PAGE - 1]!.id },
      limit: PAGE,
    })
    assert.equal(page2.length, PAGE)
    assertStrictly(keyed([...page1, ...page2]), newerFirst, 'page 1 then page 2')
    assert.deepEqual(ids(page2), ids(head.slice(PAGE)), 'page 2 follows page 1, no row skipped or repeated')
    assert.deepEqual(ids(await searchChannels(database.db, '', { after: far, limit: PAGE })), ids(deep.slice(1)))
  })
  // The providers join reads one provider per channel of the page (a small table: not counted).
  const expected = { index: 'channels_created_idx', maxRowsRead: PAGE, indexOrder: true }
  await t.test('plan of page 1', (t) => checkPlan(t, () => searchChannels(database.db, '', { limit: PAGE }), expected))
  await t.test('plan of page 2', (t) =>
    checkPlan(t, () => searchChannels(database.db, '', { after: last, limit: PAGE }), { ...expected, ranged: true }),
  )
  await t.test('plan of the page after row 90,000', (t) =>
    checkPlan(t, () => searchChannels(database.db, '', { after: far, limit: PAGE }), { ...expected, ranged: true }),
  )
})

test('channels by name prefix or id: channels_name_idx, channels_pkey', async (t) => {
  // Seeded names: <Greek letter by i % 10> Shop <i>.
  const names = (letter: string, matches: (i: number) => boolean) =>
    Array.from({ length: ROWS }, (_, k) => k + 1)
      .filter((i) => matches(i))
      .map((i) => `${letter} Shop ${i}`)
      .sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1))

  await t.test('a page of the matching channels, ordered by name; an id finds its channel', async () => {
    const alpha = await searchChannels(database.db, 'ALPHA shop 1', { limit: PAGE })
    assert.deepEqual(
      alpha.map((channel) => channel.name),
      names('Alpha', (i) => i % 10 === 0 && String(i).startsWith('1')).slice(0, PAGE),
    )
    const kappa = await searchChannels(database.db, 'kappa SHOP 9', { limit: PAGE })
    assert.deepEqual(
      kappa.map((channel) => channel.name),
      names('Kappa', (i) => i % 10 === 9 && String(i).startsWith('9')).slice(0, PAGE),
    )
    assert.deepEqual(await searchChannels(database.db, 'zz', { limit: PAGE }), [])
    const byId = await searchChannels(database.db, '1000054321', { limit: PAGE })
    assert.deepEqual(
      byId.map((channel) => [channel.id, channel.name]),
      [['1000054321', 'Beta Shop 54321']],
    )
  })
  // Ordering by lower(name) cannot come from a text_pattern_ops index: the matches are sorted, so
  // the bound is the number of matches, not the page.
  const expected = { index: 'channels_name_idx', ranged: true }
  await t.test('plan of "ALPHA shop 1" (1,112 matches)', (t) =>
    checkPlan(t, () => searchChannels(database.db, 'ALPHA shop 1', { limit: PAGE }), { ...expected, maxRowsRead: 1_112 }),
  )
  await t.test('plan of "kappa SHOP 9" (1,112 matches, late in the alphabet)', (t) =>
    checkPlan(t, () => searchChannels(database.db, 'kappa SHOP 9', { limit: PAGE }), { ...expected, maxRowsRead: 1_112 }),
  )
  await t.test('plan of "a" (10,000 matches)', (t) =>
    checkPlan(t, () => searchChannels(database.db, 'a', { limit: PAGE }), { ...expected, maxRowsRead: 10_000 }),
  )
  await t.test('plan of "zz" (no match)', (t) =>
    checkPlan(t, () => searchChannels(database.db, 'zz', { limit: PAGE }), { ...expected, maxRowsRead: 0 }),
  )
  await t.test('plan of an exact id', (t) =>
    checkPlan(t, () => searchChannels(database.db, '1000054321', { limit: PAGE }), {
      index: 'channels_pkey',
      ranged: true,
      maxRowsRead: 1,
    }),
  )
})

// ---------- audit log ----------

test('the audit log, newest first: pages through audit_log_pkey by id', async (t) => {
  await t.test('pages hold the right entries, newest first, each page after the one before', async () => {
    const page1 = await listAudit(database.db, {}, { limit: PAGE })
    assert.deepEqual(auditIds(page1), countdown(ROWS, 1), 'the newest entries, newest first')
    assert.equal(page1.next, String(ROWS - PAGE + 1))
    const page2 = await listAudit(database.db, {}, { before: page1.next!, limit: PAGE })
    assert.deepEqual(auditIds(page2), countdown(ROWS - PAGE, 1), 'page 2 continues where page 1 stopped')
    assert.deepEqual(auditIds(await listAudit(database.db, {}, { before: '1000', limit: PAGE })), countdown(999, 1))
    const end = await listAudit(database.db, {}, { before: '30', limit: PAGE })
    assert.deepEqual([auditIds(end), end.next], [countdown(29, 1, 29), null], 'the last page has no next')
  })
  // listAudit reads one row more than the page to know whether there is a next page.
  const expected = { index: 'audit_log_pkey', maxRowsRead: PAGE + 1, indexOrder: true }
  await t.test('plan of page 1', (t) => checkPlan(t, () => listAudit(database.db, {}, { limit: PAGE }), expected))
  await t.test('plan of page 2', (t) =>
    checkPlan(t, () => listAudit(database.db, {}, { before: String(ROWS - PAGE + 1), limit: PAGE }), { ...expected, ranged: true }),
  )
  await t.test('plan of the page before id 1000', (t) =>
    checkPlan(t, () => listAudit(database.db, {}, { before: '1000', limit: PAGE }), { ...expected, ranged: true }),
  )
})

test('the audit log by action, actor or object', async (t) => {
  await t.test('pages hold the matching entries, newest first, each page after the one before', async () => {
    const logins1 = await listAudit(database.db, { action: 'user.login' }, { limit: PAGE })
    const logins2 = await listAudit(database.db, { action: 'user.login' }, { before: logins1.next!, limit: PAGE })
    for (const item of [...logins1.items, ...logins2.items]) assert.equal(item.action, 'user.login')
    const expected = await sql<{
      id: string
    }>`SELECT id FROM audit_log WHERE action = 'user.login' ORDER BY id DESC LIMIT ${2 * PAGE}`.execute(database.db)
    assert.deepEqual(
      [...auditIds(logins1), ...auditIds(logins2)],
      expected.rows.map((row) => Number(row.id)),
    )
    assert.equal(logins1.next, logins1.items[PAGE - 1]!.id)

    const suspensions = await listAudit(database.db, { action: 'channel.suspend' }, { before: '60000', limit: 20 })
    assert.deepEqual(auditIds(suspensions), countdown(59_999, 1000, 20))
    assert.equal(suspensions.next, '40999')
    const rest = await listAudit(database.db, { action: 'channel.suspend' }, { before: suspensions.next!, limit: PAGE })
    assert.deepEqual([auditIds(rest), rest.next], [countdown(39_999, 1000, 40), null])

    const byActor = await listAudit(database.db, { actorId: ACTOR }, { before: '50000', limit: PAGE })
    assert.deepEqual(auditIds(byActor), countdown(49_501, 500))
    for (const item of byActor.items) assert.equal(item.actorId, ACTOR)
    const byObject1 = await listAudit(database.db, { objectId: OBJECT }, { limit: PAGE })
    const byObject2 = await listAudit(database.db, { objectId: OBJECT }, { before: byObject1.next!, limit: PAGE })
    assert.deepEqual([...auditIds(byObject1), ...auditIds(byObject2)], countdown(99_757, 250, 2 * PAGE))
  })
  // A common action (40% of rows) may as well be read newest first through the primary key,
  // skipping the other actions: a few pages' worth of rows, not the table.
  const common = { index: ['audit_log_action_idx', 'audit_log_pkey'], maxRowsRead: 4 * PAGE }
  await t.test('plan of user.login (40%), page 1', (t) =>
    checkPlan(t, () => listAudit(database.db, { action: 'user.login' }, { limit: PAGE }), common),
  )
  await t.test('plan of user.login (40%), before id 50000', (t) =>
    checkPlan(t, () => listAudit(database.db, { action: 'user.login' }, { before: '50000', limit: PAGE }), common),
  )
  // A rare action (100 rows) must come from audit_log_action_idx: at most its rows, never the log.
  const rare = { index: 'audit_log_action_idx', ranged: true, maxRowsRead: 100 }
  await t.test('plan of channel.suspend (0.1%), page 1', (t) =>
    checkPlan(t, () => listAudit(database.db, { action: 'channel.suspend' }, { limit: 20 }), rare),
  )
  await t.test('plan of channel.suspend (0.1%), before id 60000', (t) =>
    checkPlan(t, () => listAudit(database.db, { action: 'channel.suspend' }, { before: '60000', limit: 20 }), rare),
  )
  await t.test('plan of an actor (200 rows), before id 50000', (t) =>
    checkPlan(t, () => listAudit(database.db, { actorId: ACTOR }, { before: '50000', limit: PAGE }), {
      index: 'audit_log_actor_idx',
      ranged: true,
      maxRowsRead: 200,
    }),
  )
  await t.test('plan of an object (400 rows), page 2', (t) =>
    checkPlan(t, () => listAudit(database.db, { objectId: OBJECT }, { before: String(99_757 - (PAGE - 1) * 250), limit: PAGE }), {
      index: 'audit_log_object_idx',
      ranged: true,
      maxRowsRead: 400,
    }),
  )
})

// ---------- the review queue ----------

test('the review queue (applied), oldest first: keyset pages through permission_applications_queue_idx', async (t) => {
  const rows = async (offset: number, count: number) =>
    (
      await sql<{ created_at: Date; id: string }>`
      SELECT created_at, id FROM permission_applications WHERE state = 'applied' ORDER BY created_at, id OFFSET ${offset} LIMIT ${count}`.execute(
        database.db,
      )
    ).rows
  const head = await rows(0, 2 * PAGE)
  const deep = await rows(8_000, PAGE + 1)
  const last = { createdAt: head[PAGE - 1]!.created_at, id: head[PAGE - 1]!.id }
  const far = { createdAt: deep[0]!.created_at, id: deep[0]!.id }
  const olderFirst = (a: Keyed, b: Keyed) => newerFirst(b, a)

  await t.test('pages hold the right applications, in order, each page after the one before', async () => {
    const page1 = await listApplications(database.db, 'applied', { limit: PAGE })
    assert.equal(page1.length, PAGE)
    for (const application of page1) assert.equal(application.state, 'applied')
    assertStrictly(page1, olderFirst, 'page 1')
    assert.deepEqual(ids(page1), ids(head.slice(0, PAGE)))
    assert.match(page1[0]!.providerName, /^Provider [1-5]$/)
    const page2 = await listApplications(database.db, 'applied', {
      after: { createdAt: page1[PAGE - 1]!.createdAt, id: page1[PAGE - 1]!.id },
      limit: PAGE,
    })
    assert.equal(page2.length, PAGE)
    assertStrictly([...page1, ...page2], olderFirst, 'page 1 then page 2')
    assert.deepEqual(ids(page2), ids(head.slice(PAGE)), 'page 2 follows page 1, no row skipped or repeated')
    assert.deepEqual(ids(await listApplications(database.db, 'applied', { after: far, limit: PAGE })), ids(deep.slice(1)))
  })
  // Each application of the page joins its channel by primary key: twice the page size at most.
  const expected = { index: 'permission_applications_queue_idx', ranged: true, maxRowsRead: 2 * PAGE, indexOrder: true }
  await t.test('plan of page 1', (t) => checkPlan(t, () => listApplications(database.db, 'applied', { limit: PAGE }), expected))
  await t.test('plan of page 2', (t) =>
    checkPlan(t, () => listApplications(database.db, 'applied', { after: last, limit: PAGE }), expected),
  )
  // 10,000 applications wait: a cursor at the 8,000th must not read the 8,000 before it.
  await t.test('plan of the page after row 8,000', (t) =>
    checkPlan(t, () => listApplications(database.db, 'applied', { after: far, limit: PAGE }), expected),
  )
})
