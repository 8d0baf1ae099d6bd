//! Misuse of the derive and of typed columns must fail to compile with a short message at
//! the user's code. Expected messages are in tests/ui/*.stderr.

#[test]
fn compile_errors() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
