// `npm run demo`: plusid and the demo shop (examples/shop) on this machine, with nothing but Node.
// plusid runs as its own process on the embedded database in data/demo (its master key generated
// there on first start); the shop's channel is registered and its items permitted through the
// plusid command line, once: its id and secret are kept in data/demo/shop-channel.json, so a
// second run reuses them. Ctrl-C stops both.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import readline from 'node:readline'
import { runCli } from '../src/cli/main.ts'
import { openDatabase } from '../src/storage/database.ts'

const DEMO_DIR = path.resolve('data/demo')
const PLUSID_PORT = Number(process.env.DEMO_PLUSID_PORT ?? 3000)
const SHOP_PORT = Number(process.env.DEMO_SHOP_PORT ?? 3001)
const PLUSID_URL = `http://localhost:${PLUSID_PORT}`
const SHOP_URL = `http://localhost:${SHOP_PORT}`
const CALLBACK_URL = `${SHOP_URL}/callback`
const CHANNEL_FILE = path.join(DEMO_DIR, 'shop-channel.json')
const ITEMS = ['email', 'real_name', 'gender', 'birthdate', 'phone', 'address']
const DEMO_USER = { email: 'hanako@example.com', password: 'hanako-demo-password', name: '花子' }
const DEMO_PROFILE = {
  family_name: '山田',
  given_name: '花子',
  family_name_pronunciation: 'ヤマダ',
  given_name_pronunciation: 'ハナコ',
  gender: 'female',
  birthdate: '1990-01-31',
  phone_number: '090-1234-5678',
  address: { postal_code: '102-8282', region: '東京都', locality: '千代田区紀尾井町', street_address: '1番3号', country: 'JP' },
}

// The demo always uses its own embedded database, whatever DATABASE_URL says; a master key given
// in PLUSID_MASTER_KEY is used, otherwise plusid keeps a generated one in data/demo/master.key.
const env: Record<string, string | undefined> = {
  ...process.env,
  DATABASE_URL: '',
  DATA_DIR: DEMO_DIR,
  PORT: String(PLUSID_PORT),
  HOST: 'localhost',
  PUBLIC_URL: PLUSID_URL,
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
}

interface ShopChannel {
  channel_id: string
  channel_secret: string
  callback_url: string
}

let shopModule: typeof import('../examples/shop/shop.ts')
try {
  shopModule = await import('../examples/shop/shop.ts')
} catch (error) {
  if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error
  console.error(`The demo shop needs the development dependencies (openid-client): run npm install first.\n${(error as Error).message}`)
  process.exit(1)
}

fs.mkdirSync(DEMO_DIR, { recursive: true })
const channel = await prepareDatabase()
const plusid = await startPlusid()
let shop: Awaited<ReturnType<typeof shopModule.buildShop>>
try {
  shop = await shopModule.buildShop({
    issuer: PLUSID_URL,
    clientId: channel.channel_id,
    clientSecret: channel.channel_secret,
    publicUrl: SHOP_URL,
    membersFile: path.join(DEMO_DIR, 'shop-members.json'),
  })
  await shop.listen({ host: 'localhost', port: SHOP_PORT })
} catch (error) {
  console.error(`The demo shop could not start: ${(error as Error).message}`)
  plusid.kill('SIGTERM')
  process.exit(1)
}

console.log(`
  Demo shop (さくら商店): ${SHOP_URL}
  plusid:                 ${PLUSID_URL}

  Open the shop and press "plusid で入力", then log in as ${DEMO_USER.email} / ${DEMO_USER.password} or register a new plusid account.
  Ctrl-C stops both.
`)

let stopping = false
async function stop(): Promise<void> {
  if (stopping) return
  stopping = true
  console.log('Stopping the shop and plusid…')
  await shop.close()
  if (plusid.exitCode === null) {
    plusid.kill('SIGTERM')
    await new Promise((resolve) => plusid.once('exit', resolve))
  }
  process.exit(0)
}
process.on('SIGINT', () => void stop())
process.on('SIGTERM', () => void stop())
plusid.once('exit', (code) => {
  if (stopping) return
  console.error(`plusid stopped (exit code ${code}); stopping the shop.`)
  void shop.close().then(() => process.exit(1))
})

