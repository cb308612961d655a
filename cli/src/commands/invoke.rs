//! `argus invoke FUNCTION --stage S`: build a realistic event for a deployed function and invoke
//! it ([`crate::ops::invoke`]); the response payload goes to stdout as pretty JSON, the log lines
//! of the request to stderr as columns ([`crate::ops::logs::render_line`]).

use crate::cli::Failure;
use crate::ops::events::HttpRequest;
use crate::ops::invoke::{EventKind, InvokeOptions, InvokeOutcome, invoke};
use crate::ops::logs::{header, render_line};
use crate::ops::{Context, block_on};

/// `argus invoke` options.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  argus invoke processor --stage local --key incoming/cat.jpg
  argus invoke processor --stage local --event s3-put --key incoming/cat.jpg --print-event
  argus invoke api --stage local --path '/images?limit=5'
  argus invoke api --stage beta --method POST --path /uploads --body '{\"filename\":\"cat.jpg\",\"contentType\":\"image/jpeg\",\"size\":1024}'")]
pub struct InvokeArgs {
    /// The function as the stage's stack names it: processor or api.
    #[arg(value_name = "FUNCTION", value_parser = crate::ops::invoke::parse_function)]
    pub function: String,
    /// The stage whose deployed function is invoked (beta, prod or local).
    #[arg(long, value_name = "STAGE")]
    pub stage: String,
    /// The event to send. Default: the function's own (sqs-s3 for processor, apigw-v2 for api).
    #[arg(long, value_enum, value_name = "KIND")]
    pub event: Option<EventKind>,
    /// For s3-put and sqs-s3: the key of an existing object in the stage's input bucket (its
    /// size, ETag and version come from HeadObject), e.g. incoming/cat.jpg.
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// For apigw-v2: the HTTP method.
    #[arg(long, default_value = "GET", value_name = "METHOD")]
    pub method: String,
    /// For apigw-v2: the path, with an optional query (e.g. '/images?limit=5').
    #[arg(long, default_value = "/images", value_name = "PATH")]
    pub path: String,
    /// For apigw-v2: a JSON request body (sent as application/json).
    #[arg(long, value_name = "JSON")]
    pub body: Option<String>,
    /// Print the event as JSON and invoke nothing.
    #[arg(long)]
    pub print_event: bool,
}

/// Runs `argus invoke`.
///
/// # Errors
/// [`Failure`]: 1 when the function returned an error (after its payload and log are printed)
/// and as [`invoke`].
pub fn run(context: &Context, args: &InvokeArgs) -> Result<(), Failure> {
    let options = InvokeOptions {
        function: args.function.clone(),
        stage: args.stage.clone(),
        event: args.event,
        key: args.key.clone(),
        request: HttpRequest {
            method: args.method.clone(),
            path: args.path.clone(),
            body: args.body.clone(),
        },
        print_event: args.print_event,
    };
    let pretty = |value: &serde_json::Value| {
        serde_json::to_string_pretty(value)
            .map_err(|e| Failure::new(1, format!("cannot print JSON: {e}")))
    };
    let invoked = match block_on(invoke(context, &options))? {
        InvokeOutcome::Event(event) => {
            println!("{}", pretty(&event)?);
            return Ok(());
        }
        InvokeOutcome::Invoked(invoked) => invoked,
    };
    eprintln!(
        "invoked {} ({}): status {}",
        invoked.function_name,
        invoked.executed_version.as_deref().unwrap_or("$LATEST"),
        invoked.status_code
    );
    match &invoked.log {
        Some(log) => {
            eprintln!("log of this request (the last 4 KB, from Lambda's LogType Tail):");
            eprintln!("{}", header());
            for line in log.lines().filter(|l| !l.trim().is_empty()) {
                eprintln!("{}", render_line(None, &args.function, line));
            }
        }
        None => eprintln!("Lambda returned no log for this request"),
    }
    println!("{}", pretty(&invoked.payload)?);
    match &invoked.function_error {
        None => Ok(()),
        Some(kind) => {
            let detail = invoked
                .payload
                .get("errorMessage")
                .and_then(serde_json::Value::as_str)
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            Err(Failure::new(
                1,
                format!(
                    "{} returned a function error ({kind}){detail}",
                    invoked.function_name
                ),
            ))
        }
    }
}
