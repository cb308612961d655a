//! The graph of a CloudFormation template: one [`Node`] per resource, [`Edge`]s of four
//! [`EdgeKind`]s between them.
//!
//! Edges come from the template alone:
//! - [`EdgeKind::Reference`]: a resource's properties name another resource through `Ref`,
//!   `Fn::GetAtt` (list or `"Id.Attr"` form) or a `${Id}` / `${Id.Attr}` placeholder of `Fn::Sub`
//!   (string or `[template, vars]` form, `${!Literal}` skipped), found at any depth and inside
//!   every other intrinsic (`Fn::Join`, `Fn::If` (its condition name skipped), `Fn::Select`,
//!   `Fn::Split`, `Fn::ImportValue`, `Fn::Base64`, …). Intrinsic function reference:
//!   <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html>.
//! - [`EdgeKind::EventSource`]: an `AWS::Lambda::EventSourceMapping` draws its event source (an SQS
//!   queue, a stream) → its function.
//! - [`EdgeKind::Notification`]: an `AWS::S3::Bucket`'s `NotificationConfiguration` draws the
//!   bucket → each queue, topic or function it notifies, labelled with the event.
//! - [`EdgeKind::Grant`]: an `Allow` statement of an `AWS::IAM::Role`'s inline `Policies` (or of an
//!   `AWS::IAM::Policy` / `AWS::IAM::ManagedPolicy`) draws the role or policy → each resource its
//!   `Resource` names, labelled with the statement's `Sid` (the grant) or else the actions'
//!   services. A resource is named by a reference, or by an ARN that holds the resource's own
//!   name (`BucketName`, `QueueName`, …): Argus writes bucket ARNs from the bucket's name to break
//!   the bucket → queue policy → bucket cycle. `Resource: "*"` names nothing.
//!
//! References to parameters and pseudo parameters (`AWS::Region`) are not resources and draw no
//! edge; neither does a resource naming itself.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// One resource of the template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// The logical ID, e.g. `Input`.
    pub logical_id: String,
    /// The resource type, e.g. `AWS::S3::Bucket`.
    pub resource_type: String,
}

impl Node {
    /// The service segment of the resource type: `S3` for `AWS::S3::Bucket`, `ApiGatewayV2` for
    /// `AWS::ApiGatewayV2::Api`; the whole type when it has no `::`.
    pub fn service(&self) -> &str {
        let mut parts = self.resource_type.split("::");
        match (parts.next(), parts.next()) {
            (Some(_), Some(service)) => service,
            _ => &self.resource_type,
        }
    }
}

/// The service's name as people write it: `API Gateway` for `ApiGatewayV2`, `CloudWatch Logs`
/// for `Logs`; other services keep their type segment (`S3`, `SQS`, `Lambda`, `DynamoDB`, …).
pub fn service_title(service: &str) -> &str {
    match service {
        "ApiGatewayV2" | "ApiGateway" => "API Gateway",
        "Logs" => "CloudWatch Logs",
        other => other,
    }
}

/// What an edge stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EdgeKind {
    /// The source's properties refer to the target (`Ref`, `Fn::GetAtt`, `Fn::Sub`). Solid.
    Reference,
    /// An event source mapping: the target function polls the source (SQS → Lambda). Solid.
    EventSource,
    /// A bucket notification: the source bucket sends events to the target (S3 → SQS). Solid.
    Notification,
    /// An IAM grant: the source role or policy allows actions on the target. Dashed.
    Grant,
}

impl EdgeKind {
    /// The name used in the rendered files (`reference`, `event-source`, `notification`, `grant`).
    pub fn name(self) -> &'static str {
        match self {
            EdgeKind::Reference => "reference",
            EdgeKind::EventSource => "event-source",
            EdgeKind::Notification => "notification",
            EdgeKind::Grant => "grant",
        }
    }

    /// Whether the edge is drawn dashed (grants) rather than solid.
    pub fn is_dashed(self) -> bool {
        self == EdgeKind::Grant
    }
}

/// A directed edge between two resources.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    /// The logical ID the edge starts at.
    pub from: String,
    /// The logical ID it points to.
    pub to: String,
    /// What it stands for.
    pub kind: EdgeKind,
    /// The label: the bucket event of a notification, the mapping's logical ID for an event
    /// source, the grants' `Sid`s for a grant (joined with `, `), empty for a reference.
    pub label: String,
}

/// The graph of one template: nodes sorted by logical ID, edges sorted by (from, to, kind).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Graph {
    /// One node per resource.
    pub nodes: Vec<Node>,
    /// The edges, at most one per (from, to, kind).
    pub edges: Vec<Edge>,
}

