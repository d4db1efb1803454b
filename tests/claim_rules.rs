//! `require_claims` (claim rules) on every decode, against real tokens of the test
//! provider: ID tokens (decode, password grant, refresh, code flow, device flow), RFC 9068
//! access tokens, UserInfo and back-channel logout tokens. Alice has
//! `realm_access.roles` = ["ssh-login", "dev"], `https://example.com/claims` =
//! {"tenant": "acme"} and `orgs` = [{id org-1, roles [owner]}, {id org-2, roles [viewer,
//! billing]}] (scope `roles`); bob has roles ["dev"] and tenant "globex".

mod common;
#[path = "common/flows.rs"]
mod flows;

use common::jwt;
use flows::*;
use serde_json::{json, Value};
use soidc::ffi::status::*;

const BCL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

fn with_rules(base: Value, rules: Value) -> String {
    let mut o = base;
    o["require_claims"] = rules;
    o.to_string()
}

/// A password-grant ID token of conf-basic for `user` with the `roles` scope.
fn id_token_of(c: &common::ffi::FfiClient, user: &str) -> (String, Value) {
    let doc = password_grant(c, user, &format!("{user}-password"), Some("openid roles email"), None).ok();
    (s(&doc, "id_token").to_owned(), doc)
}

/// Asserts a claim_rule failure naming `rule`, without any of `hidden` in the document.
#[track_caller]
fn assert_rule_failed(o: &common::ffi::Outcome, rule: &str, hidden: &[&str]) -> Value {
    let doc = o.err(SOIDC_ERR_VALIDATION, "claim rule");
    assert_eq!(doc["reason"], "claim_rule", "{doc}");
    assert_eq!(doc["rule"], rule, "{doc}");
    let text = doc.to_string();
    for h in hidden {
        assert!(!text.contains(h), "{h:?} leaked into {text}");
    }
    doc
}

#[test]
fn id_token_rules_pass_and_fail() {
    let c = conf_client("conf-basic", None);
    let (alice, _) = id_token_of(&c, "alice");
    let claims = jwt::payload(&alice);
    assert_eq!(claims["realm_access"]["roles"], json!(["ssh-login", "dev"]), "{claims}");
    assert_eq!(claims["https://example.com/claims"]["tenant"], "acme", "{claims}");

    let passing = json!([
        {"claim": "realm_access.roles", "op": "contains", "value": "ssh-login"},
        {"claim": "/realm_access/roles", "op": "contains_any", "value": ["root", "dev"]},
        {"claim": r"https://example\.com/claims.tenant", "op": "eq", "value": "acme"},
        {"claim": "/https:~1~1example.com~1claims/tenant", "op": "in", "value": ["acme", "initech"]},
        {"claim": "orgs.roles", "op": "contains", "value": "billing"},
        {"claim": "orgs.id", "op": "eq", "value": ["org-1", "org-2"]},
        {"claim": "/orgs/1/id", "op": "eq", "value": "org-2"},
        {"claim": "email_verified", "op": "eq", "value": true},
        {"claim": "auth_time", "op": "exists"}
    ]);
    let got = c.decode_id_token(&alice, Some(&with_rules(json!({"ignore_nonce": true}), passing.clone()))).ok();
    assert_eq!(got, claims, "the claims come back unchanged");

    // Bob's token fails the same rules on the first one; the document names the rule and
    // shows none of bob's values.
    let (bob, _) = id_token_of(&c, "bob");
    let o = c.decode_id_token(&bob, Some(&with_rules(json!({}), passing)));
    assert_rule_failed(&o, "realm_access.roles contains", &["globex", "\"dev\"", "Bob"]);
    // A named rule is reported by its name.
    let rules = json!([{"claim": r"https://example\.com/claims.tenant", "op": "eq", "value": "acme", "name": "tenant acme"}]);
    let o = c.decode_id_token(&bob, Some(&with_rules(json!({}), rules)));
    let doc = assert_rule_failed(&o, "tenant acme", &["globex"]);
    assert!(doc["message"].as_str().unwrap().starts_with("ID token: claim rule"), "{doc}");
    // An absent claim fails every op, exists included.
    let rules = json!([{"claim": "orgs", "op": "exists"}]);
    assert_rule_failed(&c.decode_id_token(&bob, Some(&with_rules(json!({}), rules))), "orgs exists", &[]);
    // The rules run after every other check: a token failing its signature reports that.
    let mut forged = jwt::payload(&bob);
    forged["realm_access"] = json!({"roles": ["ssh-login"]});
    let forged = jwt::with_payload(&bob, &forged);
    let rules = json!([{"claim": "realm_access.roles", "op": "contains", "value": "ssh-login"}]);
    c.decode_id_token(&forged, Some(&with_rules(json!({}), rules))).err(SOIDC_ERR_VALIDATION, "signature");
}

