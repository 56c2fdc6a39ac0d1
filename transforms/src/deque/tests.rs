//! The deque transform's decisions: which lists are queues, which uses keep a list,
//! the edits each front operation gets, and when trimming becomes `maxlen`.

use super::*;
use crate::Applicability::Safe;
use crate::testing::{applied, reasons, run};

/// The rewritten text, the applicability of each finding, and the notes.
fn decide(source: &str) -> (String, Vec<crate::Applicability>, Vec<String>) {
    let output = run(&DequeTransform, source);
    let (text, applicability) = applied(source, &output);
    let notes = reasons(&output).into_iter().map(str::to_string).collect();
    (text, applicability, notes)
}

const QUEUE_MESSAGE: &str = "is used as a FIFO queue: popping or inserting at the front is O(n) on a list and O(1) on a deque; a time rewrite, no memory saving (a deque is slightly larger than a list)";

#[test]
fn a_queue_becomes_a_deque_and_claims_no_memory() {
    let source = "def bfs(start, graph):\n    queue = [start]\n    while queue:\n        node = queue.pop(0)\n        queue.extend(graph[node])\n";
    assert_eq!(
        decide(source),
        (
            "from collections import deque\n\n\ndef bfs(start, graph):\n    queue = deque([start])\n    while queue:\n        node = queue.popleft()\n        queue.extend(graph[node])\n".to_string(),
            vec![Safe],
            vec![]
        )
    );
    let output = run(&DequeTransform, source);
    let finding = &output.findings[0];
    assert_eq!(finding.message, format!("`queue` {QUEUE_MESSAGE}"));
    assert_eq!(finding.impact(), crate::Impact::Time);
    let at = |text: &str| {
        let start = source.find(text).expect("in the source");
        TextRange::at(
            ruff_text_size::TextSize::try_from(start).expect("small"),
            ruff_text_size::TextSize::try_from(text.len()).expect("small"),
        )
    };
    assert_eq!(
        finding.saving.subject,
        Subject::Queue {
            created: at("[start]"),
            calls: vec![at("queue.pop(0)")],
        }
    );
}

#[test]
fn each_front_operation_gets_its_deque_spelling() {
    let source =
        "def f(xs):\n    q = list(xs)\n    q.insert(0, 1)\n    del q[0]\n    return len(q)\n";
    assert_eq!(
        decide(source).0,
        "from collections import deque\n\n\ndef f(xs):\n    q = deque(xs)\n    q.appendleft(1)\n    q.popleft()\n    return len(q)\n"
    );
}

#[test]
fn the_import_uses_what_the_file_already_binds() {
    // `deque` is imported already; or it names the `collections` module, which then
    // spells the class.
    assert_eq!(
        decide("from collections import deque\ndef f():\n    q = [1, 2]\n    q.pop(0)\n").0,
        "from collections import deque\ndef f():\n    q = deque([1, 2])\n    q.popleft()\n"
    );
    assert_eq!(
        decide(
            "import collections as deque\ncollections = 1\ndef f():\n    q = [1, 2]\n    q.pop(0)\n"
        )
        .0,
        "import collections as deque\ncollections = 1\ndef f():\n    q = deque.deque([1, 2])\n    q.popleft()\n"
    );
    let both_taken = "deque = 1\ncollections = 2\ndef f():\n    q = [1, 2]\n    q.pop(0)\n";
    assert_eq!(
        decide(both_taken),
        (
            both_taken.to_string(),
            vec![],
            vec![
                "`deque` and `collections` are both bound to something else in this file"
                    .to_string()
            ]
        )
    );
}

#[test]
fn a_list_trimmed_at_every_append_gets_maxlen() {
    let source = "def f(xs):\n    q = []\n    for x in xs:\n        q.append(x)\n        if len(q) > 3:\n            q.pop(0)\n    return sum(q)\n";
    assert_eq!(
        decide(source),
        (
            "from collections import deque\n\n\ndef f(xs):\n    q = deque(maxlen=3)\n    for x in xs:\n        q.append(x)\n    return sum(q)\n".to_string(),
            vec![Safe],
            vec![]
        )
    );
    assert_eq!(
        run(&DequeTransform, source).findings[0].message,
        "`q` is trimmed by hand to its last 3 items: `deque(maxlen=3)` drops the oldest item in O(1) where `pop(0)` is O(n); a time rewrite, no memory saving (the trimmed list already holds at most 3 items, and a deque of as many is larger: 9.0 vs 8.6 KiB at 1,000 items, about 1 KiB more at 10 and 100)"
    );
    // An `extend` grows the list without a trim: the plain rewrite, the trim stays.
    let extended = source.replace(
        "    return sum(q)\n",
        "    q.extend(xs)\n    return sum(q)\n",
    );
    assert_eq!(
        decide(&extended).0,
        "from collections import deque\n\n\ndef f(xs):\n    q = deque()\n    for x in xs:\n        q.append(x)\n        if len(q) > 3:\n            q.popleft()\n    q.extend(xs)\n    return sum(q)\n"
    );
}

#[test]
fn a_list_without_front_operations_is_no_queue() {
    for source in [
        "def f():\n    q = []\n    q.append(1)\n    return q.pop()\n",
        // `list` is not the builtin here: `list(xs)` may not be a list.
        "list = tuple\ndef f(xs):\n    q = list(xs)\n    q.pop(0)\n",
    ] {
        assert_eq!(decide(source), (source.to_string(), vec![], vec![]));
    }
}

#[test]
fn uses_a_deque_does_not_support_keep_the_list_with_a_note() {
    for (source, note) in [
        (
            "def f():\n    q = [1, 2]\n    q.pop(0)\n    return q[1]\n",
            "`q` stays a list: indexed away from its ends (O(n) on a deque); a deque needs every use to work on it",
        ),
        (
            "def f():\n    q = [1, 2]\n    for x in q:\n        q.pop(0)\n",
            "`q` stays a list: it is mutated while being iterated (a deque would raise); a deque needs every use to work on it",
        ),
        (
            "def f():\n    q: list = [1, 2]\n    q.pop(0)\n",
            "`q` stays a list: it is annotated; the annotation would need to change too",
        ),
        (
            "def f():\n    q = [1, 2]\n    q.pop(0)\n    return q\n",
            "`q` stays a list: returned; a deque needs every use to work on it",
        ),
    ] {
        assert_eq!(
            decide(source),
            (source.to_string(), vec![], vec![note.to_string()])
        );
    }
}

#[test]
fn the_front_operation_prefilter_finds_every_spelling() {
    let has = |source: &str| {
        let module = crate::parse(source).expect("valid test source");
        has_front_operation(module.tokens(), source)
    };
    for source in [
        "q.pop(0)\n",
        "q.insert(0, x)\n",
        "q.pop(\n    0  # first\n)\n",
        "q.pop(0x0)\n",
        "del q[0]\n",
        "del q[-0]\n",
        "del (q)[ 0 ]\n",
    ] {
        assert!(has(source), "{source:?}");
    }
    for source in [
        "q.pop()\n",
        "q.pop(1)\n",
        "x = q[0]\n",
        "del q[1]\n",
        "q.insert(1, 0)\n",
    ] {
        assert!(!has(source), "{source:?}");
    }
}

#[test]
fn a_negative_zero_index_is_a_front_deletion() {
    let source =
        "def f(xs):\n    q = list(xs)\n    q.append(1)\n    del q[-0]\n    return len(q)\n";
    let (text, applicability, _) = decide(source);
    assert_eq!(applicability, vec![Safe], "{text}");
}