impl Graph {
    /// The graph of a template given as its JSON (a `.template.json` file's content).
    ///
    /// Reads the `Resources` section only; a template without one gives an empty graph. Never
    /// fails: a property that is not an intrinsic is walked into, one that names nothing known
    /// draws nothing.
    pub fn from_template(template: &Value) -> Graph {
        let empty = serde_json::Map::new();
        let resources = template
            .get("Resources")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let mut nodes: Vec<Node> = resources
            .iter()
            .map(|(id, resource)| Node {
                logical_id: id.clone(),
                resource_type: resource
                    .get("Type")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            })
            .collect();
        nodes.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
        let known: BTreeSet<&str> = resources.keys().map(String::as_str).collect();
        let names = physical_names(resources);
        let mut edges = EdgeSet::default();
        for (id, resource) in resources {
            let resource_type = resource.get("Type").and_then(Value::as_str).unwrap_or("");
            let properties = resource.get("Properties").unwrap_or(&Value::Null);
            let refs = |value: &Value| -> BTreeSet<String> {
                let mut found = BTreeSet::new();
                collect_references(value, &mut found);
                found.retain(|name| known.contains(name.as_str()));
                found
            };
            let Some(properties) = properties.as_object() else {
                continue;
            };
            for (property, value) in properties {
                match (resource_type, property.as_str()) {
                    ("AWS::S3::Bucket", "NotificationConfiguration") => {
                        for (target, event) in notification_targets(value, &refs) {
                            edges.add(id, &target, EdgeKind::Notification, &event);
                        }
                    }
                    ("AWS::IAM::Role", "Policies") => {
                        let documents = value
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|p| p.get("PolicyDocument"));
                        for document in documents {
                            add_grants(id, document, &refs, &names, &mut edges);
                        }
                    }
                    ("AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy", "PolicyDocument") => {
                        add_grants(id, value, &refs, &names, &mut edges);
                    }
                    _ => {
                        for target in refs(value) {
                            edges.add(id, &target, EdgeKind::Reference, "");
                        }
                    }
                }
            }
            if resource_type == "AWS::Lambda::EventSourceMapping" {
                let sources = properties.get("EventSourceArn").map(&refs);
                let functions = properties.get("FunctionName").map(&refs);
                for source in sources.iter().flatten() {
                    for function in functions.iter().flatten() {
                        edges.add(source, function, EdgeKind::EventSource, id);
                    }
                }
            }
        }
        Graph {
            nodes,
            edges: edges.into_edges(),
        }
    }

    /// The node with this logical ID.
    pub fn node(&self, logical_id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.logical_id == logical_id)
    }

    /// The edge from → to of this kind.
    pub fn edge(&self, from: &str, to: &str, kind: EdgeKind) -> Option<&Edge> {
        self.edges
            .iter()
            .find(|e| e.from == from && e.to == to && e.kind == kind)
    }

    /// The nodes grouped by service segment (see [`Node::service`]), services sorted by name.
    pub fn services(&self) -> BTreeMap<&str, Vec<&Node>> {
        let mut services: BTreeMap<&str, Vec<&Node>> = BTreeMap::new();
        for node in &self.nodes {
            services.entry(node.service()).or_default().push(node);
        }
        services
    }
}

/// Edges being gathered: labels of the same (from, to, kind) are merged.
#[derive(Default)]
struct EdgeSet(BTreeMap<(String, String, EdgeKind), BTreeSet<String>>);

impl EdgeSet {
    fn add(&mut self, from: &str, to: &str, kind: EdgeKind, label: &str) {
        if from == to {
            return;
        }
        let labels = self
            .0
            .entry((from.to_owned(), to.to_owned(), kind))
            .or_default();
        if !label.is_empty() {
            labels.insert(label.to_owned());
        }
    }

    fn into_edges(self) -> Vec<Edge> {
        self.0
            .into_iter()
            .map(|((from, to, kind), labels)| Edge {
                from,
                to,
                kind,
                label: labels.into_iter().collect::<Vec<_>>().join(", "),
            })
            .collect()
    }
}

