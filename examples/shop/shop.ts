// The demo shop: a relying party of plusid. Its member-registration form has a "Fill in with
// plusid" button that runs an authorization-code login (PKCE, nonce, state) through
// openid-client and discovery, then shows the form pre-filled with the items the user granted.
// The member is stored linked to plusid's `sub`, so the next login finds them (ID linking).
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import cookie from '@fastify/cookie'
import formbody from '@fastify/formbody'
import { Eta } from 'eta'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { parsePhoneNumberFromString } from 'libphonenumber-js'
import * as client from 'openid-client'
import { z } from 'zod'
import { MemberStore, type Member, type MemberFields } from './members.ts'
import { FIELDS, type Lang, MESSAGES, type Messages } from './messages.ts'

export interface ShopOptions {
  /** plusid's issuer URL (discovery is read from it). */
  issuer: string
  clientId: string
  clientSecret: string
  /** Where browsers reach the shop; the callback is `${publicUrl}/callback`. */
  publicUrl: string
  /** The members' JSON file; null keeps them in memory. */
  membersFile: string | null
}

/** Everything the form can ask plusid for: the required openid/profile, then each Profile+ item. */
export const SHOP_SCOPE = 'openid profile email real_name gender birthdate phone address'
export const SESSION_COOKIE = 'shop_session'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const eta = new Eta({ views: path.join(HERE, 'views'), cache: true, autoEscape: true })

// Like plusid's pages: nothing runs or loads but our own stylesheet.
const CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

interface ShopSession {
  csrfToken: string
  createdAt: number
  /** A login in progress: the values the callback must see again. */
  login?: { state: string; nonce: string; codeVerifier: string; lang: Lang }
  /** The plusid account this browser logged in with, and the granted values not yet confirmed. */
  linked?: { sub: string; prefill: Partial<MemberFields> }
  memberId?: string
  notice?: 'registered' | 'already-member' | 'cancelled'
}

const LangQuery = z.object({ lang: z.enum(['ja', 'en']).catch('ja') })

const optional = (max: number) => z.string().trim().max(max)
const MemberForm = z
  .object({
    family_name: z.string().trim().min(1).max(64),
    given_name: z.string().trim().min(1).max(64),
    family_name_kana: z
      .string()
      .trim()
      .regex(/^[ァ-ヺー 　]{1,64}$/u),
    given_name_kana: z
      .string()
      .trim()
      .regex(/^[ァ-ヺー 　]{1,64}$/u),
    gender: z.enum(['', 'male', 'female', 'other']),
    birthdate: z
      .string()
      .trim()
      .regex(/^(\d{4}-\d{2}-\d{2})?$/),
    // NFKC: full-width digits and hyphens as a Japanese keyboard types them.
    phone: z
      .string()
      .transform((v) => v.normalize('NFKC').trim())
      .pipe(z.string().regex(/^\+?[0-9][0-9 -]{8,18}[0-9]$/)),
    email: z
      .string()
      .trim()
      .regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/)
      .max(254),
    postal_code: z
      .string()
      .transform((v) => v.normalize('NFKC').trim().replace(/^〒/, ''))
      .pipe(z.string().regex(/^(\d{3}-?\d{4})?$/)),
    prefecture: optional(128),
    city: optional(128),
    street: optional(128),
  })
  .superRefine((form, ctx) => {
    // An address is all or nothing: a parcel needs every part of it.
    const parts = ['postal_code', 'prefecture', 'city', 'street'] as const
    if (parts.some((part) => form[part] !== '')) {
      for (const part of parts) if (form[part] === '') ctx.addIssue({ code: 'custom', path: [part], message: 'required' })
    }
  })

