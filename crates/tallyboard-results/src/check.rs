//! Checking a published results JSON (`results.json`, §4) against the
//! results computed from verified totals, figure by figure: what a reader's
//! browser does with the site's download (`tallyboard-web`).

use serde::Serialize;
use serde_json::{Value, json};

use crate::format::thousands;
use crate::model::Results;

/// Largest published results JSON read.
pub const MAX_RESULTS_JSON: usize = 64 * 1024 * 1024;

/// Most differences listed (the count is always given).
pub const MAX_LISTED: usize = 20;

/// One figure of a published results JSON that differs from the computed
/// results.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FigureDifference {
    /// Where it is, in words (`contest mayor, election, choice ana,
    /// votes`; `contest mayor, region north, figures, blank`); empty when
    /// the file as a whole is refused.
    pub figure: String,
    /// What the file says (`null`: nothing).
    pub published: Value,
    /// What the computed results say (`null`: nothing).
    pub expected: Value,
    /// The difference in words.
    pub text: String,
}

/// The verdict on a published results JSON.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    /// Whether every figure is the computed one and nothing else is there.
    pub ok: bool,
    /// How many figures (JSON scalars of the computed results) were
    /// compared.
    pub figures: u64,
    /// How many differences there are.
    pub count: usize,
    /// The first [`MAX_LISTED`] of them, in document order.
    pub differences: Vec<FigureDifference>,
}

impl Comparison {
    fn refused(text: String) -> Comparison {
        Comparison {
            ok: false,
            figures: 0,
            count: 1,
            differences: vec![FigureDifference {
                figure: WHOLE_FILE.to_owned(),
                published: Value::Null,
                expected: Value::Null,
                text,
            }],
        }
    }
}

/// The name of the difference when the whole file is not the results
/// object (its top level is a number, a string, a list, `null`).
pub const WHOLE_FILE: &str = "the whole file";

/// Compares `published` (the bytes of a results JSON, at most
/// [`MAX_RESULTS_JSON`]) with `expected`, as JSON values: formatting and
/// key order do not matter, every figure does. Each difference names the
/// figure by the contest, region and choice it belongs to.
pub fn compare_json(expected: &Results, published: &[u8]) -> Comparison {
    if published.len() > MAX_RESULTS_JSON {
        return Comparison::refused(format!(
            "results.json is {} bytes; at most {MAX_RESULTS_JSON} are read",
            published.len()
        ));
    }
    let got: Value = match serde_json::from_slice(published) {
        Ok(v) => v,
        Err(e) => return Comparison::refused(format!("results.json is not JSON ({e})")),
    };
    let want = serde_json::to_value(expected).unwrap_or(Value::Null);
    let mut w = Walk::default();
    w.walk(&mut Vec::new(), &want, &got);
    let count = w.differences.len();
    w.differences.truncate(MAX_LISTED);
    Comparison {
        ok: count == 0,
        figures: w.figures,
        count,
        differences: w.differences,
    }
}

#[derive(Default)]
struct Walk {
    figures: u64,
    differences: Vec<FigureDifference>,
}

/// A value as a reader reads it (numbers with thousands separators).
fn shown(v: &Value) -> String {
    match v {
        Value::Number(n) => n.as_u64().map_or_else(|| n.to_string(), thousands),
        Value::String(s) => format!("{s:?}"),
        Value::Null => "nothing".into(),
        other => {
            let s = other.to_string();
            if s.chars().count() > 80 {
                format!("{}…", s.chars().take(80).collect::<String>())
            } else {
                s
            }
        }
    }
}

/// What names an element of a list of the results (a contest, a region,
/// a choice).
fn element_name(v: &Value) -> Option<String> {
    ["contest", "region", "choice"].iter().find_map(|k| {
        v.get(*k)
            .and_then(Value::as_str)
            .map(|id| format!("{k} {id}"))
    })
}

impl Walk {
    fn differ(&mut self, path: &[String], want: &Value, got: &Value) {
        // A file whose top level is not the results object (a number, a
        // list) differs as a whole: named so, never by an empty name.
        let figure = if path.is_empty() {
            WHOLE_FILE.to_owned()
        } else {
            path.join(", ")
        };
        let text = format!(
            "{figure}: results.json says {}, the signed totals give {}",
            shown(got),
            shown(want)
        );
        self.differences.push(FigureDifference {
            figure,
            published: got.clone(),
            expected: want.clone(),
            text,
        });
    }

    fn walk(&mut self, path: &mut Vec<String>, want: &Value, got: &Value) {
        match (want, got) {
            (Value::Object(a), Value::Object(b)) => {
                for (k, av) in a {
                    let bv = b.get(k).unwrap_or(&Value::Null);
                    // A list of named elements (contests, regions,
                    // choices) is named by its elements alone, when the
                    // file has a list there too; otherwise by its key.
                    let named = bv.is_array()
                        && av
                            .as_array()
                            .and_then(|v| v.first())
                            .and_then(element_name)
                            .is_some();
                    if !named {
                        path.push(k.replace('_', " "));
                    }
                    self.walk(path, av, bv);
                    if !named {
                        path.pop();
                    }
                }
                for (k, bv) in b {
                    if !a.contains_key(k) {
                        path.push(k.replace('_', " "));
                        self.differ(path, &Value::Null, bv);
                        path.pop();
                    }
                }
            }
            (Value::Array(a), Value::Array(b)) => {
                for (i, av) in a.iter().enumerate() {
                    let name = element_name(av).unwrap_or_else(|| format!("item {}", i + 1));
                    path.push(name);
                    self.walk(path, av, b.get(i).unwrap_or(&Value::Null));
                    path.pop();
                }
                if b.len() > a.len() {
                    path.push(format!("items after {}", a.len()));
                    self.differ(path, &Value::Null, &json!(b.len() - a.len()));
                    path.pop();
                }
            }
            _ => {
                self.figures += 1;
                if want != got {
                    self.differ(path, want, got);
                }
            }
        }
    }
}
