//! # tallyboard-mirror: a copy of the log that checks before it serves
//!
//! A mirror follows an *upstream* (the publication server or another
//! mirror) through its read API and keeps a copy of the log in the C2SP
//! layout on disk (`tallyboard_log`'s mirror mode), which it serves with the
//! same read API as the origin (`tallyboard_read::ReadApi`), or which any
//! static web server can serve.
//!
//! Before it serves a new checkpoint it checks (`spec/mirror.md`):
//!
//! 1. the checkpoint is signed by the manifest's log key and cosigned by
//!    the required number of the manifest's witnesses;
//! 2. it extends the checkpoint the mirror holds (same size: same root;
//!    larger: the entries fetched rebuild the new root from the held right
//!    edge; smaller: the held tree extends it);
//! 3. every entry bundle hashes to it (recomputed tiles and root,
//!    `tallyboard_verify::follow`), and every hash tile the upstream serves
//!    for the new tree is the recomputed one;
//! 4. every new entry is a tally of the election with a valid signature that
//!    obeys every manifest and log rule, in log order;
//!
//! and only then publishes it (tiles durable first, checkpoint last). The
//! upstream's signed totals are served once they equal the totals
//! recomputed from the entries at the same checkpoint.
//!
//! When the upstream shows two signed checkpoints that cannot both be true,
//! or serves data that does not hash to its checkpoint, the mirror stops
//! advancing, writes a self-contained evidence file
//! (`tallyboard_verify::evidence`) under `public/evidence/`, logs it as an
//! error and shows it on `/status` and on the results page. Invalid
//! tallies and wrong totals also stop it, with the finding on `/status`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod bucket;
mod certification;
mod config;
mod entries;
mod open;
mod serve;
mod state;
mod status;
mod sync;
mod totals;

pub use config::{Config, StartError};
pub use entries::BadEntry;
pub use state::Mirror;
pub use status::{Outcome, Problem, Status};
