// The `plusid` command line (docs/cli.md). Every command reads the same environment as the
// server; `--json` prints one JSON object on stdout; errors go to stderr with a non-zero exit.
import { english, englishIssue, isMessageKey, messageText } from '../i18n/index.ts'
import fs from 'node:fs'
import { parseArgs } from 'node:util'
import { z } from 'zod'
import { registerAccount, setAccountDisabled } from '../auth/accounts.ts'
import { newPassword } from '../auth/password-policy.ts'
import { ConfigError, loadConfig } from '../config.ts'
import { claimsToForm, PROFILE_ITEMS, validateProfileForm } from '../profile/profile.ts'
import * as rules from '../profile/rules.ts'
import { DataDirInUseError, openDatabase, type Database } from '../storage/database.ts'
import { migrate, MigrationError } from '../storage/migrate.ts'
import { saveProfile } from '../storage/profiles.ts'
import { findUserWithPasswordByEmail } from '../storage/users.ts'
import { findChannel } from '../storage/channels.ts'
import { approvePermissions, createChannel, NewChannelInput, PermissionItems } from '../oauth/channels.ts'
import { rotateSigningKeys } from '../oauth/keys.ts'
import { ID_TOKEN_TTL_SECONDS } from '../oauth/id-token.ts'
import { sealClearPairwiseSecrets } from '../storage/channels.ts'
import { MasterKeyError, rememberMasterKey, resolveMasterKey } from '../master-key.ts'
import { installKeyring } from '../storage/data-keys.ts'
import { rotateDataKeys } from '../keys/rotate-data.ts'
import { applyForPermission, ApplicationInput, ReviewError } from '../console/review.ts'
import { ADMIN_TOKEN_TTL_SECONDS } from '../storage/admin-tokens.ts'
import { issueToken, liveTokens, revokeToken } from '../admin/tokens.ts'

/** The command line acts as nobody in particular: audited as `cli`. */
const CLI_ACTOR = { userId: null, kind: 'cli', ip: null } as const
import { appendAudit } from '../storage/audit.ts'

export interface CliIo {
  stdout: (text: string) => void
  stderr: (text: string) => void
  env: Record<string, string | undefined>
}

export interface CliDeps {
  /** An open database to use instead of the one the environment names (tests). */
  database?: Database
  /** The master key to use instead of the configured one (tests). */
  masterKey?: Buffer
}

/** Exit codes: 0 done, 1 the command failed, 2 the command line or configuration is wrong. */
class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message)
  }
}

const USAGE = `Usage: plusid <command> [options] [--json]

Commands:
  migrate                                          apply pending database migrations
  admin create --email E --password P [--name N]   create an administrator account
  user create --email E --password P --name N [--profile FILE]
                                                   create a user, optionally with Profile+ data
                                                   (FILE: JSON with Profile+ claims; see docs/profile-claims.md)
  user disable EMAIL                               disable an account: it cannot log in, and its
                                                   sessions and tokens end now
  user enable EMAIL                                let a disabled account log in again
  channel create --name N --callback-url U [--callback-url U2 …] [--logout-url U …]
                 [--kind web|spa|native] [--id-token-alg RS256|ES256|HS256] [--error-style rfc|line]
                 [--provider NAME] [--owner EMAIL] [--publish]
                                                   register a channel (ID tokens RS256 unless told);
                                                   prints its id and secret
  channel permit CHANNEL_ID ITEM…                  approve items (email real_name gender birthdate phone address)
  channel apply CHANNEL_ID ITEM --purpose TEXT --policy-url URL
                                                   apply for an item (as a channel owner would)
  admin token --email E [--expires-in SECONDS]     an API token for /admin/api/ (an administrator's),
                                                   valid 90 days unless --expires-in says otherwise
  admin token list --email E                       an administrator's live API tokens (ids, dates)
  admin token revoke TOKEN_ID                      revoke an API token at once
  keys rotate                                      next signing keys become current; new next keys
  keys rotate-data [--wait SECONDS]                a new data key; re-encrypt emails and Profile+ values
                                                   in batches (resumable); delete the old key
  help                                             show this text

Options:
  --json   print the result as one JSON object on stdout`

