//! `taskloom map --executor mpi`: the items spread over the ranks of an MPI job
//! (`mpirun -n K taskloom map ...`, the same command line on every rank).
//!
//! - Rank 0 keeps the run: it loads the items, hands them out and delivers, logs and
//!   counts what ends (`taskloom_map::run`, with [`Ranks`] as the place the items run),
//!   so output order, `--results`, `--resume`, `--halt`, the messages and the exit code
//!   are those of a run on one machine.
//! - A worker rank runs the items it is handed with the map's own runner
//!   (`run_fed`): up to its `-j` at once, each in a process group of its own, retried
//!   and timed out there; it reports each item's end (status, output, why it was
//!   stopped) and answers every item it did not start, so that rank 0 always knows
//!   what still runs.
//! - Rank 0 halts as on one machine (`Course`) and tells the ranks: a halt `now`, an
//!   abandoned run or a signal stops what runs everywhere. A terminating signal that
//!   reaches a worker rank (a launcher or batch system signals every rank; mpirun ends
//!   a job whose rank died that way) stops its items at once and then the whole run.
//! - A worker rank killed outright (SIGKILL) leaves no item running: a guard process
//!   of its own ends their groups (`taskloom_map::guard`); mpirun ends the other ranks,
//!   which end their items themselves.
//! - Alone (`mpirun -n 1`) rank 0 runs the items itself, as the MPI executor of `run`
//!   runs its tasks.
//! - Every item handed out is answered once (ended or not started), and rank 0 says
//!   `End` to every rank when it leaves, whatever became of the run: no rank waits for
//!   one that has gone, and every rank finalizes MPI.

use taskloom_map::{Map, Place};

use super::CommandError;

/// Where `map`'s items run under `--executor mpi`: on the worker ranks, or on rank 0
/// alone when it is the only one. On a worker rank this serves rank 0 and exits.
#[cfg(feature = "mpi")]
pub fn place(map: &Map) -> Result<Box<dyn Place>, CommandError> {
    let link = taskloom::mpi::Link::init()?;
    if link.rank() != 0 {
        let code = ranks::serve(&link, map);
        // Finalizes MPI, with the other ranks.
        drop(link);
        std::process::exit(code)
    }
    if link.ranks() == 1 {
        return Ok(Box::new(taskloom_map::Local));
    }
    Ok(Box::new(ranks::Ranks::new(link)))
}

/// Without the `mpi` feature: the refusal, from rank 0 only.
#[cfg(not(feature = "mpi"))]
pub fn place(_map: &Map) -> Result<Box<dyn Place>, CommandError> {
    Err(super::mpi::refusal())
}

#[cfg(feature = "mpi")]
mod ranks {
    use std::collections::VecDeque;
    use std::ffi::OsString;
    use std::io;
    use std::os::fd::BorrowedFd;
    use std::time::{Duration, Instant};

    use rustix::event::{poll, PollFd, PollFlags};
    use serde::{Deserialize, Serialize};
    use taskloom::mpi::Link;
    use taskloom_child::Interrupts;
    use taskloom_map::course::{Course, Cut};
    use taskloom_map::guard::Guard;
    use taskloom_map::runner::{self, Ended, Feed, Flow, Halt, Options, Stop};
    use taskloom_map::{Error, Map, Place};

    /// What rank 0 tells a worker rank.
    #[derive(Debug, Serialize, Deserialize)]
    enum Order {
        /// Run item `index` (rank 0's numbering) with this command line.
        Item { index: usize, argv: Vec<OsString> },
        /// Stop what runs and start nothing more, for this reason.
        Stop(Stop),
        /// The run is over: stop whatever still runs and leave.
        End,
    }

    /// What a worker rank tells rank 0.
    #[derive(Debug, Serialize, Deserialize)]
    enum Answer {
        /// Ready to run up to `jobs` items at once.
        Ready { jobs: usize },
        /// An item ended (its last attempt).
        Ended(Ended),
        /// An item it was handed did not start: the run was stopping.
        Unstarted(usize),
        /// Its runner stopped the run: a terminating signal reached this rank.
        Stopped(Stop),
        /// The machine refused what its items need (processes, pipes).
        Failed(String),
    }

