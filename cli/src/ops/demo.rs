//! The demo (`argus demo`, `make demo`): the whole pipeline on the sample images, on the local
//! twin, with no AWS account — start the twin, bundle, bootstrap and deploy the `local` stage
//! through the same operations as `make deploy-beta`, upload every sample image (and the real
//! photos of the models folder, which no fixture answers), wait for every result, and write each
//! record as `<image>_labels_<YYYYMMDD_HHMMSS>.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use argus_runtime::record::ImageRecord;
use argus_stacks::config::StageConfig;
use argus_stacks::pipeline::BY_TIME_INDEX;
use argus_toolkit::aws::AwsContext;
use argus_toolkit::deploy::{Approval, describe_stack};
use argus_toolkit::report::Reporter;
use argus_twin::lifecycle::{TWIN_ACCESS_KEY, TwinState};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_s3::primitives::ByteStream;
use serde_json::Value;

use super::bootstrap::bootstrap;
use super::bundle::bundle_stack;
use super::deploy::{DeployOptions, deploy_stack};
use super::{Context, block_on, synth_target};
use crate::cli::{Failure, TargetArgs};
use crate::commands::local::UpArgs;

/// The stage the demo deploys.
pub const DEMO_STAGE: &str = "local";
/// Statuses a record ends in.
pub const FINAL_STATUSES: &[&str] = &["PROCESSED", "REJECTED", "FAILED"];

/// One uploaded image and what the pipeline recorded for it.
#[derive(Clone, Debug)]
pub struct DemoRow {
    /// The file name, e.g. `chelsea.png`.
    pub image: String,
    /// The object key it was uploaded under.
    pub key: String,
    /// SHA-256 of the file, computed here.
    pub sha256: String,
    /// The result record (JSON), when one reached a final status in time.
    pub record: Option<Value>,
}

impl DemoRow {
    /// The record's status, or `WAITING` when there is none.
    pub fn status(&self) -> &str {
        self.record
            .as_ref()
            .and_then(|r| r["status"].as_str())
            .unwrap_or("WAITING")
    }
}

/// What a demo run produced.
#[derive(Clone, Debug)]
pub struct DemoReport {
    /// One row per image, in file-name order.
    pub rows: Vec<DemoRow>,
    /// The result files written.
    pub files: Vec<PathBuf>,
    /// Where they are.
    pub results_dir: PathBuf,
    /// The twin that ran it.
    pub twin: TwinState,
    /// The results table.
    pub results_table: String,
    /// The HTML results report (`<out>/report/index.html`) of this run's images.
    pub report: PathBuf,
}

/// What the demo runs on.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// Folder of images to upload (every .png, .jpg and .jpeg in it).
    pub samples: PathBuf,
    /// A second folder of images to upload, when it exists: real photos without fixtures, which
    /// the models answer (`<models>/photos` from `make models`).
    pub photos: PathBuf,
    /// Folder of Rekognition fixtures that override the models for the images they name (the
    /// tests' deterministic answers); `None`: every answer comes from the models.
    pub fixtures: Option<PathBuf>,
    /// How long to wait for every result before giving up.
    pub wait: Duration,
    /// Where the result files go (default: `<out>/demo`).
    pub results: Option<PathBuf>,
    /// Where the twin keeps its PIDs, state and logs.
    pub state_dir: PathBuf,
    /// MiniStack's port.
    pub ministack_port: u16,
}

