//! One word per job (ARCHITECTURE.md, "Names"): `huashu test-ruleset` tests a ruleset; `huashu check`, its
//! older name, still works (hidden from `--help`) and prints the same.

use std::process::{Command, Output};

fn huashu(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_huashu"))
        .args(args)
        .output()
        .expect("run huashu")
}

#[test]
fn test_ruleset_and_its_old_name_check_agree() {
    let new = huashu(&["test-ruleset", "zh-CN"]);
    let old = huashu(&["check", "zh-CN"]);
    assert!(new.status.success(), "{new:?}");
    assert_eq!(new.status.code(), old.status.code());
    assert_eq!(new.stdout, old.stdout);
    assert!(
        String::from_utf8_lossy(&new.stdout)
            .trim_end()
            .ends_with("all passed")
    );
    let help = String::from_utf8_lossy(&huashu(&["--help"]).stdout).into_owned();
    assert!(help.contains("test-ruleset"), "{help}");
    assert!(!help.contains("\n  check "), "{help}");
}