type Flags = {
  json: boolean
  email?: string
  password?: string
  name?: string
  profile?: string
  'callback-url'?: string[]
  'logout-url'?: string[]
  kind?: string
  'id-token-alg'?: string
  'error-style'?: string
  provider?: string
  owner?: string
  publish?: boolean
  purpose?: string
  'policy-url'?: string
  wait?: string
  'expires-in'?: string
}
interface CommandContext {
  io: CliIo
  database: Database
  flags: Flags
  args: string[]
  masterKey: () => Buffer
}
type Command = (context: CommandContext) => Promise<{ json: Record<string, unknown>; text: string }>

const COMMANDS: Record<string, Command> = {
  migrate: async ({ database }) => {
    const applied = await migrate(database)
    return { json: { applied }, text: applied.length ? `Applied ${applied.join(', ')}` : 'The database is up to date.' }
  },
  'admin create': async ({ database, flags }) => {
    const account = parse(z.object({ email: rules.email, password: newPassword, name: rules.displayName }), {
      email: flags.email,
      password: flags.password,
      name: flags.name ?? 'Administrator',
    })
    const registration = await registerAccount(database.db, {
      email: account.email,
      password: account.password,
      displayName: account.name,
      isAdmin: true,
    })
    if (!registration.ok) throw new CliError('email_taken', `An account with the email ${account.email} already exists.`)
    return { json: { user_id: registration.user.id }, text: `Administrator ${account.email} created (user id ${registration.user.id}).` }
  },
  'user create': async ({ database, flags }) => {
    const account = parse(z.object({ email: rules.email, password: newPassword, name: rules.displayName }), flags)
    const profile = flags.profile === undefined ? undefined : readProfileFile(flags.profile)
    // The account and its profile are written together or not at all.
    const userId = await database.db.transaction().execute(async (trx) => {
      const registration = await registerAccount(trx, { email: account.email, password: account.password, displayName: account.name })
      if (!registration.ok) throw new CliError('email_taken', `An account with the email ${account.email} already exists.`)
      if (profile) await saveProfile(trx, registration.user.id, profile)
      return registration.user.id
    })
    return { json: { user_id: userId }, text: `User ${account.email} created (user id ${userId}).` }
  },
  'user disable': async (context) => setDisabled(context, true),
  'user enable': async (context) => setDisabled(context, false),
  'channel create': async ({ database, flags, masterKey }) => {
    const input = parse(
      NewChannelInput,
      {
        name: flags.name,
        callbackUrls: flags['callback-url'] ?? [],
        logoutUrls: flags['logout-url'] ?? [],
        kind: flags.kind,
        idTokenAlg: flags['id-token-alg'],
        errorStyle: flags['error-style'],
        providerName: flags.provider,
        publish: flags.publish ?? false,
      },
      CHANNEL_FLAGS,
    )
    const result = await database.db.transaction().execute(async (trx) => {
      let owner: { userId: string } | undefined
      if (flags.owner !== undefined) {
        const found = await findUserWithPasswordByEmail(trx, flags.owner)
        if (!found) throw new CliError('unknown_user', `No account has the email ${flags.owner}.`)
        owner = { userId: found.user.id }
      }
      return createChannel(trx, masterKey(), input, owner)
    })
    return {
      json: { channel_id: result.channelId, ...(result.channelSecret ? { channel_secret: result.channelSecret } : {}) },
      text:
        `Channel ${result.channelId} created.` +
        (result.channelSecret ? ` Its secret (shown only now): ${result.channelSecret}` : ' It is public: no secret.'),
    }
  },
  'channel permit': async ({ database, args }) => {
    const [channelId, ...items] = args
    if (!channelId) throw new CliError('invalid_argument', 'Name the channel: plusid channel permit CHANNEL_ID ITEM…', 2)
    const permitted = parse(PermissionItems, items, { '': 'ITEM' })
    if (!(await findChannel(database.db, channelId))) throw new CliError('unknown_channel', `No channel has the id ${channelId}.`)
    await database.db.transaction().execute(async (trx) => {
      await approvePermissions(trx, channelId, permitted)
      await appendAudit(trx, {
        actorId: null,
        actorKind: 'cli',
        action: 'permission.approved',
        objectType: 'channel',
        objectId: channelId,
        details: { items: permitted },
      })
    })
    return { json: { channel_id: channelId, permitted }, text: `Channel ${channelId} may now request ${permitted.join(', ')}.` }
  },
  'channel apply': async ({ database, args, flags }) => {
    const [channelId, item, ...rest] = args
    if (!channelId || !item || rest.length > 0)
      throw new CliError('invalid_argument', 'Usage: plusid channel apply CHANNEL_ID ITEM --purpose TEXT --policy-url URL', 2)
    const input = parse(
      ApplicationInput,
      { item, purpose: flags.purpose ?? '', policyUrl: flags['policy-url'] ?? '' },
      { item: 'ITEM', purpose: 'purpose', policyUrl: 'policy-url' },
    )
    try {
      const id = await applyForPermission(database.db, { userId: null, kind: 'cli', ip: null }, channelId, input)
      return { json: { application_id: id }, text: `Application ${id} for ${input.item} is waiting for review.` }
    } catch (error) {
      if (error instanceof ReviewError) throw new CliError(error.kind, error.message, 1)
      throw error
    }
  },
  'admin token': async (context) => {
    const [verb, ...rest] = context.args
    if (verb === 'list' && rest.length === 0) return listAdminTokensCommand(context)
    if (verb === 'revoke' && rest.length === 1) return revokeAdminTokenCommand(context, rest[0]!)
    if (verb !== undefined)
      throw new CliError(
        'invalid_argument',
        'Usage: plusid admin token --email E [--expires-in SECONDS] | admin token list --email E | admin token revoke TOKEN_ID',
        2,
      )
    const { database, flags } = context
    const admin = await findAdministrator(database, flags.email)
    const expiresIn = flags['expires-in'] === undefined ? ADMIN_TOKEN_TTL_SECONDS : Number(flags['expires-in'])
    if (
      !/^\d+$/.test(flags['expires-in'] ?? '0') ||
      !Number.isSafeInteger(expiresIn) ||
      expiresIn < 60 ||
      expiresIn > 10 * 365 * 24 * 3600
    ) {
      throw new CliError('invalid_argument', '--expires-in must be a whole number of seconds from 60 to 315360000 (ten years)', 2)
    }
    const created = await issueToken(database.db, CLI_ACTOR, admin.id, new Date(Date.now() + expiresIn * 1000))
    return {
      json: { token: created.token, token_id: created.id, expires_at: created.expiresAt.toISOString() },
      text: `API token ${created.id} for ${flags.email}, valid until ${created.expiresAt.toISOString()} (shown only now): ${created.token}`,
    }
  },
  'keys rotate-data': async ({ database, masterKey, flags, io }) => {
    const waitSeconds = flags.wait !== undefined ? Number(flags.wait) : 2 * loadConfig(io.env).keyRefreshSeconds
    if (!Number.isInteger(waitSeconds) || waitSeconds < 0)
      throw new CliError('invalid_argument', '--wait must be a whole number of seconds', 2)
    const rotation = await rotateDataKeys(database.db, masterKey(), { waitSeconds })
    return {
      json: { current: rotation.current, new_key: rotation.newKey, reencrypted: rotation.reencrypted, removed: rotation.removed },
      text: `Data key ${rotation.current} is current; ${rotation.reencrypted} rows re-encrypted; removed keys: ${rotation.removed.join(', ') || 'none'}.`,
    }
  },
  'keys rotate': async ({ database, masterKey }) => {
    const rotated = await rotateSigningKeys(database.db, masterKey(), ID_TOKEN_TTL_SECONDS + 300)
    return {
      json: { current: rotated.ES256.current, next: rotated.ES256.next, keys: rotated },
      text: Object.entries(rotated)
        .map(([alg, kids]) => `${alg}: current ${kids.current}, next ${kids.next}`)
        .join('\n'),
    }
  },
}

