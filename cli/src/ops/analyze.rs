//! Analysing one image (`argus analyze <FILE|s3://bucket/key>`): the seeds' foundational path — put the image in the
//! stage's input bucket (or use the S3 object), call DetectLabels and the other analyses the stage
//! enables directly, print the JSON result and write `<image>_labels_<YYYYMMDD_HHMMSS>.json`;
//! `--store` also writes the record to the results table.
//!
//! The analyses are the processor's own (`argus_runtime::analysis::analyze_image`) with the
//! settings the stack gives the processor (`pipeline::processor_environment`, references resolved
//! through the deployed stack), so a CLI analysis and a pipeline analysis agree.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use argus_cdk::Expr;
use argus_runtime::analysis::analyze_image;
use argus_runtime::aws::RekognitionService;
use argus_runtime::inspect::inspect;
use argus_runtime::record::{self, Status};
use argus_runtime::services::{S3Object, SystemClock};
use argus_runtime::settings::Settings;
use argus_toolkit::aws::{AwsContext, error_chain};

use super::Context;
use crate::cli::Failure;
use argus_stacks::config::StageConfig;
use argus_stacks::pipeline::processor_environment_for;

/// What to analyse, with which stage's settings.
#[derive(Clone, Debug)]
pub struct AnalyzeOptions {
    /// A local JPEG/PNG file, or `s3://bucket/key` of an object already in S3.
    pub image: String,
    /// The stage whose settings and buckets are used.
    pub stage: String,
    /// Folder the `<image>_labels_<YYYYMMDD_HHMMSS>.json` file is written to.
    pub results: PathBuf,
    /// Also write the record to the stage's results table (unless the pipeline already did).
    pub store: bool,
}

/// What [`analyze`] did.
#[derive(Clone, Debug)]
pub struct Analyzed {
    /// The record as pretty JSON.
    pub json: String,
    /// The file it was written to.
    pub file: PathBuf,
    /// `s3://bucket/key` a local file was uploaded to (None for an `s3://` image).
    pub uploaded: Option<String>,
}

/// Analyses one image and writes its record to a file (and to the results table with
/// [`AnalyzeOptions::store`]).
///
/// # Errors
/// A [`Failure`]: 2 for an unreadable file or a bad `s3://` location, 1 for a REJECTED image or a
/// failed analysis, 3 when AWS cannot be reached.
pub async fn analyze(context: &Context, options: &AnalyzeOptions) -> Result<Analyzed, Failure> {
    let args = options;
    let (config, aws) = super::one_stage(context, &args.stage, "analyze").await?;
    let resolved = resolve_environment(&aws, &config).await?;
    let settings = Settings::from_lookup(|name| resolved.get(name).cloned()).map_err(|e| {
        Failure::new(
            1,
            format!("the stage's processor settings are incomplete: {e}"),
        )
    })?;

    let mut uploaded = None;
    // The bytes: a local file (uploaded to the input prefix) or an S3 object.
    let (object, bytes, name) = match args.image.strip_prefix("s3://") {
        Some(location) => {
            let (bucket, key) = location
                .split_once('/')
                .filter(|(b, k)| !b.is_empty() && !k.is_empty())
                .ok_or_else(|| {
                    Failure::new(2, format!("`{}` is not s3://bucket/key", args.image))
                })?;
            let got = aws
                .s3
                .get_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .map_err(|e| Failure::from(aws.error("s3:GetObject", e)))?;
            let version = got.version_id().map(str::to_owned);
            let bytes = got
                .body
                .collect()
                .await
                .map_err(|e| Failure::new(3, format!("s3://{bucket}/{key}: {e}")))?
                .into_bytes()
                .to_vec();
            (
                S3Object {
                    bucket: bucket.to_owned(),
                    key: key.to_owned(),
                    version_id: version,
                },
                bytes,
                key.rsplit('/').next().unwrap_or(key).to_owned(),
            )
        }
        None => {
            let path = Path::new(&args.image);
            let bytes = std::fs::read(path)
                .map_err(|e| Failure::new(2, format!("cannot read {}: {e}", path.display())))?;
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("image")
                .to_owned();
            let bucket = stack_output(&aws, &config.stack_name, "InputBucketName").await?;
            let millis = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis());
            let key = format!("{}analyze-{millis}/{name}", config.storage.input_prefix);
            let put = aws
                .s3
                .put_object()
                .bucket(&bucket)
                .key(&key)
                // The input bucket's policy takes only single writes under the prefix.
                .if_none_match("*")
                .body(bytes.clone().into())
                .send()
                .await
                .map_err(|e| Failure::from(aws.error("s3:PutObject", e)))?;
            uploaded = Some(format!("s3://{bucket}/{key}"));
            (
                S3Object {
                    bucket,
                    key,
                    version_id: put.version_id().map(str::to_owned),
                },
                bytes,
                name,
            )
        }
    };
    let inspection = inspect(&bytes)
        .map_err(|r| Failure::new(1, format!("{name} is REJECTED: {}", r.reason)))?;
    let rekognition = RekognitionService {
        client: rekognition_client(&aws, &config),
    };
    let record = analyze_image(&rekognition, &settings, &object, &inspection, &SystemClock)
        .await
        .map_err(|e| Failure::new(1, format!("{name}: {e}")))?;
    let json = record
        .to_pretty_json()
        .map_err(|e| Failure::new(1, e.to_string()))?;
    std::fs::create_dir_all(&args.results)
        .map_err(|e| Failure::new(1, format!("cannot create {}: {e}", args.results.display())))?;
    let file = args
        .results
        .join(record::file_name(&name, record.processed_at));
    std::fs::write(&file, format!("{json}\n"))
        .map_err(|e| Failure::new(1, format!("cannot write {}: {e}", file.display())))?;
    if args.store && record.status == Status::Processed {
        store(&aws, &settings.results_table, &record).await?;
    }
    Ok(Analyzed {
        json,
        file,
        uploaded,
    })
}

