//! Ops with effects beyond their result, for building realistic and adversarial
//! graphs: waiting (`sleep`), burning CPU (`busy`), failing (`fail`), killing the
//! process (`crash`) and running a shell command (`shell`, whose process group a run
//! ends when it stops early: `shells.rs`).

use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use super::args::expect_arity;
use super::shells::Shells;
use super::{OpError, OpResult, Registry};
use crate::value::Value;

/// How much of a failed command's stderr goes into the error, in bytes.
const STDERR_TAIL: usize = 500;

/// Registers `sleep busy fail crash shell`.
pub(super) fn register(registry: &mut Registry) {
    registry.register("sleep", |args| {
        expect_arity(args, 1, 2)?;
        std::thread::sleep(duration(&args[0])?);
        Ok(args.get(1).cloned().unwrap_or_default())
    });
    registry.register("busy", |args| {
        expect_arity(args, 1, 2)?;
        spin(duration(&args[0])?);
        Ok(args.get(1).cloned().unwrap_or_default())
    });
    registry.register("fail", |args| {
        expect_arity(args, 1, 1)?;
        Err(match &args[0] {
            Value::Str(s) => OpError::new(&**s),
            other => OpError(other.to_json()),
        })
    });
    registry.register("crash", |args| {
        expect_arity(args, 0, 0)?;
        std::process::abort()
    });
    registry.register("shell", |args| {
        expect_arity(args, 1, 1)?;
        match &args[0] {
            Value::Str(command) => shell(command),
            other => Err(OpError(format!(
                "command must be a string, got {}",
                other.type_name()
            ))),
        }
    });
}

/// A duration given in milliseconds, as an int or a float; negative is an error.
fn duration(ms: &Value) -> Result<Duration, OpError> {
    let ms = match *ms {
        Value::Int(i) => i as f64,
        Value::Float(f) => f,
        ref other => {
            return Err(OpError(format!(
                "milliseconds must be a number, got {}",
                other.type_name()
            )))
        }
    };
    if ms < 0.0 {
        return Err(OpError(format!(
            "milliseconds must not be negative, got {ms}"
        )));
    }
    Duration::try_from_secs_f64(ms / 1000.0)
        .map_err(|_| OpError(format!("duration of {ms} ms is out of range")))
}

/// Burns `d` of this thread's CPU time (not wall time: with more workers than cores,
/// a task must still cost its CPU, or speed-ups beyond the core count would appear).
/// Falls back to wall time where the thread's CPU clock is unavailable.
fn spin(d: Duration) {
    let wall = Instant::now();
    let cpu = thread_cpu_time();
    let elapsed = || match (cpu, thread_cpu_time()) {
        (Some(start), Some(now)) => now.saturating_sub(start),
        _ => wall.elapsed(),
    };
    let mut x = 0u64;
    while elapsed() < d {
        for _ in 0..1000 {
            x = black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
        }
    }
    black_box(x);
}

/// CPU time consumed by the calling thread so far, if the system can tell.
fn thread_cpu_time() -> Option<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write to; the clock id is a constant.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (rc == 0).then(|| Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

/// Runs `sh -c command` in a process group of its own, which the run ends should it
/// stop early (see `Shells`), and returns its stdout minus one trailing newline.
fn shell(command: &str) -> OpResult {
    let out = Shells::run(Command::new("sh").arg("-c").arg(command))
        .map_err(|e| OpError(format!("cannot run sh: {e}")))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail = tail(stderr.trim(), STDERR_TAIL);
        return Err(OpError(if tail.is_empty() {
            format!("command failed ({})", out.status)
        } else {
            format!("command failed ({}): {tail}", out.status)
        }));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stdout = stdout.strip_suffix('\n').unwrap_or(&stdout);
    Ok(Value::str(stdout))
}

/// The last `max` bytes or so of `s`, starting on a character boundary and trimmed.
fn tail(s: &str, max: usize) -> &str {
    let mut start = s.len().saturating_sub(max);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    s[start..].trim_start()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::super::args::call;
    use crate::value::Value;

    fn shell(command: &str) -> Result<Value, String> {
        call("shell", &[command.into()]).map_err(|e| e.0)
    }

    #[test]
    fn sleep_waits_and_returns_its_value() {
        let start = Instant::now();
        assert_eq!(call("sleep", &[30.into(), "v".into()]), Ok(Value::str("v")));
        assert!(start.elapsed() >= Duration::from_millis(30));
        assert_eq!(call("sleep", &[0.5.into()]), Ok(Value::Null));
    }

    #[test]
    fn busy_takes_at_least_the_asked_time() {
        let start = Instant::now();
        assert_eq!(call("busy", &[40.into(), 7.into()]), Ok(Value::Int(7)));
        assert!(start.elapsed() >= Duration::from_millis(40));
        assert_eq!(call("busy", &[0.into()]), Ok(Value::Null));
    }

    #[test]
    fn durations_must_be_non_negative_numbers() {
        for op in ["sleep", "busy"] {
            assert!(call(op, &[(-1).into()]).is_err());
            assert!(call(op, &[(-0.5).into()]).is_err());
            assert!(call(op, &["10".into()]).is_err());
            assert!(call(op, &[true.into()]).is_err());
            assert!(call(op, &[1e300.into()]).is_err());
            assert!(call(op, &[]).is_err());
        }
    }

    #[test]
    fn fail_carries_its_message() {
        assert_eq!(call("fail", &["boom".into()]).unwrap_err().0, "boom");
        let v = Value::list([1.into(), "a".into()]);
        assert_eq!(call("fail", &[v]).unwrap_err().0, r#"[1,"a"]"#);
        assert!(call("fail", &[]).is_err());
    }

    #[test]
    fn crash_checks_its_arity_before_aborting() {
        assert!(call("crash", &[1.into()]).is_err());
    }

    #[test]
    fn shell_returns_stdout_minus_one_newline() {
        assert_eq!(shell("echo hi"), Ok(Value::str("hi")));
        assert_eq!(shell("printf 'a\\n\\n'"), Ok(Value::str("a\n")));
        assert_eq!(shell("printf x"), Ok(Value::str("x")));
        assert_eq!(shell("true"), Ok(Value::str("")));
        assert!(call("shell", &[1.into()]).is_err());
    }

    #[test]
    fn shell_failure_quotes_status_and_stderr_tail() {
        let err = shell("echo out; echo oops >&2; exit 3").unwrap_err();
        assert!(err.contains("oops") && err.contains('3'), "{err}");
        assert!(!err.contains("out;"), "{err}");
        let err = shell("kill -9 $$").unwrap_err();
        assert!(err.contains("signal"), "{err}");
        // Only the end of a long stderr is kept.
        let err = shell("i=0; while [ $i -lt 300 ]; do echo line$i >&2; i=$((i+1)); done; exit 1")
            .unwrap_err();
        assert!(err.contains("line299") && !err.contains("line1\n"), "{err}");
        assert!(err.len() < 600, "{}", err.len());
    }
}
