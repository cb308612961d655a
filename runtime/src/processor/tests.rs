//! The processor against in-memory fakes of S3, Rekognition, DynamoDB and SNS.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use chrono::TimeZone;
use serde_json::{Value, json};

use super::*;
use crate::inspect::samples;
use crate::record::{AlertRecord, BoundingBox, Decision, Face, Label, LabelScore, ModerationLabel};
use crate::services::{
    Detected, FaceComparison, ItemState, PublishError, RekognitionError, StoredObject, TextLine,
};
use crate::settings::{FaceReference, Feature};

const BUCKET: &str = "argus-beta-input";
const REFERENCE_KEY: &str = "reference/authorized-face.jpg";

// ---------------------------------------------------------------- fakes

#[derive(Default)]
struct FakeStore {
    objects: Mutex<HashMap<String, Result<Vec<u8>, StoreError>>>,
    calls: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// `bucket/key?versionId=v` of every DeleteObject, in order.
    deleted: Mutex<Vec<String>>,
}

impl FakeStore {
    fn put(&self, key: &str, bytes: Vec<u8>) {
        self.objects
            .lock()
            .unwrap()
            .insert(key.to_owned(), Ok(bytes));
    }

    fn deleted(&self) -> Vec<String> {
        self.deleted.lock().unwrap().clone()
    }

    fn fail(&self, key: &str, error: StoreError) {
        self.objects
            .lock()
            .unwrap()
            .insert(key.to_owned(), Err(error));
    }
}

#[async_trait]
impl ObjectStore for FakeStore {
    async fn get_object(
        &self,
        object: &S3Object,
        max_bytes: u64,
    ) -> Result<StoredObject, StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        assert_eq!(object.bucket, BUCKET);
        let entry = self.objects.lock().unwrap().get(&object.key).cloned();
        match entry {
            None => Err(StoreError::NotFound {
                code: "NoSuchKey".into(),
                message: "The specified key does not exist.".into(),
            }),
            Some(Err(e)) => Err(e),
            Some(Ok(bytes)) => {
                let content_length = bytes.len() as u64;
                Ok(StoredObject {
                    content_length,
                    version_id: Some(object.version_id.clone().unwrap_or_else(|| "v1".into())),
                    e_tag: Some("\"etag\"".into()),
                    body: (content_length <= max_bytes).then_some(bytes),
                })
            }
        }
    }

    async fn delete_object_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> Result<(), StoreError> {
        self.objects.lock().unwrap().remove(key);
        self.deleted
            .lock()
            .unwrap()
            .push(format!("{bucket}/{key}?versionId={version_id}"));
        Ok(())
    }
}

struct FakeRekognition {
    labels: Mutex<Vec<Label>>,
    text: Mutex<Vec<TextLine>>,
    faces: Mutex<Vec<Face>>,
    moderation: Mutex<Vec<ModerationLabel>>,
    comparison: Mutex<FaceComparison>,
    fail: Mutex<Option<RekognitionError>>,
    fail_compare: Mutex<Option<RekognitionError>>,
    calls: Mutex<Vec<(&'static str, S3Object)>>,
}

impl Default for FakeRekognition {
    fn default() -> Self {
        FakeRekognition {
            labels: Mutex::new(vec![label("Cat", 98.0, &["Animal"])]),
            text: Mutex::new(vec![
                TextLine {
                    text: "HELLO".into(),
                    confidence: 99.0,
                    bounding_box: None,
                },
                TextLine {
                    text: "WORLD".into(),
                    confidence: 97.0,
                    bounding_box: None,
                },
            ]),
            faces: Mutex::new(vec![face()]),
            moderation: Mutex::new(Vec::new()),
            comparison: Mutex::new(FaceComparison {
                faces_in_target: 1,
                best_similarity: Some(95.0),
            }),
            fail: Mutex::new(None),
            fail_compare: Mutex::new(None),
            calls: Mutex::new(Vec::new()),
        }
    }
}

impl FakeRekognition {
    fn call(&self, op: &'static str, image: &S3Object) -> Result<(), RekognitionError> {
        self.calls.lock().unwrap().push((op, image.clone()));
        match self.fail.lock().unwrap().clone() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn count(&self) -> usize {
        self.calls.lock().unwrap().len()
    }

    fn ops(&self) -> Vec<&'static str> {
        let mut ops: Vec<_> = self.calls.lock().unwrap().iter().map(|c| c.0).collect();
        ops.sort_unstable();
        ops
    }
}

#[async_trait]
impl Rekognition for FakeRekognition {
    async fn detect_labels(
        &self,
        image: &S3Object,
        max_labels: u32,
        min_confidence: f32,
    ) -> Result<Detected<Vec<Label>>, RekognitionError> {
        assert_eq!((max_labels, min_confidence), (20, 70.0));
        self.call("DetectLabels", image)?;
        Ok(self.labels.lock().unwrap().clone().into())
    }

    async fn detect_text(
        &self,
        image: &S3Object,
    ) -> Result<Detected<Vec<TextLine>>, RekognitionError> {
        self.call("DetectText", image)?;
        Ok(self.text.lock().unwrap().clone().into())
    }

    async fn detect_faces(&self, image: &S3Object) -> Result<Vec<Face>, RekognitionError> {
        self.call("DetectFaces", image)?;
        Ok(self.faces.lock().unwrap().clone())
    }