/// Adds every name `value` refers to (`Ref`, `Fn::GetAtt`, `Fn::Sub` placeholders), at any depth,
/// to `found`. Pseudo parameters and parameters are included; the caller keeps the resources.
pub fn collect_references(value: &Value, found: &mut BTreeSet<String>) {
    match value {
        Value::Array(items) => {
            for item in items {
                collect_references(item, found);
            }
        }
        Value::Object(map) if map.len() == 1 => {
            let Some((key, argument)) = map.iter().next() else {
                return;
            };
            match key.as_str() {
                "Ref" => {
                    if let Some(name) = argument.as_str() {
                        found.insert(name.to_owned());
                    }
                }
                "Fn::GetAtt" => match argument {
                    Value::String(dotted) => {
                        let id = dotted.split('.').next().unwrap_or(dotted);
                        found.insert(id.to_owned());
                    }
                    Value::Array(parts) => {
                        if let Some(id) = parts.first().and_then(Value::as_str) {
                            found.insert(id.to_owned());
                        }
                        // The attribute name may itself be a Ref (rare, but allowed).
                        for part in parts.iter().skip(1) {
                            collect_references(part, found);
                        }
                    }
                    other => collect_references(other, found),
                },
                "Fn::Sub" => match argument {
                    Value::String(template) => found.extend(sub_placeholders(template)),
                    Value::Array(parts) => {
                        let vars = parts.get(1).and_then(Value::as_object);
                        if let Some(template) = parts.first().and_then(Value::as_str) {
                            found.extend(
                                sub_placeholders(template)
                                    .into_iter()
                                    .filter(|name| !vars.is_some_and(|v| v.contains_key(name))),
                            );
                        }
                        for value in vars.into_iter().flat_map(|v| v.values()) {
                            collect_references(value, found);
                        }
                    }
                    other => collect_references(other, found),
                },
                // Fn::Join, Fn::If (its condition name is a plain string, which names nothing),
                // Fn::Select, Fn::Split, Fn::ImportValue, Fn::Base64, Fn::FindInMap, or a one-key
                // property object: walk the argument.
                _ => collect_references(argument, found),
            }
        }
        Value::Object(map) => {
            for value in map.values() {
                collect_references(value, found);
            }
        }
        _ => {}
    }
}

/// The names in a `Fn::Sub` template's `${Name}` and `${Name.Attribute}` placeholders (the
/// logical ID for the latter); `${!Literal}` is an escaped literal and names nothing.
pub fn sub_placeholders(template: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let inner = after[..end].trim();
        if !inner.starts_with('!') && !inner.is_empty() {
            let name = inner.split('.').next().unwrap_or(inner);
            names.insert(name.to_owned());
        }
        rest = &after[end + 1..];
    }
    names
}

/// The properties that hold a resource's own name, by type: what an ARN written from the name
/// (rather than a reference) contains.
const NAME_PROPERTIES: &[&str] = &[
    "BucketName",
    "QueueName",
    "TableName",
    "TopicName",
    "FunctionName",
    "LogGroupName",
    "RoleName",
    "TrailName",
    "AliasName",
    "Name",
];

/// Each resource's own name as a `Fn::Sub` template or literal (`argus-beta-input-${AWS::AccountId}-eu-west-1`),
/// for the resource types whose name Argus sets.
fn physical_names(resources: &serde_json::Map<String, Value>) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    for (id, resource) in resources {
        let Some(properties) = resource.get("Properties") else {
            continue;
        };
        // Event source mappings and permissions carry another resource's FunctionName.
        let resource_type = resource.get("Type").and_then(Value::as_str).unwrap_or("");
        if resource_type.ends_with("EventSourceMapping") || resource_type.ends_with("Permission") {
            continue;
        }
        let name = NAME_PROPERTIES
            .iter()
            .filter_map(|p| properties.get(*p))
            .find_map(literal_or_sub);
        if let Some(name) = name.filter(|n| n.len() >= 3) {
            names.insert(id.clone(), name);
        }
    }
    names
}

