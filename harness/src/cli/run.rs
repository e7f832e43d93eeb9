//! `harness run`: maps the arguments onto a [`Campaign`], shows its events as progress
//! lines, and prints what it gave. The work is `crate::run::campaign`'s; starting the
//! in-process virtual farm is this module's (the core never imports the farm).

use std::io;
use std::time::Duration;

use super::RunArgs;
use crate::errors::HarnessError;
use crate::event::{Events, RunEvent};
use crate::farm::server::{Farm, serve};
use crate::report::{CLEAR_LINE, LiveStatus, ProgressLines};
use crate::run::campaign::{BaselineComparison, Campaign, CampaignOptions, FarmStarter};
use crate::run::interrupt::{Interrupt, SESSION_END_GRACE, StopSignal};
use crate::stats::ChangeKind;

fn options(args: RunArgs) -> CampaignOptions {
    CampaignOptions {
        flows: args.flows,
        devices: args.device,
        iterations: args.iterations,
        parallel: args.parallel,
        shard: args.shard,
        seed: args.seed,
        include_tags: args.include_tags,
        exclude_tags: args.exclude_tags,
        fail_fast: args.fail_fast,
        retries: args.retries,
        until_confident: args.until_confident.then_some(args.threshold),
        baseline: args.baseline,
        flow_timeout: args.timeout,
        reports: args.reports,
        env: args.env,
    }
}

/// The embedded virtual farm, served on a free loopback port for the run's lifetime.
struct InProcessFarm;

#[async_trait::async_trait]
impl FarmStarter for InProcessFarm {
    async fn start(&self, seed: u64) -> io::Result<String> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        tokio::spawn(serve(listener, Farm::new(seed)));
        Ok(url)
    }
}

pub fn run(args: RunArgs) -> Result<i32, HarnessError> {
    let iterations = args.iterations;
    let campaign = Campaign::prepare(options(args))?;
    eprintln!(
        "harness run {}: {} cases ({} flows × {} devices × {iterations} iterations), parallel {}, seed {}",
        campaign.run_id(),
        campaign.cases().len(),
        campaign.flow_count(),
        campaign.devices().len(),
        campaign.options().parallel,
        campaign.seed(),
    );
    let rt = super::runtime()?;
    let outcome = rt.block_on(async {
        let (events, rx) = Events::channel();
        let printer = tokio::spawn(print_progress(rx));
        let interrupt = Interrupt::new();
        let signals = tokio::spawn(watch_signals(interrupt.clone()));
        let outcome = campaign.run_until(&InProcessFarm, events, interrupt).await;
        signals.abort();
        // The campaign dropped its sender: the printer ends after the last line.
        let _ = printer.await;
        outcome
    })?;
    for verdict in &outcome.verdicts {
        eprintln!("until-confident: {verdict}");
    }
    super::summarise(&outcome.reports, &outcome.results);
    if let Some(baseline) = &outcome.baseline {
        print_baseline(baseline);
    }
    if let Some(signal) = outcome.interrupted {
        eprintln!(
            "interrupted ({}): the reports hold the finished cases; the others are skipped (exit code {})",
            signal.name(),
            signal.exit_code()
        );
    }
    Ok(outcome.exit_code())
}

/// Turns SIGINT (Ctrl-C) and SIGTERM into a stop of the run; a second signal ends the
/// process at once (with the first one's exit code) without waiting for sessions to end.
async fn watch_signals(interrupt: Interrupt) {
    let mut signals = Signals::new();
    let mut first: Option<StopSignal> = None;
    loop {
        let signal = signals.next().await;
        match first {
            None => {
                first = Some(signal);
                eprintln!(
                    "{}: stopping — no new case starts; running sessions end (up to {} s); reports follow. \
                     Again to quit at once.",
                    signal.name(),
                    SESSION_END_GRACE.as_secs()
                );
                interrupt.trigger(signal);
            }
            Some(f) => {
                eprintln!(
                    "{}: quitting now (events.jsonl holds the finished cases)",
                    signal.name()
                );
                std::process::exit(f.exit_code());
            }
        }
    }
}

/// SIGINT and SIGTERM, listened to from creation on.
struct Signals {
    #[cfg(unix)]
    streams: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Signals {
    fn new() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Signals {
                streams: signal(SignalKind::interrupt())
                    .and_then(|i| Ok((i, signal(SignalKind::terminate())?)))
                    .ok(),
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    async fn next(&mut self) -> StopSignal {
        #[cfg(unix)]
        if let Some((int, term)) = &mut self.streams {
            return tokio::select! {
                _ = int.recv() => StopSignal::Interrupt,
                _ = term.recv() => StopSignal::Terminate,
            };
        }
        let _ = tokio::signal::ctrl_c().await;
        StopSignal::Interrupt
    }
}

/// Shows the run's events: on a terminal (stderr, and `CI` unset) one live status line with
/// the cases that did not pass printed above it; otherwise a line per finished case.
async fn print_progress(mut rx: tokio::sync::mpsc::UnboundedReceiver<RunEvent>) {
    use std::io::{IsTerminal, Write};
    let live = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
    if !live {
        let mut lines = ProgressLines::new();
        while let Some(event) = rx.recv().await {
            if let Some(line) = lines.line(&event) {
                eprintln!("{line}");
            }
        }
        return;
    }
    let started = std::time::Instant::now();
    let mut status = LiveStatus::new();
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    let mut shown = false;
    let write = |text: &str| {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(text.as_bytes());
        let _ = err.flush();
    };
    loop {
        tokio::select! {
            event = rx.recv() => {
                let Some(event) = event else { break };
                if let Some(text) = status.observe(&event, started.elapsed()) {
                    shown = !matches!(event, RunEvent::RunFinished { .. });
                    write(&text);
                }
            }
            _ = ticks.tick() => {
                if shown {
                    write(&status.tick(started.elapsed()));
                }
            }
        }
    }
    if shown {
        write(CLEAR_LINE);
    }
}

pub(super) fn print_baseline(b: &BaselineComparison) {
    match &b.changes {
        Ok(changes) => {
            if changes.is_empty() {
                println!("against the baseline {}: no significant change", b.path.display());
            }
            for c in changes {
                let word = match c.kind {
                    ChangeKind::Regression => "REGRESSION",
                    ChangeKind::Improvement => "improvement",
                };
                println!(
                    "{word}: {} on {}: {}/{} → {}/{} (Fisher p = {:.2e})",
                    c.flow, c.device, c.base.0, c.base.1, c.now.0, c.now.1, c.p_value
                );
            }
        }
        Err(e) => eprintln!("warning: cannot read the baseline: {e}"),
    }
}

/// `--timeout 5m`.
pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    crate::lower::parse_duration(s)
}
