#![no_main]
// The logic is in targets_common.rs, shared with tests/fuzz_corpus.rs.
libfuzzer_sys::fuzz_target!(|data: &[u8]| soidc_fuzz::introspection_response(data));
