//! The photo-archive example (a stack that is not Argus) synthesizes with no unsuppressed rule
//! error, grants its non-Argus role read on the imported bucket without adding that bucket to the
//! template, and passes cfn-lint.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use argus_cdk::Expr;
use serde_json::{Value, json};

mod judges;

#[path = "../examples/photo_archive.rs"]
#[allow(dead_code)]
mod photo_archive;

#[test]
fn photo_archive_synthesizes_with_no_unsuppressed_rule_error() {
    let synth = photo_archive::synthesize().unwrap();
    assert_eq!(synth.name, photo_archive::STACK_NAME);
    assert_eq!(synth.report.unsuppressed_errors().count(), 0);
    let thumbnailer = &synth.template.resources["Thumbnailer"];
    assert_eq!(thumbnailer.property("Runtime"), Some(&json!("python3.12")));
    assert_eq!(
        thumbnailer.property("Handler"),
        Some(&json!("thumbnails.handler"))
    );
    assert_eq!(
        thumbnailer.metadata["photo-archive"]["suppressions"][0]["id"],
        "LAMBDA-DLQ"
    );
    assert!(
        synth
            .template
            .resources
            .values()
            .all(|r| !r.metadata.contains_key("argus") && !r.metadata.contains_key("argus:path")),
        "the stack writes its own metadata keys"
    );
}

#[test]
fn imported_bucket_is_granted_to_the_analytics_role_and_not_in_the_template() {
    let built = photo_archive::photo_archive().unwrap();
    assert!(built.archive.is_imported() && !built.uploads.is_imported());
    let archive_arn = Expr::arn("s3", "", "", photo_archive::ARCHIVE_BUCKET_NAME).to_json();
    let objects_arn = built.archive.arn_for_objects("exports/*").to_json();
    assert_eq!(
        objects_arn,
        json!({"Fn::Sub": "arn:${AWS::Partition}:s3:::photo-archive-legacy-${AWS::AccountId}/exports/*"})
    );
    let synth = built.stack.synth().unwrap();
    let template = synth.template.to_value().unwrap();
    let resources = template["Resources"].as_object().unwrap();

    let role = &resources[&built.analytics_role.logical_id];
    assert_eq!(role["Type"], "AWS::IAM::Role");
    assert_eq!(
        role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"],
        json!({"Service": "ecs-tasks.amazonaws.com"})
    );
    assert_eq!(role["Properties"]["Policies"][0]["PolicyName"], "grants");
    let statements = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap();
    let names = |arn: &Value| {
        statements
            .iter()
            .any(|s| s["Resource"].as_array().unwrap().contains(arn))
    };
    assert!(names(&objects_arn), "{statements:#?}");
    assert!(names(&archive_arn), "{statements:#?}");

    // The function's role got its grants on the archive too, in the same single inline policy.
    let function_role = &resources[&built.thumbnailer.role.logical_id];
    let function_policies = function_role["Properties"]["Policies"].as_array().unwrap();
    assert_eq!(function_policies.len(), 1);
    assert!(
        function_policies[0].to_string().contains("originals/*"),
        "{function_policies:#?}"
    );

    let buckets: Vec<&String> = resources
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::S3::Bucket")
        .map(|(id, _)| id)
        .collect();
    assert_eq!(buckets, vec!["AccessLogs", "Uploads"]);
    assert!(!resources.contains_key(&built.archive.logical_id));
    assert!(
        resources.values().all(|r| r["Properties"]["BucketName"]
            != json!({"Fn::Sub": photo_archive::ARCHIVE_BUCKET_NAME})),
        "no resource creates the imported bucket"
    );
    assert!(!template.to_string().contains("arn:aws:"));
}

#[test]
fn cfn_lint_reports_nothing_on_the_photo_archive_template() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("photo-archive.template.json");
    let synth = photo_archive::synthesize().unwrap();
    std::fs::write(&path, synth.template.to_json().unwrap()).unwrap();
    // The example names no Region; cfn-lint's default (us-east-1) judges it.
    judges::assert_cfn_lint_clean(&[path], &[]);
}
