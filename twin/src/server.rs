//! The HTTP server: the Rekognition endpoint (AWS JSON 1.1) and the admin routes, bound to
//! 127.0.0.1 only.
//!
//! Routes:
//! - `POST /` with `X-Amz-Target: RekognitionService.<Operation>` and
//!   `Content-Type: application/x-amz-json-1.1`: DetectLabels, DetectText, DetectFaces,
//!   CompareFaces, DetectModerationLabels
//!   (<https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html>). Answers carry
//!   `x-amzn-RequestId`; errors are described in [`crate::error`].
//! - `GET /_argus/health`: `{"status": "ok", "service": "argus-twin", "version", "fixtures",
//!   "s3", "models" (names), "models_load_ms", "images_decoded"}`.
//! - `GET /_argus/faults` / `POST /_argus/faults` (a [`FaultsUpdate`]) / `DELETE /_argus/faults`
//!   (reset): the [`Faults`] in force.
//! - `POST /` with `X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents`:
//!   CloudTrail's LookupEvents over the calls answered ([`crate::trail`]), so the endpoint is
//!   also `AWS_ENDPOINT_URL_CLOUDTRAIL`; with S3 and a trail bucket the records are delivered
//!   there as gzipped log files every [`TrailSettings::delivery_interval`].
//! - `GET /_argus/calls` (a [`CallLog`]) / `DELETE /_argus/calls` (reset, the CloudTrail
//!   records too).
//!
//! Use [`serve`] in-process (port 0 picks a free port) or the `argus-twin` binary.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::{OnceCell, Semaphore, oneshot};
use tokio::task::JoinHandle;

use crate::error::{AMZ_JSON_1_1, ApiError, ErrorCode};
use crate::faults::{CallLog, Faults, FaultsUpdate, Operation};
use crate::fixtures::{Fixture, FixtureError, FixtureStore};
use crate::inspect::{ImageFacts, decode_with_sha256, sha256_hex};
use crate::model::{
    CompareFacesRequest, DetectFacesRequest, DetectLabelsRequest, DetectModerationLabelsRequest,
    DetectTextRequest, Image,
};
use crate::ops;
use crate::source::{MAX_IMAGE_BYTES, S3Settings, image_bytes};
use crate::trail::{
    Call, Identities, Identity, Trail, TrailSettings, access_key_of, cloudtrail_operation,
};
use crate::vision::{Models, Task, VisionError};

/// The health route: 200 with `{"status": "ok", …}` while the server runs.
pub const HEALTH_PATH: &str = "/_argus/health";

/// Port of the `argus-twin` binary when `--port` is not given.
pub const DEFAULT_PORT: u16 = 4599;

/// The project's fixtures folder (`samples/fixtures` of the workspace this crate was built in).
pub const DEFAULT_FIXTURES_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../samples/fixtures");

/// Largest request body read, in bytes (two base64 images of 5 MiB plus JSON fit).
pub const MAX_REQUEST_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Decoded images kept by SHA-256 (most), so the calls of one image's analysis (labels, text,
/// faces, moderation, arriving together) share one decoded copy.
const IMAGE_CACHE_ENTRIES: usize = 16;

/// Decoded pixels kept at most, in bytes (RGB, 3 bytes a pixel); the newest image stays even
/// when it alone is larger.
const IMAGE_CACHE_BYTES: usize = 256 * 1024 * 1024;

