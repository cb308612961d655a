//! The toolkit against the local twin's emulator (MiniStack, started here on loopback and
//! stopped by PID): bootstrap, deploy, no-change redeploy, diff, update, failure reporting,
//! destroy.

use std::process::Output;
use std::time::Duration;

use argus_cdk::constructs::{Queue, QueueProps};
use argus_toolkit::ToolkitError;
use argus_toolkit::aws::AwsContext;
use argus_toolkit::deploy::{self, Approval, DeployRequest};
use argus_toolkit::report::Recorder;

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    let creds = aws_sdk_s3::config::Credentials::new("test", "test", None, None, "tests");
    aws_config::SdkConfig::builder()
        .http_client(argus_toolkit::aws::https_client())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(creds))
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build()
}

#[test]
fn deploy_lifecycle_on_the_twin() {
    let twin = crate::common::start_twin();
    let endpoint = twin.endpoint_url();
    let config = crate::common::config_copy();
    let out = tempfile::tempdir().unwrap();
    crate::common::copy_bundles(out.path());
    let argus = |args: &[&str]| {
        crate::common::argus_on(&endpoint)
            .args(args)
            .arg("--config-dir")
            .arg(config.path())
            .arg("--out")
            .arg(out.path())
            .output()
            .unwrap()
    };

    // Bootstrap: the toolkit stack and its assets bucket.
    let o = argus(&["bootstrap", "--stage", "local"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("assets bucket argus-assets-000000000000-us-east-1"),
        "{}",
        text(&o)
    );

    // First deploy creates the stack, names each resource as it completes, writes outputs.
    let outputs = out.path().join("outputs.json");
    let o = argus(&[
        "deploy",
        "--stage",
        "local",
        "--require-approval",
        "never",
        "--outputs-file",
        &outputs.to_string_lossy(),
    ]);
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    assert!(
        log.contains("(CREATE)") && log.contains("argus-local: CREATE_COMPLETE"),
        "{log}"
    );
    assert!(
        log.contains("asset processor uploaded to s3://argus-assets-"),
        "{log}"
    );
    for resource in [
        "Input",
        "Ingest",
        "Results",
        "Audit",
        "Processor",
        "ProcessorIngestSource",
        "AlarmsDeadLetters",
    ] {
        assert!(
            log.lines()
                .any(|l| l.contains("CREATE_COMPLETE") && l.trim_end().ends_with(resource)),
            "{resource} missing:\n{log}"
        );
    }
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&outputs).unwrap()).unwrap();
    assert_eq!(
        written["argus-local"]["InputBucketName"],
        "argus-local-input-000000000000-us-east-1"
    );
    assert_eq!(written["argus-local"]["InputPrefix"], "incoming/");

    // Second deploy: no changes, and no change set is left or executed.
    let o = argus(&["deploy", "--stage", "local", "--require-approval", "never"]);
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    assert!(
        log.contains("argus-local: no changes") && log.contains("asset processor already in"),
        "{log}"
    );
    assert!(!log.contains("UPDATE_IN_PROGRESS"), "{log}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let cfn = aws_sdk_cloudformation::Client::new(&sdk_config(&endpoint));
    let change_sets = runtime
        .block_on(cfn.list_change_sets().stack_name("argus-local").send())
        .unwrap();
    let statuses: Vec<_> = change_sets
        .summaries()
        .iter()
        .map(|c| c.execution_status().map(|s| s.as_str().to_owned()))
        .collect();
    assert_eq!(
        statuses,
        vec![Some("EXECUTE_COMPLETE".to_owned())],
        "only the first (CREATE) change set was executed; the empty one was deleted"
    );

    // Diff: none, then a config change shows as a property path and deploys as an UPDATE.
    let o = argus(&["diff", "--stage", "local"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("no differences"));
    let local = config.path().join("local.toml");
    let edited = std::fs::read_to_string(&local)
        .unwrap()
        .replace("max_labels = 20", "max_labels = 30");
    std::fs::write(&local, edited).unwrap();
    let o = argus(&["diff", "--stage", "local"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("Properties.Environment.Variables.ARGUS_MAX_LABELS: \"20\" -> \"30\""),
        "{}",
        text(&o)
    );
    let o = argus(&["deploy", "--stage", "local", "--require-approval", "never"]);
    let log = text(&o);
    assert!(
        o.status.success()
            && log.contains("(UPDATE)")
            && log.contains("argus-local: UPDATE_COMPLETE"),
        "{log}"
    );
    assert!(log.contains("Modify   AWS::Lambda::Function"), "{log}");

    // Destroy empties the buckets (every version) and removes the stack.
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk_config(&endpoint))
            .force_path_style(true)
            .build(),
    );
    let bucket = "argus-local-input-000000000000-us-east-1";
    for body in ["one", "two"] {
        runtime
            .block_on(
                s3.put_object()
                    .bucket(bucket)
                    .key("reference/x.txt")
                    .body(body.as_bytes().to_vec().into())
                    .send(),
            )
            .unwrap();
    }
    let o = argus(&["destroy", "--stage", "local"]);
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    assert!(
        log.contains(&format!("emptied {bucket} (2 object versions")),
        "{log}"
    );
    assert!(log.contains("argus-local: DELETE_COMPLETE"), "{log}");
    assert!(
        runtime
            .block_on(s3.head_bucket().bucket(bucket).send())
            .is_err(),
        "the input bucket is gone"
    );
    let o = argus(&["diff", "--stage", "local"]);
    assert!(text(&o).contains("not deployed"), "{}", text(&o));
    twin.stop().unwrap();
}

