// HTML views: eta templates with escaping on (`<%= %>` escapes, `<%~ %>` is only used for
// already-rendered HTML). Templates are compiled on first use and cached for the process.
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { Eta } from 'eta'
import { formatDate, formatDateTime } from '../i18n/format.ts'
import { LANGUAGE_NAMES, LOCALES, translator, type Locale, type Translate } from '../i18n/index.ts'
import { itemLabel } from '../profile/labels.ts'
import { PACKAGE_ROOT } from '../package-root.ts'

const HERE = path.join(PACKAGE_ROOT, 'src', 'views')

export const VIEWS_DIR = path.join(HERE, 'pages')

const eta = new Eta({ views: VIEWS_DIR, cache: true, autoEscape: true })

const css = fs.readFileSync(path.join(HERE, 'static', 'plusid.css'))

/** The stylesheet's URL carries a hash of its content, so it can be cached for a year. */
export const stylesheet = Object.freeze({
  body: css,
  url: `/static/plusid.${createHash('sha256').update(css).digest('hex').slice(0, 12)}.css`,
})

const formPostScript = fs.readFileSync(path.join(HERE, 'static', 'form-post.js'))

/** The only script: it submits the form_post page's form (the page has a button without it). */
export const scripts = Object.freeze({
  formPost: { body: formPostScript, url: `/static/form-post.${createHash('sha256').update(formPostScript).digest('hex').slice(0, 12)}.js` },
})

export interface LayoutData {
  title: string
  csrfToken: string
  /** The logged-in user; `isAdmin` shows the header's link to the administration. */
  user: { displayName: string; isAdmin: boolean } | null
  locale: Locale
  /** The path of this page, for the language switch to come back to. */
  here: string
}

/** What every template gets besides its own data: the translator and the page's language. */
function i18nData(locale: Locale, here: string) {
  const t: Translate = translator(locale)
  return {
    t,
    locale,
    date: (isoDate: string) => formatDate(locale, isoDate),
    dateTime: (moment: Date) => formatDateTime(locale, moment),
    itemLabel: (item: string) => itemLabel(locale, item),
    /** The path without its query, for navigation to mark the current page. */
    currentPath: here.split('?')[0],
    languages: LOCALES.map((code) => ({
      code,
      name: LANGUAGE_NAMES[code],
      current: code === locale,
      href: `/language?${new URLSearchParams({ lang: code, next: here })}`,
    })),
  }
}

export function renderPage(name: string, data: LayoutData & Record<string, unknown>): string {
  return eta.render(`./${name}`, {
    ...data,
    ...i18nData(data.locale, data.here),
    stylesheetUrl: stylesheet.url,
    formPostScriptUrl: scripts.formPost.url,
  })
}
