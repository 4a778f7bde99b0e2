//! Where a graph comes from and what its reading promises, end to end: `-` is standard
//! input, an input beyond the size limit is refused at once naming the path and the
//! limit, a graph with no keys is a warning, an unknown op suggests a builtin, and
//! `taskloom ops` lists the builtins (contract: docs/spec/graph-format.md).

use std::time::{Duration, Instant};

use crate::harness::graph::{GraphFile, EXECUTORS};
use crate::harness::{assert_contains_all, Dir, Outcome};

/// `MAX_SOURCE_BYTES`: the size limit of a graph file, as messages print it.
const LIMIT: &str = "4294967295 bytes";

mod standard_input {
    use super::*;

    #[test]
    fn run_dash_reads_the_graph_from_stdin_under_every_executor() {
        let dir = Dir::new();
        for executor in EXECUTORS {
            let run = dir
                .command(&["run", "-", "--get", "y"])
                .args(executor)
                .stdin("x = add(2, 3)\ny = add(x, 3)\n")
                .output();
            assert_eq!(run.json_line(), "8\n", "{}", run.context);
        }
        let run = dir
            .command(&["run", "-"])
            .stdin(r#"{"a": {"op": "inc", "args": [1]}}"#)
            .output();
        assert_eq!(run.json_line(), "{\"a\":2}\n");
    }

    #[test]
    fn graph_dash_reads_stdin_too() {
        let run = Dir::new()
            .command(&["graph", "-"])
            .stdin("x = inc(1)\ny = inc(x)\n")
            .output();
        assert!(run.ok().contains("\"x\" -> \"y\""), "{}", run.stdout);
    }

    #[test]
    fn errors_in_stdin_name_it_stdin() {
        let run = Dir::new()
            .command(&["run", "-"])
            .stdin("a = 1\nb = add(a,\n")
            .output();
        assert_contains_all(run.error(2), &["<stdin>:3:"]);
    }

    #[test]
    fn a_file_called_dash_is_reached_as_dot_slash_dash() {
        let file = GraphFile::named("-", "a = inc(41)\n");
        assert_eq!(file.invoke(&["run", "./-"]).json_line(), "{\"a\":42}\n");
    }
}

mod size_limit {
    use super::*;

    /// A regular file one byte over the limit is refused from its size, before a byte
    /// is read: the file is sparse, so it costs no disk and the refusal is immediate.
    #[test]
    fn a_file_over_the_limit_is_refused_at_once_naming_it_and_the_limit() {
        let dir = Dir::new();
        let file = std::fs::File::create(dir.path("huge.tl")).unwrap();
        file.set_len(u64::from(u32::MAX) + 1).unwrap();
        let started = Instant::now();
        let run = dir.taskloom(&["run", "huge.tl"]);
        assert_contains_all(run.error(2), &["huge.tl", LIMIT, "size limit"]);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
        let run = dir.taskloom(&["graph", "huge.tl"]);
        assert_contains_all(run.error(2), &["huge.tl", LIMIT]);
    }

    // An endless stream (`/dev/zero`) is read up to the same limit: that takes 4 GiB
    // of memory and tens of seconds, so `api::source_limit` checks the stream path
    // with a lowered limit instead.
}

mod empty_graph {
    use super::*;

    /// Asserts exit 0, `{}` on stdout and exactly the warning naming `name` on stderr.
    fn assert_warned(run: &Outcome, name: &str) {
        assert_eq!(run.code, Some(0), "{}\n{}", run.context, run.stderr);
        assert_eq!(run.stdout, "{}\n", "{}", run.context);
        assert_eq!(
            run.stderr,
            format!("taskloom: warning: {name} defines no keys\n"),
            "{}",
            run.context
        );
    }

    #[test]
    fn dev_null_an_empty_object_and_only_comments_warn_and_exit_0() {
        let dir = Dir::new();
        assert_warned(&dir.taskloom(&["run", "/dev/null"]), "/dev/null");
        for (name, source) in [
            ("empty.json", "{}"),
            ("spaced.json", " {\n}\n"),
            ("comments.tl", "# nothing yet\n\n   # still nothing\n"),
            ("blank.tl", "\n\n"),
        ] {
            dir.create(name, source);
            assert_warned(&dir.taskloom(&["run", name]), name);
        }
        let run = dir.command(&["run", "-"]).stdin("").output();
        assert_warned(&run, "<stdin>");
    }

