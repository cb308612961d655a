//! Fault injection and the call log, for tests.
//!
//! Faults are set at start ([`crate::server::Config::faults`], or the binary's
//! `--throttle-next`, `--throttle-kind`, `--latency-ms`, `--fail-all` flags) and changed at run
//! time through `POST /_argus/faults` (see [`crate::server`]). They apply to the Rekognition
//! operations only, in this order: latency, then throttling (the next N calls), then
//! `fail_all`, then a draw per call for `throttle_percent` and `error_percent` (a seeded
//! pseudo-random sequence, the same for the same seed and call order). Throttling errors use the codes the SDKs retry
//! (<https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html>).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ErrorCode};

/// The five Rekognition operations argus-twin serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Operation {
    /// <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_DetectLabels.html>
    DetectLabels,
    /// <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_DetectText.html>
    DetectText,
    /// <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_DetectFaces.html>
    DetectFaces,
    /// <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_CompareFaces.html>
    CompareFaces,
    /// <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_DetectModerationLabels.html>
    DetectModerationLabels,
}

impl Operation {
    /// Every operation.
    pub const ALL: [Operation; 5] = [
        Operation::DetectLabels,
        Operation::DetectText,
        Operation::DetectFaces,
        Operation::CompareFaces,
        Operation::DetectModerationLabels,
    ];

    /// The operation name, e.g. `DetectLabels`.
    pub fn name(self) -> &'static str {
        match self {
            Operation::DetectLabels => "DetectLabels",
            Operation::DetectText => "DetectText",
            Operation::DetectFaces => "DetectFaces",
            Operation::CompareFaces => "CompareFaces",
            Operation::DetectModerationLabels => "DetectModerationLabels",
        }
    }

    /// The operation of an `X-Amz-Target` value such as `RekognitionService.DetectLabels`.
    pub fn from_target(target: &str) -> Option<Operation> {
        let name = target.strip_prefix("RekognitionService.")?;
        Operation::ALL.into_iter().find(|op| op.name() == name)
    }
}

/// Which throttling error to inject.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThrottleKind {
    /// `ThrottlingException`, HTTP 400.
    #[default]
    ThrottlingException,
    /// `ProvisionedThroughputExceededException`, HTTP 400.
    ProvisionedThroughputExceededException,
}

impl ThrottleKind {
    fn error(self) -> ApiError {
        match self {
            ThrottleKind::ThrottlingException => {
                ApiError::new(ErrorCode::ThrottlingException, "Rate exceeded")
            }
            ThrottleKind::ProvisionedThroughputExceededException => ApiError::new(
                ErrorCode::ProvisionedThroughputExceededException,
                "Provisioned rate exceeded",
            ),
        }
    }
}

/// The faults in force. JSON shape (`GET`/`POST /_argus/faults`):
/// `{"throttle_next": 0, "throttle_kind": "ThrottlingException", "latency_ms": 0,
///   "fail_all": false, "throttle_percent": 0, "error_percent": 0, "seed": 0,
///   "operations": null}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// Answer the next N calls with `throttle_kind` (counts down).
    #[serde(default)]
    pub throttle_next: u32,
    /// The throttling error.
    #[serde(default)]
    pub throttle_kind: ThrottleKind,
    /// Delay before answering each call, in milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
    /// Answer every call with `InternalServerError` (HTTP 500).
    #[serde(default)]
    pub fail_all: bool,
    /// Answer this percentage of calls (0..=100, drawn per call) with `throttle_kind`.
    #[serde(default)]
    pub throttle_percent: u8,
    /// Answer this percentage of calls (0..=100, drawn per call) with `InternalServerError`
    /// (HTTP 500); with `throttle_percent`, at most 100 in all.
    #[serde(default)]
    pub error_percent: u8,
    /// Seed of the per-call draws.
    #[serde(default)]
    pub seed: u64,
    /// Apply the faults to these operations only (`null`: all operations).
    #[serde(default)]
    pub operations: Option<Vec<Operation>>,
    /// Draws made so far: the position in the seeded sequence (not part of the JSON).
    #[serde(skip)]
    pub draws: u64,
}

