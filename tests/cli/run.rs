//! `taskloom run`, end to end: graph files in both forms, values and how they print,
//! which keys are printed, every builtin op, and laziness. Every value is computed under
//! each executor (sync, threads with one worker, threads with four), which must agree.

use std::time::Duration;

use crate::harness;
use crate::harness::graph::{assert_evals, eval, eval_stdout, touch_command, GraphFile};
use serde_json::json;

mod graph_forms {
    use super::*;

    #[test]
    fn literals_of_every_type_in_json_form() {
        let file = GraphFile::json(
            r#"{"n": null, "t": true, "f": false, "i": 3, "neg": -2.5, "s": "text"}"#,
        );
        assert_eq!(
            file.run_everywhere(&[]).json(),
            json!({"n": null, "t": true, "f": false, "i": 3, "neg": -2.5, "s": "text"})
        );
    }

    #[test]
    fn literals_of_every_type_in_text_form() {
        let file =
            GraphFile::text("n = null\nt = true\nf = false\ni = 3\nneg = -2.5\ns = \"text\"\n");
        assert_eq!(
            file.run_everywhere(&[]).json(),
            json!({"n": null, "t": true, "f": false, "i": 3, "neg": -2.5, "s": "text"})
        );
    }

    #[test]
    fn a_number_without_point_or_exponent_is_an_int_otherwise_a_float() {
        let file = GraphFile::text("i = 3\nneg = -7\nf = 3.0\ne = 1e2\nbig_e = 2E1\n");
        let run = |key: &str| file.run_everywhere(&["--get", key]).ok().to_string();
        assert_eq!(run("i"), "3\n");
        assert_eq!(run("neg"), "-7\n");
        assert_eq!(run("f"), "3.0\n");
        assert_eq!(run("e"), "100.0\n");
        assert_eq!(run("big_e"), "20.0\n");
    }