/// How long [`ServerHandle::shutdown`] waits for open connections before aborting them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// How to run argus-twin.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Must be 127.0.0.1: argus-twin never listens on other interfaces.
    pub host: IpAddr,
    /// TCP port; 0 picks a free one (read it from [`ServerHandle::port`]).
    pub port: u16,
    /// Folder of `<sha256>.json` fixtures: an image with a fixture is answered from it (an
    /// override for tests); `None`: no fixtures.
    pub fixtures_dir: Option<PathBuf>,
    /// Models folder (`make models`); `None`: no models (images without a fixture get empty
    /// answers). Loaded once per folder and process ([`Models::shared`]).
    pub models_dir: Option<PathBuf>,
    /// Model runs at once (each on the blocking pool); 0: the number of cores.
    pub max_inferences: usize,
    /// Where `Image.S3Object` is read from; `None`: S3Object requests are refused.
    pub s3: Option<S3Settings>,
    /// Faults in force at start.
    pub faults: Faults,
    /// The CloudTrail account, Region, trail bucket and delivery interval ([`crate::trail`]);
    /// delivery needs `s3` too.
    pub trail: TrailSettings,
}

impl Default for Config {
    /// 127.0.0.1, a free port, the project's fixtures, the models of
    /// [`crate::vision::models_dir`], one model run per core, no S3, no faults, no trail
    /// delivery.
    fn default() -> Self {
        Config {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            fixtures_dir: Some(PathBuf::from(DEFAULT_FIXTURES_DIR)),
            models_dir: Some(crate::vision::models_dir()),
            max_inferences: 0,
            s3: None,
            faults: Faults::default(),
            trail: TrailSettings::default(),
        }
    }
}

