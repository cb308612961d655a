//! The processor: an SQS batch of S3 notifications in, one result record per image out.
//!
//! # Per image
//!
//! 1. Skip records that are not `ObjectCreated:*` or whose key is outside the input prefix.
//! 2. **Claim** the image ([`ResultsTable::claim`]): a CLAIMED item keyed by the image ID
//!    ([`record::image_id`]), written only if no item exists or the existing one is a claim whose
//!    lease has expired. A final record, or a live claim of another run, means "someone else has
//!    it": nothing is done (no Rekognition call, no record, no alert) and the message is
//!    acknowledged — the other run's own message guarantees completion.
//! 3. Read the object and [`inspect`] it; a bad object is REJECTED with no Rekognition call.
//! 4. Run the enabled analyses concurrently (image as S3Object, pinned to the version read), then
//!    CompareFaces against the reference when configured and the image has faces.
//! 5. Policies: the weapon alert and the face decision. Steps 4 and 5 are [`crate::analysis`],
//!    which `argus analyze` runs directly ([`crate::analysis::analyze_image`]).
//! 6. The face decision goes to the decision log first, then the result is put (status
//!    PROCESSED, `expires_at`), conditioned on still holding the claim. The record is the commit
//!    point: everything it refers to is written before it, except the alert.
//! 7. The alert is published only after the result put succeeded, and the record notes it.
//!
//! # Claim lifetime
//!
//! A claim's lease (`claimExpiresAt`) ends at the invocation's deadline (Lambda's
//! `Lambda-Runtime-Deadline-Ms`, i.e. start + function timeout) plus [`CLAIM_MARGIN_SECS`]:
//! after that the run that holds it is certainly gone, so a crashed run's claim can be retaken.
//! Without a known deadline the lease is [`DEFAULT_CLAIM_SECS`] (Lambda's maximum timeout). The
//! ingest queue's visibility timeout is six times the function timeout, so a redelivery of a
//! crashed run's message arrives after the lease has ended.
//!
//! # Retries
//!
//! Retryable failures (throttling, 5xx and timeouts that survived the SDK's own retries, and
//! unclassified errors such as access denied) put the message in `batchItemFailures`; the run
//! first **releases** its claim (sets the lease to 0, conditioned on its token) so the retry can
//! take it at once. If the release itself fails, the lease still ends at the deadline, before the
//! message becomes visible again. Nothing that failed retryably writes a final record.
//! Non-retryable failures end as records: Rekognition's InvalidImageFormat, ImageTooLarge and
//! InvalidParameter → REJECTED; InvalidS3Object and a missing object → FAILED; the reason is
//! `<error code>: <message>`.
//!
//! # Alerts: at most one, and not lost
//!
//! The record is put with `alert.state = PENDING` and the run's lease kept on the item; then the
//! alert is published; then the record is put again with `alert.state = SENT` and the SNS message
//! ID. If the publish fails, the lease is released and the message retried: the retry finds the
//! final record with a pending alert and an ended lease, takes it over
//! ([`ResultsTable::take_over`], conditioned on the token it read) and publishes — without
//! analysing again. If the run crashes between put and publish, the same happens when the lease
//! ends. The one window left is a crash (or a failed write) between a successful publish and the
//! SENT write: SNS standard topics have no idempotent publish, so a later redelivery could then
//! publish a second time. After a successful publish the run never asks for a retry, which keeps
//! that window to a crash in the few milliseconds before the SENT write.
//!
//! # Face decisions
//!
//! The decision event's key is `decision#<processedAt>`; it is written before the record. A crash
//! between the two lets the retry write its own event (another `processedAt`): the trail may hold
//! two decisions for one image, never none.

use std::collections::BTreeSet;
use std::future::Future;
#[cfg(feature = "lambda")]
use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

#[cfg(feature = "lambda")]
use aws_lambda_events::event::sqs::SqsEvent;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsMessage};
use chrono::{DateTime, Duration, Utc};
use futures_util::stream::{self, StreamExt};
#[cfg(feature = "lambda")]
use lambda_runtime::LambdaEvent;
use tracing::Instrument;

