//! `argus logs --stage S [FUNCTION]`: the stage's function logs from CloudWatch Logs
//! ([`crate::ops::logs`]) as columns, or raw with `--json`; `--follow` polls until Ctrl-C.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use argus_stacks::pipeline::FUNCTIONS;

use crate::cli::Failure;
use crate::ops::audit_trail::{Since, parse_since};
use crate::ops::invoke::{stage_aws, stage_config};
use crate::ops::logs::{Follow, LogEvent, fetch, header, log_groups, render};
use crate::ops::{Context, block_on};

/// How often `--follow` asks CloudWatch Logs for new events.
pub const FOLLOW_INTERVAL: Duration = Duration::from_secs(2);

/// `argus logs` options.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Columns: TIME (UTC), FUNCTION, LEVEL, REQUEST ID, IMAGE, MESSAGE (then the \
line's other fields as name=value). Lines that are not JSON (START, END, REPORT) are shown as they are.

Examples:
  argus logs --stage local
  argus logs --stage beta processor --since 1h --filter 0123456789abcdef0123456789abcdef
  argus logs --stage beta --follow"
)]
pub struct LogsArgs {
    /// The stage whose functions' logs are read (beta, prod or local).
    #[arg(long, value_name = "STAGE")]
    pub stage: String,
    /// Only this function: processor or api. Default: every function of the stage.
    #[arg(value_name = "FUNCTION", value_parser = crate::ops::invoke::parse_function)]
    pub function: Option<String>,
    /// How far back to look: a whole number and a unit, s, m, h or d (`30s`, `10m`, `2h`).
    #[arg(long, default_value = "10m", value_name = "DURATION", value_parser = parse_since)]
    pub since: Since,
    /// Keep polling for new lines (every 2 s) until Ctrl-C.
    #[arg(long)]
    pub follow: bool,
    /// Only lines containing this text exactly (a CloudWatch Logs quoted-phrase filter pattern),
    /// e.g. an image ID or a request ID.
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
    /// Print the lines as the functions wrote them (JSON lines), one per line, without columns.
    #[arg(long)]
    pub json: bool,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Runs `argus logs`.
///
/// # Errors
/// [`Failure`]: 2 for an unknown stage or function, 1 when the stage is not deployed, 3 when AWS
/// cannot be reached.
pub fn run(context: &Context, args: &LogsArgs) -> Result<(), Failure> {
    block_on(logs(context, args))
}

async fn logs(context: &Context, args: &LogsArgs) -> Result<(), Failure> {
    let config = stage_config(context, &args.stage, "logs")?;
    let aws = stage_aws(context, &config).await?;
    let functions: Vec<&str> = match &args.function {
        Some(function) => vec![function.as_str()],
        None => FUNCTIONS.iter().map(|(name, _)| *name).collect(),
    };
    let groups = log_groups(&aws, &config, &functions).await?;
    let client = aws_sdk_cloudwatchlogs::Client::new(&aws.config);
    let start = now_ms() - i64::try_from(args.since.seconds * 1000).unwrap_or(i64::MAX);
    let print = |events: &[LogEvent]| {
        for event in events {
            if args.json {
                println!("{}", event.message);
            } else {
                println!("{}", render(event));
            }
        }
    };
    if !args.json {
        println!("{}", header());
    }
    let filter = args.filter.as_deref();
    let events = fetch(&aws, &client, &groups, start, filter).await?;
    if !args.follow {
        if events.is_empty() {
            let names: Vec<&str> = groups.iter().map(|g| g.group.as_str()).collect();
            eprintln!(
                "no log lines in the last {}{} in {}",
                args.since,
                filter
                    .map(|f| format!(" containing `{f}`"))
                    .unwrap_or_default(),
                names.join(", ")
            );
        }
        print(&events);
        return Ok(());
    }
    let mut follow = Follow::new(start);
    print(&follow.new_events(events));
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            () = tokio::time::sleep(FOLLOW_INTERVAL) => {}
        }
        let events = fetch(&aws, &client, &groups, follow.since_ms, filter).await?;
        print(&follow.new_events(events));
    }
}