    #[test]
    fn integers_span_the_whole_64_bit_range() {
        let file = GraphFile::json(r#"{"max": 9223372036854775807, "min": -9223372036854775808}"#);
        assert_eq!(
            file.run_everywhere(&["--get", "max"]).ok(),
            "9223372036854775807\n"
        );
        assert_eq!(
            file.run_everywhere(&["--get", "min"]).ok(),
            "-9223372036854775808\n"
        );
    }

    #[test]
    fn a_key_bound_to_a_list_holds_values_references_and_tasks() {
        let file = GraphFile::json(
            r#"{"x": 5, "l": [1, "a", [null, {"ref": "x"}], {"op": "inc", "args": [{"ref": "x"}]}]}"#,
        );
        assert_eq!(
            file.run_everywhere(&["--get", "l"]).json(),
            json!([1, "a", [null, 5], 6])
        );
    }

    #[test]
    fn a_key_bound_to_a_reference_has_the_referenced_value() {
        let file = GraphFile::json(r#"{"a": {"ref": "b"}, "b": {"ref": "c"}, "c": [1, 2]}"#);
        assert_eq!(file.run_everywhere(&["--get", "a"]).json(), json!([1, 2]));
    }

    #[test]
    fn task_arguments_nest() {
        let file = GraphFile::json(r#"{"v": {"op": "inc", "args": [{"op": "inc", "args": [1]}]}}"#);
        assert_eq!(file.run_everywhere(&["--get", "v"]).json(), json!(3));
        assert_eq!(eval("inc(inc(1))"), json!(3));
    }

    #[test]
    fn args_may_be_omitted_for_an_op_that_takes_none() {
        let file = GraphFile::json(r#"{"v": {"op": "list"}}"#);
        assert_eq!(file.run_everywhere(&["--get", "v"]).json(), json!([]));
    }

    #[test]
    fn fields_of_a_json_task_may_come_in_any_order() {
        let file = GraphFile::json(r#"{"v": {"args": [41], "op": "inc"}}"#);
        assert_eq!(file.run_everywhere(&["--get", "v"]).json(), json!(42));
    }

    #[test]
    fn keys_in_json_form_may_be_any_non_empty_string() {
        let file =
            GraphFile::json(r#"{"my key!": 1, "v": {"op": "inc", "args": [{"ref": "my key!"}]}}"#);
        assert_eq!(file.run_everywhere(&["--get", "my key!"]).json(), json!(1));
        assert_eq!(file.run_everywhere(&["--get", "v"]).json(), json!(2));
    }

    #[test]
    fn a_bare_identifier_in_text_form_is_a_reference() {
        let file = GraphFile::text("total = add(base, 1)\nbase = 41\nalias = total\n");
        assert_eq!(file.run_everywhere(&["--get", "alias"]).json(), json!(42));
    }

    #[test]
    fn identifiers_may_contain_underscores_and_digits() {
        let file = GraphFile::text("_a1 = 1\nB_2 = inc(_a1)\n");
        assert_eq!(file.run_everywhere(&["--get", "B_2"]).json(), json!(2));
    }

    #[test]
    fn text_form_comments_are_ignored() {
        let file = GraphFile::text(
            "# a graph\n\n   # indented comment\nx = add(2, 3)   # trailing comment\ny = list(x, 1) #no space\n",
        );
        assert_eq!(file.run_everywhere(&[]).json(), json!({"y": [5, 1]}));
    }

    #[test]
    fn a_hash_inside_a_string_is_not_a_comment() {
        let file = GraphFile::text("v = \"a # b\" # but this is\n");
        assert_eq!(file.run_everywhere(&["--get", "v"]).json(), json!("a # b"));
    }

    #[test]
    fn text_form_strings_use_json_escapes() {
        let file = GraphFile::text(r#"v = "q\"uote\\ tab\t nl\n \u00e9 \ud83d\ude00""#);
        assert_eq!(
            file.run_everywhere(&["--get", "v"]).json(),
            json!("q\"uote\\ tab\t nl\n é 😀")
        );
    }

    #[test]
    fn blank_lines_and_surrounding_spaces_are_allowed_in_text_form() {
        let file = GraphFile::text("\n\n   a=inc(1)   \n\n\tb = a\n\n");
        assert_eq!(file.run_everywhere(&["--get", "b"]).json(), json!(2));
    }

    #[test]
    fn crlf_line_endings_are_accepted_in_text_form() {
        let file = GraphFile::text("a = 1\r\nb = inc(a)\r\n");
        assert_eq!(file.run_everywhere(&["--get", "b"]).json(), json!(2));
    }

    #[test]
    fn a_binding_may_continue_over_lines_inside_brackets() {
        let file = GraphFile::text(
            "v = list(\n  add(1,\n      2),  # three\n  [4,\n   5]\n)\nw = [\n  1,\n  2\n]\n",
        );
        assert_eq!(
            file.run_everywhere(&[]).json(),
            json!({"v": [3, [4, 5]], "w": [1, 2]})
        );
    }

    #[test]
    fn the_first_non_blank_character_decides_the_form() {
        // JSON even though the file is called .txt and starts with blank lines.
        let json = GraphFile::text("\n  \n\t{\"v\": {\"op\": \"inc\", \"args\": [1]}}\n");
        assert_eq!(json.run_everywhere(&["--get", "v"]).json(), json!(2));
        // Text even though the file is called .json.
        let text = GraphFile::json("v = inc(1)\n");
        assert_eq!(text.run_everywhere(&["--get", "v"]).json(), json!(2));
    }

    #[test]
    fn json_and_text_forms_of_the_same_graph_give_the_same_output() {
        let json = GraphFile::json(
            r#"{
                "x": {"op": "add", "args": [2, 3]},
                "y": {"op": "mul", "args": [{"ref": "x"}, 2.5]},
                "l": [{"ref": "x"}, "s", null, true, [{"op": "neg", "args": [{"ref": "y"}]}]],
                "r": {"ref": "l"},
                "z": {"op": "list"}
            }"#,
        );
        let text = GraphFile::text(
            "x = add(2, 3)\ny = mul(x, 2.5)\nl = [x, \"s\", null, true, [neg(y)]]\nr = l\nz = list()\n",
        );
        let from_json = json.run_everywhere(&[]);
        let from_text = text.run_everywhere(&[]);
        assert_eq!(from_json.json(), from_text.json());
        assert_eq!(
            from_text.json(),
            json!({"r": [5, "s", null, true, [-12.5]], "z": []})
        );
        for key in ["x", "y", "l"] {
            assert_eq!(
                json.run_everywhere(&["--get", key]).ok(),
                text.run_everywhere(&["--get", key]).ok(),
                "key {key}"
            );
        }
    }

    #[test]
    fn tasks_nested_500_deep_in_text_form() {
        let depth = 500;
        let source = format!("v = {}0{}\n", "inc(".repeat(depth), ")".repeat(depth));
        let file = GraphFile::text(&source);
        assert_eq!(file.run_everywhere(&["--get", "v"]).json(), json!(depth));
    }

    #[test]
    fn tasks_nested_500_deep_in_json_form() {
        let depth = 500;
        let source = format!(
            "{{\"v\": {}0{}}}",
            r#"{"op": "inc", "args": ["#.repeat(depth),
            "]}".repeat(depth)
        );
        let file = GraphFile::json(&source);
        assert_eq!(file.run_everywhere(&["--get", "v"]).json(), json!(depth));
    }

    #[test]
    fn lists_nested_500_deep_in_both_forms() {
        let depth = 500;
        let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let text = GraphFile::text(&format!("v = {nested}\n"));
        let json = GraphFile::json(&format!("{{\"v\": {nested}}}"));
        for file in [text, json] {
            assert_eq!(
                file.run_everywhere(&["--get", "v"]).ok(),
                format!("{nested}\n")
            );
        }
    }

    #[test]
    fn a_list_value_nested_a_million_deep_is_printed() {
        let depth = 1_000_000;
        let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let check = |run: harness::Outcome| {
            let stdout = run.ok();
            // Not assert_eq: a failure would print megabytes.
            assert!(
                stdout.len() == nested.len() + 1 && stdout.starts_with(&nested),
                "wrong output ({} bytes)",
                stdout.len()
            );
        };
        check(GraphFile::text(&format!("v = {nested}\n")).run_everywhere(&["--get", "v"]));
        check(GraphFile::json(&format!("{{\"v\": {nested}}}")).run(&[
            "--get",
            "v",
            "--executor",
            "sync",
        ]));
    }

    #[test]
    fn mixed_nesting_of_tasks_lists_and_references_500_deep() {
        let depth = 500;
        let text = format!(
            "base = 1\nv = len({}inc(base){})\n",
            "list([".repeat(depth),
            "])".repeat(depth)
        );
        let file = GraphFile::text(&text);
        assert_eq!(file.run_everywhere(&["--get", "v"]).json(), json!(1));
    }

    #[test]
    fn tasks_nested_far_deeper_than_a_few_hundred() {
        let depth = 20_000;
        let source = format!("v = {}0{}\n", "inc(".repeat(depth), ")".repeat(depth));
        let file = GraphFile::text(&source);
        assert_eq!(file.run_everywhere(&["--get", "v"]).json(), json!(depth));
    }

    #[test]
    fn a_long_chain_of_keys() {
        let n = 5_000;
        let mut source = String::from("k0 = 0\n");
        for i in 1..n {
            source.push_str(&format!("k{i} = inc(k{})\n", i - 1));
        }
        let file = GraphFile::text(&source);
        let last = format!("k{}", n - 1);
        assert_eq!(file.run_everywhere(&["--get", &last]).json(), json!(n - 1));
    }
}

mod output {
    use super::*;

    #[test]
    fn one_get_prints_the_value_as_compact_json_and_a_newline() {
        let file = GraphFile::text("v = list(1, [2, \"b\"], null, true, 2.5)\n");
        assert_eq!(
            file.run_everywhere(&["--get", "v"]).ok(),
            "[1,[2,\"b\"],null,true,2.5]\n"
        );
    }

    #[test]
    fn several_gets_print_one_object_in_the_order_requested() {
        let file = GraphFile::text("x = add(2, 3)\ny = add(x, 3)\nz = div(7, 2)\n");
        assert_eq!(
            file.run_everywhere(&["--get", "z", "--get", "x", "--get", "y"])
                .ok(),
            "{\"z\":3.5,\"x\":5,\"y\":8}\n"
        );
        assert_eq!(
            file.run_everywhere(&["--get", "y", "--get", "z"]).ok(),
            "{\"y\":8,\"z\":3.5}\n"
        );
    }

    #[test]
    fn a_key_and_its_dependency_can_both_be_requested() {
        let file = GraphFile::text("x = add(2, 3)\ny = mul(x, x)\n");
        assert_eq!(
            file.run_everywhere(&["--get", "y", "--get", "x"]).ok(),
            "{\"y\":25,\"x\":5}\n"
        );
    }

    #[test]
    fn without_get_every_key_no_other_key_references_is_printed() {
        let file = GraphFile::text(
            "a = 1\nb = inc(a)\nc = add(a, b)\nd = list(c)\nlonely = \"me\"\nalias = b\n",
        );
        // a, b and c are referenced; d, lonely and alias are not.
        assert_eq!(
            file.run_everywhere(&[]).json(),
            json!({"d": [3], "lonely": "me", "alias": 2})
        );
    }

    #[test]
    fn without_get_a_single_output_is_still_printed_as_an_object() {
        let file = GraphFile::text("a = 1\nb = inc(a)\n");
        assert_eq!(file.run_everywhere(&[]).ok(), "{\"b\":2}\n");
    }

    #[test]
    fn an_empty_graph_prints_an_empty_object() {
        // With a warning on stderr (tests/cli/graph_input.rs checks it in full).
        for file in [GraphFile::json("{}"), GraphFile::text("# nothing here\n")] {
            let run = file.run_everywhere(&[]);
            assert_eq!((run.code, run.stdout.as_str()), (Some(0), "{}\n"));
            assert!(run.stderr.contains("warning"), "{}", run.stderr);
        }
    }

    #[test]
    fn a_key_bound_to_a_literal_can_be_requested() {
        let file = GraphFile::text("s = \"hello\"\nv = len(s)\n");
        assert_eq!(file.run_everywhere(&["--get", "s"]).ok(), "\"hello\"\n");
    }

    #[test]
    fn a_whole_float_prints_with_point_zero() {
        assert_eq!(eval_stdout("div(10, 2)"), "5.0\n");
        assert_eq!(eval_stdout("mul(2.5, 2)"), "5.0\n");
        assert_eq!(eval_stdout("sub(1.0, 1)"), "0.0\n");
    }

    #[test]
    fn floats_print_as_shortest_round_trip_numbers() {
        assert_eq!(eval_stdout("2.5"), "2.5\n");
        assert_eq!(eval_stdout("0.1"), "0.1\n");
        assert_eq!(eval_stdout("add(0.1, 0.2)"), "0.30000000000000004\n");
        assert_eq!(eval_stdout("div(1, 3)"), "0.3333333333333333\n");
    }

    #[test]
    fn very_large_and_very_small_floats_read_back_exactly_as_floats() {
        let floats = [1e20, 1e-7, 5e-324, f64::MAX, -1e300, 123456789.0, 1e16];
        let source = format!(
            "v = [{}]\n",
            floats
                .iter()
                .map(|f| format!("{f:e}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let value = GraphFile::text(&source)
            .run_everywhere(&["--get", "v"])
            .json();
        let printed = value.as_array().expect("a list");
        assert_eq!(printed.len(), floats.len());
        for (number, expected) in printed.iter().zip(floats) {
            assert!(number.is_f64(), "{number} should print as a float");
            assert_eq!(number.as_f64(), Some(expected));
        }
    }

    #[test]
    fn strings_print_json_escaped_on_one_line() {
        let file = GraphFile::json(r#"{"v": "quote\" backslash\\ newline\n tab\t é \u0001"}"#);
        let run = file.run_everywhere(&["--get", "v"]);
        assert_eq!(
            run.json(),
            json!("quote\" backslash\\ newline\n tab\t é \u{1}")
        );
    }

    #[test]
    fn keys_in_the_output_object_are_json_escaped() {
        let file = GraphFile::json(r#"{"say \"hi\"": 1, "new\nline": 2}"#);
        assert_eq!(
            file.run_everywhere(&[]).json(),
            json!({"say \"hi\"": 1, "new\nline": 2})
        );
    }
}

/// Every builtin op through the command line (values; errors are in the `*_errors`
/// tests of this module too, since they are part of each op's behaviour).
mod ops {
    use super::*;
    use crate::harness::graph::assert_task_error;

    #[test]
    fn add() {
        assert_evals(&[
            ("add(2, 3)", "5"),
            ("add(-2, 3)", "1"),
            ("add(2, 0.5)", "2.5"),
            ("add(2.0, 3)", "5.0"),
            ("add(0.1, 0.2)", "0.30000000000000004"),
        ]);
    }

    #[test]
    fn sub() {
        assert_evals(&[
            ("sub(2, 5)", "-3"),
            ("sub(2.5, 1)", "1.5"),
            ("sub(1.0, 1)", "0.0"),
        ]);
    }

    #[test]
    fn mul() {
        assert_evals(&[
            ("mul(3, 4)", "12"),
            ("mul(-3, 4)", "-12"),
            ("mul(2.0, 3)", "6.0"),
            ("mul(0.5, 3)", "1.5"),
        ]);
    }

    #[test]
    fn div_is_true_division() {
        assert_evals(&[
            ("div(7, 2)", "3.5"),
            ("div(6, 2)", "3.0"),
            ("div(-7, 2)", "-3.5"),
            ("div(1, 4.0)", "0.25"),
        ]);
    }

    #[test]
    fn floordiv_rounds_toward_negative_infinity() {
        assert_evals(&[
            ("floordiv(7, 2)", "3"),
            ("floordiv(-7, 2)", "-4"),
            ("floordiv(7, -2)", "-4"),
            ("floordiv(7.5, 2)", "3.0"),
            ("floordiv(-7.5, 2)", "-4.0"),
        ]);
    }

    #[test]
    fn mod_takes_the_sign_of_the_divisor() {
        assert_evals(&[
            ("mod(7, 3)", "1"),
            ("mod(-7, 3)", "2"),
            ("mod(7, -3)", "-2"),
            ("mod(7.5, 2)", "1.5"),
            ("mod(-7.5, 2)", "0.5"),
            ("mod(7, -3.0)", "-2.0"),
        ]);
    }

    #[test]
    fn pow() {
        assert_evals(&[
            ("pow(2, 10)", "1024"),
            ("pow(-2, 3)", "-8"),
            ("pow(0, 0)", "1"),
            ("pow(2, -1)", "0.5"),
            ("pow(-2, -2)", "0.25"),
            ("pow(2.0, 2)", "4.0"),
            ("pow(4, 0.5)", "2.0"),
            ("pow(2, 62)", "4611686018427387904"),
        ]);
    }

    #[test]
    fn neg_abs_inc_dec() {
        assert_evals(&[
            ("neg(3)", "-3"),
            ("neg(-2.5)", "2.5"),
            ("abs(-3)", "3"),
            ("abs(4)", "4"),
            ("abs(-2.5)", "2.5"),
            ("inc(1)", "2"),
            ("inc(1.5)", "2.5"),
            ("dec(0)", "-1"),
            ("dec(0.5)", "-0.5"),
        ]);
    }

    #[test]
    fn division_and_modulo_by_zero_are_task_errors() {
        assert_task_error("div(1, 0)", "div", "zero");
        assert_task_error("div(1.0, 0.0)", "div", "zero");
        assert_task_error("floordiv(1, 0)", "floordiv", "zero");
        assert_task_error("floordiv(1.5, 0.0)", "floordiv", "zero");
        assert_task_error("mod(1, 0)", "mod", "zero");
        assert_task_error("mod(1.0, 0.0)", "mod", "zero");
    }

    #[test]
    fn int_overflow_is_a_task_error() {
        assert_task_error("add(9223372036854775807, 1)", "add", "overflow");
        assert_task_error("sub(-9223372036854775808, 1)", "sub", "overflow");
        assert_task_error("mul(9223372036854775807, 2)", "mul", "overflow");
        assert_task_error("pow(2, 64)", "pow", "overflow");
        assert_task_error("neg(-9223372036854775808)", "neg", "overflow");
        assert_task_error("abs(-9223372036854775808)", "abs", "overflow");
        assert_task_error("inc(9223372036854775807)", "inc", "overflow");
        assert_task_error("dec(-9223372036854775808)", "dec", "overflow");
        assert_task_error("sum([9223372036854775807, 1])", "sum", "overflow");
        assert_task_error("prod([9223372036854775807, 2])", "prod", "overflow");
    }

    #[test]
    fn non_finite_float_results_are_task_errors() {
        assert_task_error("pow(10.0, 400)", "pow", "");
        assert_task_error("mul(1e308, 10.0)", "mul", "");
        assert_task_error("add(1e308, 1e308)", "add", "");
        assert_task_error("sub(-1e308, 1e308)", "sub", "");
        assert_task_error("div(1e308, 1e-308)", "div", "");
        assert_task_error("prod([1e200, 1e200])", "prod", "");
    }

    #[test]
    fn comparisons() {
        assert_evals(&[
            ("eq(1, 1)", "true"),
            ("eq(1, 2)", "false"),
            ("eq(1, 1.0)", "true"),
            ("eq(\"a\", \"a\")", "true"),
            ("eq([1, [2]], [1, [2]])", "true"),
            ("eq(null, null)", "true"),
            ("eq(1, \"1\")", "false"),
            ("ne(1, 2)", "true"),
            ("ne(1, 1.0)", "false"),
            ("lt(1, 2)", "true"),
            ("lt(2, 1.5)", "false"),
            ("le(2, 2)", "true"),
            ("le(3, 2)", "false"),
            ("gt(3, 2)", "true"),
            ("gt(2, 2)", "false"),
            ("ge(2, 2.0)", "true"),
            ("ge(1, 2)", "false"),
        ]);
    }

    #[test]
    fn lt_compares_strings_lexicographically() {
        assert_evals(&[
            ("lt(\"abc\", \"abd\")", "true"),
            ("lt(\"b\", \"abc\")", "false"),
            ("lt(\"ab\", \"abc\")", "true"),
            ("gt(\"b\", \"abc\")", "true"),
        ]);
    }

    #[test]
    fn comparing_unorderable_values_is_a_task_error() {
        assert_task_error("lt(1, \"a\")", "lt", "");
    }

    #[test]
    fn sum_and_prod() {
        assert_evals(&[
            ("sum([1, 2, 3])", "6"),
            ("sum([1, 2.5])", "3.5"),
            ("sum([])", "0"),
            ("prod([2, 3, 4])", "24"),
            ("prod([2, 0.5])", "1.0"),
            ("prod([])", "1"),
        ]);
    }

    #[test]
    fn min_and_max_return_the_element_itself() {
        assert_evals(&[
            ("min([3, 1, 2])", "1"),
            ("max([3, 1, 2])", "3"),
            ("min([1, 2.5])", "1"),
            ("max([1, 2.5])", "2.5"),
            ("max([2.5, 1])", "2.5"),
            ("min([\"b\", \"a\", \"c\"])", "\"a\""),
        ]);
    }

    #[test]
    fn mean_is_always_a_float() {
        assert_evals(&[
            ("mean([2, 4])", "3.0"),
            ("mean([1, 2])", "1.5"),
            ("mean([1, 2, 3, 4])", "2.5"),
            ("mean([1.5])", "1.5"),
        ]);
    }

    #[test]
    fn len() {
        assert_evals(&[
            ("len([1, 2, 3])", "3"),
            ("len([])", "0"),
            ("len([[1, 2]])", "1"),
            ("len(\"abc\")", "3"),
        ]);
    }

    #[test]
    fn min_max_and_mean_of_an_empty_list_are_task_errors() {
        assert_task_error("min([])", "min", "");
        assert_task_error("max([])", "max", "");
        assert_task_error("mean([])", "mean", "");
    }

    #[test]
    fn aggregates_of_a_non_list_are_task_errors() {
        assert_task_error("sum(1)", "sum", "");
        assert_task_error("sum([\"a\"])", "sum", "");
        assert_task_error("len(3)", "len", "");
    }

    #[test]
    fn list_builds_a_list_of_its_arguments() {
        assert_evals(&[
            ("list()", "[]"),
            ("list(1, \"a\", null)", "[1, \"a\", null]"),
            ("list([1], inc(1))", "[[1], 2]"),
        ]);
    }

    #[test]
    fn range_is_like_python() {
        assert_evals(&[
            ("range(4)", "[0, 1, 2, 3]"),
            ("range(0)", "[]"),
            ("range(-2)", "[]"),
            ("range(2, 5)", "[2, 3, 4]"),
            ("range(5, 2)", "[]"),
            ("range(0, 10, 3)", "[0, 3, 6, 9]"),
            ("range(5, 0, -2)", "[5, 3, 1]"),
            ("range(-3, 3, 2)", "[-3, -1, 1]"),
        ]);
    }

    #[test]
    fn range_with_a_zero_step_is_a_task_error() {
        assert_task_error("range(0, 5, 0)", "range", "");
    }

    #[test]
    fn concat_joins_lists_or_strings() {
        assert_evals(&[
            ("concat([[1, 2], [3], []])", "[1, 2, 3]"),
            ("concat([[[1]], [2]])", "[[1], 2]"),
            ("concat([range(2), range(3)])", "[0, 1, 0, 1, 2]"),
            ("concat([\"ab\", \"c\"])", "\"abc\""),
            ("concat([])", "[]"),
        ]);
    }

    #[test]
    fn concat_of_mixed_or_non_list_items_is_a_task_error() {
        assert_task_error("concat([[1], \"a\"])", "concat", "");
        assert_task_error("concat([1, 2])", "concat", "");
    }

    #[test]
    fn getitem_counts_negative_indexes_from_the_end() {
        assert_evals(&[
            ("getitem([10, 20, 30], 0)", "10"),
            ("getitem([10, 20, 30], 2)", "30"),
            ("getitem([10, 20, 30], -1)", "30"),
            ("getitem([10, 20, 30], -3)", "10"),
            ("getitem(range(5), -2)", "3"),
        ]);
    }

    #[test]
    fn getitem_out_of_range_is_a_task_error() {
        assert_task_error("getitem([1, 2, 3], 3)", "getitem", "");
        assert_task_error("getitem([1, 2, 3], -4)", "getitem", "");
        assert_task_error("getitem([], 0)", "getitem", "");
    }

    #[test]
    fn identity_returns_its_argument() {
        assert_evals(&[
            ("identity(5)", "5"),
            ("identity([1, [\"a\"], null])", "[1, [\"a\"], null]"),
            ("identity(2.5)", "2.5"),
        ]);
    }

    #[test]
    fn sleep_returns_its_value_or_null() {
        assert_evals(&[
            ("sleep(10, \"x\")", "\"x\""),
            ("sleep(1, [1, 2])", "[1, 2]"),
            ("sleep(1)", "null"),
            ("sleep(0, 3)", "3"),
        ]);
    }

    #[test]
    fn sleep_takes_at_least_the_time_asked() {
        let file = GraphFile::text("v = sleep(300, 1)\n");
        let (run, took) = file.run_timed(&["--get", "v", "--executor", "sync"]);
        assert_eq!(run.json(), json!(1));
        assert!(took >= Duration::from_millis(300), "took {took:?}");
    }

    #[test]
    fn busy_returns_its_value_or_null() {
        assert_evals(&[("busy(20, 7)", "7"), ("busy(1)", "null")]);
    }

    #[test]
    fn busy_takes_at_least_the_time_asked() {
        let file = GraphFile::text("v = busy(200, \"done\")\n");
        let (run, took) = file.run_timed(&["--get", "v", "--executor", "sync"]);
        assert_eq!(run.json(), json!("done"));
        assert!(took >= Duration::from_millis(200), "took {took:?}");
    }

    #[test]
    fn fail_is_a_task_error_carrying_its_message() {
        let message = assert_task_error("fail(\"the sky fell\")", "fail", "the sky fell");
        assert!(message.trim_end().ends_with("the sky fell"), "{message}");
    }

    #[test]
    fn shell_returns_stdout_without_one_trailing_newline() {
        assert_evals(&[
            ("shell(\"echo hi\")", "\"hi\""),
            ("shell(\"printf 'a\\\\n\\\\n'\")", "\"a\\n\""),
            ("shell(\"printf abc\")", "\"abc\""),
            ("shell(\"true\")", "\"\""),
            ("shell(\"echo $((6 * 7))\")", "\"42\""),
        ]);
    }

    #[test]
    fn shell_runs_with_sh() {
        // `sh -c`: a pipeline and a shell builtin both work.
        assert_eq!(
            eval("shell(\"printf 'b\\\\na\\\\n' | sort | head -n 1\")"),
            json!("a")
        );
    }

    #[test]
    fn shell_with_non_zero_exit_is_a_task_error_quoting_stderr() {
        let run = GraphFile::text("v = shell(\"echo first >&2; echo 'it broke' >&2; exit 3\")\n")
            .run_everywhere(&["--get", "v"]);
        let message = run.multiline_error(1);
        harness::assert_contains_all(message, &["'v'", "'shell'", "it broke"]);
    }

    #[test]
    fn shell_result_feeds_other_tasks() {
        assert_eq!(eval("len(shell(\"printf hello\"))"), json!(5));
    }

    #[test]
    fn pinned_behaviours() {
        assert_evals(&[
            ("mean([1, 2, 3])", "2.0"),
            ("min([1, 2.5])", "1"),
            ("pow(2, -1)", "0.5"),
            ("prod([])", "1"),
            ("concat([])", "[]"),
            ("lt(\"apple\", \"banana\")", "true"),
            ("eq(1, 1.0)", "true"),
            ("sum([])", "0"),
            ("div(7, 2)", "3.5"),
        ]);
        assert_task_error("add(true, 1)", "add", "");
    }

    #[test]
    fn type_mismatch_is_a_task_error_naming_the_op() {
        assert_task_error("add(1, \"a\")", "add", "");
        assert_task_error("mul(\"a\", 2)", "mul", "");
        assert_task_error("neg(\"a\")", "neg", "");
        assert_task_error("inc(null)", "inc", "");
        assert_task_error("add(true, 1)", "add", "");
        assert_task_error("range(1.5)", "range", "");
        assert_task_error("getitem([1], 1.0)", "getitem", "");
        assert_task_error("shell(1)", "shell", "");
    }

    #[test]
    fn wrong_arity_is_a_task_error_naming_the_op() {
        assert_task_error("add(1)", "add", "");
        assert_task_error("add(1, 2, 3)", "add", "");
        assert_task_error("inc()", "inc", "");
        assert_task_error("identity()", "identity", "");
        assert_task_error("range()", "range", "");
        assert_task_error("range(1, 2, 3, 4)", "range", "");
    }

    #[test]
    fn crash_ends_the_whole_run_with_a_failure() {
        let file = GraphFile::text("a = crash()\nb = inc(1)\nout = list(a, b)\n");
        for executor in harness::graph::EXECUTORS {
            let run = file.run(executor);
            assert_ne!(run.code, Some(0), "crash exited 0: {}", run.context);
            assert_eq!(run.stdout, "", "{}", run.context);
        }
    }
}

/// Only the tasks the requested keys depend on run.
mod laziness {
    use super::*;

    #[test]
    fn a_failing_task_outside_the_requested_keys_does_not_run() {
        let file = GraphFile::text("bad = fail(\"must not run\")\ngood = inc(1)\n");
        assert_eq!(file.run_everywhere(&["--get", "good"]).json(), json!(2));
    }

    #[test]
    fn a_shell_task_outside_the_requested_keys_does_not_run() {
        let mut file = GraphFile::text("");
        let marker = file.path("marker");
        file.write(&format!(
            "effect = shell({})\ngood = inc(1)\n",
            touch_command(&marker)
        ));
        assert_eq!(file.run_everywhere(&["--get", "good"]).json(), json!(2));
        assert!(!marker.exists(), "the unrequested shell task ran");
    }

    #[test]
    fn a_requested_shell_task_does_run() {
        // The positive control for the test above: the marker command works.
        let mut file = GraphFile::text("");
        let marker = file.path("marker");
        file.write(&format!("effect = shell({})\n", touch_command(&marker)));
        assert_eq!(
            file.run(&["--get", "effect", "--executor", "sync"]).json(),
            json!("")
        );
        assert!(marker.exists(), "the requested shell task did not run");
    }

    #[test]
    fn a_dependency_of_a_requested_key_runs_even_through_a_reference() {
        let mut file = GraphFile::text("");
        let marker = file.path("marker");
        file.write(&format!(
            "effect = shell({})\nalias = effect\nv = list(alias, 1)\n",
            touch_command(&marker)
        ));
        assert_eq!(
            file.run(&["--get", "v", "--workers", "2"]).json(),
            json!(["", 1])
        );
        assert!(marker.exists());
    }

    #[test]
    fn a_slow_task_outside_the_requested_keys_does_not_delay_the_run() {
        let file = GraphFile::text("slow = sleep(60000, 1)\nquick = add(1, 2)\n");
        for executor in harness::graph::EXECUTORS {
            let args: Vec<&str> = ["--get", "quick"].iter().chain(executor).copied().collect();
            let (run, took) = file.run_timed(&args);
            assert_eq!(run.json(), json!(3));
            assert!(
                took < Duration::from_secs(10),
                "took {took:?}: {}",
                run.context
            );
        }
    }

    #[test]
    fn a_type_error_in_a_task_that_is_not_needed_does_not_fail_the_run() {
        let file = GraphFile::text(
            "mismatch = add(1, \"a\")\narity = inc(1, 2)\nempty = min([])\ngood = mul(6, 7)\n",
        );
        assert_eq!(file.run_everywhere(&["--get", "good"]).json(), json!(42));
    }

    #[test]
    fn a_crash_outside_the_requested_keys_does_not_happen() {
        let file = GraphFile::text("boom = crash()\ngood = inc(1)\n");
        assert_eq!(file.run_everywhere(&["--get", "good"]).json(), json!(2));
    }

    #[test]
    fn other_tasks_of_the_file_do_not_run_when_an_upstream_key_is_requested() {
        let mut file = GraphFile::text("");
        let marker = file.path("marker");
        file.write(&format!(
            "x = add(2, 3)\ndownstream = list(x, shell({}))\n",
            touch_command(&marker)
        ));
        assert_eq!(file.run_everywhere(&["--get", "x"]).json(), json!(5));
        assert!(!marker.exists(), "a dependent of the requested key ran");
    }

    #[test]
    fn dry_run_runs_no_task() {
        let mut file = GraphFile::text("");
        let marker = file.path("marker");
        file.write(&format!(
            "effect = shell({})\nbad = fail(\"no\")\n",
            touch_command(&marker)
        ));
        let run = file.run(&["--dry-run"]);
        assert_eq!(run.code, Some(0), "{}\n{}", run.context, run.stderr);
        run.assert_no_panic();
        assert!(!marker.exists(), "--dry-run ran a task");
    }
}

mod executors {
    use super::*;

    #[test]
    fn a_larger_graph_gives_the_same_output_on_every_executor() {
        // A lattice: each key combines two keys of the previous row.
        let width = 20;
        let rows = 40;
        let mut source = String::new();
        for j in 0..width {
            source.push_str(&format!("r0_{j} = {j}\n"));
        }
        for i in 1..rows {
            for j in 0..width {
                let a = format!("r{}_{j}", i - 1);
                let b = format!("r{}_{}", i - 1, (j + 1) % width);
                let expr = match (i + j) % 4 {
                    0 => format!("mod(add({a}, {b}), 1000003)"),
                    1 => format!("max(list({a}, {b}))"),
                    2 => format!("mod(sum([{a}, {b}, {i}]), 999983)"),
                    _ => format!("mod(mul(inc({a}), 3), 1000033)"),
                };
                source.push_str(&format!("r{i}_{j} = {expr}\n"));
            }
        }
        let last_row: Vec<String> = (0..width).map(|j| format!("r{}_{j}", rows - 1)).collect();
        source.push_str(&format!("total = sum([{}])\n", last_row.join(", ")));
        let file = GraphFile::text(&source);
        let value = file.run_everywhere(&[]).json();
        assert!(value["total"].is_i64(), "{value}");
    }

    #[test]
    fn independent_sleeps_overlap_with_several_workers() {
        let file = GraphFile::text(
            "a = sleep(1500, 1)\nb = sleep(1500, 2)\nc = sleep(1500, 3)\nd = sleep(1500, 4)\nout = list(a, b, c, d)\n",
        );
        let (run, took) = file.run_timed(&["--workers", "4"]);
        assert_eq!(run.json(), json!({"out": [1, 2, 3, 4]}));
        assert!(
            took < Duration::from_millis(4500),
            "no overlap: took {took:?}"
        );
    }
}

/// No nesting limit: values nested deep are freed without recursion, on any executor.
mod deep_values {
    use super::*;

    /// `[[[...]]]`, `depth` lists deep.
    fn nested_lists(depth: usize) -> String {
        format!("{}{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn a_deep_list_argument_is_freed_cleanly_under_threads() {
        let file = GraphFile::text(&format!("v = len({})\n", nested_lists(100_000)));
        assert_eq!(file.run(&["--get", "v", "--workers", "2"]).ok(), "1\n");
    }

    #[test]
    fn a_deep_list_result_is_freed_cleanly_under_threads() {
        let file = GraphFile::text(&format!("v = len(w)\nw = {}\n", nested_lists(100_000)));
        assert_eq!(file.run(&["--get", "v", "--workers", "2"]).ok(), "1\n");
    }

    #[test]
    fn a_deep_list_result_is_freed_cleanly_under_sync() {
        let file = GraphFile::text(&format!("v = len(w)\nw = {}\n", nested_lists(1_000_000)));
        assert_eq!(file.run(&["--get", "v", "--executor", "sync"]).ok(), "1\n");
    }

    #[test]
    fn dry_run_of_a_deeply_nested_list_exits_cleanly() {
        let file = GraphFile::text(&format!("v = {}\n", nested_lists(1_000_000)));
        let run = file.run(&["--dry-run"]);
        assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
        run.assert_no_panic();
    }
}

/// Where a graph file comes from: large files are mapped, pipes and small files read.
mod sources {
    use super::*;
    use crate::harness::Dir;

    #[test]
    fn a_file_larger_than_a_mebibyte_runs() {
        let n = 60_000;
        let mut text: String = (0..n)
            .map(|i| format!("leaf_number_{i} = inc({i})\n"))
            .collect();
        let all: Vec<String> = (0..n).map(|i| format!("leaf_number_{i}")).collect();
        text.push_str(&format!("total = sum([{}])\n", all.join(", ")));
        assert!(text.len() > 1 << 20);
        let file = GraphFile::text(&text);
        let expected = (1..=n as i64).sum::<i64>().to_string() + "\n";
        assert_eq!(file.run(&["--get", "total"]).ok(), expected);
    }

    #[test]
    fn a_graph_can_come_from_a_pipe() {
        let out = Dir::new()
            .command(&["run", "/dev/stdin", "--get", "y"])
            .stdin("x = add(2, 3)\ny = add(x, 3)\n")
            .output();
        assert_eq!(out.stdout, "8\n");
        assert_eq!(out.code, Some(0), "{}", out.stderr);
    }
}