    /// An answer's `started` is the receiver's clock: its attempts began `seconds` ago.
    fn started_ago(seconds: f64) -> Instant {
        let now = Instant::now();
        Duration::try_from_secs_f64(seconds)
            .ok()
            .and_then(|ago| now.checked_sub(ago))
            .unwrap_or(now)
    }

    /// The rank that keeps the run.
    const ZERO: usize = 0;

    /// Rank 0's view of the worker ranks: the place where the items run.
    pub struct Ranks {
        link: Link,
    }

    impl Ranks {
        pub fn new(link: Link) -> Self {
            Ranks { link }
        }

        /// Tells every worker rank `order`.
        fn tell_all(&self, order: &Order) -> io::Result<()> {
            (1..self.link.ranks()).try_for_each(|rank| self.link.send(rank, order))
        }

        /// Tells every worker rank to stop, when the course says the running items
        /// must (a second signal reaches the ranks by itself).
        fn tell(&self, cut: Option<Cut>, stop: Stop) -> io::Result<()> {
            match cut {
                Some(Cut::Cancel(_)) => self.tell_all(&Order::Stop(stop)),
                Some(Cut::Kill) | None => Ok(()),
            }
        }
    }

    /// A worker rank as rank 0 sees it.
    #[derive(Default)]
    struct Worker {
        /// How many items it runs at once; 0 until it is ready.
        jobs: usize,
        /// Items handed to it and not answered yet.
        handed: usize,
    }

    impl Place for Ranks {
        fn run(
            &mut self,
            count: usize,
            command_line: &mut dyn FnMut(usize) -> Vec<OsString>,
            options: &Options,
            on_end: &mut dyn FnMut(Ended) -> Flow,
        ) -> Result<Stop, Error> {
            let signals = Interrupts::install()?;
            let mut course = Course::new(options.halt);
            let mut workers: Vec<Worker> =
                (0..self.link.ranks()).map(|_| Worker::default()).collect();
            let mut next = 0;
            let mut fatal: Option<Error> = None;
            let mut answers = Vec::new();
            loop {
                self.link.receive(|from, answer: Answer| {
                    answers.push((from, answer));
                    Ok(())
                })?;
                for (from, answer) in answers.drain(..) {
                    let worker = &mut workers[from];
                    match answer {
                        Answer::Ready { jobs } => worker.jobs = jobs.max(1),
                        Answer::Ended(mut ended) => {
                            worker.handed = worker.handed.saturating_sub(1);
                            ended.started = started_ago(ended.seconds);
                            // Lanes per rank, one after the other, for the timeline.
                            ended.lane += (from - 1) * options.jobs;
                            let cut = course.conclude(ended, on_end);
                            self.tell(cut, course.stop())?;
                        }
                        Answer::Unstarted(_) => worker.handed = worker.handed.saturating_sub(1),
                        Answer::Stopped(stop) => {
                            let cut = course.stop_by(stop);
                            self.tell(cut, course.stop())?;
                        }
                        Answer::Failed(why) => {
                            fatal.get_or_insert(Error::Io(io::Error::other(format!(
                                "rank {from}: {why}"
                            ))));
                            self.tell(course.fail(), Stop::Halted)?;
                        }
                    }
                }
                if course.accepting() {
                    for (rank, worker) in workers.iter_mut().enumerate().skip(1) {
                        while worker.handed < worker.jobs && next < count {
                            let argv = command_line(next);
                            self.link.send(rank, &Order::Item { index: next, argv })?;
                            worker.handed += 1;
                            next += 1;
                        }
                    }
                }
                let handed: usize = workers.iter().map(|w| w.handed).sum();
                if handed == 0 && !(course.accepting() && next < count) {
                    break;
                }
                wait(self.link.news(), &signals)?;
                if let Some(signal) = signals.pending() {
                    let cut = course.interrupt(signal);
                    self.tell(cut, course.stop())?;
                }
            }
            let stop = course.finish(signals.pending());
            match fatal {
                Some(error) => Err(error),
                None => Ok(stop),
            }
        }
    }