/// The template of a stack of `good` valid queues (`Good0`, `Good1`, …) and, with `bad`, one
/// more queue `Bad` that depends on all of them (so it is created last) with a
/// VisibilityTimeout SQS refuses, so the create fails and rolls back every good queue.
fn queues_template(good: usize, bad: bool) -> serde_json::Value {
    let mut stack = argus_cdk::Stack::new("argus-queues", "queues for the toolkit tests").unwrap();
    let no_dlq = || QueueProps {
        dead_letter: None,
        ..QueueProps::default()
    };
    let good_ids: Vec<String> = (0..good)
        .map(|i| {
            Queue::new(&mut stack, &format!("Good{i}"), no_dlq())
                .unwrap()
                .logical_id
        })
        .collect();
    if bad {
        let queue = Queue::new(&mut stack, "Bad", no_dlq()).unwrap();
        let bad = stack.resource_mut(&queue.logical_id).unwrap();
        // The escape hatch bypasses the construct's validation: SQS accepts at most 43,200 s.
        bad.add_property_override("VisibilityTimeout", 99_999)
            .unwrap();
        bad.depends_on.extend(good_ids);
    }
    stack.synth().unwrap().template.to_value().unwrap()
}

/// Deploys `body` as the stack `name` on the twin at `endpoint`, without prompts.
fn deploy_to_twin(
    endpoint: &str,
    name: &str,
    body: String,
    template_bucket: Option<&str>,
) -> Result<deploy::DeployOutcome, ToolkitError> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let aws = AwsContext::from_config(sdk_config(endpoint));
        deploy::deploy(
            &aws,
            &DeployRequest {
                stack_name: name.into(),
                template_body: body,
                parameters: Vec::new(),
                approval: Approval::Never,
                execute: true,
                termination_protection: false,
                template_bucket: template_bucket.map(str::to_owned),
                timeout: Duration::from_secs(300),
                role_arn: None,
            },
            &Recorder::default(),
        )
        .await
    })
}

/// Deploys `argus-failing`: [`queues_template`] with `good` queues and the bad one, as compact
/// JSON (as `argus deploy` sends it).
fn deploy_failing_stack(
    endpoint: &str,
    good: usize,
) -> Result<deploy::DeployOutcome, ToolkitError> {
    let body = serde_json::to_string(&queues_template(good, true)).unwrap();
    deploy_to_twin(endpoint, "argus-failing", body, None)
}

/// The failed resources of a failed deploy, after checking it ended in ROLLBACK_COMPLETE.
fn failures_of(
    result: &Result<deploy::DeployOutcome, ToolkitError>,
) -> &[(String, String, String)] {
    let Err(ToolkitError::StackFailed { status, failed, .. }) = result else {
        panic!("expected a failed stack, got {result:?}")
    };
    assert_eq!(status, "ROLLBACK_COMPLETE");
    failed
}

