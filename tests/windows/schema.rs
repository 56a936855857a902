//! The logon task's XML against the Task Scheduler schema, with xmllint (no Wine needed).

use std::path::{Path, PathBuf};

use crate::wine::{self, text};

/// The logon task's XML against the Task Scheduler schema (the part of it in
/// `tests/windows/task.xsd`), stored as the UTF-16 it declares; and the schema check bites:
/// the old `Count` of 999 fails it.
#[test]
fn the_logon_task_xml_is_valid_against_the_schema() {
    let required = std::env::var("AUTOCHASE_REQUIRE_WINE").is_ok_and(|v| v == "1");
    if wine::which("xmllint").is_none() {
        assert!(
            !required,
            "AUTOCHASE_REQUIRE_WINE=1 but no xmllint (apt-get install libxml2-utils)"
        );
        eprintln!("SKIPPED the_logon_task_xml_is_valid_against_the_schema: no xmllint");
        return;
    }
    let home = autochase::platform::Home {
        os: autochase::platform::Os::Windows,
        home: PathBuf::from(r"C:\Users\Zoé 日本"),
        documents: None,
        config: PathBuf::from(r"C:\Users\Zoé 日本\AppData\Roaming"),
        data: PathBuf::from(r"C:\Users\Zoé 日本\AppData\Local"),
    };
    let target = autochase::service::Target {
        exe: PathBuf::from(r"C:\Users\Zoé 日本\AppData\Local\Programs\autochase\autochase.exe"),
        config: Some(PathBuf::from(r"C:\Users\Zoé 日本\My & <config>.toml")),
        user: Some(r"DESKTOP-1\Zoé 日本".into()),
    };
    let xml = autochase::service::windows_task_xml(&home, &target);
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/windows/task.xsd");
    let dir = tempfile::tempdir().unwrap();
    let check = |xml: &str| {
        let file = dir.path().join("task.xml");
        std::fs::write(&file, autochase::service::utf16_with_bom(xml)).unwrap();
        std::process::Command::new("xmllint")
            .args(["--noout", "--schema"])
            .arg(&schema)
            .arg(&file)
            .output()
            .unwrap()
    };
    let out = check(&xml);
    assert!(out.status.success(), "{}\n{xml}", text(&out.stderr));
    for (bad, why) in [
        (
            xml.replace("<Count>3</Count>", "<Count>999</Count>"),
            "Count 999",
        ),
        (
            xml.replace("<Interval>PT1M</Interval>", "<Interval>PT30S</Interval>"),
            "Interval 30 s",
        ),
        (
            xml.replacen(
                "<Enabled>true</Enabled>\n      <UserId>DESKTOP-1\\Zoé 日本</UserId>",
                "<UserId>DESKTOP-1\\Zoé 日本</UserId>\n      <Enabled>true</Enabled>",
                1,
            ),
            "the trigger's UserId before Enabled",
        ),
    ] {
        assert_ne!(bad, xml, "{why}: the replacement applied");
        assert!(!check(&bad).status.success(), "{why} must fail the schema");
    }
}
