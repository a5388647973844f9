# Minimal template engine for the gateway (POSIX awk: runs on busybox, mawk and gawk).
#
#   {{NAME}}            value of the environment variable GWR_NAME (render.sh exports only validated values)
#   {{#if NAME}} ... {{/if}}, {{#unless NAME}} ... {{/unless}}   on their own lines; truthy = non-empty; may nest
#
# With -v html=1 every substituted value is HTML-escaped (& < > " '), so a template never needs to remember it.
# An unknown placeholder stops the render: a typo must not silently produce an empty directive.

function html_escape(s,    out, i, c) {
  out = ""
  for (i = 1; i <= length(s); i++) {
    c = substr(s, i, 1)
    if (c == "&") out = out "&amp;"
    else if (c == "<") out = out "&lt;"
    else if (c == ">") out = out "&gt;"
    else if (c == "\"") out = out "&quot;"
    else if (c == "'") out = out "&#39;"
    else out = out c
  }
  return out
}

function value_of(name) {
  if (!(("GWR_" name) in ENVIRON)) {
    printf "template %s:%d: unknown placeholder {{%s}}\n", FILENAME, FNR, name > "/dev/stderr"
    failed = 1
    exit 2
  }
  return ENVIRON["GWR_" name]
}

function cond_name(line) {
  sub(/^[ \t]*[{][{]#(if|unless)[ \t]+/, "", line)
  sub(/[ \t]*[}][}][ \t]*$/, "", line)
  return line
}

BEGIN { depth = 0; skipping = 0 }

/^[ \t]*[{][{]#if[ \t]+[A-Z0-9_]+[ \t]*[}][}][ \t]*$/ {
  depth++
  truth = value_of(cond_name($0)) != ""
  if (!skipping && !truth) skipping = depth
  next
}
/^[ \t]*[{][{]#unless[ \t]+[A-Z0-9_]+[ \t]*[}][}][ \t]*$/ {
  depth++
  truth = value_of(cond_name($0)) != ""
  if (!skipping && truth) skipping = depth
  next
}
/^[ \t]*[{][{]\/(if|unless)[}][}][ \t]*$/ {
  if (depth == 0) {
    printf "template %s:%d: closing tag without an opening one\n", FILENAME, FNR > "/dev/stderr"
    failed = 1
    exit 2
  }
  if (skipping == depth) skipping = 0
  depth--
  next
}

{
  if (skipping) next
  line = $0
  out = ""
  while (match(line, /[{][{][A-Z0-9_]+[}][}]/)) {
    name = substr(line, RSTART + 2, RLENGTH - 4)
    v = value_of(name)
    if (html) v = html_escape(v)
    out = out substr(line, 1, RSTART - 1) v
    line = substr(line, RSTART + RLENGTH)
  }
  print out line
}

END {
  if (!failed && depth != 0) {
    printf "template %s: %d unclosed {{#if}}\n", FILENAME, depth > "/dev/stderr"
    exit 2
  }
}