/**
 * Registers the shop's channel and the demo user through the plusid command line, on one open
 * database (the embedded one belongs to one process at a time, so this runs before plusid starts).
 */
async function prepareDatabase(): Promise<ShopChannel> {
  const database = await openDatabase({ dataDir: DEMO_DIR })
  const cli = async (...argv: string[]): Promise<{ code: number; json: Record<string, unknown> }> => {
    let out = ''
    let err = ''
    const code = await runCli([...argv, '--json'], { stdout: (text) => (out += text), stderr: (text) => (err += text), env }, { database })
    return { code, json: JSON.parse((code === 0 ? out : err).trim().split('\n').at(-1) || '{}') as Record<string, unknown> }
  }
  try {
    let saved = readSavedChannel()
    // Permitting again is harmless and proves the saved channel still exists in this database.
    if (saved && (await cli('channel', 'permit', saved.channel_id, ...ITEMS)).code !== 0) saved = undefined
    if (!saved) {
      const created = await cli(
        'channel',
        'create',
        '--name',
        'さくら商店',
        '--provider',
        'Sakura Shop',
        '--callback-url',
        CALLBACK_URL,
        '--id-token-alg',
        'ES256',
        '--publish',
      )
      if (created.code !== 0) throw new Error(`plusid channel create failed: ${JSON.stringify(created.json)}`)
      saved = {
        channel_id: String(created.json.channel_id),
        channel_secret: String(created.json.channel_secret),
        callback_url: CALLBACK_URL,
      }
      const permitted = await cli('channel', 'permit', saved.channel_id, ...ITEMS)
      if (permitted.code !== 0) throw new Error(`plusid channel permit failed: ${JSON.stringify(permitted.json)}`)
      fs.writeFileSync(CHANNEL_FILE, JSON.stringify(saved, null, 2) + '\n', { mode: 0o600 })
      console.log(`Registered the shop's channel ${saved.channel_id} (kept in ${path.relative('.', CHANNEL_FILE)}).`)
    }
    const profileFile = path.join(DEMO_DIR, 'hanako-profile.json')
    fs.writeFileSync(profileFile, JSON.stringify(DEMO_PROFILE) + '\n')
    const user = await cli(
      'user',
      'create',
      '--email',
      DEMO_USER.email,
      '--password',
      DEMO_USER.password,
      '--name',
      DEMO_USER.name,
      '--profile',
      profileFile,
    )
    if (user.code !== 0 && user.json.error !== 'email_taken') throw new Error(`plusid user create failed: ${JSON.stringify(user.json)}`)
    return saved
  } finally {
    await database.close()
  }
}

/** A saved channel, if it was made for this callback URL (another DEMO_SHOP_PORT needs another). */
function readSavedChannel(): ShopChannel | undefined {
  if (!fs.existsSync(CHANNEL_FILE)) return undefined
  const saved = JSON.parse(fs.readFileSync(CHANNEL_FILE, 'utf8')) as ShopChannel
  return saved.callback_url === CALLBACK_URL ? saved : undefined
}

/** Starts `npm start`'s entry as a child process and resolves when it prints that it is ready. */
async function startPlusid(): Promise<ChildProcess> {
  // Its own process group: Ctrl-C reaches only this script, which stops plusid exactly once.
  // As `npm start` runs it: the compiled server (built now unless current), no TypeScript loader.
  const built = spawnSync(process.execPath, ['scripts/build.js'], { stdio: 'inherit' })
  if (built.status !== 0) throw new Error('building the server failed')
  const child = spawn(process.execPath, ['dist/server.js'], { env, stdio: ['ignore', 'pipe', 'inherit'], detached: true })
  process.on('exit', () => {
    if (child.exitCode === null) child.kill('SIGTERM')
  })
  const lines = readline.createInterface({ input: child.stdout! })
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`plusid exited with code ${code} before it was ready`)))
    lines.on('line', (line) => {
      if (line.startsWith('plusid is ready at')) resolve()
      else console.log(`[plusid] ${line}`)
    })
  }).catch((error: Error) => {
    console.error(error.message)
    process.exit(1)
  })
  return child
}
