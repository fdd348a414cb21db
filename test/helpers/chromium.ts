// Browser tests drive Debian's Chromium through playwright-core (README, Test it: `npx playwright
// install` cannot download here). Every page opened through watchedPage() reports console errors,
// uncaught exceptions and Content-Security-Policy violations into one list the test asserts empty.
import fs from 'node:fs'
import type { TestContext } from 'node:test'
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core'
import { buildShop } from '../../examples/shop/shop.ts'
import type { FastifyInstance } from 'fastify'
import { freePort } from './oidc.ts'

export const CHROMIUM_PATH = '/usr/bin/chromium'

/** A reason to skip the browser suite, or false when Chromium is installed. */
export const skipWithoutChromium: string | false = fs.existsSync(CHROMIUM_PATH)
  ? false
  : `${CHROMIUM_PATH} is missing: install it with apt-get install -y chromium fonts-noto-cjk (.ci/run does)`

export const PHONE: BrowserContextOptions = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 }
export const DESKTOP: BrowserContextOptions = { viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 }

/** Chromium, closed after the test. playwright gives each launch a fresh temporary profile folder. */
export async function launchChromium(t: TestContext): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
  t.after(() => browser.close())
  return browser
}

/**
 * A page whose problems are collected: console errors (Chromium prints CSP violations there
 * too), uncaught exceptions, and `securitypolicyviolation` events, reported from the page by a
 * listener injected before any of the page's own content runs (injection bypasses the page's CSP).
 */
export async function watchedPage(context: BrowserContext, problems: string[]): Promise<Page> {
  const page = await context.newPage()
  // A missing element fails the test in 10 s rather than playwright's 30.
  page.setDefaultTimeout(10_000)
  await page.exposeBinding('__reportCspViolation', ({ frame }, violation: string) => {
    problems.push(`${frame.url()}: CSP violation: ${violation}`)
  })
  // A string, not a function: this project's TypeScript has no DOM types.
  await page.addInitScript(`document.addEventListener('securitypolicyviolation', (event) => {
    window.__reportCspViolation(event.violatedDirective + ' blocked ' + (event.blockedURI || 'inline') + ' (' + event.sourceFile + ':' + event.lineNumber + ')')
  })`)
  page.on('console', (message) => {
    if (message.type() === 'error' || /Content Security Policy/i.test(message.text()))
      problems.push(`${page.url()}: console ${message.type()}: ${message.text()}`)
  })
  page.on('pageerror', (error) => problems.push(`${page.url()}: uncaught ${error.message}`))
  return page
}

export interface RunningShop {
  app: FastifyInstance
  url: string
}

/** The demo shop listening on a free port; its callback URL must be registered for the channel. */
export async function shopPort(): Promise<{ port: number; url: string; callbackUrl: string }> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  return { port, url, callbackUrl: `${url}/callback` }
}

export async function startShop(
  t: TestContext,
  where: { port: number; url: string },
  issuer: string,
  channel: { channelId: string; secret: string | null },
): Promise<RunningShop> {
  const app = await buildShop({
    issuer,
    clientId: channel.channelId,
    clientSecret: channel.secret!,
    publicUrl: where.url,
    membersFile: null,
  })
  t.after(() => app.close())
  await app.listen({ host: '127.0.0.1', port: where.port })
  return { app, url: where.url }
}