#[test]
fn a_failed_deployment_names_each_failed_resource_and_its_reason() {
    let twin = crate::common::start_twin();
    let result = deploy_failing_stack(&twin.endpoint_url(), 0);
    let failed = failures_of(&result);
    let (id, ty, reason) = failed
        .iter()
        .find(|(id, _, _)| id == "Bad")
        .unwrap_or_else(|| panic!("{failed:?}"));
    assert_eq!((id.as_str(), ty.as_str()), ("Bad", "AWS::SQS::Queue"));
    assert!(reason.contains("VisibilityTimeout"), "{reason}");
    let message = result.unwrap_err().to_string();
    assert!(
        message.contains("Bad (AWS::SQS::Queue): ") && message.contains("VisibilityTimeout"),
        "{message}"
    );
    twin.stop().unwrap();
}

#[test]
fn a_failure_buried_under_more_than_a_page_of_rollback_events_is_still_named() {
    // 60 queues created and then deleted by the rollback put well over 100 events (one
    // DescribeStackEvents page) after the failure itself.
    let twin = crate::common::start_twin();
    let result = deploy_failing_stack(&twin.endpoint_url(), 60);
    let failed = failures_of(&result);
    assert!(
        failed
            .iter()
            .any(|(id, _, reason)| id == "Bad" && reason.contains("VisibilityTimeout")),
        "{failed:?}"
    );
    twin.stop().unwrap();
}

#[test]
fn a_template_over_the_inline_limit_goes_through_the_assets_bucket() {
    let twin = crate::common::start_twin();
    let endpoint = twin.endpoint_url();
    let body = serde_json::to_string_pretty(&queues_template(60, false)).unwrap();
    assert!(body.len() > 51_200, "{} bytes", body.len());
    // Without an assets bucket the toolkit refuses, saying what to do.
    let refused = deploy_to_twin(&endpoint, "argus-large", body.clone(), None);
    let Err(ToolkitError::Refused(message)) = &refused else {
        panic!("expected a refusal, got {refused:?}")
    };
    assert!(message.contains("argus bootstrap"), "{message}");

    let bucket = "argus-assets-large-template-test";
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let aws = AwsContext::from_config(sdk_config(&endpoint));
    runtime.block_on(async { aws.s3.create_bucket().bucket(bucket).send().await.unwrap() });
    let outcome = deploy_to_twin(&endpoint, "argus-large", body.clone(), Some(bucket)).unwrap();
    assert!(
        matches!(outcome, deploy::DeployOutcome::Deployed { .. }),
        "{outcome:?}"
    );
    // The template is stored content-addressed, and the stack has every queue.
    let key = format!(
        "argus-large/templates/{}.json",
        argus_cdk::assembly::sha256_hex(body.as_bytes())
    );
    runtime.block_on(async {
        let stored = aws
            .s3
            .get_object()
            .bucket(bucket)
            .key(&key)
            .send()
            .await
            .unwrap();
        let bytes = stored.body.collect().await.unwrap().into_bytes();
        assert_eq!(bytes.as_ref(), body.as_bytes());
        let resources: Vec<_> = aws
            .cloudformation
            .list_stack_resources()
            .stack_name("argus-large")
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .unwrap();
        let queues = resources
            .iter()
            .filter(|r| r.resource_type() == Some("AWS::SQS::Queue"))
            .filter(|r| r.resource_status().map(|s| s.as_str()) == Some("CREATE_COMPLETE"))
            .count();
        assert_eq!(queues, 60);
    });
    // The same template again: the same key, and no changes.
    let again = deploy_to_twin(&endpoint, "argus-large", body, Some(bucket)).unwrap();
    assert!(
        matches!(again, deploy::DeployOutcome::NoChanges),
        "{again:?}"
    );
    twin.stop().unwrap();
}