    async fn detect_moderation_labels(
        &self,
        image: &S3Object,
        min_confidence: f32,
    ) -> Result<Detected<Vec<ModerationLabel>>, RekognitionError> {
        assert_eq!(min_confidence, 70.0);
        self.call("DetectModerationLabels", image)?;
        Ok(self.moderation.lock().unwrap().clone().into())
    }

    async fn compare_faces(
        &self,
        source: &S3Object,
        target: &S3Object,
    ) -> Result<FaceComparison, RekognitionError> {
        assert_eq!(source.key, REFERENCE_KEY);
        self.call("CompareFaces", target)?;
        if let Some(e) = self.fail_compare.lock().unwrap().clone() {
            return Err(e);
        }
        Ok(*self.comparison.lock().unwrap())
    }
}

#[derive(Clone, Debug)]
struct Stored {
    status: ItemStatus,
    token: String,
    lease: i64,
    record: Option<ImageRecord>,
}

/// The results table with DynamoDB's condition semantics.
#[derive(Default)]
struct FakeResults {
    items: Mutex<HashMap<String, Stored>>,
    puts: Mutex<Vec<ImageRecord>>,
}

impl FakeResults {
    fn record(&self, image_id: &str) -> Option<ImageRecord> {
        self.items.lock().unwrap().get(image_id)?.record.clone()
    }

    fn only_record(&self) -> ImageRecord {
        let items = self.items.lock().unwrap();
        assert_eq!(items.len(), 1, "{items:?}");
        items.values().next().unwrap().record.clone().unwrap()
    }

    fn insert_claim(&self, image_id: &str, token: &str, lease: i64) {
        self.items.lock().unwrap().insert(
            image_id.to_owned(),
            Stored {
                status: ItemStatus::Claimed,
                token: token.to_owned(),
                lease,
                record: None,
            },
        );
    }
}

#[async_trait]
impl ResultsTable for FakeResults {
    async fn claim(&self, claim: &Claim, now: i64) -> Result<ClaimOutcome, TableError> {
        assert_eq!(claim.status, CLAIMED);
        let mut items = self.items.lock().unwrap();
        if let Some(existing) = items.get(&claim.image_id)
            && !(existing.status == ItemStatus::Claimed && existing.lease < now)
        {
            return Ok(ClaimOutcome::Held);
        }
        items.insert(
            claim.image_id.clone(),
            Stored {
                status: ItemStatus::Claimed,
                token: claim.claim_token.clone(),
                lease: claim.claim_expires_at,
                record: None,
            },
        );
        Ok(ClaimOutcome::Claimed)
    }

    async fn get_state(&self, image_id: &str) -> Result<Option<ItemState>, TableError> {
        Ok(self.items.lock().unwrap().get(image_id).map(|s| ItemState {
            status: s.status,
            claim_token: Some(s.token.clone()),
            claim_expires_at: Some(s.lease),
            record: s.record.clone(),
        }))
    }

