"""Workload: parse a generated C translation unit of N functions with pycparser and
keep the AST (a static analyser's front end)."""
import sys
from pycparser import c_parser

n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
parts = ["typedef struct point { int x; int y; double w[4]; } point_t;"]
for i in range(n):
    parts.append(f"""
int f{i}(point_t *p, int k) {{
    int s = 0;
    for (int j = 0; j < k; j++) {{
        if (p->x > j) s += p->y * {i};
        else s -= p->w[j % 4] > 0.5 ? 1 : 2;
    }}
    return s + f{max(i - 1, 0)}(p, k - 1);
}}""")
text = "\n".join(parts)
ast = c_parser.CParser().parse(text, filename="<gen>")
def count(node):
    return 1 + sum(count(c) for _, c in node.children())
print(len(ast.ext), count(ast))
