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
    assert_eq!(first.files.len(), second.files.len());
    assert!(
        first.files.len() >= 8,
        "5 templates, manifest and two reports"
    );
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