/// A partial update of [`Faults`]: absent fields keep their value
/// (body of `POST /_argus/faults`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultsUpdate {
    /// See [`Faults::throttle_next`].
    #[serde(default)]
    pub throttle_next: Option<u32>,
    /// See [`Faults::throttle_kind`].
    #[serde(default)]
    pub throttle_kind: Option<ThrottleKind>,
    /// See [`Faults::latency_ms`].
    #[serde(default)]
    pub latency_ms: Option<u64>,
    /// See [`Faults::fail_all`].
    #[serde(default)]
    pub fail_all: Option<bool>,
    /// See [`Faults::throttle_percent`].
    #[serde(default)]
    pub throttle_percent: Option<u8>,
    /// See [`Faults::error_percent`].
    #[serde(default)]
    pub error_percent: Option<u8>,
    /// See [`Faults::seed`]; setting it restarts the sequence.
    #[serde(default)]
    pub seed: Option<u64>,
    /// See [`Faults::operations`]; an empty list means all operations.
    #[serde(default)]
    pub operations: Option<Vec<Operation>>,
}

impl Faults {
    /// Applies `update` (absent fields unchanged).
    pub fn apply(&mut self, update: FaultsUpdate) {
        if let Some(v) = update.throttle_next {
            self.throttle_next = v;
        }
        if let Some(v) = update.throttle_kind {
            self.throttle_kind = v;
        }
        if let Some(v) = update.latency_ms {
            self.latency_ms = v;
        }
        if let Some(v) = update.fail_all {
            self.fail_all = v;
        }
        if let Some(v) = update.throttle_percent {
            self.throttle_percent = v.min(100);
        }
        if let Some(v) = update.error_percent {
            self.error_percent = v.min(100 - self.throttle_percent);
        }
        if let Some(v) = update.seed {
            self.seed = v;
            self.draws = 0;
        }
        if let Some(v) = update.operations {
            self.operations = if v.is_empty() { None } else { Some(v) };
        }
    }

    /// Decides the fault of one call to `op`: the latency to add, and the error to answer
    /// with (consuming one throttle from `throttle_next`, or one draw of the percentages).
    pub fn decide(&mut self, op: Operation) -> (Duration, Option<ApiError>) {
        if self
            .operations
            .as_ref()
            .is_some_and(|ops| !ops.contains(&op))
        {
            return (Duration::ZERO, None);
        }
        let latency = Duration::from_millis(self.latency_ms);
        if self.throttle_next > 0 {
            self.throttle_next -= 1;
            return (latency, Some(self.throttle_kind.error()));
        }
        if self.fail_all {
            return (
                latency,
                Some(ApiError::internal(
                    "Internal server error (injected by argus-twin: fail_all)",
                )),
            );
        }
        if self.throttle_percent > 0 || self.error_percent > 0 {
            self.draws += 1;
            let draw = fastrand::Rng::with_seed(
                self.seed ^ self.draws.wrapping_mul(0x9E37_79B9_7F4A_7C15),
            )
            .u8(0..100);
            if draw < self.throttle_percent {
                return (latency, Some(self.throttle_kind.error()));
            }
            if draw < self.throttle_percent.saturating_add(self.error_percent) {
                return (
                    latency,
                    Some(ApiError::internal(
                        "Internal server error (injected by argus-twin: error_percent)",
                    )),
                );
            }
        }
        (latency, None)
    }
}

/// One Rekognition call as argus-twin saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRecord {
    /// 1, 2, 3, ... in arrival order.
    pub seq: u64,
    /// The operation.
    pub operation: Operation,
    /// SHA-256 of the images read (two for CompareFaces: source, target); empty when the call
    /// failed before an image was read (e.g. an injected throttle).
    pub image_sha256: Vec<String>,
    /// `OK` or the error code answered.
    pub outcome: String,
    /// HTTP status answered.
    pub status: u16,
}

/// The call log (`GET /_argus/calls`): totals by operation and the most recent calls.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallLog {
    /// Calls since start or the last reset.
    pub total: u64,
    /// Calls by operation name.
    pub by_operation: BTreeMap<String, u64>,
    /// The most recent calls (at most [`CallLog::KEEP`]), oldest first.
    pub calls: Vec<CallRecord>,
}