/// The processor's environment for the stage, with references to the stack's resources resolved
/// to their physical names.
async fn resolve_environment(
    aws: &AwsContext,
    config: &StageConfig,
) -> Result<BTreeMap<String, String>, Failure> {
    let resources = aws
        .cloudformation
        .list_stack_resources()
        .stack_name(&config.stack_name)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| Failure::from(aws.error("cloudformation:ListStackResources", e)))?;
    let physical: BTreeMap<String, String> = resources
        .iter()
        .filter_map(|r| {
            Some((
                r.logical_resource_id()?.to_owned(),
                r.physical_resource_id()?.to_owned(),
            ))
        })
        .collect();
    let mut env = BTreeMap::new();
    for (name, value) in processor_environment_for(config) {
        let text = match value {
            Expr::Str(s) => s,
            Expr::Ref(id) => physical.get(&id).cloned().ok_or_else(|| {
                Failure::new(
                    1,
                    format!(
                        "{} has no resource {id}: deploy it first (argus deploy --stage {})",
                        config.stack_name, config.stage
                    ),
                )
            })?,
            other => {
                return Err(Failure::new(
                    1,
                    format!(
                        "{name} = {} cannot be resolved outside CloudFormation",
                        other.to_json()
                    ),
                ));
            }
        };
        env.insert(name, text);
    }
    Ok(env)
}

fn rekognition_client(aws: &AwsContext, config: &StageConfig) -> aws_sdk_rekognition::Client {
    let mut builder = aws_sdk_rekognition::config::Builder::from(&aws.config);
    // The stage's own Rekognition endpoint (argus-twin for the local stage), unless the
    // environment names one (AWS_ENDPOINT_URL_REKOGNITION).
    if std::env::var_os("AWS_ENDPOINT_URL_REKOGNITION").is_none()
        && let Some(endpoint) = &config.analysis.rekognition_endpoint
    {
        builder = builder.endpoint_url(endpoint);
    }
    aws_sdk_rekognition::Client::from_conf(builder.build())
}

async fn stack_output(aws: &AwsContext, stack: &str, key: &str) -> Result<String, Failure> {
    argus_toolkit::deploy::describe_stack(aws, stack)
        .await?
        .and_then(|s| s.outputs.get(key).cloned())
        .ok_or_else(|| {
            Failure::new(
                1,
                format!("{stack} is not deployed (no output {key}): run argus deploy first"),
            )
        })
}

async fn store(aws: &AwsContext, table: &str, record: &record::ImageRecord) -> Result<(), Failure> {
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws.config);
    let item = record
        .to_item()
        .map_err(|e| Failure::new(1, e.to_string()))?;
    let result = dynamodb
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(imageId)")
        .send()
        .await;
    match result {
        Ok(_) => {
            eprintln!("stored {} in {table}", record.image_id);
            Ok(())
        }
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
        {
            eprintln!(
                "{} is already in {table} (the pipeline recorded it); left as it is",
                record.image_id
            );
            Ok(())
        }
        Err(e) => Err(Failure::new(
            3,
            format!("dynamodb:PutItem on {table}: {}", error_chain(&e)),
        )),
    }
}
