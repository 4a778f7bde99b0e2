//! `taskloom run` errors, end to end: exit code 2 for a bad file or request (found
//! before any task runs), 1 for a task that fails at run time. Every error leaves
//! stdout empty and prints one `taskloom: error: ...` message on stderr, never a panic.

use std::time::Duration;

use crate::harness::assert_contains_all;
use crate::harness::graph::{touch_command, GraphFile, EXECUTORS};

/// Asserts that `stderr` lists a cycle ("cycle: k1 -> k2 -> ... -> k1") that is the
/// cycle `expected` in reference order, starting at any of its keys.
fn assert_cycle(stderr: &str, expected: &[&str]) {
    let start = stderr
        .find("cycle: ")
        .unwrap_or_else(|| panic!("no cycle in {stderr:?}"))
        + "cycle: ".len();
    let listed: Vec<&str> = stderr[start..].trim_end().split(" -> ").collect();
    assert_eq!(
        listed.len(),
        expected.len() + 1,
        "cycle length in {stderr:?}"
    );
    assert_eq!(
        listed.first(),
        listed.last(),
        "cycle not closed: {stderr:?}"
    );
    let offset = expected
        .iter()
        .position(|k| *k == listed[0])
        .unwrap_or_else(|| panic!("{} is not on the cycle: {stderr:?}", listed[0]));
    for (i, key) in listed[..expected.len()].iter().enumerate() {
        assert_eq!(
            *key,
            expected[(offset + i) % expected.len()],
            "cycle order in {stderr:?}"
        );
    }
}

/// Runs `file` (asking for `args`) under every executor and checks a validation error:
/// exit 2 and a one-line message. Returns the message.
fn invalid(file: &GraphFile, args: &[&str]) -> String {
    file.run_everywhere(args).error(2).to_string()
}

mod unreadable_file {
    use super::*;

    #[test]
    fn a_missing_file_exits_2_naming_it() {
        let file = GraphFile::text("a = 1\n");
        let run = file.invoke(&["run", "no-such-file.txt"]);
        assert_contains_all(run.error(2), &["no-such-file.txt"]);
    }

    #[test]
    fn a_directory_exits_2_naming_it() {
        let file = GraphFile::text("a = 1\n");
        std::fs::create_dir(file.path("subdir")).unwrap();
        let run = file.invoke(&["run", "subdir"]);
        assert_contains_all(run.error(2), &["subdir"]);
    }

    #[test]
    fn a_file_that_is_not_utf8_exits_2() {
        let file = GraphFile::text("placeholder\n");
        std::fs::write(file.path(file.name()), b"a = \"\xff\xfe\"\n").unwrap();
        let message = invalid(&file, &[]);
        assert_contains_all(&message, &["graph.txt:1:6:", "invalid UTF-8"]);
    }
}

mod malformed_json {
    use super::*;

