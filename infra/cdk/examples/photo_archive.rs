//! A stack that is not Argus, built with argus-cdk: a "photo-archive" where uploads land in a
//! bucket, S3 notifies a queue, and a Python Lambda function makes thumbnails; an existing archive
//! bucket (not in this stack) is imported, and an analytics job's role may read its exports.
//!
//! Run it with `cargo run -p argus-cdk --example photo_archive -- photo-archive.template.json`
//! (no argument: the template is written to stdout). The function's package comes from the
//! `CodeBucket` and `CodeKey` parameters.

use std::error::Error;
use std::io::Write;

use argus_cdk::constructs::{
    AccessLogs, Bucket, BucketProps, Function, FunctionCode, FunctionProps, Queue, QueueProps,
    RemovalPolicy, Role, RoleProps, Runtime, SqsEventSource,
};
use argus_cdk::rules::RuleReport;
use argus_cdk::stack::{StackSettings, SynthesizedStack};
use argus_cdk::{Output, Parameter, Stack, SynthError};

/// The stack name.
pub const STACK_NAME: &str = "photo-archive";

/// The name (an `Fn::Sub` template) of the existing archive bucket the stack imports.
pub const ARCHIVE_BUCKET_NAME: &str = "photo-archive-legacy-${AWS::AccountId}";

/// The photo-archive stack and the constructs a caller may want to look at.
#[derive(Debug)]
pub struct PhotoArchive {
    /// The stack.
    pub stack: Stack,
    /// The uploads bucket (in the stack).
    pub uploads: Bucket,
    /// The existing archive bucket (imported: not in the template).
    pub archive: Bucket,
    /// The thumbnail function.
    pub thumbnailer: Function,
    /// The analytics job's role (assumed by ECS tasks), granted read on the archive.
    pub analytics_role: Role,
}

/// Builds the photo-archive stack: its own metadata keys and inline policy name, an uploads
/// bucket (with an access-log bucket) notifying a queue, a Python 3.12 function consuming it, and
/// the imported archive bucket granted to an ECS task role and to the function.
///
/// # Errors
/// [`SynthError`] when a construct rejects a value.
pub fn photo_archive() -> Result<PhotoArchive, SynthError> {
    let settings = StackSettings {
        metadata_key: "photo-archive".into(),
        path_metadata_key: "photo-archive:path".into(),
        inline_policy_name: "grants".into(),
        ..StackSettings::default()
    };
    let mut stack = Stack::with_settings(
        STACK_NAME,
        "Photo archive: uploads -> SQS -> thumbnail function; analytics reads the legacy archive",
        settings,
    )?;

    let logs = Bucket::new_access_log_bucket(&mut stack, "AccessLogs", RemovalPolicy::Retain)?;
    let uploads = Bucket::new(
        &mut stack,
        "Uploads",
        BucketProps {
            bucket_name: Some("${AWS::StackName}-uploads-${AWS::AccountId}-${AWS::Region}".into()),
            server_access_logs: Some(AccessLogs {
                bucket: logs,
                prefix: "uploads/".into(),
            }),
            ..BucketProps::default()
        },
    )?;
    let queue = Queue::new(
        &mut stack,
        "NewPhotos",
        QueueProps {
            // At least six times the function timeout, as Lambda advises for SQS sources.
            visibility_timeout_secs: 180,
            ..QueueProps::default()
        },
    )?;
    uploads.add_object_created_notification(&mut stack, &queue, "incoming/")?;

    let code = FunctionCode {
        bucket: stack.add_parameter(
            "CodeBucket",
            Parameter::string("Bucket holding the thumbnail function's zip"),
        ),
        key: stack.add_parameter(
            "CodeKey",
            Parameter::string("Key of the thumbnail function's zip"),
        ),
        version: None,
    };
    let mut props = FunctionProps::new(
        "${AWS::StackName}-thumbnailer",
        "Makes thumbnails of new photos",
        code,
    )
    .with_runtime(Runtime::Python312, "thumbnails.handler");
    props.reserved_concurrency = Some(5);
    let thumbnailer = Function::new(&mut stack, "Thumbnailer", props)?;
    thumbnailer.add_sqs_event_source(
        &mut stack,
        &queue,
        SqsEventSource {
            batch_size: 10,
            max_batching_window_secs: 0,
            maximum_concurrency: 5,
        },
    )?;
    // Grants to the function go to its execution role.
    uploads.grant_read(&mut stack, &thumbnailer, "incoming/*")?;
    uploads.grant_put(&mut stack, &thumbnailer, "thumbnails/*")?;

    // The legacy archive exists already: import it, and let the analytics job read its exports.
    let archive = Bucket::from_name("Archive", ARCHIVE_BUCKET_NAME)?;
    let analytics_role = Role::new(
        &mut stack,
        "AnalyticsTaskRole",
        RoleProps::for_service(
            "ecs-tasks.amazonaws.com",
            "Task role of the nightly analytics job",
        ),
    )?;
    archive.grant_read(&mut stack, &analytics_role, "exports/*")?;
    archive.grant_list(&mut stack, &analytics_role, "exports/")?;
    // The function also files originals into the archive.
    archive.grant_put(&mut stack, &thumbnailer, "originals/*")?;

    stack.suppress(
        &thumbnailer.logical_id,
        "LAMBDA-DLQ",
        "failed messages go to the queue's dead-letter queue; the function is never invoked asynchronously",
    )?;
    stack.add_output(
        "UploadsBucketName",
        Output::new("Bucket photos are uploaded to", uploads.name()),
    );
    Ok(PhotoArchive {
        stack,
        uploads,
        archive,
        thumbnailer,
        analytics_role,
    })
}

/// Synthesizes the stack, failing on unsuppressed rule errors.
///
/// # Errors
/// [`SynthError::RuleViolations`] listing them, or as [`photo_archive`] and [`Stack::synth`].
pub fn synthesize() -> Result<SynthesizedStack, SynthError> {
    let synth = photo_archive()?.stack.synth()?;
    let errors: Vec<_> = synth.report.unsuppressed_errors().collect();
    if !errors.is_empty() {
        return Err(SynthError::RuleViolations {
            count: errors.len(),
            table: RuleReport::table(errors),
        });
    }
    Ok(synth)
}

/// Writes the template to the path given as the first argument, or to stdout.
fn main() -> Result<(), Box<dyn Error>> {
    let json = synthesize()?.template.to_json()?;
    match std::env::args_os().nth(1) {
        Some(path) => std::fs::write(&path, json)?,
        None => std::io::stdout().write_all(json.as_bytes())?,
    }
    Ok(())
}