export async function buildShop(options: ShopOptions): Promise<FastifyInstance> {
  const issuer = new URL(options.issuer)
  // plusid on http://localhost in the demo and the tests; openid-client refuses plain HTTP unless told.
  const insecure = issuer.protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : undefined
  // The shop's channel signs with ES256, as LINE does (the demo registers it so).
  const oidc = await client.discovery(
    issuer,
    options.clientId,
    { client_secret: options.clientSecret, id_token_signed_response_alg: 'ES256' },
    client.ClientSecretBasic(options.clientSecret),
    insecure,
  )
  const redirectUri = `${options.publicUrl}/callback`
  const members = new MemberStore(options.membersFile)
  const sessions = new Map<string, ShopSession>()

  const app = Fastify({ logger: false })
  await app.register(cookie)
  await app.register(formbody)
  app.addHook('onRequest', async (_request, reply) => {
    reply.header('content-security-policy', CSP).header('referrer-policy', 'no-referrer').header('x-frame-options', 'DENY')
  })

  function session(request: FastifyRequest, reply: FastifyReply): ShopSession {
    const id = request.cookies[SESSION_COOKIE]
    const found = id ? sessions.get(id) : undefined
    if (found) return found
    // A demo keeps sessions in memory; an hour is plenty for one registration.
    for (const [key, old] of sessions) if (Date.now() - old.createdAt > 3_600_000) sessions.delete(key)
    const created: ShopSession = { csrfToken: randomBytes(16).toString('base64url'), createdAt: Date.now() }
    const newId = randomBytes(32).toString('base64url')
    sessions.set(newId, created)
    reply.setCookie(SESSION_COOKIE, newId, { path: '/', httpOnly: true, sameSite: 'lax', secure: options.publicUrl.startsWith('https:') })
    return created
  }

  function page(reply: FastifyReply, lang: Lang, name: string, data: Record<string, unknown>, status = 200) {
    const t = MESSAGES[lang]
    const html = eta.render(`./${name}`, { lang, t, otherLang: lang === 'ja' ? 'en' : 'ja', ...data })
    return reply.code(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(html)
  }

  function registrationForm(
    reply: FastifyReply,
    lang: Lang,
    shop: ShopSession,
    values: Partial<MemberFields>,
    errors: Record<string, string> = {},
    status = 200,
  ) {
    const t = MESSAGES[lang]
    const fromPlusid = new Set(Object.keys(shop.linked?.prefill ?? {}))
    const fields = FIELDS.map((field) => ({
      ...field,
      label: t.fields[field.name],
      value: values[field.name] ?? '',
      error: errors[field.name] ? t.errors[errors[field.name] as keyof Messages['errors']] : undefined,
      fromPlusid: fromPlusid.has(field.name),
    }))
    const notice = shop.notice === 'cancelled' ? t.cancelled : shop.linked ? t.prefilled : undefined
    shop.notice = undefined
    return page(
      reply,
      lang,
      'register',
      {
        title: t.registerTitle,
        fields,
        csrfToken: shop.csrfToken,
        linked: Boolean(shop.linked),
        notice,
        hasErrors: Object.keys(errors).length > 0,
      },
      status,
    )
  }

  app.get('/', async (request, reply) => {
    const { lang } = LangQuery.parse(request.query)
    const shop = session(request, reply)
    const member = currentMember(shop)
    if (member) return reply.redirect(`/member?lang=${lang}`, 303)
    return registrationForm(reply, lang, shop, shop.linked?.prefill ?? {})
  })

  // Starts the login at plusid; a link, not a form, because form-action 'self' would stop a form
  // whose answer redirects to another origin.
  app.get('/login/plusid', async (request, reply) => {
    const { lang } = LangQuery.parse(request.query)
    const shop = session(request, reply)
    const codeVerifier = client.randomPKCECodeVerifier()
    shop.login = { state: client.randomState(), nonce: client.randomNonce(), codeVerifier, lang }
    const url = client.buildAuthorizationUrl(oidc, {
      redirect_uri: redirectUri,
      scope: SHOP_SCOPE,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state: shop.login.state,
      nonce: shop.login.nonce,
      ui_locales: lang,
    })
    return reply.redirect(url.href, 303)
  })

  app.get('/callback', async (request, reply) => {
    const shop = session(request, reply)
    const login = shop.login
    if (!login) return page(reply, 'ja', 'error', { title: MESSAGES.ja.expiredTitle, message: MESSAGES.ja.expired }, 400)
    shop.login = undefined // a login's values are used once
    const query = new URLSearchParams(request.query as Record<string, string>)
    if (query.get('error') === 'access_denied') {
      shop.notice = 'cancelled'
      return reply.redirect(`/?lang=${login.lang}`, 303)
    }
    let userinfo: client.UserInfoResponse
    try {
      const tokens = await client.authorizationCodeGrant(oidc, new URL(`${redirectUri}?${query}`), {
        pkceCodeVerifier: login.codeVerifier,
        expectedState: login.state,
        expectedNonce: login.nonce,
        idTokenExpected: true,
      })
      const sub = tokens.claims()!.sub
      // Userinfo (OIDC) holds the same granted claims as the ID token (LINE); either would do.
      userinfo = await client.fetchUserInfo(oidc, tokens.access_token, sub)
    } catch (error) {
      request.log.warn({ err: error }, 'plusid login failed')
      const t = MESSAGES[login.lang]
      return page(reply, login.lang, 'error', { title: t.failedTitle, message: t.failed }, 400)
    }
    const existing = members.findBySub(userinfo.sub)
    if (existing) {
      shop.linked = { sub: userinfo.sub, prefill: {} }
      shop.memberId = existing.id
      shop.notice = 'already-member'
      return reply.redirect(`/member?lang=${login.lang}`, 303)
    }
    shop.linked = { sub: userinfo.sub, prefill: prefillFromClaims(userinfo) }
    return reply.redirect(`/?lang=${login.lang}`, 303)
  })

  app.post('/register', async (request, reply) => {
    const { lang } = LangQuery.parse(request.query)
    const shop = session(request, reply)
    const body = (request.body ?? {}) as Record<string, unknown>
    if (body.csrf_token !== shop.csrfToken) {
      const t = MESSAGES[lang]
      return page(reply, lang, 'error', { title: t.expiredTitle, message: t.expired }, 403)
    }
    const values = Object.fromEntries(
      FIELDS.map((field) => [field.name, typeof body[field.name] === 'string' ? (body[field.name] as string) : '']),
    ) as unknown as MemberFields
    const parsed = MemberForm.safeParse(values)
    if (!parsed.success) {
      const errors: Record<string, string> = {}
      for (const issue of parsed.error.issues) {
        const name = String(issue.path[0])
        errors[name] ??= values[name as keyof MemberFields]?.trim() === '' ? 'required' : 'invalid'
      }
      return registrationForm(reply, lang, shop, values, errors, 400)
    }
    const sub = shop.linked?.sub ?? null
    // Linked already (another tab registered first): show that member rather than a duplicate.
    const member = (sub ? members.findBySub(sub) : undefined) ?? members.add(sub, parsed.data)
    shop.memberId = member.id
    shop.linked = sub ? { sub, prefill: {} } : undefined
    shop.notice = 'registered'
    return reply.redirect(`/member?lang=${lang}`, 303)
  })

  app.get('/member', async (request, reply) => {
    const { lang } = LangQuery.parse(request.query)
    const shop = session(request, reply)
    const member = currentMember(shop)
    if (!member) return reply.redirect(`/?lang=${lang}`, 303)
    const t = MESSAGES[lang]
    const notice = shop.notice === 'already-member' ? t.alreadyMember : shop.notice === 'registered' ? t.registered : undefined
    shop.notice = undefined
    const rows = FIELDS.map((field) => ({
      name: field.name,
      label: t.fields[field.name],
      value: displayValue(t, field.name, member[field.name]),
    }))
    return page(reply, lang, 'member', { title: t.memberTitle, notice, rows, linked: member.sub !== null, csrfToken: shop.csrfToken })
  })

  // Forgets this browser at the shop (the member stays stored), to try the login again.
  app.post('/logout', async (request, reply) => {
    const { lang } = LangQuery.parse(request.query)
    const id = request.cookies[SESSION_COOKIE]
    const shop = id ? sessions.get(id) : undefined
    if (shop && (request.body as Record<string, unknown> | undefined)?.csrf_token === shop.csrfToken) sessions.delete(id!)
    return reply.clearCookie(SESSION_COOKIE, { path: '/' }).redirect(`/?lang=${lang}`, 303)
  })

  app.get('/shop.css', async (_request, reply) =>
    reply.header('cache-control', 'no-cache').type('text/css; charset=utf-8').send(STYLESHEET),
  )
  app.get('/favicon.ico', async (_request, reply) => reply.code(204).send())

  function currentMember(shop: ShopSession): Member | undefined {
    return shop.memberId ? members.findById(shop.memberId) : undefined
  }

  app.decorate('members', members)
  return app
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The shop's member store (tests read it). */
    members: MemberStore
  }
}

