//! Background work that must not quietly stop: expiry, webhooks, the lifecycle sweep, session cleanup and
//! the intake writer. Each runs in passes; a failed pass is logged and retried with backoff, a panicking one
//! is caught (each pass is its own tokio task) and the next pass runs, a row that cannot be read is skipped
//! and reported rather than blocking the rest, and `/readyz` reads the state kept here.

use serde::Serialize;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Longest wait between attempts of a pass that keeps failing.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// What one pass did not manage: rows it skipped, each with why, for the log and the task's report.
pub type Skipped = Vec<String>;

#[derive(Clone, Default)]
pub struct Tasks(Arc<Mutex<BTreeMap<&'static str, Task>>>);

#[derive(Debug, Clone)]
struct Task {
    /// A pass that has not started or ended within this long means the task is stuck or gone.
    stall_after: Option<Duration>,
    last_beat: Instant,
    running: bool,
    failures: u32,
    skipped: u64,
}

/// One task as `/readyz` shows it: no error text (that goes to the log), nothing about the data.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TaskReport {
    pub name: &'static str,
    /// `running`, `failing` (its last pass failed; it is being retried) or `stopped`.
    pub state: &'static str,
    pub consecutive_failures: u32,
    pub skipped_rows: u64,
}

impl Tasks {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<&'static str, Task>> {
        // A panic while holding this lock cannot leave a half-written entry: every update is one assignment.
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers `name`; `stall_after` is `None` for a task that is idle until work arrives.
    pub fn register(&self, name: &'static str, stall_after: Option<Duration>) -> TaskGuard {
        let task = Task { stall_after, last_beat: Instant::now(), running: true, failures: 0, skipped: 0 };
        self.lock().insert(name, task);
        TaskGuard { tasks: self.clone(), name }
    }

    /// Records a pass's end: `Ok(skipped)` or the error that failed it. Returns how long to wait before the
    /// next pass: `every`, or a backoff doubling with each consecutive failure.
    pub fn settle(&self, name: &'static str, every: Duration, outcome: Result<Skipped, String>) -> Duration {
        let mut tasks = self.lock();
        let Some(task) = tasks.get_mut(name) else { return every };
        task.last_beat = Instant::now();
        match outcome {
            Ok(skipped) => {
                for why in &skipped {
                    tracing::error!(task = name, %why, "background task skipped a row it cannot read");
                }
                task.skipped += skipped.len() as u64;
                task.failures = 0;
                every
            }
            Err(error) => {
                task.failures = task.failures.saturating_add(1);
                tracing::error!(task = name, %error, failures = task.failures, "background pass failed; retrying");
                every.saturating_mul(1 << task.failures.min(6)).clamp(every, MAX_BACKOFF.max(every))
            }
        }
    }

    /// Runs `pass` every `every` until the process ends, each pass in a task of its own so that a panic
    /// is reported and retried like an error.
    pub fn every<P, F>(&self, name: &'static str, every: Duration, mut pass: P)
    where
        P: FnMut() -> F + Send + 'static,
        F: Future<Output = Result<Skipped, String>> + Send + 'static,
    {
        // A pass may legitimately take a while (thousands of expiries); ten intervals or a minute is stuck.
        let guard = self.register(name, Some((every * 10).max(Duration::from_secs(60)) + MAX_BACKOFF));
        tokio::spawn(async move {
            loop {
                let outcome = tokio::spawn(pass()).await.unwrap_or_else(|e| Err(panicked(&e)));
                tokio::time::sleep(guard.tasks.settle(name, every, outcome)).await;
            }
        });
    }

    pub fn report(&self) -> Vec<TaskReport> {
        self.lock()
            .iter()
            .map(|(name, task)| {
                let stalled = task.stall_after.is_some_and(|limit| task.last_beat.elapsed() > limit);
                let state = match (task.running && !stalled, task.failures) {
                    (false, _) => "stopped",
                    (true, 0) => "running",
                    (true, _) => "failing",
                };
                TaskReport { name, state, consecutive_failures: task.failures, skipped_rows: task.skipped }
            })
            .collect()
    }
}

/// The error of a pass that panicked, for `settle`.
pub fn panicked(e: &tokio::task::JoinError) -> String {
    if e.is_panic() {
        "the pass panicked".to_string()
    } else {
        format!("the pass was cancelled: {e}")
    }
}

/// Held by a task's loop: when the loop ends (or its tokio task is dropped), the task is reported stopped.
pub struct TaskGuard {
    tasks: Tasks,
    name: &'static str,
}

impl TaskGuard {
    pub fn beat(&self) {
        if let Some(task) = self.tasks.lock().get_mut(self.name) {
            task.last_beat = Instant::now();
        }
    }

    pub fn settle(&self, every: Duration, outcome: Result<Skipped, String>) -> Duration {
        self.tasks.settle(self.name, every, outcome)
    }
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        if let Some(task) = self.tasks.lock().get_mut(self.name) {
            task.running = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(tasks: &Tasks, name: &str) -> TaskReport {
        tasks.report().into_iter().find(|t| t.name == name).expect("registered")
    }

    #[test]
    fn failures_back_off_and_a_good_pass_resets_them() {
        let tasks = Tasks::default();
        let _guard = tasks.register("expiry", Some(Duration::from_secs(60)));
        let every = Duration::from_secs(1);
        assert_eq!(tasks.settle("expiry", every, Err("database down".into())), Duration::from_secs(2));
        assert_eq!(tasks.settle("expiry", every, Err("database down".into())), Duration::from_secs(4));
        assert_eq!(state(&tasks, "expiry").state, "failing");
        for _ in 0..10 {
            assert!(tasks.settle("expiry", every, Err("database down".into())) <= MAX_BACKOFF);
        }
        assert_eq!(tasks.settle("expiry", every, Ok(vec!["held action x: no agent".into()])), every);
        let report = state(&tasks, "expiry");
        assert_eq!((report.state, report.consecutive_failures, report.skipped_rows), ("running", 0, 1));
    }

    #[test]
    fn a_task_whose_loop_ended_or_stalled_is_stopped() {
        let tasks = Tasks::default();
        drop(tasks.register("webhooks", None));
        assert_eq!(state(&tasks, "webhooks").state, "stopped");
        let _stuck = tasks.register("expiry", Some(Duration::ZERO));
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(state(&tasks, "expiry").state, "stopped");
        let _idle = tasks.register("intake", None);
        assert_eq!(state(&tasks, "intake").state, "running", "an idle task without a stall limit");
    }

    #[tokio::test]
    async fn a_panicking_pass_is_reported_and_the_next_one_runs() {
        let tasks = Tasks::default();
        let runs = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let counted = runs.clone();
        tasks.every("sweep", Duration::from_millis(1), move || {
            let n = counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move {
                if n == 0 {
                    panic!("a bug in one pass");
                }
                Ok(vec![])
            }
        });
        while runs.load(std::sync::atomic::Ordering::SeqCst) < 3 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(state(&tasks, "sweep").state, "running");
    }
}