    /// Waits until messages come or a terminating signal arrives.
    fn wait(news: BorrowedFd<'_>, signals: &Interrupts) -> io::Result<()> {
        let mut fds = vec![PollFd::from_borrowed_fd(news, PollFlags::IN)];
        fds.extend(
            signals
                .streams()
                .map(|(_, s)| PollFd::new(s, PollFlags::IN)),
        );
        match poll(&mut fds, None) {
            Ok(_) | Err(rustix::io::Errno::INTR) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    impl Drop for Ranks {
        fn drop(&mut self) {
            // The link is going: nobody would hear of a failure to say it.
            let _ = self.tell_all(&Order::End);
        }
    }

    /// The items rank 0 hands this rank, as the runner takes them.
    struct Handed<'a> {
        link: &'a Link,
        /// Ends the items' groups if this rank is killed outright.
        guard: Guard,
        queue: VecDeque<(usize, Vec<OsString>)>,
        stop: Option<Stop>,
        open: bool,
        /// A message that could not be read: the run cannot go on.
        broken: Option<io::Error>,
    }

    impl Handed<'_> {
        fn take_in(&mut self) {
            let mut orders = Vec::new();
            let received = self.link.receive(|_, order: Order| {
                orders.push(order);
                Ok(())
            });
            if let Err(e) = received {
                self.broken.get_or_insert(e);
                self.open = false;
                self.stop.get_or_insert(Stop::Abandoned);
            }
            for order in orders {
                match order {
                    Order::Item { index, argv } => self.queue.push_back((index, argv)),
                    Order::Stop(stop) => self.stop = Some(stop),
                    Order::End => {
                        self.open = false;
                        self.stop = Some(Stop::Abandoned);
                    }
                }
            }
        }
    }

    impl Feed for Handed<'_> {
        fn next(&mut self) -> Option<(usize, Vec<OsString>)> {
            self.queue.pop_front()
        }

        fn open(&self) -> bool {
            self.open
        }

        fn update(&mut self) -> Option<Stop> {
            self.take_in();
            self.stop.take()
        }

        fn news(&self) -> Option<BorrowedFd<'_>> {
            Some(self.link.news())
        }

        fn group_started(&mut self, group: u32) {
            self.guard.started(group);
        }

        fn group_reaped(&mut self, group: u32) {
            self.guard.reaped(group);
        }
    }

    /// Runs the items rank 0 hands this rank until it says `End`; returns the rank's
    /// exit code (rank 0 reports the run).
    pub fn serve(link: &Link, map: &Map) -> i32 {
        match serve_items(link, map) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("taskloom MPI rank {}: {e}", link.rank());
                1
            }
        }
    }

    fn serve_items(link: &Link, map: &Map) -> io::Result<()> {
        // Halts are rank 0's to decide: it sees every rank's failures.
        let options = Options {
            halt: Halt::Never,
            ..map.options.clone()
        };
        link.send(ZERO, &Answer::Ready { jobs: options.jobs })?;
        let mut feed = Handed {
            link,
            guard: Guard::start()?,
            queue: VecDeque::new(),
            stop: None,
            open: true,
            broken: None,
        };
        let mut unsent = None;
        let outcome = runner::run_fed(&mut feed, &options, |ended| {
            if let Err(e) = link.send(ZERO, &Answer::Ended(ended)) {
                unsent.get_or_insert(e);
            }
            Flow::Go
        });
        match outcome {
            Ok(stop @ Stop::Interrupted(_)) => link.send(ZERO, &Answer::Stopped(stop))?,
            Ok(_) => {}
            Err(e) => link.send(ZERO, &Answer::Failed(e.to_string()))?,
        }
        if let Some(e) = unsent.or(feed.broken.take()) {
            return Err(e);
        }
        // Until rank 0 says `End`, every item handed is one that will not start.
        loop {
            for (index, _) in feed.queue.drain(..) {
                link.send(ZERO, &Answer::Unstarted(index))?;
            }
            if !feed.open {
                return Ok(());
            }
            let mut fds = [PollFd::from_borrowed_fd(link.news(), PollFlags::IN)];
            match poll(&mut fds, None) {
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
            feed.take_in();
            if let Some(e) = feed.broken.take() {
                return Err(e);
            }
        }
    }
}
