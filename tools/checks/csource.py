# tools/checks/csource.py — what the checks read from C sources, shared by layers, cycles and
# sizes: the C files of a tree, their `#include "..."` lines resolved the way the compiler does
# (the includer's directory, then include/, then src/), and function definitions in the repo's
# style (K&R: a function's `{` and `}` alone at column 0). Python 3 standard library only.
import os
import re
import sys

C_EXTS = ('.c', '.h', '.inc')
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')
NAME_RE = re.compile(r'([A-Za-z_]\w*)\s*\(')
NOT_NAMES = {'sizeof', 'void', 'int', 'char', 'long', 'unsigned', 'const'}


def repo_root(argv):
    """--root DIR from argv (for the checks' own tests), else the repository of this file."""
    if '--root' in argv:
        return os.path.abspath(argv[argv.index('--root') + 1])
    return os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def c_files(root, tops, exts=C_EXTS):
    """Repo-relative paths of C files under the directories `tops`, sorted."""
    out = []
    for top in tops:
        for d, dirs, files in os.walk(os.path.join(root, top)):
            dirs[:] = sorted(x for x in dirs if not x.startswith('.'))
            out += [os.path.relpath(os.path.join(d, f), root) for f in files if f.endswith(exts)]
    return sorted(out)


def read_lines(root, rel):
    with open(os.path.join(root, rel), encoding='utf-8', errors='replace') as f:
        return f.read().split('\n')


def includes(root, rel):
    """[(line number, spelled name, resolved repo-relative path or None)] of quoted includes."""
    out = []
    for n, line in enumerate(read_lines(root, rel), 1):
        m = INCLUDE_RE.match(line)
        if not m:
            continue
        name = m.group(1)
        resolved = None
        for base in (os.path.dirname(rel), 'include', 'src'):
            cand = os.path.normpath(os.path.join(base, name))
            if os.path.isfile(os.path.join(root, cand)):
                resolved = cand
                break
        out.append((n, name, resolved))
    return out


def strip_attributes(text):
    """text without GNU `__attribute__((...))` (balanced parentheses)."""
    while True:
        i = text.find('__attribute__')
        j = text.find('(', i)
        if i < 0 or j < 0:
            return text
        depth, k = 0, j
        while k < len(text):
            depth += {'(': 1, ')': -1}.get(text[k], 0)
            k += 1
            if depth == 0:
                break
        text = text[:i] + text[k:]


def functions(root, rel):
    """[(name, signature line, '{' line, '}' line, is_static)] of the file's function bodies."""
    lines = read_lines(root, rel)
    out = []
    i = 0
    while i < len(lines):
        if not lines[i].startswith('{'):
            i += 1
            continue
        # The signature: back to the line that starts at column 0 and holds the name's '('.
        j = i - 1
        while j > 0 and (lines[j][:1] in (' ', '\t', '') or '(' not in ' '.join(lines[j:i])):
            j -= 1
        sig = strip_attributes(' '.join(lines[j:i]))
        names = [x for x in NAME_RE.findall(sig) if x not in NOT_NAMES]
        k = i + 1
        while k < len(lines) and not lines[k].startswith('}'):
            k += 1
        out.append((names[0] if names else '?', j + 1, i + 1, k + 1,
                    sig.lstrip().startswith('static')))
        i = k + 1
    return out


def strip_comments(text):
    """C text without comments, preprocessor lines and attributes (to scan declarations)."""
    text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
    text = re.sub(r'//[^\n]*', '', text)
    text = re.sub(r'^\s*#(?:[^\n]*\\\n)*[^\n]*', '', text, flags=re.M)
    return strip_attributes(text)


def report(problems, what, notes=()):
    """Print each problem, the notes, then a one-line verdict; the exit status for the check."""
    for p in list(problems) + list(notes):
        print(p)
    if problems:
        print('%s: %d problem(s)' % (what, len(problems)))
        return 1
    print('%s: ok' % what)
    return 0


if __name__ == '__main__':
    sys.exit('csource.py is a module of tools/checks, not a check')