/// Why the server could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The host is not 127.0.0.1.
    #[error(
        "argus-twin binds to 127.0.0.1 only (a test double must not be reachable from the \
         network); refusing to bind to {0}"
    )]
    NonLoopbackBind(IpAddr),
    /// The port is taken.
    #[error(
        "port {port} on 127.0.0.1 is already in use; pick another with --port (0: any free port)"
    )]
    PortInUse {
        /// The port.
        port: u16,
    },
    /// Binding failed for another reason.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The fixtures could not be loaded.
    #[error(transparent)]
    Fixtures(#[from] FixtureError),
    /// The models could not be loaded (the message names the file and `make models`).
    #[error(transparent)]
    Models(#[from] VisionError),
    /// The server task failed.
    #[error("argus-twin server failed: {0}")]
    Server(String),
}

/// One decoded image: its facts and its pixels (RGB, alpha composited over white).
struct Decoded {
    facts: ImageFacts,
    rgb: Arc<image::RgbImage>,
}

impl Decoded {
    fn bytes(&self) -> usize {
        self.rgb.as_raw().len()
    }
}

/// Decoded images by SHA-256 with single flight: concurrent calls on one image wait for one
/// decode and share its result. Bounded by [`IMAGE_CACHE_ENTRIES`] and [`IMAGE_CACHE_BYTES`]
/// (oldest first out). A failed decode is not kept (the next call decodes again).
#[derive(Default)]
struct ImageCache {
    slots: HashMap<String, Arc<OnceCell<Arc<Decoded>>>>,
    /// Keys of decoded entries, oldest first, with their sizes.
    order: VecDeque<(String, usize)>,
    bytes: usize,
}

impl ImageCache {
    fn slot(&mut self, sha256: &str) -> Arc<OnceCell<Arc<Decoded>>> {
        self.slots
            .entry(sha256.to_owned())
            .or_insert_with(|| Arc::new(OnceCell::new()))
            .clone()
    }

    /// Records a decoded entry and evicts the oldest others past the bounds.
    fn admit(&mut self, sha256: &str, size: usize) {
        if self.order.iter().any(|(k, _)| k == sha256) {
            return;
        }
        self.order.push_back((sha256.to_owned(), size));
        self.bytes += size;
        while self.order.len() > 1
            && (self.order.len() > IMAGE_CACHE_ENTRIES || self.bytes > IMAGE_CACHE_BYTES)
        {
            if let Some((old, size)) = self.order.pop_front() {
                self.bytes -= size;
                self.slots.remove(&old);
            }
        }
    }

    /// Forgets a slot whose decode failed (when nobody refilled it).
    fn forget_failed(&mut self, sha256: &str) {
        if self.slots.get(sha256).is_some_and(|s| !s.initialized()) {
            self.slots.remove(sha256);
        }
    }
}

struct AppState {
    fixtures: RwLock<FixtureStore>,
    s3: Option<aws_sdk_s3::Client>,
    faults: Mutex<Faults>,
    calls: Mutex<CallLog>,
    images: Mutex<ImageCache>,
    models: Option<Arc<Models>>,
    inferences: Arc<Semaphore>,
    /// Images decoded since start (the health route's `images_decoded`).
    decodes: AtomicU64,
    next_request: AtomicU64,
    instance: u64,
    trail: Mutex<Trail>,
    trail_settings: TrailSettings,
    identities: Mutex<Identities>,
    /// MiniStack's endpoint (the S3 one), where the Lambda functions are listed.
    ministack: Option<String>,
}

/// A UUID-shaped ID (`xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx`, V = `variant`), unique per process
/// run: `instance` (the start time) and the sequence number `n`. Request IDs use `a`, CloudTrail
/// event IDs `b`, so the two never collide.
pub(crate) fn sequential_id(instance: u64, n: u64, variant: char) -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-{variant}{:03x}-{:012x}",
        (instance >> 32) as u32,
        (instance >> 16) as u16,
        (instance & 0xfff) as u16,
        ((n >> 48) & 0xfff) as u16,
        n & 0xffff_ffff_ffff
    )
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl AppState {
    fn request_id(&self) -> String {
        let n = self.next_request.fetch_add(1, Ordering::Relaxed);
        sequential_id(self.instance, n, 'a')
    }

    /// What is seen in the image for `op`: its fixture when there is one (the override),
    /// else the models' answer for `task` (run on the blocking pool, at most
    /// `max_inferences` at once), else nothing; with the model version that names who saw it
    /// ([`ops::FIXTURE_MODEL_VERSION`], [`Task::model_version`], [`ops::NO_MODEL_VERSION`]).
    async fn seen(
        &self,
        image: &Decoded,
        op: Operation,
        task: Option<Task>,
    ) -> Result<(Option<Arc<Fixture>>, &'static str), ApiError> {
        let sha256 = &image.facts.sha256;
        let found = self
            .fixtures
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(sha256);
        if found.is_some() {
            tracing::debug!(operation = op.name(), sha256, "answering from the fixture");
            return Ok((found, ops::FIXTURE_MODEL_VERSION));
        }
        let (Some(models), Some(task)) = (self.models.clone(), task) else {
            tracing::info!(
                operation = op.name(),
                sha256,
                "no fixture and no model for this operation: answering with an empty result"
            );
            return Ok((None, ops::NO_MODEL_VERSION));
        };
        let _permit = self
            .inferences
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| ApiError::internal(format!("inference pool closed: {e}")))?;
        let rgb = image.rgb.clone();
        let fixture = tokio::task::spawn_blocking(move || models.see(&rgb, task))
            .await
            .map_err(|e| ApiError::internal(format!("inference task failed: {e}")))?
            .map_err(|e| ApiError::internal(e.to_string()))?;
        Ok((Some(Arc::new(fixture)), task.model_version()))
    }

    /// Reads, hashes and decodes an image (once per SHA-256 while it is cached, however many
    /// calls ask for it at the same time), recording its SHA-256 in `seen`.
    async fn load(&self, image: &Image, seen: &mut Vec<String>) -> Result<Arc<Decoded>, ApiError> {
        let bytes = image_bytes(image, self.s3.as_ref()).await?;
        let (bytes, sha256) = tokio::task::spawn_blocking(move || {
            let sha = sha256_hex(&bytes);
            (bytes, sha)
        })
        .await
        .map_err(|e| ApiError::internal(format!("hashing task failed: {e}")))?;
        seen.push(sha256.clone());
        let slot = lock(&self.images).slot(&sha256);
        let key = sha256.clone();
        let decoded = slot
            .get_or_try_init(|| async move {
                self.decodes.fetch_add(1, Ordering::Relaxed);
                let (facts, rgb) =
                    tokio::task::spawn_blocking(move || decode_with_sha256(&bytes, sha256))
                        .await
                        .map_err(|e| ApiError::internal(format!("decoding task failed: {e}")))??;
                Ok::<_, ApiError>(Arc::new(Decoded {
                    facts,
                    rgb: Arc::new(rgb),
                }))
            })
            .await;
        let mut cache = lock(&self.images);
        match decoded {
            Ok(decoded) => {
                cache.admit(&key, decoded.bytes());
                Ok(decoded.clone())
            }
            Err(e) => {
                cache.forget_failed(&key);
                Err(e)
            }
        }
    }

    async fn call(
        &self,
        op: Operation,
        body: Result<Bytes, ApiError>,
        seen: &mut Vec<String>,
    ) -> Result<String, ApiError> {
        let body = body?;
        let (latency, fault) = lock(&self.faults).decide(op);
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        if let Some(err) = fault {
            return Err(err);
        }

        match op {
            Operation::DetectLabels => {
                let req: DetectLabelsRequest = parse(&body)?;
                let params = ops::labels_params(&req)?;
                let image = self.load(required(&req.image, "Image")?, seen).await?;
                let (fixture, version) = self.seen(&image, op, Some(Task::Labels)).await?;
                to_json(&ops::detect_labels(
                    &params,
                    fixture.as_deref(),
                    &image.facts,
                    version,
                ))
            }
            Operation::DetectText => {
                let req: DetectTextRequest = parse(&body)?;
                let params = ops::text_params(&req)?;
                let image = self.load(required(&req.image, "Image")?, seen).await?;
                let (fixture, version) = self.seen(&image, op, Some(Task::Text)).await?;
                to_json(&ops::detect_text(&params, fixture.as_deref(), version))
            }
            Operation::DetectFaces => {
                let req: DetectFacesRequest = parse(&body)?;
                let attrs = ops::face_attributes(&req)?;
                let image = self.load(required(&req.image, "Image")?, seen).await?;
                let (fixture, _) = self.seen(&image, op, Some(Task::Faces)).await?;
                to_json(&ops::detect_faces(&attrs, fixture.as_deref()))
            }
            Operation::CompareFaces => {
                let req: CompareFacesRequest = parse(&body)?;
                let threshold = ops::similarity_threshold(&req)?;
                let source_image = required(&req.source_image, "SourceImage")?;
                let target_image = required(&req.target_image, "TargetImage")?;
                let source = self.load(source_image, seen).await?;
                let target = self.load(target_image, seen).await?;
                let (source_fixture, _) = self.seen(&source, op, Some(Task::CompareFaces)).await?;
                let (target_fixture, _) = self.seen(&target, op, Some(Task::CompareFaces)).await?;
                to_json(&ops::compare_faces(
                    threshold,
                    (&source.facts, source_fixture.as_deref()),
                    (&target.facts, target_fixture.as_deref()),
                )?)
            }
            Operation::DetectModerationLabels => {
                let req: DetectModerationLabelsRequest = parse(&body)?;
                let min_confidence = ops::moderation_min_confidence(&req)?;
                let image = self.load(required(&req.image, "Image")?, seen).await?;
                let (fixture, version) = self.seen(&image, op, Some(Task::Moderation)).await?;
                to_json(&ops::detect_moderation_labels(
                    min_confidence,
                    fixture.as_deref(),
                    version,
                ))
            }
        }
    }
}