use crate::analysis::{self, Analysis, AnalyzeError, join_reason};
use crate::inspect::{self, MAX_BYTES, Rejection};
use crate::metrics::Counters;
use crate::notification::{self, Notification, ObjectRef};
use crate::policy::AlertMessage;
use crate::record::{self, AlertState, ImageRecord, Status};
use crate::services::{
    AlertTopic, CLAIMED, Claim, ClaimOutcome, Clock, DecisionEvent, DecisionLog,
    DecisionLogOutcome, ItemStatus, ObjectStore, PutOutcome, Rekognition, ResultsTable, S3Object,
    StoreError, TableError,
};
use crate::settings::Settings;

/// Seconds added to the invocation deadline to get a claim's lease end (clock skew between
/// Lambda and DynamoDB's callers).
pub const CLAIM_MARGIN_SECS: i64 = 5;

/// A claim's lease when the invocation deadline is unknown: 900 s, Lambda's maximum timeout.
pub const DEFAULT_CLAIM_SECS: i64 = 900;

/// An image is not started with less than this left before the deadline (milliseconds); its
/// message is retried instead of being cut off by the timeout.
pub const MIN_MS_TO_START: i64 = 3_000;

/// What the processor works with: settings and the outside world.
#[derive(Clone)]
pub struct Deps {
    /// The stage settings.
    pub settings: Settings,
    /// S3.
    pub objects: Arc<dyn ObjectStore>,
    /// Rekognition.
    pub rekognition: Arc<dyn Rekognition>,
    /// The results table.
    pub results: Arc<dyn ResultsTable>,
    /// The decision log.
    pub decision_log: Arc<dyn DecisionLog>,
    /// The alert topic.
    pub alerts: Arc<dyn AlertTopic>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
}

/// The invocation being served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invocation {
    /// The Lambda request ID (in every log line and in claim tokens).
    pub request_id: String,
    /// When Lambda stops the invocation; `None` when unknown.
    pub deadline: Option<DateTime<Utc>>,
}

impl Invocation {
    /// The lease end, epoch seconds, of a claim taken at `now`: the deadline plus
    /// [`CLAIM_MARGIN_SECS`], or `now` plus [`DEFAULT_CLAIM_SECS`].
    pub fn claim_expires_at(&self, now: DateTime<Utc>) -> i64 {
        match self.deadline {
            Some(deadline) => deadline.timestamp() + 1 + CLAIM_MARGIN_SECS,
            None => now.timestamp() + DEFAULT_CLAIM_SECS,
        }
    }
}

/// Why an image was left alone (message acknowledged).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Skip {
    /// The event is not `ObjectCreated:*`.
    NotCreated(String),
    /// The key is outside the input prefix.
    OutsidePrefix,
    /// The notification is of a bucket other than the stage's input bucket.
    OtherBucket(String),
    /// The image has a final record already (a duplicate delivery).
    AlreadyDone(Status),
    /// Another run holds a live claim.
    ClaimedElsewhere,
    /// Another run took the claim over before this run's result was written.
    LostClaim,
}

/// What happened to one image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A final record was written.
    Recorded {
        /// Its status.
        status: Status,
        /// Whether an alert was published.
        alert_published: bool,
    },
    /// The pending alert of an earlier run was published.
    AlertResumed,
    /// Nothing to do.
    Skipped(Skip),
    /// A retryable failure: the message goes back to the queue.
    Retry(String),
}

/// The report of one image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageReport {
    /// The image ID.
    pub image_id: String,
    /// The object key.
    pub key: String,
    /// What happened.
    pub outcome: Outcome,
    /// Its metric counts.
    pub counters: Counters,
}

/// The result of a batch.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BatchOutcome {
    /// The Lambda response: the messages to retry.
    pub response: SqsBatchResponse,
    /// Metric counts of the batch.
    pub counters: Counters,
    /// One report per image record, in completion order.
    pub reports: Vec<ImageReport>,
    /// A failed message had no message ID, so it cannot be listed in `batchItemFailures`: the
    /// caller must fail the whole invocation so that nothing is acknowledged silently.
    pub unreportable_failure: bool,
}