/** The administrator with this email, or a CliError naming what is wrong. */
async function findAdministrator(database: Database, email: string | undefined) {
  if (!email) throw new CliError('invalid_argument', '--email is required', 2)
  const found = await findUserWithPasswordByEmail(database.db, email)
  if (!found) throw new CliError('unknown_user', `No account has the email ${email}.`)
  if (!found.user.isAdmin) throw new CliError('not_admin', `${email} is not an administrator (create one with plusid admin create).`)
  return found.user
}

async function listAdminTokensCommand({ database, flags }: CommandContext) {
  const admin = await findAdministrator(database, flags.email)
  const tokens = await liveTokens(database.db, admin.id)
  const iso = (date: Date | null) => date?.toISOString() ?? null
  return {
    json: {
      items: tokens.map((t) => ({
        token_id: t.id,
        created_at: iso(t.createdAt),
        expires_at: iso(t.expiresAt),
        last_used_at: iso(t.lastUsedAt),
      })),
    },
    text: tokens.length
      ? tokens
          .map((t) => `${t.id}  created ${iso(t.createdAt)}  expires ${iso(t.expiresAt)}  last used ${iso(t.lastUsedAt) ?? 'never'}`)
          .join('\n')
      : `${flags.email} has no live API tokens.`,
  }
}