/// Reads a request body of at most [`MAX_REQUEST_BODY_BYTES`].
async fn read_body(headers: &HeaderMap, body: Body) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|l| l > MAX_REQUEST_BODY_BYTES) {
        return Err(body_too_large());
    }
    axum::body::to_bytes(body, MAX_REQUEST_BODY_BYTES)
        .await
        .map_err(|_| body_too_large())
}

fn body_too_large() -> ApiError {
    ApiError::image_too_large(format!(
        "Image size is too large: the request body is over {MAX_REQUEST_BODY_BYTES} bytes \
         (Image.Bytes may hold at most {MAX_IMAGE_BYTES} bytes)"
    ))
}

fn required<'a>(image: &'a Option<Image>, name: &str) -> Result<&'a Image, ApiError> {
    image.as_ref().ok_or_else(|| {
        ApiError::invalid_parameter(format!(
            "Request has invalid parameters: {name} is required"
        ))
    })
}

fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    let body: &[u8] = if body.is_empty() { b"{}" } else { body };
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            ErrorCode::SerializationException,
            format!("The request body is not valid JSON for this operation: {e}"),
        )
    })
}

fn to_json<T: Serialize>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value)
        .map_err(|e| ApiError::internal(format!("cannot serialize the answer: {e}")))
}

