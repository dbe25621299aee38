//! One module per subcommand. To add a subcommand: add a module with an
//! `Args` struct (clap `Args`) and a `run(Args) -> anyhow::Result<()>`, then
//! one variant and one match arm below.

use clap::Subcommand;

use crate::status::EXIT_HELP;

pub(crate) mod certify;
pub(crate) mod example;
pub(crate) mod exercise;
pub(crate) mod export;
pub(crate) mod keygen;
pub(crate) mod manifest;
pub(crate) mod mirror;
pub(crate) mod paper_input;
pub(crate) mod print;
pub(crate) mod serve;
pub(crate) mod show;
pub(crate) mod sign;
pub(crate) mod submit;
pub(crate) mod verify;
pub(crate) mod witness;

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Generate an Ed25519 key: private key file (owner-only) and its C2SP
    /// verifier key.
    ///
    /// Writes the private key string (PRIVATE+KEY+<name>+<key id>+<base64>,
    /// the Go sumdb/note form) to FILE, created new and readable by its owner
    /// only (mode 0600); an existing FILE or FILE.pub is never overwritten.
    /// Prints the C2SP verifier key (<name>+<key id>+<base64>) and writes it
    /// to FILE.pub. The private key is never printed or logged.
    #[command(after_help = EXIT_HELP)]
    Keygen(keygen::Args),
    /// Build, check or show the signed election manifest.
    Manifest(manifest::Args),
    /// Check a tally sheet against every rule and sign it; a sheet that
    /// breaks any rule is refused whole (exit 1).
    ///
    /// Reads the sheet (CSV with the header unit,contest,line,count; one line
    /// per figure: each choice, blank, invalid, ballots_cast, and optionally
    /// counted_at, revision, supersedes, reason; spec/cli.md), builds the
    /// tally of each (unit, contest) and checks every rule against the
    /// manifest. If any tally breaks any rule, the whole sheet is refused,
    /// every problem is listed with its unit, contest and rule, and nothing is
    /// written. Otherwise each signed tally is written to DIR as
    /// <unit>.<contest>.r<revision>.tally. Signing the same sheet again gives
    /// the same files; a different tally where a file exists is refused.
    #[command(after_help = EXIT_HELP)]
    Sign(sign::Args),
    /// Write the printable sheet of signed tallies: a PDF per tally with
    /// the figures in words and QR codes carrying the signed tally.
    ///
    /// The sheet (A4 or Letter) shows the election, the unit and its
    /// region, every figure with thousands separators, the counted time,
    /// the count centre, a short fingerprint of the signed tally and its QR
    /// codes (spec/paper.md), which anyone can check against the published
    /// log with `tallyboard verify --paper`. Written to DIR as
    /// <unit>.<contest>.r<revision>.pdf; the same tally gives the same file.
    #[command(after_help = EXIT_HELP)]
    Print(print::Args),
    /// Show signed tallies in words: figures, leaf hash, signer, revision.
    ///
    /// Verifies each file's signature and prints the tally as the printed
    /// sheet shows it (names from --manifest when given), with its leaf
    /// hash: what a correction's `supersedes` line names (a correction may
    /// also name the file itself, or `previous`).
    #[command(after_help = EXIT_HELP)]
    Show(show::Args),
    /// Write the deterministic example election (EXAMPLE ONLY — NOT FOR
    /// REAL ELECTIONS) used by the tests, the exercise and the README.
    ///
    /// Keys, manifest input, signed manifest, one tally sheet per count
    /// centre and a broken sheet. Every private key is derived from a
    /// published label, so the output is the same on every run: the
    /// repository's copy is regenerated with
    /// `tallyboard example --out keys-example --force`.
    #[command(after_help = EXIT_HELP)]
    Example(example::Args),
    /// Run the publication server: accept signed tallies, log them, serve
    /// the log, the manifest, the totals and the unit views.
    ///
    /// Submissions (POST /submit) are checked against the manifest and every
    /// rule, sequenced in batches, and answered once durable with a receipt
    /// (C2SP tlog-proof). Reads: /checkpoint, /tile/..., /manifest, /totals,
    /// /units/<id>, /metrics. With --witness URLs, each new checkpoint is
    /// sent to the witnesses and published with their cosignatures. Prints the listening address on stdout. Stops
    /// on Ctrl-C or SIGTERM after finishing the requests and the batch in
    /// flight.
    #[command(after_help = EXIT_HELP)]
    Serve(serve::Args),
    /// Send signed tallies to a publication server and keep the checked
    /// receipts.
    ///
    /// Each tally file (or each *.tally file of a directory, e.g. written by
    /// `sign` while offline) is sent to POST /submit, retried with back-off
    /// while the server is unreachable or busy (honouring Retry-After). Each
    /// receipt is checked (log signature from the manifest, inclusion proof
    /// of the exact tally) and written to DIR/<file>.tlog-proof; a tally
    /// whose receipt is already there and verifies is not sent again.
    /// Prints what was accepted, refused (and why) or is still pending.
    /// Exit 1 if any tally was refused, 2 if any is still pending.
    #[command(after_help = EXIT_HELP)]
    Submit(submit::Args),
    /// Verify the log independently: every signature, tile, rule and total,
    /// across the server, mirrors and local copies, with backup channels.
    ///
    /// Trusts only the election authority's key (--authority). Reads the
    /// manifest, checkpoints (log signature, witness quorum), detects split
    /// views between sources, reads every entry bundle and recomputes every
    /// tile and the root, checks every tally (count centre's signature,
    /// every rule, correction chains), recomputes the totals and compares
    /// them figure by figure with each source's signed totals, cross-checks
    /// backup tallies, observers' counts and receipts, and reports units
    /// not reporting. Prints the verdict first, then each finding in plain
    /// words with what to do about it. --json FILE writes the report,
    /// --evidence DIR the files that prove each finding (re-check one with
    /// --recheck FILE). Exit 0: every check passed; 1: findings; 2: could
    /// not verify (bad arguments, nothing reachable, unreadable input).
    #[command(after_help = EXIT_HELP)]
    Verify(verify::Args),
    /// Verify as `verify` does, then write the verified results to a file:
    /// csv, err (NIST SP 1500-100 ERR CDF v2 JSON) or json.
    ///
    /// Takes every source and flag of `verify`. Refused (exit 1, nothing
    /// written) when verification finds a discrepancy, unless
    /// --allow-findings, in which case the file's header says so. Every
    /// export names the log origin, the checkpoint (size, root, signed
    /// checkpoint text) and the tallyboard version, and is byte for byte
    /// the same for the same log. --level region: region rows instead of
    /// unit rows.
    #[command(after_help = EXIT_HELP)]
    Export(export::Args),
    /// Run a witness (C2SP tlog-witness): cosign the log's checkpoints,
    /// each only if it is consistent with the last one cosigned.
    ///
    /// Serves POST /add-checkpoint for the log the manifest names (and any
    /// --log key): the body is the old size, a consistency proof and the
    /// signed checkpoint; the answer is a cosignature (C2SP tlog-cosignature,
    /// Ed25519 with timestamp), or 404 unknown log, 403 bad log signature,
    /// 409 with the size the witness holds, 422 inconsistent checkpoint, 400
    /// malformed. The latest cosigned checkpoint of each log is stored in
    /// --data before answering; refused forks are kept in --data/refused/.
    /// GET /witness/<sha256(origin) hex>/checkpoint serves it. Prints the
    /// listening address on stdout; stops on Ctrl-C or SIGTERM.
    #[command(after_help = EXIT_HELP)]
    Witness(witness::Args),
    /// Run a mirror: follow an upstream (the origin or another mirror),
    /// check everything before serving it, keep evidence if it misbehaves.
    ///
    /// Polls the upstream's /checkpoint; before serving a new one checks its
    /// log signature and witness cosignatures (--quorum, default the
    /// manifest's), that it extends the tree the mirror holds, that every
    /// entry bundle and tile hashes to it, that every entry is a validly
    /// signed tally obeying every rule, and serves the upstream's totals
    /// once they equal the sum of the entries. Serves the origin's read API
    /// (/checkpoint, /tile/..., /manifest, /totals, /units/<id>, /) plus
    /// /status (JSON) and /evidence/<file>. DATA/public/ is a static copy
    /// any web server can serve. When the upstream shows two conflicting
    /// signed checkpoints or serves data that does not hash to its
    /// checkpoint, the mirror stops advancing and writes an evidence file to
    /// DATA/public/evidence/ (re-checkable with the log key). Prints the
    /// listening address on stdout; stops on Ctrl-C or SIGTERM. --once: sync
    /// once and exit (0 synced, 1 the upstream misbehaved, 2 could not sync).
    #[command(after_help = EXIT_HELP)]
    Mirror(mirror::Args),
    /// Run a whole election night on this machine and rehearse incidents:
    /// the verifier's verdict must be the one the scenario expects.
    ///
    /// Generates the election (keys-example's by default, or --units N up to
    /// 1,000,000), signs every unit's tallies, starts the publication server,
    /// two witnesses and two mirrors (one following the other) on
    /// 127.0.0.1, submits while a verifier watches, plays the scenario and
    /// runs `tallyboard verify` over every source and backup channel.
    /// Prints each phase with its time, then the verifier's report. Exit 0
    /// when the verdict is the one the scenario expects (clean: every check
    /// passes; an attack: it is detected and named), 1 when it is not, 2
    /// when the exercise could not run. `--list` lists the scenarios.
    #[command(after_help = EXIT_HELP)]
    Exercise(exercise::Args),
    /// Close the count: the election authority verifies the log, then signs
    /// and sends the certification of its final checkpoint and totals.
    ///
    /// Runs the whole verification against the server (and any --source);
    /// only a log that passes, with every unit reported (unless
    /// --allow-incomplete), is certified. Signs with the authority key
    /// (--key) a statement binding the checkpoint verified, the SHA-256 of
    /// the server's signed totals at it and of the manifest
    /// (spec/tally-and-manifest.md §10), and posts it to the server's
    /// /certification. The server publishes it (GET /certification,
    /// public/certification) and refuses every later submission; verifiers
    /// then report final, certified results. Exit 0 certified, 1 refused
    /// (verification failed, units missing, the server refused), 2 error.
    #[command(after_help = EXIT_HELP)]
    Certify(certify::Args),
}

impl Command {
    /// Runs the subcommand. A [`crate::status::Refused`] error means exit 1,
    /// any other error exit 2.
    pub(crate) fn run(self) -> anyhow::Result<()> {
        match self {
            Command::Keygen(a) => keygen::run(a),
            Command::Manifest(a) => manifest::run(a),
            Command::Sign(a) => sign::run(a),
            Command::Print(a) => print::run(a),
            Command::Show(a) => show::run(a),
            Command::Example(a) => example::run(a),
            Command::Serve(a) => serve::run(a),
            Command::Submit(a) => submit::run(a),
            Command::Verify(a) => verify::run(a),
            Command::Export(a) => export::run(a),
            Command::Witness(a) => witness::run(a),
            Command::Mirror(a) => mirror::run(a),
            Command::Exercise(a) => exercise::run(a),
            Command::Certify(a) => certify::run(a),
        }
    }
}
