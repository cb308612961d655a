//! insta snapshots of every synthesized template, and byte-identical output across synths.
#![allow(clippy::unwrap_used)]

use argus_stacks::app::{self, Selection};

#[test]
fn every_template_matches_its_snapshot() {
    let stacks = app::synth(&crate::common::config_dir(), &Selection::All).unwrap();
    assert_eq!(stacks.len(), 6, "toolkit, audit, ci and three stages");
    for stack in stacks {
        insta::assert_snapshot!(
            format!("{}.template.json", stack.name),
            stack.template.to_json().unwrap()
        );
    }
}

#[test]
fn two_synths_write_byte_identical_assemblies() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = crate::common::synth_all(a.path());
    let second = crate::common::synth_all(b.path());
    let stacks = app::synth(&crate::common::config_dir(), &Selection::All)
        .unwrap()
        .len();
    assert_eq!(stacks, 6, "toolkit, audit, ci and three stages");
    // JSON format: one template per stack, then manifest.json, rules-report.json and .txt.
    assert_eq!(
        first.files.len(),
        stacks + 3,
        "one template per stack, the manifest and two reports: {:?}",
        first.files
    );
    assert_eq!(first.files.len(), second.files.len());
    for (x, y) in first.files.iter().zip(&second.files) {
        assert_eq!(x.file_name(), y.file_name());
        assert_eq!(
            std::fs::read(x).unwrap(),
            std::fs::read(y).unwrap(),
            "{} differs between synths",
            x.display()
        );
    }
}
