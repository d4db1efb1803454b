//! ID token validation: OpenID Connect Core 1.0 §3.1.3.7 for the code flow,
//! plus every parameter of simple_openid_connect's `decode_id_token`.

use crate::core::claims::{self, ClaimSet};
use crate::core::error::{quote_untrusted, Error, Result};
use crate::core::jose::{half_hash, Alg};

/// What the caller expects of one ID token (all optional).
#[derive(Debug, Default, Clone)]
pub struct IdTokenChecks {
    /// The expected nonce. When `None` (and `ignore_nonce` is false), a token that
    /// carries a nonce is refused, as simple_openid_connect does: it answers a request
    /// whose nonce the caller did not keep, or is replayed from another login.
    pub nonce: Option<String>,
    /// Skip the nonce check entirely (a token re-validated after the login, or a
    /// refreshed ID token that repeats the original nonce, OIDC Core §12.2).
    pub ignore_nonce: bool,
    pub extra_trusted_audiences: Vec<String>,
    /// May be fractional (Python's `time.time()`); compared exactly with `iat`.
    pub min_iat: Option<f64>,
    pub min_auth_time: Option<i64>,
    pub max_age: Option<u64>,
    pub expect_self_azp: bool,
    pub access_token: Option<String>,
    pub code: Option<String>,
    /// Declarative ACR check: the token must carry an `acr` in this list.
    pub acr_values_allowed: Option<Vec<String>>,
    /// `require_claims`: claim rules checked once every other check passed.
    pub require_claims: Option<crate::core::claim_rules::ClaimRules>,
}

/// The ACR check: called with the token's `acr`, or `None` when it has none.
/// `Err(reason)` rejects the token.
pub type AcrCheck<'a> = &'a mut dyn FnMut(Option<&str>) -> std::result::Result<(), String>;

pub struct Context<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub leeway: i64,
    pub now: i64,
}

/// Runs every claim check on a token whose signature is already verified, in the order
/// of OIDC Core §3.1.3.7, except `require_claims` (the caller checks them after).
pub fn validate<C: ClaimSet>(
    ctx: &Context<'_>,
    alg: Alg,
    typ: Option<&str>,
    c: &C,
    checks: &IdTokenChecks,
    acr_check: Option<AcrCheck<'_>>,
) -> Result<()> {
    check_typ(typ)?;
    // 2. issuer
    claims::check_issuer(c, ctx.issuer)?;
    // 3.-5. audience and azp
    check_audience(ctx, c, checks)?;
    // sub: required, a non-empty string
    let sub = claims::req_str(c, "sub")?;
    if sub.is_empty() {
        return Err(Error::validation("claim \"sub\" is empty").with_detail("reason", "sub"));
    }
    claims::check_sub_length(sub)?;
    // 9./10. exp, iat, nbf
    claims::check_times(c, ctx.now, ctx.leeway, true, true)?;
    if let Some(min_iat) = checks.min_iat {
        claims::check_min_iat(c, min_iat)?;
    }
    // 11. nonce
    check_nonce(c, checks)?;
    // 12. acr
    check_acr(c, checks, acr_check)?;
    // 13. auth_time
    check_auth_time(ctx, c, checks)?;
    // at_hash / c_hash when the caller passes the access token / code
    check_hashes(alg, c, checks)?;
    // The caller's own claim rules (`checks.require_claims`) come last, in the caller
    // (they need every claim, not only the registered ones).
    Ok(())
}

/// The header `typ`, when present, must be that of a JWT (OIDC Core §2 does not define
/// one; RFC 7519 §5.1 recommends "JWT"), so that an access token (`at+jwt`) or a logout
/// token (`logout+jwt`) is never accepted as an ID token.
fn check_typ(typ: Option<&str>) -> Result<()> {
    match typ {
        Some(t) if !crate::core::jose::typ_is(Some(t), "jwt") => {
            let t = t.to_ascii_lowercase();
            let t = t.strip_prefix("application/").unwrap_or(&t);
            Err(Error::validation(format!(
                "header typ {} is not that of an ID token (expected JWT or none)",
                quote_untrusted(t)
            )))
        }
        _ => Ok(()),
    }
}

/// OIDC Core §3.1.3.7 steps 3-5: our client_id among the audiences, every other
/// audience trusted, `azp` present with several audiences, and ours when asked.
fn check_audience<C: ClaimSet>(ctx: &Context<'_>, c: &C, checks: &IdTokenChecks) -> Result<()> {
    let aud = claims::audiences(c)?;
    if !aud.contains(&ctx.client_id) {
        return Err(Error::validation(format!(
            "aud {} does not contain client_id \"{}\"",
            claims::show_list(&aud),
            ctx.client_id
        ))
        .with_detail("reason", "audience"));
    }
    if let Some(untrusted) = aud
        .iter()
        .find(|a| **a != ctx.client_id && !checks.extra_trusted_audiences.iter().any(|t| t == *a))
    {
        return Err(Error::validation(format!(
            "aud {} contains {}, which is neither client_id \"{}\" nor in extra_trusted_audiences",
            claims::show_list(&aud),
            quote_untrusted(untrusted),
            ctx.client_id
        )));
    }
    // 4./5. azp
    let azp = claims::opt_str(c, "azp")?;
    if aud.len() > 1 && azp.is_none() {
        return Err(Error::validation(format!(
            "aud {} has several audiences but the azp claim is missing",
            claims::show_list(&aud)
        )));
    }
    if let (Some(azp), true) = (azp, checks.expect_self_azp) {
        if azp != ctx.client_id {
            return Err(Error::validation(format!(
                "azp {} is not client_id \"{}\"",
                quote_untrusted(azp),
                ctx.client_id
            )));
        }
    }
    Ok(())
}

