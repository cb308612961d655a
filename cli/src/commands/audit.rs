//! `argus audit`: parses the options, reads the audit trail ([`crate::audit_trail`]: CloudTrail
//! event history, or the trail's log files with `--from-bucket`), filters and prints a table or
//! JSON.

use std::time::SystemTime;

use argus_stacks::app::{self, AccountStack, Selection};
use argus_stacks::config::StageConfig;
use aws_sdk_cloudtrail::primitives::DateTime;
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};

use crate::cli::Failure;
use crate::ops::audit_trail::{
    Filter, REKOGNITION_EVENT_SOURCE, Since, Window, lookup_events, no_calls_message,
    parse_event_name, parse_since, read_trail_logs, select, summary, table, to_json, trail_bucket,
};
use crate::ops::{ACCOUNT_STACK_REGION_STAGE, Context, aws_for};

/// `argus audit` options.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Only calls on images in this stage's input bucket (beta, prod or local), looked up in the
    /// stage's Region. Default: every Rekognition call in the prod stage's Region.
    #[arg(long, value_name = "STAGE")]
    pub stage: Option<String>,
    /// How far back to look: a whole number and a unit, s, m, h or d (`30m`, `1h`, `2d`); at
    /// most 90d.
    #[arg(long, default_value = "1h", value_name = "DURATION", value_parser = parse_since)]
    pub since: Since,
    /// Only this Rekognition operation, e.g. DetectLabels (case-sensitive, as CloudTrail names it).
    #[arg(long, value_name = "OPERATION", value_parser = parse_event_name)]
    pub event: Option<String>,
    /// Read the trail's gzipped log files from the trail bucket instead of the CloudTrail event
    /// history.
    #[arg(long)]
    pub from_bucket: bool,
    /// The trail bucket for --from-bucket, in the prod stage's Region like the argus-audit
    /// stack's (default: that stack's TrailBucketName output; on the local twin argus-twin's
    /// trail bucket, `argus-twin-trail`).
    #[arg(long, value_name = "NAME", requires = "from_bucket")]
    pub bucket: Option<String>,
    /// Print a JSON array of calls (fields: time, event, caller, callerArn, callerType, source,
    /// userAgent, image, images, result, errorCode, errorMessage, requestId, eventId, region,
    /// account) instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `argus audit`: looks the calls up, filters, prints the table or the JSON array.
///
/// # Errors
/// [`Failure`]: 2 for a `--stage` that is not a stage or an invalid config, 1 or 3 as
/// [`lookup_events`] and [`read_trail_logs`].
pub async fn run(context: &Context, args: &AuditArgs) -> Result<(), Failure> {
    let now = DateTime::from(SystemTime::now()).secs();
    let window = Window::last(args.since.seconds, now);
    let stage = match args.stage.as_deref().map(Selection::stage).transpose()? {
        None => None,
        Some(Selection::Stage(stage)) => Some(StageConfig::load(&context.config_dir, &stage)?),
        Some(_) => {
            return Err(Failure::new(
                2,
                format!(
                    "--stage for argus audit takes a stage: beta, prod or local, not `{}`",
                    args.stage.as_deref().unwrap_or_default()
                ),
            ));
        }
    };
    // Reading CloudTrail deploys nothing, so the audit target is allowed on the twin too.
    let mut account_target = app::target(
        &context.config_dir,
        &Selection::Account(AccountStack::Trail),
        ACCOUNT_STACK_REGION_STAGE,
    )?;
    account_target.deployable_on_twin = true;
    let events_target = match &stage {
        Some(config) => app::target(
            &context.config_dir,
            &Selection::Stage(config.stage.clone()),
            ACCOUNT_STACK_REGION_STAGE,
        )?,
        None => account_target.clone(),
    };
    let filter = Filter {
        window,
        event: args.event.clone(),
        stage_bucket: stage.as_ref().map(StageConfig::input_bucket_name),
    };

    let (events, source) = if args.from_bucket {
        // The trail bucket lives with the audit stack; the log folders are per event Region.
        // The local stage's twin keeps its trail bucket in the local stage's Region.
        let bucket_target = if stage.as_ref().is_some_and(|s| s.stage == "local") {
            &events_target
        } else {
            &account_target
        };
        let aws = aws_for(context, bucket_target).await?;
        // On the local twin argus-twin delivers the trail's log files to its own bucket.
        let bucket = match args.bucket.as_deref() {
            None if aws.is_custom_endpoint() => argus_twin::lifecycle::TRAIL_BUCKET.to_owned(),
            given => trail_bucket(&aws, given).await?,
        };
        let (events, files) =
            read_trail_logs(&aws, &bucket, &events_target.region, &window).await?;
        let source = format!(
            "{files} trail log file{} in s3://{bucket}/AWSLogs/*/CloudTrail/{}/",
            if files == 1 { "" } else { "s" },
            events_target.region
        );
        (events, source)
    } else {
        let aws = aws_for(context, &events_target).await?;
        let attribute = match &args.event {
            Some(event) => (LookupAttributeKey::EventName, event.as_str()),
            None => (LookupAttributeKey::EventSource, REKOGNITION_EVENT_SOURCE),
        };
        let attribute = LookupAttribute::builder()
            .attribute_key(attribute.0)
            .attribute_value(attribute.1)
            .build()
            .map_err(|e| Failure::new(1, format!("cannot build the LookupEvents request: {e}")))?;
        let events = lookup_events(&aws, attribute, &window).await?;
        let mut source = format!(
            "the CloudTrail event history (LookupEvents) in {}",
            events_target.region
        );
        if aws.is_custom_endpoint() && std::env::var_os("AWS_ENDPOINT_URL_CLOUDTRAIL").is_none() {
            source.push_str(
                "; on the local twin argus-twin records the Rekognition calls: export AWS_ENDPOINT_URL_CLOUDTRAIL as `argus local up` prints",
            );
        }
        (events, source)
    };

    let events = select(events, &filter);
    let stage_name = stage.as_ref().map(|s| s.stage.as_str());
    if args.json {
        let json = to_json(&events)
            .map_err(|e| Failure::new(1, format!("cannot write the JSON output: {e}")))?;
        print!("{json}");
        if events.is_empty() {
            eprintln!(
                "{}",
                no_calls_message(&args.since, args.event.as_deref(), stage_name)
            );
        }
    } else if events.is_empty() {
        println!(
            "{}",
            no_calls_message(&args.since, args.event.as_deref(), stage_name)
        );
        println!("(searched {source})");
    } else {
        print!("{}", table(&events));
        println!("{}", summary(&events, &window, &source));
    }
    Ok(())
}