/// The whole flow; returns the rows (the end-to-end test asserts on them).
///
/// # Errors
/// A [`Failure`] from any step: the twin, the bundle, the deploy, an upload, reading results.
pub fn run_demo(
    context: &Context,
    options: &DemoOptions,
    report: &dyn Reporter,
) -> Result<DemoReport, Failure> {
    let args = options;
    report.info("==> 1/5 Local twin");
    let up = UpArgs {
        ministack_port: args.ministack_port,
        rekognition_port: None,
        fixtures: args.fixtures.clone(),
    };
    let twin = crate::commands::local::up(context, &args.state_dir, &up)?;
    let aws = AwsContext::for_endpoint(
        &twin.ministack.endpoint(),
        &twin.region,
        TWIN_ACCESS_KEY,
        TWIN_ACCESS_KEY,
    );
    let context = Context {
        aws: Some(aws.clone()),
        ..context.clone()
    };
    let stage = TargetArgs::stage(DEMO_STAGE);

    let (_, synthesized, _) = synth_target(&context, &stage, DEMO_STAGE)?;
    report.info(&format!(
        "==> 2/5 Function bundles ({})",
        match synthesized.assets.first().map(|a| a.bundle) {
            Some(argus_cdk::asset::BundleTarget::Host) =>
                "the CLI's own dev build for this machine; beta and prod use cargo-lambda",
            _ => "cargo-lambda, provided.al2023",
        }
    ));
    bundle_stack(&context.out, &synthesized, report)?;

    report.info(&format!(
        "==> 3/5 Deploy argus-{DEMO_STAGE} (the code path of make deploy-beta)"
    ));
    block_on(bootstrap(&context, DEMO_STAGE, report))?;
    let deploy = DeployOptions {
        approval: Approval::Never,
        outputs_file: Some(context.out.join(format!("argus-{DEMO_STAGE}.outputs.json"))),
        execute: true,
        timeout: Duration::from_secs(30 * 60),
        execution_role: None,
        hotswap: false,
        force: false,
    };
    block_on(deploy_stack(&context, &stage, &deploy, report))?;

    let config = StageConfig::load(&context.config_dir, DEMO_STAGE)
        .map_err(argus_stacks::app::AppError::from)?;
    let results_dir = args
        .results
        .clone()
        .unwrap_or_else(|| context.out.join("demo"));
    let flow = async {
        let stack = describe_stack(&aws, &config.stack_name)
            .await?
            .ok_or_else(|| Failure::new(1, format!("{} is not deployed", config.stack_name)))?;
        let output = |key: &str| {
            stack.outputs.get(key).cloned().ok_or_else(|| {
                Failure::new(1, format!("{} has no output {key}", config.stack_name))
            })
        };
        let (bucket, table) = (output("InputBucketName")?, output("ResultsTableName")?);
        let dynamodb = aws_sdk_dynamodb::Client::new(&aws.config);

        report.info(&format!(
            "==> 4/5 Upload the sample images to s3://{bucket}/{}",
            config.storage.input_prefix
        ));
        if let Some(reference) = &config.faces.reference_key {
            let face = args.samples.join(REFERENCE_FACE);
            put(&aws, &bucket, reference, &face, read(&face)?).await?;
            report.info(&format!(
                "  reference face {} -> s3://{bucket}/{reference}",
                face.display()
            ));
        }
        let mut images = sample_images(&args.samples)?;
        if args.photos.is_dir() {
            images.extend(sample_images(&args.photos)?);
        } else {
            report.info(&format!(
                "  no photos folder {} (make models unpacks it): only the samples",
                args.photos.display()
            ));
        }
        // Records are stamped to the second: the report takes this run's from here on.
        let started = chrono::Utc::now() - chrono::Duration::seconds(1);
        let run_prefix = format!("{}demo-{}/", config.storage.input_prefix, run_stamp());
        let progress = report.progress(images.len() as u64, "upload");
        let mut rows = Vec::new();
        for path in &images {
            let image = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned();
            let key = format!("{run_prefix}{image}");
            let bytes = read(path)?;
            let sha256 = argus_cdk::assembly::sha256_hex(&bytes);
            put(&aws, &bucket, &key, path, bytes).await?;
            progress.line(&format!("  {image} -> s3://{bucket}/{key}"));
            progress.inc();
            rows.push(DemoRow {
                image,
                key,
                sha256,
                record: None,
            });
        }
        progress.finish();

        report.info(&format!(
            "==> 5/5 Wait for the results (at most {} s)",
            args.wait.as_secs()
        ));
        wait_for_records(
            &dynamodb,
            &table,
            &config.stage,
            &mut rows,
            args.wait,
            report,
        )
        .await?;
        Ok::<_, Failure>((rows, table, started))
    };
    let (rows, results_table, started) = block_on(flow)?;
    let files = write_results(&results_dir, &rows)?;
    let written = block_on(super::report::write_report(
        &aws,
        &results_table,
        &config.stage,
        started,
        &context.out.join("report"),
    ))?;
    report.info(&format!(
        "Report of {} images: {}",
        written.cards,
        written.index.display()
    ));
    Ok(DemoReport {
        rows,
        files,
        results_dir,
        twin,
        results_table,
        report: written.index,
    })
}

/// The sample image used as the authorized reference face (CompareFaces source).
pub const REFERENCE_FACE: &str = "astronaut.png";

/// Every `.png`, `.jpg` and `.jpeg` directly in `dir`, sorted by name.
pub fn sample_images(dir: &Path) -> Result<Vec<PathBuf>, Failure> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Failure::new(1, format!("cannot read {}: {e}", dir.display())))?;
    let mut images: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| matches!(x.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg"))
        })
        .collect();
    images.sort();
    Ok(images)
}

fn run_stamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    secs.to_string()
}

fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure::new(1, format!("cannot read {}: {e}", path.display())))
}