async function revokeAdminTokenCommand({ database }: CommandContext, tokenId: string) {
  if (!z.string().uuid().safeParse(tokenId).success)
    throw new CliError('invalid_argument', `TOKEN_ID must be a token id as plusid admin token list prints it, not "${tokenId}"`, 2)
  const revoked = await revokeToken(database.db, CLI_ACTOR, tokenId)
  if (!revoked) throw new CliError('unknown_token', `No live API token has the id ${tokenId}.`)
  return { json: { revoked: true }, text: `API token ${tokenId} is revoked.` }
}

async function setDisabled({ database, args }: CommandContext, disabled: boolean) {
  const [email, ...rest] = args
  const verb = disabled ? 'disable' : 'enable'
  if (!email || rest.length > 0) throw new CliError('invalid_argument', `Usage: plusid user ${verb} EMAIL`, 2)
  const found = await findUserWithPasswordByEmail(database.db, email)
  if (!found) throw new CliError('unknown_user', `No account has the email ${email}.`)
  const changed = await setAccountDisabled(database.db, { userId: null, kind: 'cli', ip: null }, found.user.id, disabled)
  return {
    json: { user_id: found.user.id, disabled, changed },
    text: changed
      ? `${email} is ${disabled ? 'disabled: its sessions and tokens have ended' : 'enabled'}.`
      : `${email} was ${disabled ? 'disabled' : 'enabled'} already.`,
  }
}

/** Option names as the user typed them, for messages about the parsed fields. */
const CHANNEL_FLAGS: Record<string, string> = {
  name: 'name',
  callbackUrls: 'callback-url',
  logoutUrls: 'logout-url',
  kind: 'kind',
  idTokenAlg: 'id-token-alg',
  errorStyle: 'error-style',
  providerName: 'provider',
}

function parse<T>(schema: z.ZodType<T, unknown>, input: unknown, names: Record<string, string> = {}): T {
  const result = schema.safeParse(input)
  if (result.success) return result.data
  const problems = result.error.issues.map((issue) => {
    const field = String(issue.path[0] ?? '')
    const name = names[field] ?? field
    // Shared schemas give message keys (src/i18n): the command line speaks English.
    const message = isMessageKey(issue.message) ? englishIssue(issue) : issue.message
    return name === 'ITEM' || /^\d+$/.test(field) ? message : `--${name} ${message}`
  })
  throw new CliError('invalid_argument', [...new Set(problems)].join('; '), 2)
}

function readProfileFile(file: string) {
  let claims: unknown
  try {
    claims = JSON.parse(fs.readFileSync(file, 'utf8'))
  } catch (error) {
    throw new CliError('invalid_profile', `Cannot read the profile file ${file}: ${(error as Error).message}`)
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    throw new CliError('invalid_profile', `The profile file ${file} must hold a JSON object of Profile+ claims.`)
  }
  const { form, errors } = claimsToForm(claims as Record<string, unknown>)
  const result = validateProfileForm(form, PROFILE_ITEMS)
  const allErrors = { ...errors, ...(result.ok ? {} : result.errors) }
  if (!result.ok || Object.keys(allErrors).length > 0) {
    const problems = Object.entries(allErrors).map(
      ([field, message]) => `${field} ${typeof message === 'string' ? message : message && messageText(english, message)}`,
    )
    throw new CliError('invalid_profile', `The profile file ${file} is not valid: ${problems.join('; ')}`)
  }
  return result.profile
}

