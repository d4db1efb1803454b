// TEST-ONLY headless "browser" for the soidc test provider.
//
// CLI:  node browser.mjs [--jar FILE] [--deny] <url> [user] [password]
//   Follows redirects by hand (own cookie jar), fills in the provider's login, consent,
//   device and logout forms, and prints exactly one line to stdout: the URL of the first
//   redirect that leaves the provider's origin (e.g. the client's redirect_uri, which is
//   NOT fetched). A flow that ends on one of the provider's own final pages (logout done
//   without post_logout_redirect_uri, device flow success) prints that page's URL instead.
//   A response_mode=form_post answer (a form POSTing to another origin) prints
//   "POST <action URL> <urlencoded body>", the request the browser would send.
//   --deny aborts the interaction (login/consent) so the provider answers access_denied.
//   --jar FILE loads/saves cookies from/to FILE (JSON) so several runs share a session.
//   Exits non-zero with a message on stderr on anything unexpected (bad password, error page).
//
// Module: `new Browser().run(url, { user, password, deny, userCode })` is used by the
// provider itself for /test/device/* and /test/backchannel-logout.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const ENTITIES = {
  '&amp;': '&', '&quot;': '"', '&lt;': '<', '&gt;': '>', '&#39;': "'", '&#x27;': "'", '&#x2F;': '/',
};

