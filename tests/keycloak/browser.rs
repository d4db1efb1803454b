//! A minimal scripted browser for Keycloak's HTML pages (login, device verification,
//! consent, logout confirmation): plain HTTP with a cookie jar, no redirect following,
//! forms found in the page and submitted as a user would. No JavaScript is needed by
//! these pages.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

/// One HTTP answer: status, `Location` (if any) and body.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
    pub url: String,
}

/// A form of a page: its absolute action URL and its named inputs (hidden ones included).
#[derive(Debug, Clone)]
pub struct Form {
    pub action: String,
    pub fields: Vec<(String, String)>,
}

/// A browser session: one cookie jar (per cookie name; Keycloak's cookies are all
/// scoped to the realm path on one host).
pub struct Browser {
    agent: ureq::Agent,
    cookies: BTreeMap<String, String>,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .new_agent();
        Browser { agent, cookies: BTreeMap::new() }
    }

    fn cookie_header(&self) -> Option<String> {
        (!self.cookies.is_empty()).then(|| {
            self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
        })
    }

    fn finish(&mut self, url: &str, resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Page {
        let mut resp = resp.unwrap_or_else(|e| panic!("{url}: request failed: {e}"));
        for v in resp.headers().get_all("set-cookie") {
            let v = v.to_str().expect("ASCII Set-Cookie");
            let pair = v.split(';').next().unwrap_or("");
            if let Some((name, value)) = pair.split_once('=') {
                let expired = v.to_ascii_lowercase().contains("max-age=0") || value.is_empty();
                if expired {
                    self.cookies.remove(name.trim());
                } else {
                    self.cookies.insert(name.trim().to_owned(), value.to_owned());
                }
            }
        }
        let location = resp
            .headers()
            .get("location")
            .map(|l| l.to_str().expect("ASCII Location").to_owned())
            .map(|l| absolute(url, &l));
        let status = resp.status().as_u16();
        let body = resp.body_mut().read_to_string().unwrap_or_default();
        Page { status, location, body, url: url.to_owned() }
    }

    pub fn get(&mut self, url: &str) -> Page {
        let mut req = self.agent.get(url);
        if let Some(c) = self.cookie_header() {
            req = req.header("Cookie", &c);
        }
        let resp = req.call();
        self.finish(url, resp)
    }

    pub fn post(&mut self, url: &str, fields: &[(String, String)]) -> Page {
        let mut req = self.agent.post(url);
        if let Some(c) = self.cookie_header() {
            req = req.header("Cookie", &c);
        }
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let resp = req.send_form(pairs);
        self.finish(url, resp)
    }

    /// GETs `url` and follows redirects that stay on `host_prefix` (Keycloak's own
    /// pages); stops at the first page that is not a redirect, or at a redirect leaving it.
    pub fn browse(&mut self, url: &str, host_prefix: &str) -> Page {
        let mut page = self.get(url);
        for _ in 0..10 {
            match &page.location {
                Some(l) if (300..400).contains(&page.status) && l.starts_with(host_prefix) => {
                    let next = l.clone();
                    page = self.get(&next);
                }
                _ => break,
            }
        }
        page
    }

    /// Submits `form` with `set` overriding or adding fields, and follows redirects that
    /// stay on `host_prefix`.
    pub fn submit(&mut self, form: &Form, set: &[(&str, &str)], host_prefix: &str) -> Page {
        let mut fields = form.fields.clone();
        for (k, v) in set {
            fields.retain(|(name, _)| name != k);
            fields.push(((*k).to_owned(), (*v).to_owned()));
        }
        let mut page = self.post(&form.action, &fields);
        for _ in 0..10 {
            match &page.location {
                Some(l) if (300..400).contains(&page.status) && l.starts_with(host_prefix) => {
                    let next = l.clone();
                    page = self.get(&next);
                }
                _ => break,
            }
        }
        page
    }
}

impl Page {
    /// The first form whose opening tag contains `marker` (e.g. `id="kc-form-login"`),
    /// or the first form when `marker` is empty.
    #[track_caller]
    pub fn form(&self, marker: &str) -> Form {
        let lower = self.body.as_str();
        let mut at = 0;
        while let Some(i) = lower[at..].find("<form") {
            let start = at + i;
            let tag_end = start + lower[start..].find('>').expect("a closed form tag");
            let tag = &lower[start..tag_end];
            let end = start + lower[start..].find("</form>").unwrap_or(lower.len() - start);
            if marker.is_empty() || tag.contains(marker) {
                let action = attr(tag, "action").map(|a| absolute(&self.url, &unescape(&a))).unwrap_or_else(|| self.url.clone());
                let mut fields = Vec::new();
                let inner = &lower[tag_end..end];
                let mut p = 0;
                while let Some(j) = inner[p..].find("<input") {
                    let s = p + j;
                    let e = s + inner[s..].find('>').expect("a closed input tag");
                    let input = &inner[s..e];
                    if let Some(name) = attr(input, "name") {
                        let ty = attr(input, "type").unwrap_or_default();
                        if ty != "submit" && ty != "checkbox" {
                            fields.push((unescape(&name), unescape(&attr(input, "value").unwrap_or_default())));
                        }
                    }
                    p = e;
                }
                return Form { action, fields };
            }
            at = tag_end;
        }
        panic!("no form with {marker:?} on {} (HTTP {}):\n{}", self.url, self.status, self.body);
    }

    pub fn has_form(&self, marker: &str) -> bool {
        self.body.match_indices("<form").any(|(i, _)| {
            let tag_end = i + self.body[i..].find('>').unwrap_or(0);
            self.body[i..tag_end].contains(marker)
        })
    }
}

/// The value of attribute `name` in a tag (double or single quotes).
fn attr(tag: &str, name: &str) -> Option<String> {
    for q in ['"', '\''] {
        let pat = format!(" {name}={q}");
        if let Some(i) = tag.find(&pat) {
            let rest = &tag[i + pat.len()..];
            let end = rest.find(q)?;
            return Some(rest[..end].to_owned());
        }
    }
    None
}

/// HTML character references that Keycloak's templates emit in attribute values.
fn unescape(s: &str) -> String {
    s.replace("&amp;", "&").replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">")
}

/// `reference` resolved against `base`.
fn absolute(base: &str, reference: &str) -> String {
    url::Url::parse(base).and_then(|b| b.join(reference)).map(|u| u.to_string()).unwrap_or_else(|_| reference.to_owned())
}
