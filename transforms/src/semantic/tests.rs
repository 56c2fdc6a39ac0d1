//! Tests of the per-file name model.

use ruff_text_size::TextSize;

use super::*;

fn at(source: &str, marker: &str) -> TextSize {
    let offset = source.find(marker).expect("marker in source");
    TextSize::try_from(offset).expect("small source")
}

#[test]
fn builtins_are_shadowed_by_the_scopes_around_the_use_only() {
    let source = "def f(list):\n    return list(1)\ndef g():\n    return list(2)\nx = [sum for sum in y]\nz = sum(3)\n";
    let module = crate::parse(source).expect("parses");
    let names = Names::new(&module.ast().body);
    assert!(!names.is_builtin("list", at(source, "list(1)")));
    assert!(names.is_builtin("list", at(source, "list(2)")));
    assert!(!names.is_builtin("sum", at(source, "sum for")));
    assert!(names.is_builtin("sum", at(source, "sum(3)")));
    assert!(!names.is_builtin("y", at(source, "y]")));
    assert!(!names.is_builtin_everywhere("list"));
    assert!(names.is_builtin_everywhere("len"));
}

#[test]
fn a_star_import_may_shadow_every_builtin() {
    let source = "from helpers import *\nprint(sum([1]))\n";
    let module = crate::parse(source).expect("parses");
    let names = Names::new(&module.ast().body);
    let use_ = at(source, "sum(");
    // A rewrite that needs the builtin must not assume it...
    assert!(!names.is_builtin("sum", use_));
    assert!(!names.is_builtin_everywhere("sum"));
    // ...and an analysis that must not miss a builtin call still sees one.
    assert!(names.may_be_builtin("sum", use_));
    assert!(names.star_import().is_some());
}

#[test]
fn a_module_binding_shadows_everywhere() {
    let source = "vars = {}\ndef f(o):\n    return vars(o)\n";
    let module = crate::parse(source).expect("parses");
    let names = Names::new(&module.ast().body);
    assert!(!names.may_be_builtin("vars", at(source, "vars(o)")));
    assert!(names.bound_at_module("vars"));
}

#[test]
fn relative_imports_resolve_against_the_package() {
    assert_eq!(
        resolve_relative("a.b.c", false, 1, Some("d")).as_deref(),
        Some("a.b.d")
    );
    assert_eq!(
        resolve_relative("a.b", true, 1, Some("d")).as_deref(),
        Some("a.b.d")
    );
    assert_eq!(
        resolve_relative("a.b.c", false, 2, None).as_deref(),
        Some("a")
    );
    assert_eq!(resolve_relative("a.b", false, 3, Some("x")), None);
    assert_eq!(
        resolve_relative("m", false, 0, Some("x")).as_deref(),
        Some("x")
    );
}