/// Uploads `bytes` (the file at `path`, whose extension gives the content type) to
/// `s3://bucket/key`.
async fn put(
    aws: &AwsContext,
    bucket: &str,
    key: &str,
    path: &Path,
    bytes: Vec<u8>,
) -> Result<(), Failure> {
    let body = ByteStream::from(bytes);
    let content_type = match path
        .extension()
        .and_then(|x| x.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        _ => "application/octet-stream",
    };
    aws.s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .content_type(content_type)
        // The input bucket's policy takes only single writes under the prefix.
        .if_none_match("*")
        .body(body)
        .send()
        .await
        .map_err(|e| Failure::from(aws.error("s3:PutObject", e)))?;
    Ok(())
}

/// Polls the results table's time index until every row's key has a record in a final status
/// (or the wait ends), then reads each full record.
async fn wait_for_records(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
    stage: &str,
    rows: &mut [DemoRow],
    wait: Duration,
    report: &dyn Reporter,
) -> Result<(), Failure> {
    let progress = report.progress(rows.len() as u64, "results");
    let deadline = Instant::now() + wait;
    let mut done: BTreeMap<String, String> = BTreeMap::new(); // key → imageId
    loop {
        let mut start: Option<std::collections::HashMap<String, AttributeValue>> = None;
        loop {
            let page = dynamodb
                .query()
                .table_name(table)
                .index_name(BY_TIME_INDEX)
                .key_condition_expression("#stage = :stage")
                .expression_attribute_names("#stage", "stage")
                .expression_attribute_values(":stage", AttributeValue::S(stage.to_owned()))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| {
                    Failure::new(
                        3,
                        format!(
                            "dynamodb:Query on {table}: {}",
                            argus_toolkit::aws::error_chain(&e)
                        ),
                    )
                })?;
            for item in page.items() {
                let text = |name: &str| {
                    item.get(name)
                        .and_then(|v| v.as_s().ok())
                        .cloned()
                        .unwrap_or_default()
                };
                let (key, status, id) = (text("objectKey"), text("status"), text("imageId"));
                if FINAL_STATUSES.contains(&status.as_str())
                    && rows.iter().any(|r| r.key == key)
                    && !done.contains_key(&key)
                {
                    progress.line(&format!("  {:<10} {key}", status));
                    progress.inc();
                    done.insert(key, id);
                }
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
        if done.len() == rows.len() || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    progress.finish();
    for row in rows.iter_mut() {
        let Some(id) = done.get(&row.key) else {
            continue;
        };
        let item = dynamodb
            .get_item()
            .table_name(table)
            .key("imageId", AttributeValue::S(id.clone()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| {
                Failure::new(
                    3,
                    format!(
                        "dynamodb:GetItem on {table}: {}",
                        argus_toolkit::aws::error_chain(&e)
                    ),
                )
            })?;
        if let Some(item) = item.item() {
            row.record = Some(
                serde_dynamo::from_item(item.clone())
                    .map_err(|e| Failure::new(1, format!("record {id} is not readable: {e}")))?,
            );
        }
    }
    Ok(())
}

fn write_results(dir: &Path, rows: &[DemoRow]) -> Result<Vec<PathBuf>, Failure> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::new(1, format!("cannot create {}: {e}", dir.display())))?;
    let mut files = Vec::new();
    for row in rows {
        let Some(record) = &row.record else { continue };
        // The seeds' file name, as the runtime names it: `<image>_labels_<YYYYMMDD_HHMMSS>.json`.
        let typed: ImageRecord = serde_json::from_value(record.clone()).map_err(|e| {
            Failure::new(
                1,
                format!("the record of {} is not readable: {e}", row.image),
            )
        })?;
        let path = dir.join(argus_runtime::record::file_name(
            &row.image,
            typed.processed_at,
        ));
        let text =
            serde_json::to_string_pretty(record).map_err(|e| Failure::new(1, e.to_string()))?;
        std::fs::write(&path, text + "\n")
            .map_err(|e| Failure::new(1, format!("cannot write {}: {e}", path.display())))?;
        files.push(path);
    }
    Ok(files)
}

fn shorten(text: &str, max: usize) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        format!("{}…", one_line.chars().take(max - 1).collect::<String>())
    }
}

/// Who answered an image's analyses, from the record's `modelVersions` (the model versions
/// DetectLabels, DetectText and DetectModerationLabels reported): the distinct names, a `+`
/// joining two models of one analysis split apart, in that order — on argus-twin
/// `efficientnet-lite0, mtcnn, pp-ocrv4, open_nsfw` for an answer from the models, `fixture` for
/// a test fixture; on AWS Rekognition's version numbers. `-` when the record has none.
pub fn answered_by(record: &Value) -> String {
    let mut names: Vec<&str> = Vec::new();
    for analysis in ["labels", "text", "moderation"] {
        let version = record["modelVersions"][analysis]
            .as_str()
            .unwrap_or_default();
        for name in version.split('+').map(str::trim) {
            if !name.is_empty() && !names.contains(&name) {
                names.push(name);
            }
        }
    }
    if names.is_empty() {
        "-".to_owned()
    } else {
        names.join(", ")
    }
}