const STYLESHEET = fs.readFileSync(path.join(HERE, 'static', 'shop.css'))

/** The granted claims as the shop's form fields; an item not granted leaves its fields out. */
export function prefillFromClaims(claims: client.UserInfoResponse): Partial<MemberFields> {
  const prefill: Partial<MemberFields> = {}
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined)
  const set = (name: keyof MemberFields, value: string | undefined) => {
    if (value !== undefined) prefill[name] = value
  }
  set('family_name', text(claims.family_name))
  set('given_name', text(claims.given_name))
  set('family_name_kana', text(claims.family_name_pronunciation))
  set('given_name_kana', text(claims.given_name_pronunciation))
  const gender = text(claims.gender)
  set('gender', gender === undefined ? undefined : gender === 'male' || gender === 'female' ? gender : 'other')
  set('birthdate', text(claims.birthdate))
  const phone = text(claims.phone_number)
  // plusid sends E.164 (+819012345678); a Japanese form shows 090-1234-5678.
  set('phone', phone === undefined ? undefined : (parsePhoneNumberFromString(phone)?.formatNational() ?? phone))
  set('email', text(claims.email))
  const address = claims.address
  if (address) {
    const postal = text(address.postal_code)
    set('postal_code', postal && /^\d{7}$/.test(postal) ? `${postal.slice(0, 3)}-${postal.slice(3)}` : postal)
    set('prefecture', text(address.region))
    set('city', text(address.locality))
    set('street', text(address.street_address))
  }
  return prefill
}

function displayValue(t: Messages, name: keyof MemberFields, value: string): string {
  if (name === 'gender' && value) return t.genders[value as keyof Messages['genders']] ?? value
  return value
}
