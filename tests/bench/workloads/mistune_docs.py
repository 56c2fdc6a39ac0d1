"""Workload: N Markdown documents parsed to AST and rendered to HTML with mistune,
all ASTs kept alive (a docs site build)."""
import sys
import mistune

n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
doc = """# Title {i}

Some *emphasis* and **strong** text with a [link](http://example.com/{i}) and `code`.

- item one
- item two with `code`
  - nested item

1. first
2. second

> a quote with *style*

```python
def f(x):
    return x * {i}
```

| a | b |
|---|---|
| {i} | two |
"""
md_ast = mistune.create_markdown(renderer=None, plugins=["table", "strikethrough"])
md_html = mistune.create_markdown(plugins=["table", "strikethrough"])
asts = [md_ast(doc.format(i=i) * 5) for i in range(n)]
html = [md_html(doc.format(i=i) * 5) for i in range(n)]
print(len(asts), sum(len(a) for a in asts), sum(len(h) for h in html))