#[test]
fn bad_rules_are_invalid_argument_before_any_token_work() {
    let c = conf_client("conf-basic", None);
    let bad = [
        (json!({"claim": "a"}), "array"),
        (json!([{"claim": "a", "op": "eq"}]), "needs a value"),
        (json!([{"claim": "a", "op": "matches", "value": "x"}]), "is not eq"),
        (json!([{"claim": "a", "op": "exists", "regex": true}]), "unknown member"),
        (json!([{"claim": "a", "op": "in", "value": "x"}]), "needs an array"),
        (json!([{"claim": "a", "op": "contains_any", "value": {"x": 1}}]), "needs an array"),
        (json!([{"claim": "a..b", "op": "exists"}]), "empty name"),
        (json!([{"claim": r"a\b", "op": "exists"}]), "'\\'"),
        (json!([{"claim": "/a~2", "op": "exists"}]), "'~'"),
        (json!([{"claim": "", "op": "exists"}]), "empty"),
        (json!([{"claim": "a", "op": "exists", "name": 5}]), "name"),
    ];
    for (rules, fragment) in bad {
        // "not-a-token" would be a validation error: the options are refused first.
        let o = c.decode_id_token("not-a-token", Some(&with_rules(json!({}), rules.clone())));
        let doc = o.err(SOIDC_ERR_INVALID_ARGUMENT, fragment);
        assert!(doc["message"].as_str().unwrap().contains("require_claims"), "{rules}: {doc}");
        decode_access_token(&c, "not-a-token", Some(&with_rules(json!({}), rules.clone())))
            .err(SOIDC_ERR_INVALID_ARGUMENT, fragment);
        decode_logout_token(&c, "not-a-token", Some(&with_rules(json!({}), rules.clone())))
            .err(SOIDC_ERR_INVALID_ARGUMENT, fragment);
        // Grants refuse them before anything is sent (a wrong password would be Provider).
        password_grant(&c, "alice", "wrong", Some("openid"), Some(&with_rules(json!({}), rules.clone())))
            .err(SOIDC_ERR_INVALID_ARGUMENT, fragment);
        userinfo(&c, "not-a-token", Some(&with_rules(json!({}), rules))).err(SOIDC_ERR_INVALID_ARGUMENT, fragment);
    }
    // null is refused like every option; an empty list checks nothing.
    c.decode_id_token("not-a-token", Some(r#"{"require_claims": null}"#)).err(SOIDC_ERR_INVALID_ARGUMENT, "null");
    let (alice, _) = id_token_of(&c, "alice");
    c.decode_id_token(&alice, Some(r#"{"require_claims": []}"#)).ok();
    // The client credentials grant has no ID token to apply them to.
    let rules = json!([{"claim": "sub", "op": "exists"}]);
    client_credentials(&c, None, Some(&with_rules(json!({}), rules))).err(SOIDC_ERR_INVALID_ARGUMENT, "require_claims");
}

#[test]
fn hostile_rule_documents() {
    let c = conf_client("conf-basic", None);
    // 10 000 rules, a 1 MB value, deep and long paths: refused quickly with a clear message.
    let many: Vec<Value> = (0..10_000).map(|i| json!({"claim": format!("c{i}"), "op": "exists"})).collect();
    let t = std::time::Instant::now();
    c.decode_id_token("x", Some(&with_rules(json!({}), Value::Array(many)))).err(SOIDC_ERR_INVALID_ARGUMENT, "limit of 64");
    let huge = json!([{"claim": "a", "op": "eq", "value": "v".repeat(1 << 20)}]);
    c.decode_id_token("x", Some(&with_rules(json!({}), huge))).err(SOIDC_ERR_INVALID_ARGUMENT, "limit");
    let huge_list = json!([{"claim": "a", "op": "in", "value": vec!["v"; 200_000]}]);
    c.decode_id_token("x", Some(&with_rules(json!({}), huge_list))).err(SOIDC_ERR_INVALID_ARGUMENT, "limit");
    let deep = vec!["a"; 1000].join(".");
    c.decode_id_token("x", Some(&with_rules(json!({}), json!([{"claim": deep, "op": "exists"}]))))
        .err(SOIDC_ERR_INVALID_ARGUMENT, "limit");
    let long = "a".repeat(100_000);
    c.decode_id_token("x", Some(&with_rules(json!({}), json!([{"claim": long, "op": "exists"}]))))
        .err(SOIDC_ERR_INVALID_ARGUMENT, "limit");
    let long_name = "n".repeat(10_000);
    c.decode_id_token("x", Some(&with_rules(json!({}), json!([{"claim": "a", "op": "exists", "name": long_name}]))))
        .err(SOIDC_ERR_INVALID_ARGUMENT, "limit");
    // Nesting beyond the strict reader's depth in a value.
    let nested = format!(r#"{{"require_claims":[{{"claim":"a","op":"eq","value":{}1{}}}]}}"#, "[".repeat(100), "]".repeat(100));
    c.decode_id_token("x", Some(&nested)).err(SOIDC_ERR_INVALID_ARGUMENT, "deeper");
    assert!(t.elapsed().as_secs() < 10, "hostile rule documents took {:?}", t.elapsed());
    // The maximum accepted: 64 rules and a 32-name path, on a real token.
    let (alice, _) = id_token_of(&c, "alice");
    let mut rules: Vec<Value> = (0..63).map(|_| json!({"claim": "sub", "op": "eq", "value": "alice"})).collect();
    rules.push(json!({"claim": vec!["x"; 32].join("."), "op": "exists"}));
    let o = c.decode_id_token(&alice, Some(&with_rules(json!({"ignore_nonce": true}), Value::Array(rules))));
    assert_rule_failed(&o, &format!("{} exists", vec!["x"; 32].join(".")), &[]);
}

#[test]
fn access_token_rules() {
    let c = conf_client("conf-basic", None);
    let doc = password_grant(&c, "alice", "alice-password", Some("openid api:read"), None).ok();
    let at = s(&doc, "access_token");
    assert_eq!(jwt::payload(at)["realm_access"]["roles"], json!(["ssh-login", "dev"]));
    let base = json!({"audience": API});
    let rules = json!([
        {"claim": "realm_access.roles", "op": "contains", "value": "ssh-login"},
        {"claim": "scope", "op": "contains", "value": "api:read"},
        {"claim": "client_id", "op": "eq", "value": "conf-basic"}
    ]);
    decode_access_token(&c, at, Some(&with_rules(base.clone(), rules))).ok();
    // A valid token failing a rule is RFC 6750 insufficient_scope (a 403 for the host).
    let rules = json!([{"claim": "scope", "op": "contains_any", "value": ["api:write", "admin"], "name": "writers"}]);
    let o = decode_access_token(&c, at, Some(&with_rules(base.clone(), rules)));
    let err = assert_rule_failed(&o, "writers", &["api:read"]);
    assert_eq!(err["error"], "insufficient_scope", "{err}");
    assert!(err["message"].as_str().unwrap().starts_with("access token: "), "{err}");
    assert_no_leak(&o, &[at]);
    // Bob's access token lacks the role.
    let doc = password_grant(&c, "bob", "bob-password", Some("openid api:read"), None).ok();
    let rules = json!([{"claim": "realm_access.roles", "op": "contains", "value": "ssh-login"}]);
    let o = decode_access_token(&c, s(&doc, "access_token"), Some(&with_rules(base, rules)));
    assert_rule_failed(&o, "realm_access.roles contains", &["\"dev\""]);
}

#[test]
fn userinfo_rules() {
    let c = conf_client("conf-basic", None);
    let doc = password_grant(&c, "alice", "alice-password", Some("openid roles email"), None).ok();
    let at = s(&doc, "access_token");
    let rules = json!([
        {"claim": "realm_access.roles", "op": "contains", "value": "dev"},
        {"claim": "email_verified", "op": "eq", "value": true}
    ]);
    let info = userinfo(&c, at, Some(&with_rules(json!({}), rules))).ok();
    assert_eq!(info["sub"], "alice");
    let rules = json!([{"claim": r"https://example\.com/claims.tenant", "op": "eq", "value": "globex"}]);
    let o = userinfo(&c, at, Some(&with_rules(json!({}), rules)));
    let err = assert_rule_failed(&o, r"https://example\.com/claims.tenant eq", &["acme"]);
    assert!(err["message"].as_str().unwrap().starts_with("userinfo: "), "{err}");
}

#[test]
fn grant_results_check_rules_on_their_id_token() {
    let c = conf_client("conf-basic", None);
    let ok_rules = json!([{"claim": "realm_access.roles", "op": "contains", "value": "ssh-login"}]);
    // Password grant.
    let doc = password_grant(&c, "alice", "alice-password", Some("openid roles offline_access"), Some(&with_rules(json!({}), ok_rules.clone()))).ok();
    assert_eq!(doc["id_token_claims"]["sub"], "alice");
    let o = password_grant(&c, "bob", "bob-password", Some("openid roles"), Some(&with_rules(json!({}), ok_rules.clone())));
    assert_rule_failed(&o, "realm_access.roles contains", &["\"dev\""]);
    assert_no_leak(&o, &["bob-password"]);
    // No ID token in the response (no openid scope): the rules cannot pass.
    let o = password_grant(&c, "alice", "alice-password", Some("email"), Some(&with_rules(json!({}), ok_rules.clone())));
    let err = o.err(SOIDC_ERR_VALIDATION, "no ID token");
    assert_eq!(err["reason"], "claim_rule");
    // Refresh: the new ID token is checked too.
    let rt = s(&doc, "refresh_token").to_owned();
    let o = refresh(&c, &rt, Some(&with_rules(json!({}), json!([{"claim": "sub", "op": "eq", "value": "bob", "name": "bob only"}]))));
    assert_rule_failed(&o, "bob only", &[]);
}

#[test]
fn code_flow_checks_rules() {
    let c = conf_client_scope("conf-basic", Some("openid roles"), None);
    let (start, redirect) = login_alice(&c, None);
    let mut o: Value = serde_json::from_str(&result_options(&start)).unwrap();
    o["require_claims"] = json!([{"claim": "orgs.roles", "op": "contains", "value": "owner"}]);
    let doc = handle_result(&c, &redirect, Some(&o.to_string())).ok();
    assert_eq!(doc["id_token_claims"]["sub"], "alice");
    let (start, redirect) = login_alice(&c, None);
    let mut o: Value = serde_json::from_str(&result_options(&start)).unwrap();
    o["require_claims"] = json!([{"claim": "orgs.roles", "op": "contains", "value": "admin", "name": "org admin"}]);
    let out = handle_result(&c, &redirect, Some(&o.to_string()));
    assert_rule_failed(&out, "org admin", &["owner", "billing"]);
}

#[test]
fn device_flow_checks_rules() {
    let c = conf_client("conf-basic", None);
    let start = device_start(&c, Some("openid roles"), None).ok();
    device_decide(s(&start, "user_code"), "bob", true);
    let rules = json!([{"claim": "realm_access.roles", "op": "contains", "value": "ssh-login"}]);
    let o = device_poll(&c, s(&start, "device_code"), Some(&with_rules(json!({"interval": 1}), rules)));
    assert_rule_failed(&o, "realm_access.roles contains", &["\"dev\""]);
}

#[test]
fn logout_token_rules() {
    let delivered = backchannel_logout("alice", "conf-bcl");
    let token = delivered
        .iter()
        .find(|t| jwt::payload(t)["sub"] == "alice")
        .unwrap_or_else(|| panic!("no logout token for alice in {delivered:?}"));
    let bcl = conf_client("conf-bcl", None);
    // The event member's name holds dots and slashes: both path syntaxes reach it.
    let dotted = BCL_EVENT.replace('.', r"\.");
    let rules = json!([
        {"claim": format!("events.{dotted}"), "op": "exists"},
        {"claim": format!("/events/{}", BCL_EVENT.replace('/', "~1")), "op": "exists"},
        {"claim": "sid", "op": "exists"},
        {"claim": "sub", "op": "in", "value": ["alice", "carol"]}
    ]);
    decode_logout_token(&bcl, token, Some(&with_rules(json!({}), rules))).ok();
    let rules = json!([{"claim": "sub", "op": "eq", "value": "carol", "name": "carol only"}]);
    let o = decode_logout_token(&bcl, token, Some(&with_rules(json!({}), rules)));
    let err = assert_rule_failed(&o, "carol only", &["alice"]);
    assert!(err["message"].as_str().unwrap().starts_with("logout token: "), "{err}");
}