export async function runCli(argv: string[], io: CliIo, deps: CliDeps = {}): Promise<number> {
  const json = argv.includes('--json')
  try {
    const { values, positionals } = parseCommandLine(argv)
    const name = positionals.slice(0, positionals[0] === 'migrate' || positionals[0] === 'help' ? 1 : 2).join(' ')
    const args = positionals.slice(name.split(' ').length)
    if (name === '' || name === 'help' || values.help) {
      io.stdout(USAGE + '\n')
      return name === '' && !values.help ? 2 : 0
    }
    const command = COMMANDS[name]
    if (!command) throw new CliError('unknown_command', `Unknown command "${name}".\n\n${USAGE}`, 2)

    const database = deps.database ?? (await openConfiguredDatabase(io.env))
    try {
      // Emails and Profile+ values are sealed: every command but migrate needs the master key, which
      // is checked against the database before anything is written (master-key.ts).
      let masterKey: Buffer | undefined
      if (name !== 'migrate')
        masterKey =
          deps.masterKey ??
          (await resolveMasterKey(loadConfig(io.env), database.db, { warn: (message: string) => io.stderr(`plusid: ${message}\n`) }))
      // Every command works on a current schema; migrating is idempotent and takes a lock.
      if (name !== 'migrate') await migrate(database)
      if (masterKey) await rememberMasterKey(database.db, masterKey)
      const context: CommandContext = {
        io,
        database,
        flags: values,
        args,
        masterKey: () => masterKey!,
      }
      if (masterKey) {
        await installKeyring(database.db, masterKey)
        await sealClearPairwiseSecrets(database.db)
      }
      if (args.length > 0 && !['channel permit', 'channel apply', 'user disable', 'user enable', 'admin token'].includes(name))
        throw new CliError('invalid_argument', `Unexpected argument "${args[0]}".\n\n${USAGE}`, 2)
      const result = await command(context)
      io.stdout(json ? JSON.stringify(result.json) + '\n' : result.text + '\n')
      return 0
    } finally {
      if (!deps.database) await database.close()
    }
  } catch (error) {
    const failure = asCliError(error)
    io.stderr(json ? JSON.stringify({ error: failure.code, message: failure.message }) + '\n' : `plusid: ${failure.message}\n`)
    return failure.exitCode
  }
}

function parseCommandLine(argv: string[]): { values: Flags & { help?: boolean }; positionals: string[] } {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
        email: { type: 'string' },
        password: { type: 'string' },
        name: { type: 'string' },
        profile: { type: 'string' },
        'callback-url': { type: 'string', multiple: true },
        'logout-url': { type: 'string', multiple: true },
        kind: { type: 'string' },
        'id-token-alg': { type: 'string' },
        'error-style': { type: 'string' },
        provider: { type: 'string' },
        owner: { type: 'string' },
        publish: { type: 'boolean' },
        purpose: { type: 'string' },
        'policy-url': { type: 'string' },
        wait: { type: 'string' },
        'expires-in': { type: 'string' },
      },
    }) as { values: Flags & { help?: boolean }; positionals: string[] }
  } catch (error) {
    throw new CliError('invalid_argument', (error as Error).message, 2)
  }
}

async function openConfiguredDatabase(env: Record<string, string | undefined>): Promise<Database> {
  const config = loadConfig(env)
  return openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir })
}

function asCliError(error: unknown): CliError {
  if (error instanceof CliError) return error
  if (error instanceof ConfigError) return new CliError('invalid_configuration', error.message, 2)
  if (error instanceof DataDirInUseError) return new CliError('data_dir_in_use', error.message)
  if (error instanceof MigrationError) return new CliError('migration_failed', error.message)
  if (error instanceof MasterKeyError) return new CliError('master_key_mismatch', error.message, 2)
  const message = (error as Error)?.message ?? String(error)
  if (/ECONNREFUSED|ENOTFOUND|getaddrinfo|password authentication|does not exist/.test(message)) {
    return new CliError('database_unreachable', `Cannot use the database: ${message}`)
  }
  return new CliError('internal_error', message)
}