    #[test]
    fn get_of_a_key_in_an_empty_graph_stays_one_error() {
        let dir = Dir::new();
        let run = dir.taskloom(&["run", "/dev/null", "--get", "a"]);
        assert_contains_all(run.error(2), &["'a'"]);
    }

    #[test]
    fn graph_of_an_empty_file_warns_and_prints_an_empty_graph() {
        let run = Dir::new().taskloom(&["graph", "/dev/null"]);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        assert!(run.stdout.starts_with("digraph"), "{}", run.stdout);
        assert_eq!(run.stderr, "taskloom: warning: /dev/null defines no keys\n");
    }
}

mod did_you_mean {
    use super::*;

    #[test]
    fn a_misspelt_op_names_the_file_key_op_and_the_nearest_builtin() {
        let file = GraphFile::text("a = 1\nb = summ([a, 2])\n");
        let message = file.run_everywhere(&[]).error(2).to_string();
        assert_contains_all(
            &message,
            &["graph.txt", "'b'", "'summ'", "did you mean 'sum'?"],
        );
        let file = GraphFile::json(r#"{"k": {"op": "ad", "args": [1, 2]}}"#);
        assert_contains_all(file.run(&[]).error(2), &["'k'", "'ad'", "'add'"]);
    }

    #[test]
    fn a_name_far_from_every_builtin_suggests_nothing() {
        let file = GraphFile::text("b = frobnicate(1)\n");
        let run = file.run(&[]);
        let message = run.error(2);
        assert_contains_all(message, &["'b'", "'frobnicate'"]);
        assert!(!message.contains("did you mean"), "{message}");
    }
}

mod ops_listing {
    use super::*;

    /// Every builtin of the graph format's table, and a form each must be listed with.
    const BUILTINS: &[&str] = &[
        "add(a, b)",
        "sub(a, b)",
        "mul(a, b)",
        "div(a, b)",
        "floordiv(a, b)",
        "mod(a, b)",
        "pow(a, b)",
        "neg(a)",
        "abs(a)",
        "inc(a)",
        "dec(a)",
        "eq(a, b)",
        "ne(a, b)",
        "lt(a, b)",
        "le(a, b)",
        "gt(a, b)",
        "ge(a, b)",
        "sum(list)",
        "prod(list)",
        "min(list)",
        "max(list)",
        "mean(list)",
        "len(x)",
        "list(a...)",
        "range(n)",
        "range(start, stop)",
        "range(start, stop, step)",
        "concat(lists)",
        "getitem(list, i)",
        "identity(a)",
        "sleep(ms)",
        "sleep(ms, value)",
        "busy(ms)",
        "busy(ms, value)",
        "fail(message)",
        "crash()",
        "shell(command)",
    ];

    #[test]
    fn ops_lists_every_builtin_with_its_forms_and_a_meaning() {
        let dir = Dir::new();
        let stdout = dir.taskloom(&["ops"]).ok().to_string();
        let calls: Vec<&str> = stdout
            .lines()
            .map(|line| line.split("  ").next().unwrap().trim_end())
            .collect();
        let mut expected = BUILTINS.to_vec();
        expected.sort_unstable();
        assert_eq!(calls, expected, "{stdout}");
        // The first form of each op carries its meaning.
        let mut seen = std::collections::HashSet::new();
        for line in stdout.lines() {
            let name = &line[..line.find('(').unwrap()];
            if seen.insert(name) {
                let meaning = line.split_once("  ").map_or("", |(_, m)| m.trim());
                assert!(!meaning.is_empty(), "no meaning for {name}: {stdout}");
            }
        }
        assert!(stdout.contains("div(a, b)") && stdout.contains("true division"));
    }

    #[test]
    fn run_help_points_to_the_listing() {
        let help = Dir::new().taskloom(&["run", "--help"]).ok().to_string();
        assert_contains_all(&help, &["taskloom ops", "- for standard input"]);
    }
}