function decode(s) {
  return s.replace(/&(amp|quot|lt|gt|#39|#x27|#x2F);/g, (m) => ENTITIES[m]);
}

function attrs(s) {
  const out = {};
  const re = /([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
  let m;
  while ((m = re.exec(s)) !== null) out[m[1].toLowerCase()] = decode(m[2] ?? m[3]);
  return out;
}

export function parseForms(html) {
  const forms = [];
  const re = /<form\b([^>]*)>([\s\S]*?)<\/form>/gi;
  let m;
  while ((m = re.exec(html)) !== null) {
    const a = attrs(m[1]);
    const fields = {};
    const ire = /<input\b([^>]*)>/gi;
    let i;
    while ((i = ire.exec(m[2])) !== null) {
      const ia = attrs(i[1]);
      if (ia.name) fields[ia.name] = ia.value ?? '';
    }
    forms.push({
      id: a.id, action: a.action ?? '', method: (a.method ?? 'get').toUpperCase(), fields,
    });
  }
  return forms;
}

export class Browser {
  constructor({ jar } = {}) {
    this.jar = new Map(); // name -> { value, path, expires }
    if (jar) for (const c of jar) this.jar.set(c.name, c);
  }

  dumpJar() { return [...this.jar.values()]; }

  cookieHeader(url) {
    const now = Date.now();
    const parts = [];
    for (const c of this.jar.values()) {
      if (c.expires && c.expires <= now) continue;
      if (c.path && c.path !== '/' && !(url.pathname === c.path || url.pathname.startsWith(`${c.path}/`))) continue;
      parts.push(`${c.name}=${c.value}`);
    }
    return parts.join('; ');
  }

  storeCookies(res) {
    const list = typeof res.headers.getSetCookie === 'function' ? res.headers.getSetCookie() : [];
    for (const line of list) {
      const [pair, ...rest] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const c = { name, value, path: '/' };
      for (const r of rest) {
        const [k, v = ''] = r.split('=');
        const key = k.trim().toLowerCase();
        if (key === 'path') c.path = v.trim();
        if (key === 'expires') c.expires = Date.parse(v.trim());
        if (key === 'max-age') c.expires = Date.now() + Number(v.trim()) * 1000;
      }
      if ((c.expires !== undefined && c.expires <= Date.now()) || value === '') this.jar.delete(name);
      else this.jar.set(name, c);
    }
  }

  async request(method, url, form) {
    const u = new URL(url);
    const headers = { accept: 'text/html' };
    const cookie = this.cookieHeader(u);
    if (cookie) headers.cookie = cookie;
    let body;
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(form).toString();
    }
    const res = await fetch(u, {
      method, headers, body, redirect: 'manual',
    });
    this.storeCookies(res);
    const text = await res.text();
    return { status: res.status, location: res.headers.get('location'), text };
  }

  // Returns { url, kind } where kind is 'redirect' (left the provider's origin) or a
  // final provider page: 'logged-out' | 'device-success' | 'device-aborted'.
  async run(startUrl, {
    user = 'alice', password, deny = false, userCode,
  } = {}) {
    const origin = new URL(startUrl).origin;
    const pw = password ?? `${user}-password`;
    let method = 'GET';
    let url = startUrl;
    let form;
    const seen = new Map();
    for (let step = 0; step < 40; step += 1) {
      const res = await this.request(method, url, form);
      if (res.status >= 300 && res.status < 400 && res.location) {
        const next = new URL(res.location, url);
        if (next.origin !== origin) return { url: next.href, kind: 'redirect' };
        method = 'GET'; url = next.href; form = undefined;
        continue;
      }
      // response_mode form_post: an auto-submitting form that POSTs to another origin.
      if (res.status === 200 || res.status === 400) {
        const post = parseForms(res.text).find((f) => f.method === 'POST' && f.action
          && new URL(f.action, url).origin !== origin);
        if (post) {
          return { url: new URL(post.action, url).href, kind: 'form_post', body: new URLSearchParams(post.fields).toString() };
        }
      }
      if (res.status !== 200) {
        throw new Error(`unexpected HTTP ${res.status} from ${method} ${url}: ${res.text.slice(0, 500)}`);
      }
      const marker = /<meta name="soidc-page" content="([^"]+)"/.exec(res.text);
      const page = marker ? marker[1] : 'unknown';
      if (page === 'logged-out' || page === 'device-success') return { url, kind: page };
      if (page === 'error') {
        const m = /<pre id="error">([\s\S]*?)<\/pre>/.exec(res.text);
        throw new Error(`provider error page at ${url}: ${m ? decode(m[1]) : res.text.slice(0, 300)}`);
      }
      const count = (seen.get(page) ?? 0) + 1;
      seen.set(page, count);
      const forms = parseForms(res.text);
      const pick = (pred) => {
        const f = forms.find(pred);
        if (!f) throw new Error(`no expected form on page ${page} at ${url}`);
        return f;
      };
      let chosen;
      let extra = {};
      switch (page) {
        case 'login':
          if (count > 1) {
            const m = /<p id="message">([\s\S]*?)<\/p>/.exec(res.text);
            throw new Error(`login failed for user ${user}: ${m ? decode(m[1]) : 'login page shown again'}`);
          }
          if (deny) chosen = pick((f) => f.id === 'abort');
          else { chosen = pick((f) => f.id === 'login'); extra = { login: user, password: pw }; }
          break;
        case 'consent':
          if (count > 1) throw new Error('consent page shown again');
          chosen = pick((f) => f.id === (deny ? 'abort' : 'consent'));
          break;
        case 'device-input':
          if (count > 1) {
            if (/Sign-in request was interrupted|aborted/i.test(res.text)) return { url, kind: 'device-aborted' };
            throw new Error(`device code not accepted: ${res.text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').slice(0, 300)}`);
          }
          if (!userCode) throw new Error('device user code input page reached but no user code given');
          chosen = pick((f) => f.id === 'op.deviceInputForm');
          extra = { user_code: userCode };
          break;
        case 'device-confirm':
          chosen = pick((f) => f.id === 'op.deviceConfirmForm');
          if (deny) { extra = { abort: 'yes' }; delete chosen.fields.confirm; }
          break;
        case 'logout':
          chosen = pick((f) => f.id === 'op.logoutForm');
          extra = { logout: 'yes' };
          break;
        default:
          throw new Error(`unexpected page at ${url}: ${res.text.slice(0, 300)}`);
      }
      method = chosen.method;
      url = new URL(chosen.action || url, url).href;
      form = { ...chosen.fields, ...extra };
      if (method === 'GET') {
        const u = new URL(url);
        for (const [k, v] of Object.entries(form)) u.searchParams.set(k, v);
        url = u.href; form = undefined;
      }
    }
    throw new Error('too many steps');
  }
}

async function main(argv) {
  let jarFile;
  let deny = false;
  const pos = [];
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === '--deny') deny = true;
    else if (argv[i] === '--jar') { jarFile = argv[i + 1]; i += 1; } else pos.push(argv[i]);
  }
  const [url, user = 'alice', password] = pos;
  if (!url) {
    process.stderr.write('usage: node browser.mjs [--jar FILE] [--deny] <url> [user] [password]\n');
    process.exit(2);
  }
  const jar = jarFile && existsSync(jarFile) ? JSON.parse(readFileSync(jarFile, 'utf8')) : undefined;
  const browser = new Browser({ jar });
  try {
    const result = await browser.run(url, { user, password, deny });
    if (jarFile) writeFileSync(jarFile, JSON.stringify(browser.dumpJar()));
    // form_post: "POST <action> <application/x-www-form-urlencoded body>", what the browser would send
    process.stdout.write(result.kind === 'form_post' ? `POST ${result.url} ${result.body}\n` : `${result.url}\n`);
  } catch (err) {
    if (jarFile) writeFileSync(jarFile, JSON.stringify(browser.dumpJar()));
    process.stderr.write(`browser.mjs: ${err.message}\n`);
    process.exit(1);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv.slice(2));
}