impl CallLog {
    /// How many records are kept.
    pub const KEEP: usize = 10_000;

    /// Records a call.
    pub fn record(
        &mut self,
        operation: Operation,
        image_sha256: Vec<String>,
        outcome: &str,
        status: u16,
    ) {
        self.total += 1;
        *self
            .by_operation
            .entry(operation.name().to_owned())
            .or_insert(0) += 1;
        if self.calls.len() >= Self::KEEP {
            // Drop the oldest tenth at once, so recording stays cheap on a long run.
            self.calls.drain(..Self::KEEP / 10);
        }
        self.calls.push(CallRecord {
            seq: self.total,
            operation,
            image_sha256,
            outcome: outcome.to_owned(),
            status,
        });
    }

    /// Calls of `op` since start or the last reset.
    pub fn count(&self, op: Operation) -> u64 {
        self.by_operation.get(op.name()).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_map_to_operations() {
        assert_eq!(
            Operation::from_target("RekognitionService.DetectLabels"),
            Some(Operation::DetectLabels)
        );
        assert_eq!(
            Operation::from_target("RekognitionService.IndexFaces"),
            None
        );
        assert_eq!(Operation::from_target("DetectLabels"), None);
    }

    #[test]
    fn throttle_counts_down_then_fail_all_applies() {
        let mut faults = Faults {
            throttle_next: 1,
            fail_all: true,
            ..Faults::default()
        };
        let (_, first) = faults.decide(Operation::DetectText);
        assert_eq!(first.unwrap().code, ErrorCode::ThrottlingException);
        let (_, second) = faults.decide(Operation::DetectText);
        assert_eq!(second.unwrap().code, ErrorCode::InternalServerError);
    }

    #[test]
    fn operation_filter_limits_faults() {
        let mut faults = Faults {
            fail_all: true,
            operations: Some(vec![Operation::DetectLabels]),
            ..Faults::default()
        };
        assert!(faults.decide(Operation::DetectText).1.is_none());
        assert!(faults.decide(Operation::DetectLabels).1.is_some());
    }

    #[test]
    fn call_log_keeps_the_most_recent_calls() {
        let mut log = CallLog::default();
        for _ in 0..CallLog::KEEP + 5 {
            log.record(Operation::DetectText, Vec::new(), "OK", 200);
        }
        assert_eq!(log.total, (CallLog::KEEP + 5) as u64);
        assert_eq!(log.count(Operation::DetectText), log.total);
        assert!(log.calls.len() <= CallLog::KEEP);
        assert_eq!(log.calls.last().map(|c| c.seq), Some(log.total));
    }

    #[test]
    fn percentages_throttle_and_fail_about_that_share_of_calls_the_same_way_for_a_seed() {
        let update = FaultsUpdate {
            throttle_percent: Some(20),
            error_percent: Some(5),
            seed: Some(7),
            ..FaultsUpdate::default()
        };
        let run = || {
            let mut faults = Faults::default();
            faults.apply(update.clone());
            (0..10_000)
                .map(|_| faults.decide(Operation::DetectLabels).1.map(|e| e.code))
                .collect::<Vec<_>>()
        };
        let outcomes = run();
        let count = |code: ErrorCode| outcomes.iter().filter(|c| **c == Some(code)).count();
        let throttled = count(ErrorCode::ThrottlingException);
        let failed = count(ErrorCode::InternalServerError);
        assert!((1_800..2_200).contains(&throttled), "{throttled}");
        assert!((350..650).contains(&failed), "{failed}");
        assert_eq!(outcomes, run(), "the same seed gives the same sequence");
        // The two shares never add up to more than every call.
        let mut faults = Faults::default();
        faults.apply(
            serde_json::from_str(r#"{"throttle_percent": 90, "error_percent": 50}"#).unwrap(),
        );
        assert_eq!((faults.throttle_percent, faults.error_percent), (90, 10));
    }

    #[test]
    fn update_keeps_absent_fields() {
        let mut faults = Faults {
            latency_ms: 5,
            ..Faults::default()
        };
        faults.apply(serde_json::from_str(r#"{"throttle_next": 2}"#).unwrap());
        assert_eq!(faults.latency_ms, 5);
        assert_eq!(faults.throttle_next, 2);
    }
}