    async fn take_over(
        &self,
        claim: &Claim,
        seen_token: &str,
        now: i64,
    ) -> Result<bool, TableError> {
        let mut items = self.items.lock().unwrap();
        match items.get_mut(&claim.image_id) {
            Some(s) if s.token == seen_token && s.lease < now => {
                s.token.clone_from(&claim.claim_token);
                s.lease = claim.claim_expires_at;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn put_result(
        &self,
        record: &ImageRecord,
        claim: &Claim,
    ) -> Result<PutOutcome, TableError> {
        let mut items = self.items.lock().unwrap();
        match items.get_mut(&record.image_id) {
            Some(s) if s.token == claim.claim_token => {
                *s = Stored {
                    status: ItemStatus::Done(record.status),
                    token: claim.claim_token.clone(),
                    lease: claim.claim_expires_at,
                    record: Some(record.clone()),
                };
                self.puts.lock().unwrap().push(record.clone());
                Ok(PutOutcome::Written)
            }
            _ => Ok(PutOutcome::LostClaim),
        }
    }

    async fn release(&self, claim: &Claim) -> Result<(), TableError> {
        if let Some(s) = self.items.lock().unwrap().get_mut(&claim.image_id)
            && s.token == claim.claim_token
        {
            s.lease = 0;
        }
        Ok(())
    }
}

#[derive(Default)]
struct FakeDecisionLog {
    events: Mutex<Vec<DecisionEvent>>,
}

#[async_trait]
impl DecisionLog for FakeDecisionLog {
    async fn put_event(&self, event: &DecisionEvent) -> Result<DecisionLogOutcome, TableError> {
        let mut events = self.events.lock().unwrap();
        if events
            .iter()
            .any(|e| e.image_id == event.image_id && e.event_key == event.event_key)
        {
            return Ok(DecisionLogOutcome::AlreadyRecorded);
        }
        events.push(event.clone());
        Ok(DecisionLogOutcome::Written)
    }
}

#[derive(Default)]
struct FakeTopic {
    published: Mutex<Vec<(String, String)>>,
    fail: Mutex<Option<PublishError>>,
}

impl FakeTopic {
    fn messages(&self) -> Vec<Value> {
        self.published
            .lock()
            .unwrap()
            .iter()
            .map(|(_, body)| serde_json::from_str(body).unwrap())
            .collect()
    }
}

#[async_trait]
impl AlertTopic for FakeTopic {
    async fn publish(&self, subject: &str, message: &str) -> Result<String, PublishError> {
        if let Some(e) = self.fail.lock().unwrap().clone() {
            return Err(e);
        }
        let mut published = self.published.lock().unwrap();
        published.push((subject.to_owned(), message.to_owned()));
        Ok(format!("sns-{}", published.len()))
    }
}

struct FakeClock(Mutex<DateTime<Utc>>);

impl FakeClock {
    fn advance(&self, secs: i64) {
        let mut now = self.0.lock().unwrap();
        *now += Duration::seconds(secs);
    }
}

impl Clock for FakeClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

// ---------------------------------------------------------------- harness

fn label(name: &str, confidence: f32, parents: &[&str]) -> Label {
    Label {
        name: name.into(),
        confidence,
        parents: parents.iter().map(|p| (*p).to_owned()).collect(),
        instances: vec![],
    }
}

fn face() -> Face {
    Face {
        confidence: 99.5,
        bounding_box: BoundingBox {
            width: 0.25,
            height: 0.5,
            left: 0.25,
            top: 0.125,
        },
        landmarks: vec![],
    }
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 6, 0, 0).unwrap()
}

fn settings() -> Settings {
    Settings {
        stage: "beta".into(),
        results_table: "argus-beta-Results".into(),
        decision_log_table: "argus-beta-Audit".into(),
        alert_topic_arn: "arn:aws:sns:eu-west-1:111111111111:alerts".into(),
        input_bucket: BUCKET.into(),
        input_prefix: "incoming/".into(),
        features: Feature::ALL.to_vec(),
        min_confidence: 70.0,
        max_labels: 20,
        ttl_hours: 168,
        alert_labels: [
            "Weapon",
            "Gun",
            "Handgun",
            "Rifle",
            "Knife",
            "Weapon Violence",
        ]
        .map(String::from)
        .to_vec(),
        alert_threshold: 80.0,
        image_concurrency: 4,
        face_reference: Some(FaceReference {
            bucket: BUCKET.into(),
            key: REFERENCE_KEY.into(),
            similarity_threshold: 90.0,
        }),
    }
}

struct Harness {
    deps: Deps,
    store: Arc<FakeStore>,
    rekognition: Arc<FakeRekognition>,
    results: Arc<FakeResults>,
    decision_log: Arc<FakeDecisionLog>,
    topic: Arc<FakeTopic>,
    clock: Arc<FakeClock>,
}

impl Harness {
    fn new() -> Self {
        Self::with_settings(settings())
    }

    fn with_settings(settings: Settings) -> Self {
        let store = Arc::new(FakeStore::default());
        let rekognition = Arc::new(FakeRekognition::default());
        let results = Arc::new(FakeResults::default());
        let decision_log = Arc::new(FakeDecisionLog::default());
        let topic = Arc::new(FakeTopic::default());
        let clock = Arc::new(FakeClock(Mutex::new(start())));
        let deps = Deps {
            settings,
            objects: store.clone(),
            rekognition: rekognition.clone(),
            results: results.clone(),
            decision_log: decision_log.clone(),
            alerts: topic.clone(),
            clock: clock.clone(),
        };
        Harness {
            deps,
            store,
            rekognition,
            results,
            decision_log,
            topic,
            clock,
        }
    }

    async fn run(&self, messages: &[SqsMessage]) -> BatchOutcome {
        self.run_with(messages, None).await
    }

    async fn run_with(
        &self,
        messages: &[SqsMessage],
        deadline: Option<DateTime<Utc>>,
    ) -> BatchOutcome {
        let invocation = Invocation {
            request_id: "req-1".into(),
            deadline,
        };
        let concurrency = self.deps.settings.image_concurrency;
        process_batch(messages, &self.deps, &invocation, concurrency).await
    }
}

/// An S3 notification body with one record per `(key as S3 encodes it, version)`.
fn notification(records: &[(&str, Option<&str>)]) -> String {
    let records: Vec<Value> = records
        .iter()
        .map(|(key, version)| {
            let mut object = json!({"key": key, "size": 1, "eTag": "etag", "sequencer": "01"});
            if let Some(v) = version {
                object["versionId"] = json!(v);
            }
            json!({
                "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "eu-west-1",
                "eventTime": "2026-11-21T06:00:00.000Z", "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": "p"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {},
                "s3": {
                    "s3SchemaVersion": "1.0", "configurationId": "c",
                    "bucket": {"name": BUCKET, "ownerIdentity": {"principalId": "p"},
                               "arn": format!("arn:aws:s3:::{BUCKET}")},
                    "object": object,
                }
            })
        })
        .collect();
    json!({ "Records": records }).to_string()
}

fn message(id: &str, body: &str) -> SqsMessage {
    let mut m = SqsMessage::default();
    m.message_id = Some(id.to_owned());
    m.body = Some(body.to_owned());
    m
}

fn upload(key: &str) -> SqsMessage {
    message(&format!("msg-{key}"), &notification(&[(key, Some("v1"))]))
}

fn failures(outcome: &BatchOutcome) -> Vec<String> {
    outcome
        .response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect()
}

fn id_of(key: &str) -> String {
    record::image_id(BUCKET, key, Some("v1"), None)
}

const ALL_CALLS: [&str; 5] = [
    "CompareFaces",
    "DetectFaces",
    "DetectLabels",
    "DetectModerationLabels",
    "DetectText",
];

// ---------------------------------------------------------------- tests

#[tokio::test]
async fn a_valid_image_is_processed_with_every_analysis() {
    let h = Harness::new();
    let png = samples::png(200, 100);
    h.store.put("incoming/cat photo.png", png.clone());
    let out = h.run(&[upload("incoming/cat+photo.png")]).await;
    assert!(failures(&out).is_empty());
    assert_eq!(h.rekognition.ops(), ALL_CALLS);
    // Every analysis is pinned to the version that was read and hashed.
    for (_, image) in h.rekognition.calls.lock().unwrap().iter() {
        assert_eq!(image.key, "incoming/cat photo.png");
        assert_eq!(image.version_id.as_deref(), Some("v1"));
    }
    let r = h.results.only_record();
    assert_eq!(r.image_id, id_of("incoming/cat photo.png"));
    assert_eq!(r.status, Status::Processed);
    assert_eq!(r.object_key, "incoming/cat photo.png");
    assert_eq!(r.version_id.as_deref(), Some("v1"));
    assert_eq!(r.sha256, Some(inspect::sha256_hex(&png)));
    assert_eq!(r.size_bytes, Some(png.len() as u64));
    assert_eq!(r.content_type.as_deref(), Some("image/png"));
    assert_eq!((r.width, r.height), (Some(200), Some(100)));
    assert_eq!(r.stage, "beta");
    assert_eq!(r.processed_at, start());
    assert_eq!(r.expires_at, start().timestamp() + 168 * 3600);
    assert_eq!(r.labels.as_ref().unwrap()[0].name, "Cat");
    assert_eq!(r.ocr_text.as_deref(), Some("HELLO\nWORLD"));
    assert_eq!(r.ocr_line_count, Some(2));
    assert_eq!(r.ocr_avg_confidence_pct, Some(98.0));
    assert_eq!(r.faces.as_ref().unwrap().count, 1);
    assert_eq!(r.moderation_labels, Some(vec![]));
    assert_eq!(r.decision, Some(Decision::Authorized));
    assert_eq!(r.alert, None);
    assert_eq!(r.reason, None);
    assert_eq!(
        out.counters,
        Counters {
            images_processed: 1,
            ..Counters::default()
        }
    );
}

#[tokio::test]
async fn duplicate_deliveries_do_the_work_once() {
    let h = Harness::new();
    *h.rekognition.labels.lock().unwrap() = vec![label("Knife", 93.0, &["Weapon"])];
    h.store.put("incoming/knife.png", samples::png(120, 120));
    let body = notification(&[("incoming/knife.png", Some("v1"))]);
    // Two copies of the S3 event in one batch, then the same again in a later batch.
    let first = h.run(&[message("m1", &body), message("m2", &body)]).await;
    h.clock.advance(30);
    let second = h.run(&[message("m3", &body)]).await;
    assert!(failures(&first).is_empty());
    assert!(failures(&second).is_empty());
    assert_eq!(
        h.rekognition.ops(),
        ALL_CALLS,
        "one set of Rekognition calls"
    );
    assert_eq!(h.store.calls.load(Ordering::SeqCst), 1);
    assert_eq!(h.topic.published.lock().unwrap().len(), 1, "one alert");
    assert_eq!(h.results.items.lock().unwrap().len(), 1, "one record");
    let skipped: Vec<_> = first
        .reports
        .iter()
        .chain(&second.reports)
        .filter(|r| matches!(r.outcome, Outcome::Skipped(_)))
        .collect();
    assert_eq!(skipped.len(), 2);
    assert_eq!(
        second.reports[0].outcome,
        Outcome::Skipped(Skip::AlreadyDone(Status::Processed))
    );
    assert_eq!(
        first.counters.alerts_raised + second.counters.alerts_raised,
        1
    );
    assert_eq!(second.counters, Counters::default());
}

#[tokio::test]
async fn bad_objects_are_rejected_without_calling_rekognition() {
    let h = Harness::new();
    let mut big = samples::png(100, 100);
    big.resize(MAX_BYTES as usize + 1, 0);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "incoming/anim.gif",
            samples::gif(),
            "unsupported format gif",
        ),
        (
            "incoming/cut.jpg",
            samples::truncated_jpeg(),
            "cannot read image dimensions: ",
        ),
        ("incoming/empty.png", Vec::new(), "empty object"),
        (
            "incoming/tiny.png",
            samples::png(20, 20),
            "image is 20x20 px; Rekognition needs at least 80 px on each side",
        ),
        ("incoming/big.png", big, "object is 15728641 bytes"),
    ];
    for (key, bytes, _) in &cases {
        h.store.put(key, bytes.clone());
    }
    let messages: Vec<_> = cases.iter().map(|(key, _, _)| upload(key)).collect();
    let out = h.run(&messages).await;
    assert!(failures(&out).is_empty());
    assert_eq!(h.rekognition.count(), 0, "no Rekognition call");
    for (key, bytes, reason) in &cases {
        let r = h.results.record(&id_of(key)).unwrap();
        assert_eq!(r.status, Status::Rejected, "{key}");
        let got = r.reason.unwrap();
        assert!(got.starts_with(reason), "{key}: {got}");
        assert_eq!(r.size_bytes, Some(bytes.len() as u64), "{key}");
        assert_eq!(r.labels, None);
        if bytes.len() as u64 <= MAX_BYTES {
            assert_eq!(r.sha256, Some(inspect::sha256_hex(bytes)), "{key}");
        } else {
            assert_eq!(r.sha256, None, "an oversized object is not downloaded");
        }
    }
    assert_eq!(out.counters.images_rejected, 5);
    assert_eq!(h.topic.published.lock().unwrap().len(), 0);
    // Rejected content does not linger: the exact version read is deleted, after its record.
    let mut deleted = h.store.deleted();
    deleted.sort();
    let mut expected: Vec<String> = cases
        .iter()
        .map(|(key, _, _)| format!("{BUCKET}/{key}?versionId=v1"))
        .collect();
    expected.sort();
    assert_eq!(deleted, expected);
}

#[tokio::test]
async fn throttling_sends_the_message_back_and_records_nothing() {
    let h = Harness::new();
    h.store.put("incoming/a.png", samples::png(100, 100));
    *h.rekognition.fail.lock().unwrap() = Some(RekognitionError::Throttled {
        code: "ThrottlingException".into(),
        message: "Rate exceeded".into(),
    });
    let m = upload("incoming/a.png");
    let out = h.run(std::slice::from_ref(&m)).await;
    assert_eq!(failures(&out), vec!["msg-incoming/a.png"]);
    assert_eq!(out.counters.rekognition_throttles, 4);
    assert_eq!(out.counters.images_processed, 0);
    assert!(h.results.puts.lock().unwrap().is_empty(), "no record");
    let items = h.results.items.lock().unwrap().clone();
    let item = &items[&id_of("incoming/a.png")];
    assert_eq!(item.status, ItemStatus::Claimed);
    assert_eq!(item.lease, 0, "the claim is released for the retry");
    assert!(h.topic.published.lock().unwrap().is_empty());

    // The retry (same message, a moment later) takes the released claim and succeeds.
    *h.rekognition.fail.lock().unwrap() = None;
    h.clock.advance(1);
    let retry = h.run(&[m]).await;
    assert!(failures(&retry).is_empty());
    assert_eq!(h.results.only_record().status, Status::Processed);
}

#[tokio::test]
async fn server_errors_and_unclassified_errors_are_retried() {
    for error in [
        RekognitionError::Retryable {
            code: "InternalServerError".into(),
            message: String::new(),
        },
        RekognitionError::Other {
            code: "AccessDeniedException".into(),
            message: "no".into(),
        },
    ] {
        let h = Harness::new();
        h.store.put("incoming/a.png", samples::png(100, 100));
        *h.rekognition.fail.lock().unwrap() = Some(error.clone());
        let out = h.run(&[upload("incoming/a.png")]).await;
        assert_eq!(failures(&out).len(), 1, "{error}");
        assert_eq!(out.counters.rekognition_throttles, 0);
        assert!(h.results.puts.lock().unwrap().is_empty());
    }
    let h = Harness::new();
    h.store.fail(
        "incoming/a.png",
        StoreError::Retryable {
            code: "SlowDown".into(),
            message: String::new(),
        },
    );
    let out = h.run(&[upload("incoming/a.png")]).await;
    assert_eq!(failures(&out).len(), 1);
    assert_eq!(h.rekognition.count(), 0);
}

#[tokio::test]
async fn an_expired_claim_is_taken_over_and_a_live_one_is_respected() {
    let h = Harness::new();
    h.store.put("incoming/a.png", samples::png(100, 100));
    let id = id_of("incoming/a.png");
    // A run that crashed at some point left its claim, valid for 60 more seconds.
    h.results
        .insert_claim(&id, "crashed-req/msg", start().timestamp() + 60);
    let m = upload("incoming/a.png");
    let out = h.run(std::slice::from_ref(&m)).await;
    assert!(
        failures(&out).is_empty(),
        "a live claim elsewhere: acknowledged"
    );
    assert_eq!(
        out.reports[0].outcome,
        Outcome::Skipped(Skip::ClaimedElsewhere)
    );
    assert_eq!(h.rekognition.count(), 0);
    assert_eq!(h.store.calls.load(Ordering::SeqCst), 0);

    h.clock.advance(61);
    let out = h.run(&[m]).await;
    assert!(failures(&out).is_empty());
    let r = h.results.only_record();
    assert_eq!(r.status, Status::Processed);
    assert_eq!(h.rekognition.ops(), ALL_CALLS);
    let items = h.results.items.lock().unwrap();
    assert_eq!(items[&id].token, "req-1/msg-incoming/a.png");
}

#[tokio::test]
async fn the_claim_lease_ends_after_the_invocation_deadline() {
    let h = Harness::new();
    h.store.put("incoming/a.png", samples::png(100, 100));
    let deadline = start() + Duration::seconds(60);
    let invocation = Invocation {
        request_id: "r".into(),
        deadline: Some(deadline),
    };
    assert_eq!(
        invocation.claim_expires_at(start()),
        deadline.timestamp() + 1 + CLAIM_MARGIN_SECS
    );
    assert_eq!(
        Invocation {
            request_id: "r".into(),
            deadline: None
        }
        .claim_expires_at(start()),
        start().timestamp() + DEFAULT_CLAIM_SECS
    );
    // Too close to the deadline, an image is not started and its message is retried.
    let out = h
        .run_with(
            &[upload("incoming/a.png")],
            Some(start() + Duration::seconds(2)),
        )
        .await;
    assert_eq!(failures(&out).len(), 1);
    assert!(h.results.items.lock().unwrap().is_empty(), "no claim");
    assert_eq!(
        deadline_from_millis(1_795_240_800_500),
        Some(start() + Duration::milliseconds(500))
    );
    assert_eq!(deadline_from_millis(0), None);
}

#[tokio::test]
async fn a_poison_message_does_not_stop_the_others() {
    let h = Harness::new();
    h.store.put("incoming/a.png", samples::png(100, 100));
    let test_event = r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-21T06:00:00.000Z","Bucket":"b","RequestId":"r","HostId":"h"}"#;
    let out = h
        .run(&[
            message("poison", "this is not JSON"),
            message(
                "bad-key",
                &notification(&[("incoming/%FF.png", Some("v1"))]),
            ),
            upload("incoming/a.png"),
            message("test", test_event),
        ])
        .await;
    assert_eq!(failures(&out), vec!["poison", "bad-key"]);
    assert_eq!(h.results.only_record().status, Status::Processed);
    assert_eq!(out.counters.images_processed, 1);
}

#[tokio::test]
async fn a_message_is_retried_when_one_of_its_records_fails() {
    let h = Harness::new();
    h.store.put("incoming/ok.png", samples::png(100, 100));
    h.store.fail(
        "incoming/flaky.png",
        StoreError::Retryable {
            code: "InternalError".into(),
            message: String::new(),
        },
    );
    let m = message(
        "two",
        &notification(&[
            ("incoming/ok.png", Some("v1")),
            ("incoming/flaky.png", Some("v1")),
        ]),
    );
    let out = h.run(std::slice::from_ref(&m)).await;
    assert_eq!(failures(&out), vec!["two"]);
    assert_eq!(
        h.results.record(&id_of("incoming/ok.png")).unwrap().status,
        Status::Processed
    );
    // The redelivery skips the image already done and processes the other.
    h.store.put("incoming/flaky.png", samples::png(100, 100));
    h.clock.advance(1);
    let out = h.run(&[m]).await;
    assert!(failures(&out).is_empty());
    assert_eq!(
        h.results
            .record(&id_of("incoming/flaky.png"))
            .unwrap()
            .status,
        Status::Processed
    );
    assert_eq!(h.rekognition.count(), 10, "two images, five calls each");
}

#[tokio::test]
async fn test_events_and_keys_outside_the_prefix_are_acknowledged() {
    let h = Harness::new();
    let out = h
        .run(&[
            message(
                "test",
                r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"b"}"#,
            ),
            upload("reference/authorized-face.jpg"),
        ])
        .await;
    assert!(failures(&out).is_empty());
    assert_eq!(
        out.reports[0].outcome,
        Outcome::Skipped(Skip::OutsidePrefix)
    );
    assert!(h.results.items.lock().unwrap().is_empty());
    assert_eq!(h.store.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn notifications_of_another_bucket_are_acknowledged_and_ignored() {
    let h = Harness::new();
    h.store.put("incoming/cat.png", samples::png(100, 100));
    let foreign = notification(&[("incoming/cat.png", Some("v1"))]).replace(BUCKET, "someone-else");
    let out = h.run(&[message("foreign", &foreign)]).await;
    assert!(failures(&out).is_empty());
    assert_eq!(
        out.reports[0].outcome,
        Outcome::Skipped(Skip::OtherBucket("someone-else".into()))
    );
    assert!(h.results.items.lock().unwrap().is_empty());
    assert_eq!(h.rekognition.count(), 0);
    assert_eq!(h.store.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn an_alert_is_raised_once_over_the_threshold_and_not_below() {
    let h = Harness::new();
    *h.rekognition.labels.lock().unwrap() = vec![
        label("Knife", 93.0, &["Weapon"]),
        label("Table", 99.0, &["Furniture"]),
    ];
    h.store.put("incoming/knife.png", samples::png(100, 100));
    let out = h.run(&[upload("incoming/knife.png")]).await;
    assert!(failures(&out).is_empty());
    assert_eq!(out.counters.alerts_raised, 1);
    let published = h.topic.published.lock().unwrap().clone();
    assert_eq!(published.len(), 1);
    assert_eq!(
        published[0].0,
        "Argus beta: weapon detected (Knife 93%) in incoming/knife.png"
    );
    let message: Value = serde_json::from_str(&published[0].1).unwrap();
    let id = id_of("incoming/knife.png");
    assert_eq!(message["imageId"], json!(id));
    assert_eq!(message["stage"], "beta");
    assert_eq!(message["bucket"], BUCKET);
    assert_eq!(message["objectKey"], "incoming/knife.png");
    assert_eq!(
        message["labels"],
        json!([{"name": "Knife", "confidence": 93.0}])
    );
    assert_eq!(message["detectedAt"], "2026-11-21T06:00:00Z");
    assert_eq!(message["record"]["table"], "argus-beta-Results");
    assert_eq!(message["record"]["key"], json!({"imageId": id}));
    let alert = h.results.only_record().alert.unwrap();
    assert_eq!(alert.state, AlertState::Sent);
    assert_eq!(alert.message_id.as_deref(), Some("sns-1"));
    assert_eq!(
        alert.labels,
        vec![LabelScore {
            name: "Knife".into(),
            confidence: 93.0
        }]
    );
    // The record was first put with the alert pending, then marked sent.
    let puts = h.results.puts.lock().unwrap().clone();
    assert_eq!(puts.len(), 2);
    assert_eq!(puts[0].alert.as_ref().unwrap().state, AlertState::Pending);

    let below = Harness::new();
    *below.rekognition.labels.lock().unwrap() = vec![label("Knife", 79.0, &["Weapon"])];
    below
        .store
        .put("incoming/knife.png", samples::png(100, 100));
    let out = below.run(&[upload("incoming/knife.png")]).await;
    assert!(failures(&out).is_empty());
    assert!(below.topic.published.lock().unwrap().is_empty());
    assert_eq!(below.results.only_record().alert, None);
    assert_eq!(out.counters.alerts_raised, 0);
}

#[tokio::test]
async fn moderation_labels_raise_alerts_too() {
    let h = Harness::new();
    *h.rekognition.labels.lock().unwrap() = vec![];
    *h.rekognition.moderation.lock().unwrap() = vec![ModerationLabel {
        name: "Weapons".into(),
        confidence: 88.0,
        parent_name: Some("Weapon Violence".into()),
    }];
    h.store.put("incoming/w.png", samples::png(100, 100));
    h.run(&[upload("incoming/w.png")]).await;
    assert_eq!(h.topic.messages().len(), 1);
    assert_eq!(h.topic.messages()[0]["labels"][0]["name"], "Weapons");
}

#[tokio::test]
async fn a_failed_publish_is_retried_without_analysing_again() {
    let h = Harness::new();
    *h.rekognition.labels.lock().unwrap() = vec![label("Knife", 93.0, &["Weapon"])];
    h.store.put("incoming/knife.png", samples::png(100, 100));
    *h.topic.fail.lock().unwrap() = Some(PublishError::Retryable {
        code: "Throttled".into(),
        message: String::new(),
    });
    let m = upload("incoming/knife.png");
    let out = h.run(std::slice::from_ref(&m)).await;
    assert_eq!(failures(&out), vec!["msg-incoming/knife.png"]);
    let r = h.results.only_record();
    assert_eq!(r.status, Status::Processed);
    assert_eq!(r.alert.unwrap().state, AlertState::Pending);
    assert_eq!(h.rekognition.count(), 5);

    // The redelivery publishes exactly once, without new Rekognition calls.
    *h.topic.fail.lock().unwrap() = None;
    h.clock.advance(1);
    let out = h.run(std::slice::from_ref(&m)).await;
    assert!(failures(&out).is_empty());
    assert_eq!(out.reports[0].outcome, Outcome::AlertResumed);
    assert_eq!(out.counters.alerts_raised, 1);
    assert_eq!(h.topic.published.lock().unwrap().len(), 1);
    assert_eq!(h.rekognition.count(), 5);
    let alert = h.results.only_record().alert.unwrap();
    assert_eq!(alert.state, AlertState::Sent);

    h.clock.advance(1);
    let again = h.run(&[m]).await;
    assert!(failures(&again).is_empty());
    assert_eq!(
        h.topic.published.lock().unwrap().len(),
        1,
        "never two alerts"
    );
}

#[tokio::test]
async fn a_pending_alert_of_a_live_run_is_left_to_it() {
    let h = Harness::new();
    let id = id_of("incoming/knife.png");
    let mut record = ImageRecord::new(
        &id,
        BUCKET,
        "incoming/knife.png",
        "beta",
        Status::Processed,
        start(),
        168,
    );
    record.alert = Some(AlertRecord {
        state: AlertState::Pending,
        labels: vec![],
        detected_at: start(),
        message_id: None,
        sent_at: None,
    });
    h.results.items.lock().unwrap().insert(
        id.clone(),
        Stored {
            status: ItemStatus::Done(Status::Processed),
            token: "other".into(),
            lease: start().timestamp() + 30,
            record: Some(record),
        },
    );
    let out = h.run(&[upload("incoming/knife.png")]).await;
    assert!(failures(&out).is_empty());
    assert_eq!(
        out.reports[0].outcome,
        Outcome::Skipped(Skip::ClaimedElsewhere)
    );
    assert!(h.topic.published.lock().unwrap().is_empty());
    // Once the other run's lease is over (it crashed before publishing), the alert goes out.
    h.clock.advance(31);
    let out = h.run(&[upload("incoming/knife.png")]).await;
    assert_eq!(out.reports[0].outcome, Outcome::AlertResumed);
    assert_eq!(h.topic.published.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn face_decisions_are_written_to_the_decision_log() {
    let h = Harness::new();
    h.store.put("incoming/me.png", samples::png(100, 100));
    h.run(&[upload("incoming/me.png")]).await;
    let events = h.decision_log.events.lock().unwrap().clone();
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e.image_id, id_of("incoming/me.png"));
    assert_eq!(e.event_key, "decision#2026-11-21T06:00:00Z");
    assert_eq!(e.decision, "AUTHORIZED");
    assert_eq!(e.similarity, Some(95.0));
    assert_eq!(e.similarity_threshold, 90.0);
    assert_eq!(e.reference_key, REFERENCE_KEY);
    assert_eq!(e.faces_in_image, 1);

    let stranger = Harness::new();
    *stranger.rekognition.comparison.lock().unwrap() = FaceComparison {
        faces_in_target: 2,
        best_similarity: Some(40.0),
    };
    stranger
        .store
        .put("incoming/stranger.png", samples::png(100, 100));
    stranger.run(&[upload("incoming/stranger.png")]).await;
    assert_eq!(
        stranger.results.only_record().decision,
        Some(Decision::Unauthorized)
    );
    assert_eq!(
        stranger.decision_log.events.lock().unwrap()[0].decision,
        "UNAUTHORIZED"
    );
}

#[tokio::test]
async fn no_face_means_no_comparison_and_no_decision() {
    let h = Harness::new();
    *h.rekognition.faces.lock().unwrap() = vec![];
    h.store
        .put("incoming/landscape.png", samples::png(100, 100));
    h.run(&[upload("incoming/landscape.png")]).await;
    assert!(!h.rekognition.ops().contains(&"CompareFaces"));
    let r = h.results.only_record();
    assert_eq!(r.decision, None);
    assert_eq!(r.faces.unwrap().count, 0);
    assert!(h.decision_log.events.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_bad_reference_leaves_the_analysis_without_a_decision() {
    let h = Harness::new();
    *h.rekognition.labels.lock().unwrap() = vec![label("Knife", 93.0, &["Weapon"])];
    *h.rekognition.fail_compare.lock().unwrap() = Some(RekognitionError::InvalidImage {
        code: "InvalidParameterException".into(),
        message: "no face in the source image".into(),
    });
    h.store.put("incoming/a.png", samples::png(100, 100));
    let out = h.run(&[upload("incoming/a.png")]).await;
    assert!(failures(&out).is_empty());
    let r = h.results.only_record();
    assert_eq!(r.status, Status::Processed);
    assert_eq!(r.decision, None);
    assert!(
        r.reason
            .unwrap()
            .starts_with("CompareFaces: InvalidParameterException")
    );
    assert_eq!(
        h.topic.published.lock().unwrap().len(),
        1,
        "the alert still goes out"
    );
}

#[tokio::test]
async fn non_retryable_errors_end_as_records_with_the_error_code() {
    let h = Harness::new();
    let out = h.run(&[upload("incoming/gone.png")]).await;
    assert!(failures(&out).is_empty());
    let r = h.results.only_record();
    assert_eq!(r.status, Status::Failed);
    assert!(r.reason.unwrap().starts_with("NoSuchKey"));
    assert_eq!(out.counters.images_failed, 1);

    for (code, status) in [
        ("InvalidImageFormatException", Status::Rejected),
        ("ImageTooLargeException", Status::Rejected),
        ("InvalidParameterException", Status::Rejected),
        ("InvalidS3ObjectException", Status::Failed),
    ] {
        let h = Harness::new();
        h.store.put("incoming/odd.png", samples::png(100, 100));
        *h.rekognition.fail.lock().unwrap() = Some(RekognitionError::InvalidImage {
            code: code.into(),
            message: "Request has invalid image format".into(),
        });
        let out = h.run(&[upload("incoming/odd.png")]).await;
        assert!(failures(&out).is_empty(), "{code}");
        let r = h.results.only_record();
        assert_eq!(r.status, status, "{code}");
        assert_eq!(
            r.reason.unwrap(),
            format!("{code}: Request has invalid image format")
        );
        assert_eq!(r.labels, None);
        assert!(r.sha256.is_some());
        // Only what the pipeline refused is deleted; a FAILED image stays for a retry by hand.
        let deleted = if status == Status::Rejected {
            vec![format!("{BUCKET}/incoming/odd.png?versionId=v1")]
        } else {
            vec![]
        };
        assert_eq!(h.store.deleted(), deleted, "{code}");
    }
}

#[tokio::test]
async fn disabled_analyses_are_not_called() {
    let mut s = settings();
    s.features = vec![Feature::Labels];
    s.face_reference = None;
    let h = Harness::with_settings(s);
    h.store.put("incoming/a.png", samples::png(100, 100));
    h.run(&[upload("incoming/a.png")]).await;
    assert_eq!(h.rekognition.ops(), vec!["DetectLabels"]);
    let r = h.results.only_record();
    assert!(r.labels.is_some());
    assert_eq!(r.ocr_text, None);
    assert_eq!(r.faces, None);
    assert_eq!(r.moderation_labels, None);
    assert_eq!(r.decision, None);
}

#[tokio::test]
async fn images_are_processed_concurrently_within_the_bound() {
    let mut s = settings();
    s.image_concurrency = 3;
    let h = Harness::with_settings(s);
    let messages: Vec<_> = (0..9)
        .map(|i| {
            let key = format!("incoming/{i}.png");
            h.store.put(&key, samples::png(80, 80));
            upload(&key)
        })
        .collect();
    let out = h.run(&messages).await;
    assert!(failures(&out).is_empty());
    assert_eq!(out.counters.images_processed, 9);
    assert_eq!(h.store.max_in_flight.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn failed_messages_without_an_id_fail_the_invocation() {
    let h = Harness::new();
    let mut m = SqsMessage::default();
    m.body = Some("garbage".into());
    let out = h.run(&[m]).await;
    assert!(out.unreportable_failure);
    assert!(failures(&out).is_empty());
}