/// Processes the messages of an SQS batch: every S3 record of every message, at most
/// `concurrency` at a time (at least 1). A message is listed in `batchItemFailures` when its body
/// is not an S3 notification or any of its records failed retryably; `s3:TestEvent` messages are
/// acknowledged. One message's failure never stops the others.
pub async fn process_batch(
    messages: &[SqsMessage],
    deps: &Deps,
    invocation: &Invocation,
    concurrency: usize,
) -> BatchOutcome {
    let mut failed: BTreeSet<usize> = BTreeSet::new();
    let mut jobs: Vec<(usize, ObjectRef)> = Vec::new();
    for (index, message) in messages.iter().enumerate() {
        let message_id = message.message_id.as_deref().unwrap_or_default();
        match notification::parse(message.body.as_deref().unwrap_or_default()) {
            Ok(Notification::Test) => tracing::info!(
                request_id = %invocation.request_id,
                message_id,
                "s3:TestEvent acknowledged"
            ),
            Ok(Notification::Objects(objects)) => {
                jobs.extend(objects.into_iter().map(|o| (index, o)));
            }
            Err(e) => {
                tracing::error!(
                    request_id = %invocation.request_id,
                    message_id,
                    error = %e,
                    "unrecognized message; it is retried and ends in the DLQ"
                );
                failed.insert(index);
            }
        }
    }
    let reports: Vec<(usize, ImageReport)> = stream::iter(jobs)
        .map(|(index, object)| {
            let message_id = messages[index].message_id.clone().unwrap_or_default();
            async move {
                let report = process_object(deps, invocation, &message_id, &object).await;
                (index, report)
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut outcome = BatchOutcome::default();
    for (index, report) in reports {
        outcome.counters.add(&report.counters);
        if matches!(report.outcome, Outcome::Retry(_)) {
            failed.insert(index);
        }
        outcome.reports.push(report);
    }
    for index in failed {
        match &messages[index].message_id {
            Some(id) => outcome.response.add_failure(id.clone()),
            None => outcome.unreportable_failure = true,
        }
    }
    outcome
}

/// Processes one S3 record (see the module documentation), logging each call's duration and
/// the outcome in a span with the request ID, message ID, image ID and key.
pub async fn process_object(
    deps: &Deps,
    invocation: &Invocation,
    message_id: &str,
    object: &ObjectRef,
) -> ImageReport {
    let image_id = record::image_id(
        &object.bucket,
        &object.key,
        object.version_id.as_deref(),
        object.e_tag.as_deref(),
    );
    let span = tracing::info_span!(
        "image",
        request_id = %invocation.request_id,
        message_id,
        image_id = %image_id,
        key = %object.key,
    );
    async {
        let started = Instant::now();
        let mut run = Run {
            deps,
            invocation,
            object,
            image_id: image_id.clone(),
            token: format!("{}/{}", invocation.request_id, message_id),
            counters: Counters::default(),
        };
        let outcome = run.process().await;
        let total_ms = elapsed_ms(started);
        match &outcome {
            Outcome::Retry(reason) => {
                tracing::warn!(outcome = "retry", reason = %reason, total_ms, "image will be retried");
            }
            Outcome::Recorded {
                status,
                alert_published,
            } => tracing::info!(
                outcome = "recorded",
                status = status.as_str(),
                alert_published,
                total_ms,
                "image recorded"
            ),
            Outcome::AlertResumed => {
                tracing::info!(outcome = "alert_resumed", total_ms, "pending alert published");
            }
            Outcome::Skipped(skip) => {
                tracing::info!(outcome = "skipped", skip = ?skip, total_ms, "image skipped");
            }
        }
        ImageReport {
            image_id,
            key: object.key.clone(),
            outcome,
            counters: run.counters,
        }
    }
    .instrument(span)
    .await
}

/// A retryable failure: why the message goes back to the queue.
struct Retry(String);

impl From<TableError> for Retry {
    fn from(e: TableError) -> Self {
        Retry(format!("DynamoDB: {e}"))
    }
}

struct Run<'a> {
    deps: &'a Deps,
    invocation: &'a Invocation,
    object: &'a ObjectRef,
    image_id: String,
    token: String,
    counters: Counters,
}

impl Run<'_> {
    fn settings(&self) -> &Settings {
        &self.deps.settings
    }

    fn now(&self) -> DateTime<Utc> {
        self.deps.clock.now()
    }

    async fn process(&mut self) -> Outcome {
        let event = &self.object.event_name;
        if !event.is_empty() && !event.starts_with("ObjectCreated") {
            return Outcome::Skipped(Skip::NotCreated(event.clone()));
        }
        if self.object.bucket != self.settings().input_bucket {
            return Outcome::Skipped(Skip::OtherBucket(self.object.bucket.clone()));
        }
        if !self.object.key.starts_with(&self.settings().input_prefix) {
            return Outcome::Skipped(Skip::OutsidePrefix);
        }
        let now = self.now();
        if let Some(deadline) = self.invocation.deadline
            && (deadline - now).num_milliseconds() < MIN_MS_TO_START
        {
            return Outcome::Retry("too close to the invocation deadline to start".into());
        }
        let claim = self.new_claim(now);
        let claimed = timed(
            "ClaimImage",
            self.deps.results.claim(&claim, now.timestamp()),
        )
        .await;
        match claimed {
            Err(e) => Outcome::Retry(format!("DynamoDB: {e}")),
            Ok(ClaimOutcome::Held) => self.held(&claim).await,
            Ok(ClaimOutcome::Claimed) => match self.analyse(&claim).await {
                Ok(outcome) => outcome,
                Err(Retry(reason)) => {
                    self.release(&claim).await;
                    Outcome::Retry(reason)
                }
            },
        }
    }

    fn new_claim(&self, now: DateTime<Utc>) -> Claim {
        Claim {
            image_id: self.image_id.clone(),
            status: CLAIMED,
            claim_token: self.token.clone(),
            claim_expires_at: self.invocation.claim_expires_at(now),
            bucket: self.object.bucket.clone(),
            object_key: self.object.key.clone(),
            version_id: self.object.version_id.clone(),
            expires_at: record::expires_at(now, self.settings().ttl_hours),
        }
    }

    async fn release(&self, claim: &Claim) {
        if let Err(e) = timed("ReleaseClaim", self.deps.results.release(claim)).await {
            tracing::warn!(error = %e, lease_end = claim.claim_expires_at, "claim not released; the retry takes it when the lease ends");
        }
    }

    /// The claim failed: a duplicate, a live claim elsewhere, or a final record whose alert is
    /// still pending.
    async fn held(&mut self, claim: &Claim) -> Outcome {
        let state = match timed("GetImageState", self.deps.results.get_state(&self.image_id)).await
        {
            Ok(Some(state)) => state,
            Ok(None) => return Outcome::Retry("the claimed item disappeared; retrying".into()),
            Err(e) => return Outcome::Retry(format!("DynamoDB: {e}")),
        };
        let status = match state.status {
            ItemStatus::Claimed => return Outcome::Skipped(Skip::ClaimedElsewhere),
            ItemStatus::Done(status) => status,
        };
        let Some(mut record) = state.record.filter(|r| {
            r.alert
                .as_ref()
                .is_some_and(|a| a.state == AlertState::Pending)
        }) else {
            return Outcome::Skipped(Skip::AlreadyDone(status));
        };
        let now = self.now().timestamp();
        let (Some(seen), Some(lease_end)) = (state.claim_token, state.claim_expires_at) else {
            return Outcome::Skipped(Skip::AlreadyDone(status));
        };
        if lease_end >= now {
            return Outcome::Skipped(Skip::ClaimedElsewhere);
        }
        match timed(
            "TakeOverAlert",
            self.deps.results.take_over(claim, &seen, now),
        )
        .await
        {
            Ok(true) => {}
            Ok(false) => return Outcome::Skipped(Skip::ClaimedElsewhere),
            Err(e) => return Outcome::Retry(format!("DynamoDB: {e}")),
        }
        tracing::info!("resuming the pending alert of an earlier run");
        match self.publish_alert(&mut record, claim).await {
            Ok(()) => Outcome::AlertResumed,
            Err(Retry(reason)) => {
                self.release(claim).await;
                Outcome::Retry(reason)
            }
        }
    }

    /// Everything after a successful claim.
    async fn analyse(&mut self, claim: &Claim) -> Result<Outcome, Retry> {
        let location = S3Object {
            bucket: self.object.bucket.clone(),
            key: self.object.key.clone(),
            version_id: self.object.version_id.clone(),
        };
        let fetched = timed(
            "GetObject",
            self.deps.objects.get_object(&location, MAX_BYTES),
        )
        .await;
        let stored = match fetched {
            Ok(stored) => stored,
            Err(StoreError::NotFound { code, message }) => {
                let mut record =
                    self.bare_record(Status::Failed, Some(join_reason(&code, &message)));
                return self.finish(&mut record, claim).await;
            }
            Err(e) => return Err(Retry(format!("S3: {e}"))),
        };
        let version_id = location.version_id.clone().or(stored.version_id.clone());
        let mut record = self.bare_record(Status::Processed, None);
        record.version_id.clone_from(&version_id);
        record.size_bytes = Some(stored.content_length);
        let Some(body) = stored.body else {
            let rejection = Rejection::too_large(stored.content_length);
            return self.reject(record, rejection.reason, claim).await;
        };
        // Header decode and SHA-256 are CPU work: off the async workers, so the other images of
        // the batch (and the runtime's polling) keep going while a large file is hashed.
        let (body, inspected) = tokio::task::spawn_blocking(move || {
            let inspected = inspect::inspect(&body);
            (body, inspected)
        })
        .await
        .map_err(|e| Retry(format!("inspection task: {e}")))?;
        let inspection = match inspected {
            Ok(inspection) => inspection,
            Err(rejection) => {
                record.sha256 = Some(inspect::sha256_hex(&body));
                record.size_bytes = Some(body.len() as u64);
                return self.reject(record, rejection.reason, claim).await;
            }
        };
        drop(body);
        record.set_inspection(&inspection);
        tracing::info!(
            sha256 = %inspection.sha256,
            size_bytes = inspection.size_bytes,
            width = inspection.width,
            height = inspection.height,
            "image accepted"
        );

        // Pin the analyses to the version that was read and hashed.
        let image = S3Object {
            version_id,
            ..location
        };
        let analysis =
            match analysis::run(self.deps.rekognition.as_ref(), self.settings(), &image).await {
                Ok(analysis) => analysis,
                Err(AnalyzeError::Unusable { status, reason }) => {
                    record.status = status;
                    record.reason = Some(reason);
                    return self.finish(&mut record, claim).await;
                }
                Err(e) => {
                    self.counters.rekognition_throttles += e.throttles();
                    return Err(Retry(e.to_string()));
                }
            };
        self.complete(record, analysis, claim).await
    }

    /// The record of an analysed image: policies, decision log, result, alert.
    async fn complete(
        &mut self,
        mut record: ImageRecord,
        analysis: Analysis,
        claim: &Claim,
    ) -> Result<Outcome, Retry> {
        let deps = self.deps;
        let s = &deps.settings;
        let processed_at = self.now();
        let comparison = analysis::apply(&mut record, analysis, s, processed_at);
        if let (Some(comparison), Some(reference), Some(decision)) =
            (comparison, &s.face_reference, record.decision)
        {
            let event = DecisionEvent {
                image_id: record.image_id.clone(),
                event_key: format!("decision#{}", record::iso8601_string(processed_at)),
                event_type: "FACE_DECISION".into(),
                decision: decision.as_str().into(),
                similarity: comparison.best_similarity,
                similarity_threshold: reference.similarity_threshold,
                faces_in_image: u32::try_from(comparison.faces_in_target).unwrap_or(u32::MAX),
                reference_bucket: reference.bucket.clone(),
                reference_key: reference.key.clone(),
                bucket: record.bucket.clone(),
                object_key: record.object_key.clone(),
                version_id: record.version_id.clone(),
                sha256: record.sha256.clone().unwrap_or_default(),
                stage: record.stage.clone(),
                recorded_at: record::iso8601_string(processed_at),
            };
            match timed("PutDecisionEvent", self.deps.decision_log.put_event(&event)).await? {
                DecisionLogOutcome::Written => {
                    tracing::info!(decision = decision.as_str(), "face decision logged");
                }
                DecisionLogOutcome::AlreadyRecorded => {
                    tracing::info!(event_key = %event.event_key, "face decision already logged");
                }
            }
        }
        let outcome = self.finish(&mut record, claim).await?;
        if !matches!(outcome, Outcome::Recorded { .. }) || record.alert.is_none() {
            return Ok(outcome);
        }
        self.publish_alert(&mut record, claim).await?;
        Ok(Outcome::Recorded {
            status: Status::Processed,
            alert_published: true,
        })
    }

    /// Publishes the record's pending alert and marks it SENT. `Err` (retry) only when the
    /// publish failed; a failure to mark it SENT is logged, not retried (see the module docs).
    async fn publish_alert(
        &mut self,
        record: &mut ImageRecord,
        claim: &Claim,
    ) -> Result<(), Retry> {
        let Some(alert) = record.alert.as_mut() else {
            return Ok(());
        };
        let message = AlertMessage::new(
            &record.image_id,
            &record.stage,
            &record.bucket,
            &record.object_key,
            record.version_id.as_deref(),
            &alert.labels,
            alert.detected_at,
            &self.deps.settings.results_table,
        );
        let body = message
            .to_json()
            .map_err(|e| Retry(format!("alert message: {e}")))?;
        let message_id = timed(
            "PublishAlert",
            self.deps.alerts.publish(&message.subject(), &body),
        )
        .await
        .map_err(|e| Retry(format!("SNS: {e}")))?;
        self.counters.alerts_raised += 1;
        tracing::info!(sns_message_id = %message_id, labels = ?alert.labels, "alert published");
        alert.state = AlertState::Sent;
        alert.message_id = Some(message_id);
        alert.sent_at = Some(self.now());
        match timed("MarkAlertSent", self.deps.results.put_result(record, claim)).await {
            Ok(PutOutcome::Written) => {}
            Ok(PutOutcome::LostClaim) => {
                tracing::error!(
                    "alert published but the record was taken over before it was marked SENT"
                );
            }
            Err(e) => {
                tracing::error!(error = %e, "alert published but not marked SENT; a later redelivery may publish it again");
            }
        }
        Ok(())
    }

    fn bare_record(&self, status: Status, reason: Option<String>) -> ImageRecord {
        let mut record = ImageRecord::new(
            &self.image_id,
            &self.object.bucket,
            &self.object.key,
            &self.settings().stage,
            status,
            self.now(),
            self.settings().ttl_hours,
        );
        record.version_id.clone_from(&self.object.version_id);
        record.reason = reason;
        record
    }

    async fn reject(
        &mut self,
        mut record: ImageRecord,
        reason: String,
        claim: &Claim,
    ) -> Result<Outcome, Retry> {
        tracing::info!(reason = %reason, "image rejected before Rekognition");
        record.status = Status::Rejected;
        record.reason = Some(reason);
        self.finish(&mut record, claim).await
    }

    /// Deletes the version of a REJECTED upload once its record is final: content the
    /// pipeline refused does not linger in the bucket (the record keeps the reason, size and
    /// SHA-256). A failure is logged, not retried: the input bucket's expiration rule removes
    /// the object later anyway. Without a version ID nothing is deleted (the key alone could
    /// name a newer upload).
    async fn delete_rejected(&self, record: &ImageRecord) {
        let Some(version_id) = record.version_id.as_deref() else {
            tracing::warn!("rejected object has no version ID; left to the lifecycle rule");
            return;
        };
        let deleted = timed(
            "DeleteRejectedObject",
            self.deps
                .objects
                .delete_object_version(&record.bucket, &record.object_key, version_id),
        )
        .await;
        if let Err(e) = deleted {
            tracing::warn!(error = %e, "rejected object not deleted; the lifecycle rule expires it");
        }
    }

    /// Puts a final record (the timestamps of a REJECTED or FAILED one refreshed) and counts it.
    async fn finish(&mut self, record: &mut ImageRecord, claim: &Claim) -> Result<Outcome, Retry> {
        if record.status != Status::Processed {
            let now = self.now();
            record.processed_at = now;
            record.expires_at = record::expires_at(now, self.settings().ttl_hours);
        }
        match timed("PutResult", self.deps.results.put_result(record, claim)).await? {
            PutOutcome::Written => {}
            PutOutcome::LostClaim => return Ok(Outcome::Skipped(Skip::LostClaim)),
        }
        match record.status {
            Status::Processed => self.counters.images_processed += 1,
            Status::Rejected => {
                self.counters.images_rejected += 1;
                self.delete_rejected(record).await;
            }
            Status::Failed => self.counters.images_failed += 1,
        }
        Ok(Outcome::Recorded {
            status: record.status,
            alert_published: false,
        })
    }
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Awaits a call, logging its name, duration in milliseconds and outcome.
pub(crate) async fn timed<T, E: std::fmt::Display>(
    operation: &'static str,
    call: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let started = Instant::now();
    let result = call.await;
    let duration_ms = elapsed_ms(started);
    match &result {
        Ok(_) => tracing::info!(operation, duration_ms, outcome = "ok", "call"),
        Err(e) => tracing::warn!(operation, duration_ms, outcome = "error", error = %e, "call"),
    }
    result
}

/// An invocation that cannot be answered with `batchItemFailures`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BatchError {
    /// A message to retry has no message ID; the whole batch is failed instead, so that SQS
    /// redelivers every message (those already done are skipped by their claims).
    #[error("a failed message has no message ID; failing the whole batch")]
    UnreportableFailure,
}

/// The Lambda handler: runs [`process_batch`] with the settings' image concurrency, writes one
/// EMF line to stdout and logs a summary with the request ID. Only with the `lambda` feature.
///
/// # Errors
/// [`BatchError::UnreportableFailure`] (Lambda then retries the whole batch).
#[cfg(feature = "lambda")]
pub async fn handle(
    deps: &Deps,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, BatchError> {
    let invocation = Invocation {
        request_id: event.context.request_id.clone(),
        deadline: deadline_from_millis(event.context.deadline),
    };
    let messages = event.payload.records;
    let outcome = process_batch(
        &messages,
        deps,
        &invocation,
        deps.settings.image_concurrency,
    )
    .await;
    let line = crate::metrics::emf_line(
        &deps.settings.stage,
        deps.clock.now().timestamp_millis(),
        &outcome.counters,
    );
    if let Err(e) = writeln!(std::io::stdout().lock(), "{line}") {
        tracing::warn!(error = %e, "EMF line not written");
    }
    tracing::info!(
        request_id = %invocation.request_id,
        messages = messages.len(),
        images = outcome.reports.len(),
        failed_messages = outcome.response.batch_item_failures.len(),
        "batch done"
    );
    if outcome.unreportable_failure {
        return Err(BatchError::UnreportableFailure);
    }
    Ok(outcome.response)
}

/// Lambda's deadline as a time (`Context::deadline`, milliseconds since the epoch; 0 = unknown).
pub fn deadline_from_millis(deadline_ms: u64) -> Option<DateTime<Utc>> {
    if deadline_ms == 0 {
        return None;
    }
    let ms = i64::try_from(deadline_ms).ok()?;
    DateTime::<Utc>::UNIX_EPOCH.checked_add_signed(Duration::milliseconds(ms))
}

#[cfg(test)]
mod tests;