/// The results table: image, status, top labels with confidence, OCR text (shortened), faces,
/// alert, decision, SHA-256 prefix (or the reason for REJECTED/FAILED), and which models
/// answered ([`answered_by`]).
pub fn table(rows: &[DemoRow]) -> String {
    let header = [
        "IMAGE",
        "STATUS",
        "TOP LABELS",
        "TEXT",
        "FACES",
        "ALERT",
        "DECISION",
        "SHA-256",
        "ANSWERED BY",
    ]
    .map(str::to_owned);
    let body: Vec<[String; 9]> = rows
        .iter()
        .map(|row| {
            let r = row.record.clone().unwrap_or(Value::Null);
            let labels: Vec<String> = r["labels"]
                .as_array()
                .into_iter()
                .flatten()
                .take(3)
                .map(|l| {
                    format!(
                        "{} {:.0}%",
                        l["name"].as_str().unwrap_or_default(),
                        l["confidence"].as_f64().unwrap_or_default()
                    )
                })
                .collect();
            let labels = if labels.is_empty() {
                r["reason"]
                    .as_str()
                    .map(|s| shorten(s, 40))
                    .unwrap_or_default()
            } else {
                labels.join(", ")
            };
            let alert = match r["alert"]["labels"].as_array() {
                Some(matched) => format!(
                    "YES: {}",
                    matched
                        .iter()
                        .filter_map(|l| l["name"].as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None => "-".into(),
            };
            [
                row.image.clone(),
                row.status().to_owned(),
                labels,
                shorten(r["ocrText"].as_str().unwrap_or_default(), 28),
                r["faces"]["count"]
                    .as_u64()
                    .map_or_else(|| "-".into(), |c| c.to_string()),
                alert,
                r["decision"].as_str().unwrap_or("-").to_owned(),
                r["sha256"]
                    .as_str()
                    .unwrap_or(&row.sha256)
                    .chars()
                    .take(12)
                    .collect(),
                answered_by(&r),
            ]
        })
        .collect();
    argus_toolkit::table::table(&header, &body)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_table_shows_labels_text_faces_alert_decision_and_hash() {
        let rows = vec![
            DemoRow {
                image: "knife.png".into(),
                key: "incoming/demo-1/knife.png".into(),
                sha256: "abc".into(),
                record: Some(json!({
                    "status": "PROCESSED", "sha256": "0123456789abcdef",
                    "labels": [{"name": "Knife", "confidence": 97.2}, {"name": "Weapon", "confidence": 96.0}],
                    "ocrText": "", "faces": {"count": 0}, "alert": {"labels": [{"name": "Knife", "confidence": 97.2}]},
                    "modelVersions": {"labels": "efficientnet-lite0+mtcnn", "text": "pp-ocrv4", "moderation": "open_nsfw"}
                })),
            },
            DemoRow {
                image: "late.png".into(),
                key: "k".into(),
                sha256: "fedcba9876543210".into(),
                record: None,
            },
        ];
        let text = table(&rows);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("IMAGE") && lines[0].contains("SHA-256"));
        assert!(
            lines[1].contains("Knife 97%, Weapon 96%")
                && lines[1].contains("YES: Knife")
                && lines[1].contains("0123456789ab")
                && lines[1].ends_with("efficientnet-lite0, mtcnn, pp-ocrv4, open_nsfw"),
            "{text}"
        );
        assert!(
            lines[2].contains("WAITING")
                && lines[2].contains("fedcba987654")
                && lines[2].ends_with('-'),
            "{text}"
        );
    }

    #[test]
    fn answered_by_names_each_model_once_or_the_fixture() {
        let from_fixture = json!({"modelVersions": {"labels": "fixture", "text": "fixture", "moderation": "fixture"}});
        assert_eq!(answered_by(&from_fixture), "fixture");
        let labels_only = json!({"modelVersions": {"labels": "efficientnet-lite0+mtcnn"}});
        assert_eq!(answered_by(&labels_only), "efficientnet-lite0, mtcnn");
        let aws = json!({"modelVersions": {"labels": "3.0", "text": "3.0", "moderation": "7.0"}});
        assert_eq!(answered_by(&aws), "3.0, 7.0");
        assert_eq!(answered_by(&json!({"status": "REJECTED"})), "-");
    }
}
