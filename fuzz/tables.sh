#!/usr/bin/env bash
# Writes, to stdout, a C header with the API's own tables: the field
# tables of the request bodies, the query-string specs and the column
# tables of the responses, as the endpoints' sources define them.  They
# are static in files that need nginx's headers; read from the sources,
# the fuzzers check the tables that ship, not copies that could drift.
set -euo pipefail

src=${1:-src}

# a table starts at a line "[static ]const <type>  name[] = {" and ends at
# the first line with "};"; its name gets the file's prefix (two files have
# a "create_fields"), choice lists keep theirs (the tables name them)
extract() {
    local start='^(static )?const '
    start+='(char \\*const|ngx_autoscale_(field|arg_spec|col)_t) '

    awk -v prefix="$2" -v start="$start" '
        $0 ~ start {
            on = 1
            if ($0 !~ /^static /) {
                $0 = "static " $0
            }
            if (match($0, /_(field|arg_spec|col)_t +ngx_autoscale_[a-z_]+/)) {
                decl = substr($0, RSTART + 1, RLENGTH - 1)
                type = decl; sub(/_t .*$/, "", type)
                name = decl; sub(/^.* ngx_autoscale_/, "", name)
                sub(/ngx_autoscale_[a-z_]+\[/, "fuzz_" prefix "_" name "[")
                list = list " fuzz_" prefix "_" name ":" type
            }
        }
        on {
            print
            if ($0 ~ /};/) {
                on = 0
                print ""
            }
        }
        END { print "/* tables:" list " */" }
    ' "$1"
}

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

{
    echo "/* written by fuzz/tables.sh from $src/: do not edit */"
    echo
    echo "#include \"ngx_autoscale_body.h\""
    echo "#include \"ngx_autoscale_json.h\""
    echo "#include \"ngx_autoscale_route.h\""
    echo
    echo "/* each target walks the tables of one kind only */"
    echo "#pragma GCC diagnostic ignored \"-Wunused-const-variable\""
    echo
    # the policy fields and columns that clusters and blueprints share
    awk '/^#define NGX_AUTOSCALE_POLICY_(FIELDS|COLS|PERCENT_MAX) / { on = 1 }
         on { print; if ($0 !~ /\\$/) { on = 0; print "" } }' \
        "$src/ngx_autoscale_policy_vocab.h"
    extract "$src/ngx_autoscale_policy_vocab.c" vocab
    extract "$src/ngx_autoscale_api.c" api
    extract "$src/ngx_autoscale_api_agents.c" agents
    extract "$src/ngx_autoscale_api_blueprints.c" blueprints
    extract "$src/ngx_autoscale_api_clusters.c" clusters
    extract "$src/ngx_autoscale_api_history.c" history
} >"$tmp"

grep -v '^/\* tables:' "$tmp"

# an array of the tables of each kind, with their names and sizes, for the
# targets to pick from: fuzz_field_tables[FUZZ_NFIELD_TABLES], ...
for kind in field arg_spec col; do
    names=$(grep -o '^/\* tables:.*\*/' "$tmp" | tr ' ' '\n' \
            | sed -n "s/^\(fuzz_[a-z_]*\):$kind\$/\1/p")
    if [ -z "$names" ]; then
        echo "fuzz/tables.sh: no $kind tables found in $src/" >&2
        exit 1
    fi

    printf 'static const struct {\n'
    printf '    const char  *name;\n'
    printf '    const ngx_autoscale_%s_t  *table;\n' "$kind"
    printf '    size_t  n;\n'
    printf '} fuzz_%s_tables[] = {\n' "$kind"
    for n in $names; do
        printf '    { "%s", %s, sizeof(%s) / sizeof(%s[0]) },\n' \
               "$n" "$n" "$n" "$n"
    done
    printf '};\n\n'
    printf '#define FUZZ_N%s_TABLES  %d\n\n' \
           "$(echo "$kind" | tr a-z A-Z | tr -d _)" "$(echo $names | wc -w)"
done