/// A string literal or a `Fn::Sub` template string.
fn literal_or_sub(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Object(map) => match map.get("Fn::Sub") {
            Some(Value::String(template)) => Some(template.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// Whether an ARN (literal or `Fn::Sub` template) names the resource called `name`: the name
/// follows `:` or `/` and ends the ARN or is followed by `/` or `:`.
fn arn_names(arn: &str, name: &str) -> bool {
    arn.match_indices(name).any(|(at, _)| {
        let before = arn[..at].chars().next_back();
        let after = arn[at + name.len()..].chars().next();
        matches!(before, Some(':' | '/')) && matches!(after, None | Some('/' | ':'))
    })
}

/// The targets of a bucket's `NotificationConfiguration`, with each configuration's event.
fn notification_targets(
    configuration: &Value,
    refs: &dyn Fn(&Value) -> BTreeSet<String>,
) -> Vec<(String, String)> {
    let mut targets = Vec::new();
    for (list, field) in [
        ("QueueConfigurations", "Queue"),
        ("TopicConfigurations", "Topic"),
        ("LambdaConfigurations", "Function"),
    ] {
        for entry in configuration
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let event = entry.get("Event").and_then(Value::as_str).unwrap_or("");
            for target in entry.get(field).map(refs).into_iter().flatten() {
                targets.push((target, event.to_owned()));
            }
        }
    }
    targets
}

/// Adds a grant edge from `source` to every resource an `Allow` statement of `document` names.
fn add_grants(
    source: &str,
    document: &Value,
    refs: &dyn Fn(&Value) -> BTreeSet<String>,
    names: &BTreeMap<String, String>,
    edges: &mut EdgeSet,
) {
    let statements = match document.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect::<Vec<_>>(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    for statement in statements {
        if statement.get("Effect").and_then(Value::as_str) != Some("Allow") {
            continue;
        }
        let Some(resource) = statement.get("Resource") else {
            continue;
        };
        let label = match statement.get("Sid").and_then(Value::as_str) {
            Some(sid) => sid.to_owned(),
            None => action_services(statement.get("Action")),
        };
        let mut targets = refs(resource);
        let arns: Vec<String> = match resource {
            Value::Array(items) => items.iter().filter_map(literal_or_sub).collect(),
            other => literal_or_sub(other).into_iter().collect(),
        };
        for (id, name) in names {
            if arns.iter().any(|arn| arn_names(arn, name)) {
                targets.insert(id.clone());
            }
        }
        for target in targets {
            edges.add(source, &target, EdgeKind::Grant, &label);
        }
    }
}

/// The services of a statement's actions (`dynamodb:PutItem` → `dynamodb`), sorted, joined by `, `.
fn action_services(actions: Option<&Value>) -> String {
    let list = match actions {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    list.iter()
        .map(|a| a.split(':').next().unwrap_or(a))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use argus_cdk::intrinsic::Expr;
    use serde_json::json;

    fn ids(found: &BTreeSet<String>) -> Vec<&str> {
        found.iter().map(String::as_str).collect()
    }

    #[test]
    fn every_intrinsic_form_the_cdk_emits_yields_its_references() {
        // Each value is built with argus-cdk's own Expr, so its serialized form is what a
        // synthesized template holds.
        let cases: Vec<(Expr, Vec<&str>)> = vec![
            (Expr::reference("A"), vec!["A"]),
            (Expr::get_att("B", "Arn"), vec!["B"]),
            (
                Expr::sub("arn:${AWS::Partition}:s3:::${C}/x"),
                vec!["AWS::Partition", "C"],
            ),
            (Expr::sub("${D.Arn}-${!Literal}"), vec!["D"]),
            (
                Expr::sub_with(
                    "${Local}-${E}",
                    BTreeMap::from([("Local".to_owned(), Expr::get_att("F", "Arn"))]),
                ),
                vec!["E", "F"],
            ),
            (
                Expr::join(",", vec![Expr::str("x"), Expr::reference("G")]),
                vec!["G"],
            ),
            (
                Expr::if_("IsProd", Expr::reference("H"), Expr::get_att("I", "Arn")),
                vec!["H", "I"],
            ),
            (Expr::import_value(Expr::sub("${J}-export")), vec!["J"]),
            (
                Expr::select(0, Expr::split(",", Expr::reference("K"))),
                vec!["K"],
            ),
            (
                Expr::List(vec![Expr::reference("L"), Expr::Int(3)]),
                vec!["L"],
            ),
            (Expr::str("${NotASub}"), vec![]),
        ];
        for (expr, expected) in cases {
            let mut found = BTreeSet::new();
            collect_references(&expr.to_json(), &mut found);
            assert_eq!(ids(&found), expected, "{}", expr.to_json());
        }
    }

    #[test]
    fn get_att_in_its_dotted_string_form_names_the_resource() {
        let mut found = BTreeSet::new();
        collect_references(&json!({"Fn::GetAtt": "Queue.Arn"}), &mut found);
        assert_eq!(ids(&found), vec!["Queue"]);
    }

    fn pipeline_template() -> Value {
        json!({
            "Parameters": {"CodeKey": {"Type": "String"}},
            "Resources": {
                "Input": {
                    "Type": "AWS::S3::Bucket",
                    "Properties": {
                        "BucketName": {"Fn::Sub": "app-input-${AWS::AccountId}"},
                        "NotificationConfiguration": {"QueueConfigurations": [{
                            "Event": "s3:ObjectCreated:*",
                            "Queue": {"Fn::GetAtt": ["Ingest", "Arn"]}
                        }]}
                    }
                },
                "Ingest": {"Type": "AWS::SQS::Queue", "Properties": {}},
                "Results": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
                "Role": {
                    "Type": "AWS::IAM::Role",
                    "Properties": {"Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": [
                        {"Sid": "ResultsWrite", "Effect": "Allow", "Action": ["dynamodb:PutItem"],
                         "Resource": [{"Fn::GetAtt": ["Results", "Arn"]}]},
                        {"Sid": "InputRead", "Effect": "Allow", "Action": "s3:GetObject",
                         "Resource": [{"Fn::Sub": "arn:${AWS::Partition}:s3:::app-input-${AWS::AccountId}/incoming/*"}]},
                        {"Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage"],
                         "Resource": {"Fn::GetAtt": ["Ingest", "Arn"]}},
                        {"Sid": "Everything", "Effect": "Allow", "Action": "rekognition:DetectLabels", "Resource": "*"},
                        {"Sid": "NotResults", "Effect": "Deny", "Action": "dynamodb:*",
                         "Resource": {"Fn::GetAtt": ["Results", "Arn"]}}
                    ]}}]}
                },
                "Processor": {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {
                        "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                        "Code": {"S3Key": {"Ref": "CodeKey"}},
                        "Environment": {"Variables": {"TABLE": {"Ref": "Results"}}}
                    }
                },
                "Source": {
                    "Type": "AWS::Lambda::EventSourceMapping",
                    "Properties": {
                        "EventSourceArn": {"Fn::GetAtt": ["Ingest", "Arn"]},
                        "FunctionName": {"Ref": "Processor"}
                    }
                }
            }
        })
    }

    #[test]
    fn a_small_pipeline_gives_one_node_per_resource_and_the_edges_of_each_kind() {
        let graph = Graph::from_template(&pipeline_template());
        let nodes: Vec<&str> = graph.nodes.iter().map(|n| n.logical_id.as_str()).collect();
        assert_eq!(
            nodes,
            vec!["Ingest", "Input", "Processor", "Results", "Role", "Source"]
        );
        let edges: Vec<(&str, &str, EdgeKind, &str)> = graph
            .edges
            .iter()
            .map(|e| (e.from.as_str(), e.to.as_str(), e.kind, e.label.as_str()))
            .collect();
        assert_eq!(
            edges,
            vec![
                ("Ingest", "Processor", EdgeKind::EventSource, "Source"),
                (
                    "Input",
                    "Ingest",
                    EdgeKind::Notification,
                    "s3:ObjectCreated:*"
                ),
                ("Processor", "Results", EdgeKind::Reference, ""),
                ("Processor", "Role", EdgeKind::Reference, ""),
                ("Role", "Ingest", EdgeKind::Grant, "sqs"),
                ("Role", "Input", EdgeKind::Grant, "InputRead"),
                ("Role", "Results", EdgeKind::Grant, "ResultsWrite"),
                ("Source", "Ingest", EdgeKind::Reference, ""),
                ("Source", "Processor", EdgeKind::Reference, ""),
            ]
        );
        assert!(graph.edge("Role", "Results", EdgeKind::Grant).is_some());
        assert!(graph.edge("Role", "Results", EdgeKind::Reference).is_none());
    }

    #[test]
    fn nodes_group_by_service() {
        let graph = Graph::from_template(&pipeline_template());
        let services: Vec<(&str, usize)> = graph
            .services()
            .into_iter()
            .map(|(s, nodes)| (s, nodes.len()))
            .collect();
        assert_eq!(
            services,
            vec![
                ("DynamoDB", 1),
                ("IAM", 1),
                ("Lambda", 2),
                ("S3", 1),
                ("SQS", 1)
            ]
        );
        assert_eq!(service_title("ApiGatewayV2"), "API Gateway");
        assert_eq!(service_title("Logs"), "CloudWatch Logs");
    }

    #[test]
    fn an_arn_names_a_resource_only_at_segment_boundaries() {
        assert!(arn_names("arn:${AWS::Partition}:s3:::app-in", "app-in"));
        assert!(arn_names("arn:${AWS::Partition}:s3:::app-in/x/*", "app-in"));
        assert!(!arn_names(
            "arn:${AWS::Partition}:s3:::app-input/x",
            "app-in"
        ));
        assert!(!arn_names("arn:${AWS::Partition}:s3:::my-app-in", "app-in"));
    }

    #[test]
    fn a_template_without_resources_is_an_empty_graph() {
        assert_eq!(Graph::from_template(&json!({})), Graph::default());
    }
}
