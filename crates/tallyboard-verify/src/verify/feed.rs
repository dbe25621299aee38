//! Watch mode's live feed (spec/feed.md): the events of each round.

use tallyboard_core::time::format_rfc3339;

use super::*;
use crate::feed::{FEED_FORMAT, FeedCheckpoint, FeedEvent, FeedLine, UnitFigures, leaders};

/// What the feed has said so far.
#[derive(Default)]
pub(super) struct FeedState {
    /// The size of the last checkpoint announced.
    size: u64,
    /// Sources announced as stale.
    stale: HashSet<usize>,
    /// Whether the certification was announced.
    certified: bool,
}

impl Run<'_> {
    /// The feed's lines of the round that just ended (after its checks and
    /// completeness); `printed` findings were announced before.
    pub(super) fn feed_round(&mut self, printed: usize) -> Vec<FeedLine> {
        let Some(mut state) = self.feed.take() else {
            return Vec::new();
        };
        let mut events = Vec::new();
        let size = self.trusted.size();
        if size > state.size {
            events.push(FeedEvent::Checkpoint {
                witnessed: self.witnessed,
                source: self
                    .checked_from
                    .map(|i| self.label(i).to_owned())
                    .unwrap_or_default(),
            });
            state.size = size;
        }
        for (index, st) in self.checker.take_journal() {
            let figures = UnitFigures::of(index, &st);
            events.push(if figures.supersedes.is_some() {
                FeedEvent::Correction(figures)
            } else {
                FeedEvent::UnitReported(figures)
            });
        }
        for f in self.ledger.findings.iter().skip(printed) {
            events.push(FeedEvent::Finding {
                finding: Box::new(f.clone()),
            });
        }
        for (i, r) in self.reports.iter().enumerate() {
            let behind = !r.reachable || r.size.is_some_and(|s| s < size);
            if behind && state.stale.insert(i) {
                events.push(FeedEvent::SourceStale {
                    source: r.source.clone(),
                    source_size: r.size.unwrap_or(0),
                });
            } else if !behind && state.stale.remove(&i) {
                events.push(FeedEvent::SourceBack {
                    source: r.source.clone(),
                });
            }
        }
        if let Some(c) = &self.status.certification
            && !state.certified
        {
            state.certified = true;
            events.push(FeedEvent::Certified {
                certified_at: c.certified_at.clone(),
            });
        }
        let m = self.manifest.manifest();
        let order: Vec<(String, Vec<String>)> = m
            .contests
            .iter()
            .map(|c| {
                (
                    c.id.clone(),
                    c.choices.iter().map(|x| x.id.clone()).collect(),
                )
            })
            .collect();
        let totals = self.checker.totals(size, self.trusted.root());
        events.push(FeedEvent::Round {
            units_reporting: self.status.units_reporting,
            units_expected: self.status.units_expected,
            share_reporting: if self.status.units_expected == 0 {
                1.0
            } else {
                self.status.units_reporting as f64 / self.status.units_expected as f64
            },
            leaders: leaders(&totals, &order),
        });
        self.feed = Some(state);
        let checkpoint = FeedCheckpoint {
            origin: m.log.origin.clone(),
            size,
            root: self.trusted.root().to_hex(),
        };
        let time = format_rfc3339(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        );
        events
            .into_iter()
            .map(|event| FeedLine {
                format: FEED_FORMAT,
                time: time.clone(),
                checkpoint: checkpoint.clone(),
                results: self.status.results,
                event,
            })
            .collect()
    }
}