fn with_request_id(mut response: Response, request_id: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-amzn-RequestId", v);
    }
    response
}

async fn rekognition(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let request_id = state.request_id();
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if let Some(operation) = cloudtrail_operation(target) {
        return cloudtrail(&state, operation, &headers, body, &request_id).await;
    }
    let Some(op) = Operation::from_target(target) else {
        let err = ApiError::new(
            ErrorCode::UnknownOperationException,
            format!(
                "argus-twin serves RekognitionService.{{DetectLabels,DetectText,DetectFaces,\
                 CompareFaces,DetectModerationLabels}}; X-Amz-Target was {target:?}"
            ),
        );
        return with_request_id(err.into_response(), &request_id);
    };
    let mut seen = Vec::new();
    let body = read_body(&headers, body).await;
    let request: serde_json::Value = body
        .as_ref()
        .ok()
        .and_then(|b| serde_json::from_slice(b).ok())
        .unwrap_or(serde_json::Value::Null);
    let result = state.call(op, body, &mut seen).await;
    let identity = state.identity(&headers).await;
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let (response, outcome, status) = match result {
        Ok(json) => {
            state.record(op, &request, &identity, user_agent, &request_id, None);
            (
                ([(header::CONTENT_TYPE, AMZ_JSON_1_1)], json).into_response(),
                "OK".to_owned(),
                StatusCode::OK,
            )
        }
        Err(err) => {
            let outcome = err.code.as_str().to_owned();
            let status = err.code.status();
            tracing::info!(operation = op.name(), code = %err.code, message = %err.message, "error answer");
            state.record(
                op,
                &request,
                &identity,
                user_agent,
                &request_id,
                Some((err.code.as_str(), &err.message)),
            );
            (err.into_response(), outcome, status)
        }
    };
    tracing::debug!(operation = op.name(), outcome = %outcome, images = ?seen, %request_id, "call");
    lock(&state.calls).record(op, seen, &outcome, status.as_u16());
    with_request_id(response, &request_id)
}

/// Answers a CloudTrail operation (only LookupEvents is served).
async fn cloudtrail(
    state: &AppState,
    operation: &str,
    headers: &HeaderMap,
    body: Body,
    request_id: &str,
) -> Response {
    let answer = match operation {
        "LookupEvents" => match read_body(headers, body).await {
            Ok(body) => crate::trail::lookup_events(lock(&state.trail).events(), &body),
            Err(e) => Err(crate::trail::LookupError {
                code: "SerializationException",
                message: e.message,
            }),
        },
        other => Err(crate::trail::LookupError {
            code: "UnknownOperationException",
            message: format!("argus-twin serves CloudTrail's LookupEvents only, not {other}"),
        }),
    };
    let response = match answer {
        Ok(json) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, AMZ_JSON_1_1)],
            json.to_string(),
        )
            .into_response(),
        Err(e) => {
            tracing::info!(code = e.code, message = %e.message, "CloudTrail error answer");
            (
                StatusCode::BAD_REQUEST,
                [(header::CONTENT_TYPE, AMZ_JSON_1_1)],
                serde_json::json!({"__type": e.code, "message": e.message}).to_string(),
            )
                .into_response()
        }
    };
    with_request_id(response, request_id)
}