    #[test]
    fn a_syntax_error_names_file_line_and_column() {
        let file = GraphFile::json("{\n  \"a\": 1,\n  \"b\": tru\n}\n");
        let message = invalid(&file, &[]);
        // "graph.json:3:COL: ..." with a column inside line 3.
        let place = message
            .strip_prefix("taskloom: error: graph.json:3:")
            .unwrap_or_else(|| panic!("no FILE:LINE: in {message:?}"));
        let column: usize = place
            .split(':')
            .next()
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("no column in {message:?}"));
        assert!((1..=11).contains(&column), "column {column}: {message}");
    }

    #[test]
    fn an_unclosed_object_is_an_error() {
        let message = invalid(&GraphFile::json("{\"a\": 1"), &[]);
        assert_contains_all(&message, &["graph.json:1:"]);
    }

    #[test]
    fn a_trailing_comma_is_an_error() {
        let message = invalid(&GraphFile::json("{\"a\": 1,\n}"), &[]);
        assert_contains_all(&message, &["graph.json:2:"]);
    }

    #[test]
    fn text_after_the_graph_object_is_an_error() {
        let message = invalid(&GraphFile::json("{\"a\": 1}\n\nextra"), &[]);
        assert_contains_all(&message, &["graph.json:3:"]);
    }

    #[test]
    fn nan_is_not_json() {
        invalid(&GraphFile::json("{\"a\": NaN}"), &[]);
    }

    #[test]
    fn a_bad_escape_in_a_string_is_an_error() {
        let message = invalid(&GraphFile::json("{\"a\": \"\\x\"}"), &[]);
        assert_contains_all(&message, &["graph.json:1:"]);
    }

    #[test]
    fn an_object_without_op_or_ref_is_invalid() {
        let message = invalid(&GraphFile::json("{\n\"a\": {\"args\": [1]}\n}"), &[]);
        assert_contains_all(&message, &["graph.json:2:"]);
        invalid(&GraphFile::json("{\"a\": {}}"), &[]);
    }

    #[test]
    fn an_expression_object_with_an_extra_field_is_invalid() {
        invalid(
            &GraphFile::json(r#"{"a": {"op": "inc", "args": [1], "x": 1}}"#),
            &[],
        );
        invalid(
            &GraphFile::json(r#"{"a": {"ref": "b", "x": 1}, "b": 1}"#),
            &[],
        );
    }

    #[test]
    fn an_object_with_both_op_and_ref_is_invalid() {
        invalid(
            &GraphFile::json(r#"{"a": {"op": "inc", "ref": "b"}, "b": 1}"#),
            &[],
        );
    }

    #[test]
    fn a_ref_to_a_non_string_is_invalid() {
        invalid(&GraphFile::json(r#"{"a": {"ref": 3}}"#), &[]);
        invalid(&GraphFile::json(r#"{"a": {"ref": null}}"#), &[]);
        invalid(&GraphFile::json(r#"{"a": {"ref": ["b"]}, "b": 1}"#), &[]);
    }

    #[test]
    fn an_op_that_is_not_a_string_is_invalid() {
        invalid(&GraphFile::json(r#"{"a": {"op": 3, "args": []}}"#), &[]);
    }

    #[test]
    fn args_that_are_not_a_list_are_invalid() {
        invalid(&GraphFile::json(r#"{"a": {"op": "inc", "args": 1}}"#), &[]);
    }

    #[test]
    fn an_invalid_object_nested_in_arguments_is_invalid() {
        invalid(
            &GraphFile::json(r#"{"a": {"op": "list", "args": [[{"x": 1}]]}}"#),
            &[],
        );
    }

    #[test]
    fn the_empty_key_is_invalid() {
        invalid(&GraphFile::json(r#"{"": 1}"#), &[]);
    }

    #[test]
    fn a_key_given_twice_is_invalid() {
        let message = invalid(&GraphFile::json("{\"a\": 1,\n \"a\": 2}"), &[]);
        assert_contains_all(&message, &["'a'", "graph.json:2:"]);
    }

    #[test]
    fn an_integer_outside_64_bits_is_invalid() {
        let message = invalid(&GraphFile::json(r#"{"a": 9223372036854775808}"#), &[]);
        assert_contains_all(&message, &["9223372036854775808"]);
        invalid(&GraphFile::json(r#"{"a": -9223372036854775809}"#), &[]);
        invalid(
            &GraphFile::json(r#"{"a": {"op": "inc", "args": [99999999999999999999]}}"#),
            &[],
        );
    }

    #[test]
    fn a_top_level_that_is_not_an_object_is_an_error() {
        // Starts with '[': not JSON by the first-character rule, and not text either.
        invalid(&GraphFile::json("[1, 2]"), &[]);
    }
}

mod malformed_text {
    use super::*;

    /// The message of a text-form syntax error on `line`.
    fn syntax_error(source: &str, line: usize) -> String {
        let message = invalid(&GraphFile::text(source), &[]);
        let place = format!("graph.txt:{line}:");
        assert!(message.contains(&place), "expected {place} in {message:?}");
        message
    }

    #[test]
    fn a_missing_equals_sign() {
        syntax_error("a = 1\nb 2\n", 2);
    }

    #[test]
    fn a_missing_expression() {
        syntax_error("a = 1\n\nb =\n", 3);
    }

    #[test]
    fn a_stray_closing_bracket() {
        syntax_error("a = 1\nb = ]\n", 2);
    }

    #[test]
    fn two_expressions_on_one_line() {
        syntax_error("a = 1 2\n", 1);
    }

    #[test]
    fn missing_comma_between_arguments() {
        syntax_error("# comment\na = add(1 2)\n", 2);
    }

    #[test]
    fn an_unterminated_string() {
        syntax_error("a = 1\nb = \"open\n", 2);
    }

    #[test]
    fn a_bad_escape_in_a_string() {
        syntax_error("a = \"ok\"\nb = \"\\q\"\n", 2);
    }

    #[test]
    fn a_key_that_is_not_an_identifier() {
        syntax_error("1a = 1\n", 1);
        syntax_error("ok = 1\na-b = 1\n", 2);
    }

    #[test]
    fn an_unclosed_call_at_the_end_of_the_file() {
        invalid(&GraphFile::text("a = add(1, 2\n"), &[]);
    }

    #[test]
    fn a_json_object_is_not_a_text_expression() {
        syntax_error("b = 1\na = {\"ref\": \"b\"}\n", 2);
    }

    #[test]
    fn a_key_given_twice() {
        let message = syntax_error("a = 1\nb = 2\na = 3\n", 3);
        assert_contains_all(&message, &["'a'"]);
    }

    #[test]
    fn an_integer_outside_64_bits() {
        syntax_error("a = 1\nb = 9223372036854775808\n", 2);
        syntax_error("a = -9223372036854775809\n", 1);
        syntax_error("a = inc(18446744073709551616)\n", 1);
    }
}

mod missing_reference {
    use super::*;

    #[test]
    fn names_the_missing_key_and_the_referring_key() {
        let message = invalid(&GraphFile::text("x = 1\ny = add(x, nope)\n"), &[]);
        assert_contains_all(&message, &["graph.txt", "'y'", "'nope'"]);
    }

    #[test]
    fn in_json_form() {
        let message = invalid(
            &GraphFile::json(r#"{"y": {"op": "inc", "args": [{"ref": "nope"}]}}"#),
            &[],
        );
        assert_contains_all(&message, &["'y'", "'nope'"]);
    }

    #[test]
    fn a_key_bound_directly_to_a_missing_reference() {
        let message = invalid(&GraphFile::text("alias = ghost\n"), &[]);
        assert_contains_all(&message, &["'alias'", "'ghost'"]);
    }

    #[test]
    fn deep_inside_nested_arguments_and_lists() {
        let message = invalid(
            &GraphFile::text("deep = list([1, [inc(dec(hidden))]])\n"),
            &[],
        );
        assert_contains_all(&message, &["'deep'", "'hidden'"]);
    }
}

mod cycles {
    use super::*;

    #[test]
    fn names_the_keys_on_the_cycle_in_order() {
        let message = invalid(&GraphFile::text("a = b\nb = c\nc = a\n"), &[]);
        assert_cycle(&message, &["a", "b", "c"]);
        assert_contains_all(&message, &["graph.txt"]);
    }

    #[test]
    fn a_cycle_through_task_arguments() {
        let message = invalid(
            &GraphFile::text("a = inc(b)\nb = list(1, [c])\nc = add(a, 1)\n"),
            &[],
        );
        assert_cycle(&message, &["a", "b", "c"]);
    }

    #[test]
    fn a_key_referring_to_itself() {
        let message = invalid(&GraphFile::text("a = inc(a)\n"), &[]);
        assert_cycle(&message, &["a"]);
    }

    #[test]
    fn only_the_keys_on_the_cycle_are_listed() {
        // `entry` leads into the cycle but is not on it.
        let message = invalid(
            &GraphFile::text("entry = inc(p)\np = inc(q)\nq = inc(p)\nfine = 1\n"),
            &[],
        );
        assert_cycle(&message, &["p", "q"]);
        assert!(!message.contains("entry"), "{message}");
    }

    #[test]
    fn in_json_form() {
        let message = invalid(
            &GraphFile::json(
                r#"{"a": {"ref": "b"}, "b": {"op": "inc", "args": [{"ref": "c"}]}, "c": [{"ref": "a"}]}"#,
            ),
            &[],
        );
        assert_cycle(&message, &["a", "b", "c"]);
    }
}

mod unknown_op {
    use super::*;

    #[test]
    fn names_the_op_and_the_key() {
        let message = invalid(&GraphFile::text("a = 1\nb = frob(a)\n"), &[]);
        assert_contains_all(&message, &["graph.txt", "'b'", "'frob'"]);
    }

    #[test]
    fn nested_inside_arguments() {
        let message = invalid(&GraphFile::text("b = list(1, [inc(frob())])\n"), &[]);
        assert_contains_all(&message, &["'b'", "'frob'"]);
    }

    #[test]
    fn in_json_form() {
        let message = invalid(
            &GraphFile::json(r#"{"k": {"op": "frob", "args": []}}"#),
            &[],
        );
        assert_contains_all(&message, &["'k'", "'frob'"]);
    }

    #[test]
    fn op_names_are_case_sensitive() {
        let message = invalid(&GraphFile::text("k = ADD(1, 2)\n"), &[]);
        assert_contains_all(&message, &["'k'", "'ADD'"]);
    }
}

mod missing_get_key {
    use super::*;

    #[test]
    fn names_the_key() {
        let message = invalid(&GraphFile::text("a = 1\n"), &["--get", "zz"]);
        assert_contains_all(&message, &["'zz'"]);
    }

    #[test]
    fn among_several_requested_keys() {
        let message = invalid(
            &GraphFile::text("a = 1\nb = 2\n"),
            &["--get", "a", "--get", "zz"],
        );
        assert_contains_all(&message, &["'zz'"]);
    }

    #[test]
    fn is_found_before_a_failing_task_runs() {
        // A run error would exit 1: the missing key is found first.
        let message = invalid(
            &GraphFile::text("bad = fail(\"ran\")\n"),
            &["--get", "bad", "--get", "zz"],
        );
        assert_contains_all(&message, &["'zz'"]);
        assert!(!message.contains("ran"), "{message}");
    }
}

/// Validation covers the whole file, whichever keys are requested, before any task runs.
mod validation_first {
    use super::*;

    #[test]
    fn an_unknown_op_in_an_unrequested_key_fails_the_run() {
        let message = invalid(
            &GraphFile::text("good = inc(1)\nother = frob(2)\n"),
            &["--get", "good"],
        );
        assert_contains_all(&message, &["'other'", "'frob'"]);
    }

    #[test]
    fn a_missing_reference_in_an_unrequested_key_fails_the_run() {
        let message = invalid(
            &GraphFile::text("good = inc(1)\nother = inc(ghost)\n"),
            &["--get", "good"],
        );
        assert_contains_all(&message, &["'other'", "'ghost'"]);
    }

    #[test]
    fn a_cycle_among_unrequested_keys_fails_the_run() {
        let message = invalid(
            &GraphFile::text("good = inc(1)\np = q\nq = p\n"),
            &["--get", "good"],
        );
        assert_cycle(&message, &["p", "q"]);
    }

    #[test]
    fn a_syntax_error_after_the_requested_key_fails_the_run() {
        invalid(
            &GraphFile::text("good = inc(1)\nbroken = inc(\n"),
            &["--get", "good"],
        );
    }

    /// A file whose first key runs a `shell` command creating a marker, followed by
    /// `rest`: the run must exit 2 without creating the marker.
    fn assert_no_task_runs(rest: &str, args: &[&str]) -> String {
        let mut file = GraphFile::text("");
        let marker = file.path("marker");
        file.write(&format!(
            "effect = shell({})\n{rest}",
            touch_command(&marker)
        ));
        let message = invalid(&file, args);
        assert!(!marker.exists(), "a task ran before validation failed");
        message
    }

    #[test]
    fn an_unknown_op_is_found_before_any_task_runs() {
        let message = assert_no_task_runs("z = frob(1)\n", &[]);
        assert_contains_all(&message, &["'z'", "'frob'"]);
        assert_no_task_runs("z = frob(1)\n", &["--get", "effect"]);
    }

    #[test]
    fn a_missing_reference_is_found_before_any_task_runs() {
        assert_no_task_runs("z = inc(ghost)\n", &["--get", "effect"]);
    }

    #[test]
    fn a_cycle_is_found_before_any_task_runs() {
        assert_no_task_runs("p = inc(q)\nq = inc(p)\n", &["--get", "effect"]);
    }

    #[test]
    fn a_syntax_error_is_found_before_any_task_runs() {
        assert_no_task_runs("z = add(1 2)\n", &["--get", "effect"]);
    }

    #[test]
    fn a_missing_get_key_is_found_before_any_task_runs() {
        assert_no_task_runs("", &["--get", "effect", "--get", "zz"]);
    }
}

mod task_errors {
    use super::*;

    #[test]
    fn exit_1_naming_key_op_and_cause() {
        let run = GraphFile::text("x = 1\nbad = div(x, 0)\n").run_everywhere(&[]);
        let message = run.error(1);
        assert_contains_all(message, &["'bad'", "'div'", "zero"]);
    }

    #[test]
    fn the_message_of_fail_is_the_cause() {
        let run = GraphFile::text("k = fail(\"disk full\")\n").run_everywhere(&[]);
        let message = run.error(1);
        assert_contains_all(message, &["'k'", "'fail'", "disk full"]);
    }

    #[test]
    fn nothing_is_printed_for_the_keys_that_succeeded() {
        // `good` is computed, but the run as a whole failed: stdout stays empty.
        let run = GraphFile::text("good = inc(1)\nbad = fail(\"no\")\n").run_everywhere(&[]);
        run.error(1);
    }

    #[test]
    fn a_failure_in_a_dependency_names_the_failing_key() {
        let run = GraphFile::text("base = fail(\"root cause\")\ntop = inc(base)\n")
            .run_everywhere(&["--get", "top"]);
        let message = run.error(1);
        assert_contains_all(message, &["'base'", "'fail'", "root cause"]);
    }

    #[test]
    fn a_failure_in_a_nested_task_names_the_key_and_the_op() {
        let run = GraphFile::text("k = list(1, inc(\"a\"))\n").run_everywhere(&["--get", "k"]);
        let message = run.error(1);
        assert_contains_all(message, &["'k'", "'inc'"]);
    }

    #[test]
    fn many_failures_give_one_message() {
        let source: String = (0..50)
            .map(|i| format!("f{i} = fail(\"e{i}\")\n"))
            .collect();
        let file = GraphFile::text(&source);
        for executor in EXECUTORS {
            let message = file.run(executor).error(1).to_string();
            assert_contains_all(&message, &["'fail'"]);
        }
    }

    #[test]
    fn a_task_error_stops_the_run_promptly() {
        let file = GraphFile::text("a = fail(\"x\")\nb = sleep(30000, 1)\nout = list(a, b)\n");
        let (run, took) = file.run_timed(&["--workers", "2"]);
        assert_contains_all(run.error(1), &["'a'", "'fail'", "x"]);
        assert!(took < Duration::from_secs(10), "took {took:?}");
    }

    #[test]
    fn a_task_error_stops_the_run_while_another_task_sleeps() {
        // `a` fails only after `d` has run, while `b` is already sleeping.
        let file = GraphFile::text(
            "d = sleep(200, \"late\")\na = fail(d)\nb = sleep(30000, 1)\nout = list(a, b)\n",
        );
        for workers in ["2", "4"] {
            let (run, took) = file.run_timed(&["--workers", workers]);
            assert_contains_all(run.error(1), &["'a'", "'fail'", "late"]);
            assert!(
                took < Duration::from_secs(10),
                "took {took:?} with {workers} workers"
            );
        }
    }

    #[test]
    fn a_task_error_stops_the_run_while_another_task_burns_cpu() {
        let file = GraphFile::text(
            "d = sleep(200, 1)\na = add(d, \"s\")\nb = busy(30000, 1)\nout = list(a, b)\n",
        );
        let (run, took) = file.run_timed(&["--workers", "2"]);
        assert_contains_all(run.error(1), &["'a'", "'add'"]);
        assert!(took < Duration::from_secs(10), "took {took:?}");
    }

    #[test]
    fn crash_does_not_exit_0() {
        let file = GraphFile::text("boom = crash()\n");
        for executor in EXECUTORS {
            let run = file.run(executor);
            assert_ne!(run.code, Some(0), "{}", run.context);
            assert_eq!(run.stdout, "", "{}", run.context);
        }
    }

    #[test]
    fn crash_ends_the_run_even_while_other_tasks_sleep() {
        let file = GraphFile::text("boom = crash()\nslow = sleep(30000, 1)\n");
        let (run, took) = file.run_timed(&["--workers", "2"]);
        assert_ne!(run.code, Some(0), "{}", run.context);
        assert!(took < Duration::from_secs(10), "took {took:?}");
    }
}

mod dry_run {
    use super::*;

    #[test]
    fn dry_run_still_validates_the_whole_file() {
        let file = GraphFile::text("a = 1\nl = [1, frob(1)]\n");
        let message = file.run(&["--dry-run"]).error(2).to_string();
        assert_contains_all(&message, &["'l'", "'frob'"]);
    }

    #[test]
    fn dry_run_still_checks_the_requested_keys() {
        let file = GraphFile::text("a = 1\n");
        let message = file.run(&["--dry-run", "--get", "zz"]).error(2).to_string();
        assert_contains_all(&message, &["'zz'"]);
    }
}
