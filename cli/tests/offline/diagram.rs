//! `argus diagram`: the SVG of argus-beta parsed as XML (a node per resource, the S3 → SQS →
//! Lambda → DynamoDB path, grants dashed), the committed docs/argus-beta.svg in step with the
//! template, DOT and Mermaid, and the usage errors.

use std::collections::BTreeSet;
use std::process::{Command, Output};

use argus_stacks::app::{self, Selection};

fn argus(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_argus"))
        .args(args)
        .current_dir(crate::common::root())
        .output()
        .unwrap()
}

fn stdout_of(args: &[&str]) -> String {
    let o = argus(args);
    assert!(
        o.status.success(),
        "argus {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// The logical IDs and types of argus-beta's synthesized template.
fn beta_resources() -> Vec<(String, String)> {
    let selection = Selection::stack(&crate::common::config_dir(), "argus-beta").unwrap();
    let stacks = app::synth(&crate::common::config_dir(), &selection).unwrap();
    stacks[0]
        .template
        .resources
        .iter()
        .map(|(id, r)| (id.clone(), r.resource_type.clone()))
        .collect()
}

/// An edge read back from the SVG: (from, to, kind, dashed).
type SvgEdge = (String, String, String, bool);

fn svg_edges(document: &roxmltree::Document) -> Vec<SvgEdge> {
    document
        .descendants()
        .filter(|n| n.attribute("class") == Some("edge"))
        .map(|g| {
            let path = g
                .descendants()
                .find(|n| n.has_tag_name("path"))
                .expect("an edge group holds its path");
            (
                g.attribute("data-from").unwrap().to_owned(),
                g.attribute("data-to").unwrap().to_owned(),
                g.attribute("data-kind").unwrap().to_owned(),
                path.attribute("stroke-dasharray").is_some(),
            )
        })
        .collect()
}

#[test]
fn the_beta_svg_has_a_node_per_resource_and_the_upload_to_result_path() {
    let svg = stdout_of(&["diagram", "--stack", "argus-beta", "--format", "svg"]);
    let document = roxmltree::Document::parse(&svg).expect("the diagram is well-formed XML");
    assert!(document.root_element().has_tag_name("svg"));

    // A node for every resource, with its type, and its logical ID written in the drawing.
    let nodes: Vec<(String, String)> = document
        .descendants()
        .filter(|n| n.attribute("class") == Some("node"))
        .map(|g| {
            assert!(
                g.descendants().any(|n| n.has_tag_name("rect")),
                "a node is drawn as a box"
            );
            (
                g.attribute("data-logical-id").unwrap().to_owned(),
                g.attribute("data-type").unwrap().to_owned(),
            )
        })
        .collect();
    let resources = beta_resources();
    assert!(resources.len() > 20, "{resources:?}");
    assert_eq!(
        nodes, resources,
        "one node per resource, in logical-ID order"
    );
    let texts: BTreeSet<&str> = document
        .descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect();
    for (id, resource_type) in &resources {
        assert!(
            texts.contains(id.as_str()),
            "{id} is not written in the SVG"
        );
        assert!(texts.contains(resource_type.as_str()), "{resource_type}");
    }

    // S3 bucket → (notification) SQS queue → (event source mapping) Lambda function → DynamoDB table.
    let type_of = |id: &str| {
        nodes
            .iter()
            .find(|(n, _)| n == id)
            .map(|(_, t)| t.as_str())
            .unwrap_or("")
    };
    let edges = svg_edges(&document);
    let hop = |from_type: &str, kind: &str, to_type: &str| -> Vec<(String, String)> {
        edges
            .iter()
            .filter(|(f, t, k, _)| type_of(f) == from_type && k == kind && type_of(t) == to_type)
            .map(|(f, t, _, _)| (f.clone(), t.clone()))
            .collect()
    };
    let notifications = hop("AWS::S3::Bucket", "notification", "AWS::SQS::Queue");
    let sources = hop("AWS::SQS::Queue", "event-source", "AWS::Lambda::Function");
    let writes = hop("AWS::Lambda::Function", "reference", "AWS::DynamoDB::Table");
    let mut path: Vec<[&str; 4]> = Vec::new();
    for (bucket, queue) in &notifications {
        for (_, function) in sources.iter().filter(|(q, _)| q == queue) {
            for (_, table) in writes.iter().filter(|(f, _)| f == function) {
                path.push([bucket, queue, function, table]);
            }
        }
    }
    assert!(
        path.contains(&["Input", "Ingest", "Processor", "Results"]),
        "{path:?}\nnotifications {notifications:?}\nevent sources {sources:?}\nwrites {writes:?}"
    );

    // The processor's role is granted the table: a dashed edge; every other kind is solid.
    assert!(
        edges.contains(&(
            "ProcessorServiceRole".into(),
            "Results".into(),
            "grant".into(),
            true
        )),
        "{edges:?}"
    );
    for (from, to, kind, dashed) in &edges {
        assert_eq!(*dashed, kind == "grant", "{from} → {to} ({kind})");
    }
}

#[test]
fn the_committed_diagram_is_what_make_diagram_draws_now() {
    let svg = stdout_of(&["diagram", "--stack", "argus-beta"]);
    let committed = crate::common::root().join("docs/argus-beta.svg");
    let committed = std::fs::read_to_string(&committed)
        .unwrap_or_else(|e| panic!("{}: {e} (run `make diagram`)", committed.display()));
    assert!(
        committed == svg,
        "docs/argus-beta.svg is out of step with the argus-beta template: run `make diagram` and commit it"
    );
}

#[test]
fn out_writes_the_file_and_stage_names_the_same_stack() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nested/beta.dot");
    let o = argus(&[
        "diagram",
        "--stage",
        "beta",
        "--format",
        "dot",
        "--out",
        &file.to_string_lossy(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stdout.is_empty(), "with --out nothing goes to stdout");
    let written = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        written,
        stdout_of(&["diagram", "--stack", "argus-beta", "--format", "dot"])
    );
    assert!(written.starts_with("digraph \"argus-beta\" {"), "{written}");
    let parsed = layout::gv::DotParser::new(&written).process();
    assert!(parsed.is_ok(), "not DOT: {:?}", parsed.err());
    assert!(written.contains("subgraph \"cluster_S3\""), "{written}");
    assert!(
        written.contains("\"Input\" -> \"Ingest\" [label=\"s3:ObjectCreated:*\", style=solid"),
        "{written}"
    );
}

#[test]
fn mermaid_groups_the_beta_stack_by_service() {
    let text = stdout_of(&["diagram", "--stack", "argus-beta", "--format", "mermaid"]);
    assert!(text.starts_with("flowchart TB\n"), "{text}");
    for service in [
        "S3",
        "SQS",
        "Lambda",
        "DynamoDB",
        "IAM",
        "SNS",
        "ApiGatewayV2",
        "Logs",
    ] {
        assert!(
            text.contains(&format!("subgraph service_{service}[")),
            "{service}:\n{text}"
        );
    }
    assert!(
        text.contains("  Ingest -->|\"ProcessorIngestSource\"| Processor\n"),
        "{text}"
    );
    assert!(
        text.contains("  ProcessorServiceRole -.->|\"ResultsWrite\"| Results\n"),
        "{text}"
    );
}

#[test]
fn an_unknown_stack_is_a_one_line_error_with_exit_code_2() {
    let o = argus(&["diagram", "--stack", "argus-nosuch"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("argus-nosuch"), "{err}");
    assert!(o.stdout.is_empty());
}

#[test]
fn a_reader_that_closes_stdout_early_is_not_a_failure() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_argus"))
        .args(["diagram", "--stack", "argus-beta"])
        .current_dir(crate::common::root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Close the reading end before argus has synthesized the stack (`argus diagram | head`).
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