/// OIDC Core §3.1.3.7 step 12: the declarative list, then the callback (both must
/// pass). The callback is called even without acr, so a caller who requires one is
/// never bypassed by a token that has none.
fn check_acr<C: ClaimSet>(c: &C, checks: &IdTokenChecks, acr_check: Option<AcrCheck<'_>>) -> Result<()> {
    let acr = claims::opt_str(c, "acr")?;
    if let Some(allowed) = &checks.acr_values_allowed {
        match acr {
            Some(a) if allowed.iter().any(|v| v == a) => {}
            Some(a) => {
                return Err(Error::validation(format!(
                    "acr {} is not in acr_values_allowed {}",
                    quote_untrusted(a),
                    claims::show_list(&allowed.iter().map(String::as_str).collect::<Vec<_>>())
                ))
                .with_detail("reason", "acr"))
            }
            None => {
                return Err(Error::validation(
                    "acr_values_allowed was given but the token has no acr claim",
                )
                .with_detail("reason", "acr"))
            }
        }
    }
    if let Some(check) = acr_check {
        check(acr).map_err(|reason| {
            Error::validation(format!(
                "acr {} was rejected by the validate_acr callback{}",
                acr.map(quote_untrusted).unwrap_or_else(|| "(absent)".into()),
                if reason.is_empty() { String::new() } else { format!(": {reason}") }
            ))
            .with_detail("reason", "acr")
        })?;
    }
    Ok(())
}

/// OIDC Core §3.1.3.7 step 13 (`max_age`) and `min_auth_time`.
fn check_auth_time<C: ClaimSet>(ctx: &Context<'_>, c: &C, checks: &IdTokenChecks) -> Result<()> {
    let auth_time = claims::opt_time(c, "auth_time")?;
    if let Some(max_age) = checks.max_age {
        let at = auth_time.ok_or_else(|| {
            Error::validation("max_age was requested but the token has no auth_time claim")
        })?;
        let limit = at.saturating_add(i64::try_from(max_age).unwrap_or(i64::MAX)).saturating_add(ctx.leeway);
        if ctx.now > limit {
            return Err(Error::validation(format!(
                "auth_time {at} is older than max_age {max_age} s allows (now {}, leeway {} s)",
                ctx.now, ctx.leeway
            )));
        }
    }
    if let (Some(min), Some(at)) = (checks.min_auth_time, auth_time) {
        if at < min {
            return Err(Error::validation(format!("auth_time {at} is before min_auth_time {min}")));
        }
    }
    Ok(())
}

/// `at_hash` / `c_hash` (OIDC Core §3.1.3.8, §3.3.2.11) when the caller passes the
/// access token / code and the token carries the hash.
fn check_hashes<C: ClaimSet>(alg: Alg, c: &C, checks: &IdTokenChecks) -> Result<()> {
    if let Some(at) = &checks.access_token {
        if let Some(h) = claims::opt_str(c, "at_hash")? {
            if h != half_hash(alg, at) {
                return Err(Error::validation("at_hash does not match the access token"));
            }
        }
    }
    if let Some(code) = &checks.code {
        if let Some(h) = claims::opt_str(c, "c_hash")? {
            if h != half_hash(alg, code) {
                return Err(Error::validation("c_hash does not match the authorization code"));
            }
        }
    }
    Ok(())
}

/// OIDC Core §3.1.3.7 step 11, strict both ways as simple_openid_connect: an expected
/// nonce must be present and equal; a nonce nobody expected is refused too (it belongs
/// to a request whose nonce was not kept, or to another login), unless the caller
/// switched the check off with `ignore_nonce`.
fn check_nonce<C: ClaimSet>(c: &C, checks: &IdTokenChecks) -> Result<()> {
    if checks.ignore_nonce {
        return Ok(());
    }
    let token_nonce = claims::opt_str(c, "nonce")?;
    let fail = |msg: String| Err(Error::validation(msg).with_detail("reason", "nonce"));
    match (&checks.nonce, token_nonce) {
        (Some(_), None) => fail("nonce was expected but the token has no nonce claim".into()),
        (Some(expected), Some(n)) if n != expected => {
            fail(format!("nonce {} does not match the expected nonce {}", quote_untrusted(n), quote_untrusted(expected)))
        }
        (None, Some(_)) => fail(
            "the token carries a nonce but none was expected: pass the nonce of the authentication request \
             (or ignore_nonce where the nonce is no longer at hand)"
                .into(),
        ),
        _ => Ok(()),
    }
}
