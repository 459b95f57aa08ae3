#!/usr/bin/env python3
"""Lists the functions, initializers and computed properties under a directory longer than a limit (default 80
lines, declaration to closing brace) with no `// Over N lines: <reason>` comment directly above them (attributes
may sit between), and exits 1 when there is one. Braces in strings and comments are skipped; approximate, for
review. Usage: scripts/long-functions.py Sources [limit]"""
import re, sys, os
LIMIT = int(sys.argv[2]) if len(sys.argv) > 2 else 80
decl = re.compile(r'^\s*(?:@[\w()]+\s+)*(?:(?:public|private|fileprivate|internal|package|static|class|final|override|mutating|nonmutating|convenience|required|nonisolated|@inlinable|@usableFromInline)\s+)*(func\s+[^\s(<]+|init[?!]?\s*[(<]|deinit|(?:var|subscript)\b[^=]*\{\s*$)')
def strip(line, state):
    # remove strings and comments roughly; state: in multiline string
    out = []; i = 0; n = len(line)
    while i < n:
        if state['ml']:
            j = line.find('"""', i)
            if j < 0: return ''.join(out)
            state['ml'] = False; i = j + 3; continue
        c = line[i]
        if line.startswith('//', i): break
        if line.startswith('"""', i): state['ml'] = True; i += 3; continue
        if c == '"':
            i += 1
            while i < n and line[i] != '"':
                if line[i] == '\\': i += 1
                i += 1
            i += 1; continue
        out.append(c); i += 1
    return ''.join(out)
found = []
for root, _, files in os.walk(sys.argv[1]):
    for f in sorted(files):
        if not f.endswith('.swift'): continue
        path = os.path.join(root, f); lines = open(path).read().split('\n')
        state = {'ml': False}; clean = [strip(l, state) for l in lines]
        k = 0
        while k < len(lines):
            m = decl.match(clean[k])
            if m and not lines[k].lstrip().startswith('//'):
                # find opening brace
                j = k; depth = 0; opened = False; end = None
                while j < len(lines):
                    for ch in clean[j]:
                        if ch == '{': depth += 1; opened = True
                        elif ch == '}': depth -= 1
                    if opened and depth <= 0: end = j; break
                    if not opened and j > k + 15: break
                    j += 1
                if end is not None and end - k + 1 > LIMIT:
                    # reason comment: the comment line directly above the decl (skipping attributes) starting with '// Long'
                    above = k - 1
                    while above >= 0 and lines[above].strip().startswith('@'): above -= 1
                    reason = False
                    while above >= 0 and re.match(r'\s*// ', lines[above]):
                        reason = reason or re.match(r'\s*// Over \d+ lines: ', lines[above]) is not None
                        above -= 1
                    if not reason:
                        found.append(f"{end-k+1:5d} {path}:{k+1} {lines[k].strip()[:80]}")
            k += 1
for line in found:
    print(line)
sys.exit(1 if found else 0)