impl AppState {
    /// Who signed the request (see [`crate::trail`]): Lambda functions are listed on MiniStack
    /// for an access key not seen before.
    async fn identity(&self, headers: &HeaderMap) -> Identity {
        let key = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(access_key_of)
            .unwrap_or_default()
            .to_owned();
        if let Some(known) = lock(&self.identities).get(&key) {
            return known;
        }
        let functions = match &self.ministack {
            Some(endpoint) if !key.is_empty() => {
                let endpoint = endpoint.clone();
                match tokio::task::spawn_blocking(move || crate::trail::list_functions(&endpoint))
                    .await
                {
                    Ok(Ok(functions)) => functions,
                    Ok(Err(e)) => {
                        tracing::debug!(error = %e, "cannot list the Lambda functions");
                        Vec::new()
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "listing task failed");
                        Vec::new()
                    }
                }
            }
            _ => Vec::new(),
        };
        let identity = crate::trail::identify(&key, &self.trail_settings.account_id, &functions);
        lock(&self.identities).remember(&key, &identity);
        identity
    }

    /// Records a Rekognition call in the trail.
    fn record(
        &self,
        op: Operation,
        request: &serde_json::Value,
        identity: &Identity,
        user_agent: &str,
        request_id: &str,
        error: Option<(&str, &str)>,
    ) {
        lock(&self.trail).record(
            &self.trail_settings,
            crate::trail::now_ms(),
            &Call {
                operation: op.name(),
                request,
                identity,
                user_agent,
                request_id,
                error,
            },
        );
    }

    /// Delivers the records not yet delivered as one log file into the trail bucket (created
    /// when missing). Records whose delivery failed are kept for the next time.
    async fn deliver(&self) {
        let (Some(s3), Some(bucket)) = (&self.s3, &self.trail_settings.bucket) else {
            return;
        };
        let records = lock(&self.trail).take_pending();
        if records.is_empty() {
            return;
        }
        let now = crate::trail::now_ms();
        let id = format!("{:x}{:04x}", self.instance & 0xffff_ffff, now & 0xffff);
        let key = crate::trail::log_file_key(&self.trail_settings, now, &id);
        let body = match crate::trail::log_file_body(&records) {
            Ok(body) => body,
            Err(e) => {
                tracing::warn!(error = %e, "cannot gzip the trail log file");
                lock(&self.trail).restore_pending(records);
                return;
            }
        };
        if s3.head_bucket().bucket(bucket).send().await.is_err()
            && let Err(e) = s3.create_bucket().bucket(bucket).send().await
        {
            tracing::debug!(error = %aws_sdk_s3::error::DisplayErrorContext(&e), bucket, "create_bucket");
        }
        match s3
            .put_object()
            .bucket(bucket)
            .key(&key)
            .content_type("application/json")
            .content_encoding("gzip")
            .body(body.into())
            .send()
            .await
        {
            Ok(_) => tracing::debug!(
                bucket,
                key,
                records = records.len(),
                "trail log file delivered"
            ),
            Err(e) => {
                tracing::warn!(error = %aws_sdk_s3::error::DisplayErrorContext(&e), bucket, key, "trail log file not delivered; retrying at the next interval");
                lock(&self.trail).restore_pending(records);
            }
        }
    }
}