/// A key someone else wrote (a pull request planting the key a bundle will hash to) is never
/// deployed: the stored SHA-256 must be the local bundle's; a verified upload gives the version
/// the template pins.
#[test]
fn an_asset_whose_stored_checksum_differs_from_the_bundle_is_refused() {
    use argus_toolkit::assets::{Published, publish_bytes};
    use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
    let twin = crate::common::start_twin();
    let endpoint = twin.endpoint_url();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let aws = AwsContext::from_config(sdk_config(&endpoint));
    let bucket = "argus-assets-checksum-test";
    let bundle = b"the bundle this deploy built".to_vec();
    let key = format!(
        "argus-prod/{}.zip",
        argus_cdk::assembly::sha256_hex(&bundle)
    );
    runtime.block_on(async {
        aws.s3.create_bucket().bucket(bucket).send().await.unwrap();
        aws.s3
            .put_bucket_versioning()
            .bucket(bucket)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        // Planted: other bytes under the key the bundle hashes to.
        aws.s3
            .put_object()
            .bucket(bucket)
            .key(&key)
            .body(b"planted".to_vec().into())
            .send()
            .await
            .unwrap();
        let refused = publish_bytes(&aws, bucket, &key, bundle.clone()).await;
        let Err(ToolkitError::Refused(message)) = &refused else {
            panic!("expected a refusal, got {refused:?}")
        };
        assert!(message.contains("refusing"), "{message}");

        // A clean key: uploaded with its checksum, then found and verified.
        let clean = format!(
            "argus-beta/{}.zip",
            argus_cdk::assembly::sha256_hex(&bundle)
        );
        let first = publish_bytes(&aws, bucket, &clean, bundle.clone())
            .await
            .unwrap();
        assert_eq!(first.outcome, Published::Uploaded);
        assert!(
            first.version_id.is_some(),
            "a versioned bucket gives a version"
        );
        let again = publish_bytes(&aws, bucket, &clean, bundle.clone())
            .await
            .unwrap();
        assert_eq!(again.outcome, Published::AlreadyPresent);
        assert_eq!(again.version_id, first.version_id);
    });
    twin.stop().unwrap();
}

#[test]
fn an_unreachable_endpoint_fails_with_what_was_tried() {
    let port = crate::common::free_port(); // nothing listens there
    let o = crate::common::argus_on(&format!("http://127.0.0.1:{port}"))
        .args(["deploy", "--stage", "local"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("cloudformation:DescribeStacks failed") && err.contains("Connection refused"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "tried: endpoint http://127.0.0.1:{port} (AWS_ENDPOINT_URL), Region us-east-1"
        )),
        "{err}"
    );
    assert!(!err.contains("panicked"));
}

#[test]
fn the_audit_stack_is_refused_on_the_twin_with_the_reason() {
    let o = crate::common::argus_on("http://127.0.0.1:9")
        .args(["deploy", "--stack", "argus-audit"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("argus-audit needs AWS CloudTrail") && err.contains("does not provide"),
        "{err}"
    );
}

/// The local stage's processor bundle (`processor.bundle = "host"`: the dev build for this
/// machine) is a deterministic zip holding only an executable `bootstrap`. The release Lambda
/// bundle's size and glibc are measured by `make bench` and checked by argus-toolkit's unit tests.
#[test]
fn the_local_processor_bundle_is_a_deterministic_zip_holding_only_bootstrap() {
    use std::io::Read;

    use argus_toolkit::bundle::package_host;

    let zip_path = crate::common::processor_bundle();
    let bytes = std::fs::read(&zip_path).unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(archive.len(), 1, "only bootstrap");
    let mut entry = archive.by_index(0).unwrap();
    assert_eq!(entry.name().unwrap(), "bootstrap");
    assert_eq!(entry.unix_mode().map(|m| m & 0o777), Some(0o755));
    let mut binary = Vec::new();
    entry.read_to_end(&mut binary).unwrap();
    assert!(
        binary.starts_with(b"\x7fELF"),
        "bootstrap is an ELF executable"
    );

    // Packaging the same binary again gives the same bytes, so the same asset key.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bootstrap"), &binary).unwrap();
    let first = package_host(&dir.path().join("bootstrap"), &dir.path().join("a.zip")).unwrap();
    let second = package_host(&dir.path().join("bootstrap"), &dir.path().join("b.zip")).unwrap();
    assert_eq!(first.sha256, second.sha256);
    assert_eq!(first.key(), format!("{}.zip", first.sha256));
}