fn admin_json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_string(value) {
        Ok(body) => (status, [(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn health(State(state): State<Arc<AppState>>) -> Response {
    let fixtures = state
        .fixtures
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .len();
    admin_json(
        StatusCode::OK,
        &serde_json::json!({
            "status": "ok",
            "service": "argus-twin",
            "version": env!("CARGO_PKG_VERSION"),
            "fixtures": fixtures,
            "s3": state.s3.is_some(),
            "models": state.models.as_ref().map(|m| m.loaded.clone()).unwrap_or_default(),
            "models_load_ms": state.models.as_ref().map(|m| m.load_time.as_millis() as u64),
            "images_decoded": state.decodes.load(Ordering::Relaxed),
        }),
    )
}

async fn get_faults(State(state): State<Arc<AppState>>) -> Response {
    let faults = lock(&state.faults).clone();
    admin_json(StatusCode::OK, &faults)
}

async fn post_faults(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    match serde_json::from_slice::<FaultsUpdate>(&body) {
        Ok(update) => {
            let faults = {
                let mut faults = lock(&state.faults);
                faults.apply(update);
                faults.clone()
            };
            tracing::info!(?faults, "faults updated");
            admin_json(StatusCode::OK, &faults)
        }
        Err(e) => admin_json(
            StatusCode::BAD_REQUEST,
            &serde_json::json!({ "error": format!("invalid faults update: {e}") }),
        ),
    }
}

async fn delete_faults(State(state): State<Arc<AppState>>) -> Response {
    *lock(&state.faults) = Faults::default();
    admin_json(StatusCode::OK, &Faults::default())
}

async fn get_calls(State(state): State<Arc<AppState>>) -> Response {
    let calls = lock(&state.calls).clone();
    admin_json(StatusCode::OK, &calls)
}

async fn delete_calls(State(state): State<Arc<AppState>>) -> Response {
    *lock(&state.calls) = CallLog::default();
    lock(&state.trail).clear();
    admin_json(StatusCode::OK, &CallLog::default())
}

fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", post(rekognition))
        .route(HEALTH_PATH, get(health))
        .route(
            "/_argus/faults",
            get(get_faults).post(post_faults).delete(delete_faults),
        )
        .route("/_argus/calls", get(get_calls).delete(delete_calls))
        .with_state(state)
}

/// A running argus-twin. Dropping it stops the server (without waiting); prefer
/// [`ServerHandle::shutdown`].
pub struct ServerHandle {
    addr: SocketAddr,
    state: Arc<AppState>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    /// The trail delivery loop, when delivering.
    delivery: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerHandle")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl ServerHandle {
    /// The bound address (127.0.0.1 and the port).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:<port>`: the value for `AWS_ENDPOINT_URL_REKOGNITION` or the SDK's
    /// `endpoint_url`.
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The faults in force.
    pub fn faults(&self) -> Faults {
        lock(&self.state.faults).clone()
    }

    /// Replaces the faults in force.
    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.state.faults) = faults;
    }

    /// A copy of the call log.
    pub fn calls(&self) -> CallLog {
        lock(&self.state.calls).clone()
    }

    /// Empties the call log (and the CloudTrail records).
    pub fn reset_calls(&self) {
        *lock(&self.state.calls) = CallLog::default();
        lock(&self.state.trail).clear();
    }

    /// A copy of the CloudTrail records, oldest first ([`crate::trail`]).
    pub fn trail_records(&self) -> Vec<serde_json::Value> {
        lock(&self.state.trail)
            .events()
            .iter()
            .map(|e| e.record.clone())
            .collect()
    }

    /// Delivers the records not yet delivered to the trail bucket now (no-op without S3 or a
    /// trail bucket).
    pub async fn deliver_trail(&self) {
        self.state.deliver().await;
    }

    /// Adds or replaces the fixture of the image with this SHA-256 (lowercase hex).
    ///
    /// Errors: the problem when the key or a value is invalid.
    pub fn insert_fixture(&self, sha256: &str, fixture: Fixture) -> Result<(), String> {
        self.state
            .fixtures
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(sha256, fixture)
    }

    /// Stops accepting connections, lets open ones finish (up to 10 s, then aborts them) and
    /// waits for the server task.
    ///
    /// Errors: [`ServeError::Server`] when the server task failed.
    pub async fn shutdown(mut self) -> Result<(), ServeError> {
        if let Some(delivery) = self.delivery.take() {
            delivery.abort();
            self.state.deliver().await;
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let Some(mut task) = self.task.take() else {
            return Ok(());
        };
        match tokio::time::timeout(SHUTDOWN_GRACE, &mut task).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(e))) => Err(ServeError::Server(e.to_string())),
            Ok(Err(e)) => Err(ServeError::Server(e.to_string())),
            Err(_) => {
                task.abort();
                Ok(())
            }
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Some(delivery) = self.delivery.take() {
            delivery.abort();
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Starts argus-twin on `config.host:config.port` in the current tokio runtime and returns
/// once it is listening.
///
/// Errors: [`ServeError::NonLoopbackBind`] unless the host is 127.0.0.1;
/// [`ServeError::PortInUse`] / [`ServeError::Bind`]; [`ServeError::Fixtures`] when a fixture
/// file is invalid; [`ServeError::Models`] when a model file is missing or corrupt (the
/// message names the file and `make models`).
pub async fn serve(config: Config) -> Result<ServerHandle, ServeError> {
    if config.host != IpAddr::V4(Ipv4Addr::LOCALHOST) {
        return Err(ServeError::NonLoopbackBind(config.host));
    }
    let fixtures = match &config.fixtures_dir {
        Some(dir) => FixtureStore::load(dir)?,
        None => FixtureStore::empty(),
    };
    let models = match &config.models_dir {
        Some(dir) => {
            let dir = dir.clone();
            Some(
                tokio::task::spawn_blocking(move || Models::shared(&dir))
                    .await
                    .map_err(|e| ServeError::Server(format!("model loading task failed: {e}")))??,
            )
        }
        None => None,
    };
    let max_inferences = match config.max_inferences {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let addr = SocketAddr::new(config.host, config.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| {
            if source.kind() == std::io::ErrorKind::AddrInUse {
                ServeError::PortInUse { port: config.port }
            } else {
                ServeError::Bind { addr, source }
            }
        })?;
    let addr = listener
        .local_addr()
        .map_err(|source| ServeError::Bind { addr, source })?;
    let instance = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default();
    let fixture_count = fixtures.len();
    let state = Arc::new(AppState {
        fixtures: RwLock::new(fixtures),
        s3: config.s3.as_ref().map(S3Settings::client),
        faults: Mutex::new(config.faults.clone()),
        calls: Mutex::new(CallLog::default()),
        images: Mutex::new(ImageCache::default()),
        models: models.clone(),
        inferences: Arc::new(Semaphore::new(max_inferences)),
        decodes: AtomicU64::new(0),
        next_request: AtomicU64::new(1),
        instance,
        trail: Mutex::new(Trail::new(instance)),
        trail_settings: config.trail.clone(),
        identities: Mutex::new(Identities::default()),
        ministack: config.s3.as_ref().map(|s| s.endpoint_url.clone()),
    });
    let delivery = (state.s3.is_some() && config.trail.bucket.is_some()).then(|| {
        let state = state.clone();
        let every = config
            .trail
            .delivery_interval
            .max(Duration::from_millis(100));
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                state.deliver().await;
            }
        })
    });
    let app = router(state.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    tracing::info!(
        %addr,
        fixtures = fixture_count,
        models = ?models.as_ref().map(|m| &m.loaded),
        models_load_ms = models.as_ref().map(|m| m.load_time.as_millis() as u64),
        s3 = config.s3.as_ref().map(|s| s.endpoint_url.as_str()).unwrap_or("none"),
        "argus-twin listening"
    );
    Ok(ServerHandle {
        addr,
        state,
        stop: Some(stop),
        task: Some(task),
        delivery,
    })
}
