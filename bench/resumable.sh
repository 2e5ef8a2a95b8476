# bench/resumable.sh — one `pff train --json` run that survives being stopped, for the scripts
# whose runs take hours (accuracy.sh, paper.sh). Sourced, not run:
#
#   . bench/resumable.sh
#   resumable_train PFF DIR NAME CHECKPOINT FORCE ARGS...
#
# Trains `PFF train ARGS --log DIR/NAME.csv --save DIR/NAME.pff --quiet --json` into
# DIR/NAME.json, and keeps the command in DIR/NAME.cmd with DIR/ left out of its paths.
#   - DIR/NAME.json there already: nothing runs, it says "kept" (FORCE=1 runs it again).
#   - CHECKPOINT=1: the run writes DIR/NAME.ck after every chapter; when it is there, the run
#     continues from it (`--resume`, logging into NAME.resumeK.csv) instead of starting again.
#     The JSON of a continued run gains train_seconds_total: the seconds of every part, the parts
#     that stopped counted by the last chapter in their logs (DESIGN.md §6: one accounting).
#     A finished run removes its checkpoint.
# RT_DRY=1 prints the command and runs nothing, and writes or removes no file (a real run may be
# using them). Returns pff's status; a failed run leaves no JSON, and its checkpoint for the next
# try.
# The names it sets start with rt_ (sh has no local variables).

resumable_train() {
    rt_pff=$1 rt_dir=$2 rt_name=$3 rt_ck=$4 rt_force=$5
    shift 5
    rt_base="$rt_dir/$rt_name"
    if [ -s "$rt_base.json" ] && [ "$rt_force" != 1 ]; then
        echo "== $rt_name: kept $rt_base.json (made earlier: see $rt_name.cmd; --force runs it again)"
        return 0
    fi
    rt_dry=${RT_DRY:-0} # a dry run changes no file: a real run may be using them
    [ "$rt_force" = 1 ] && [ "$rt_dry" = 0 ] && rm -f "$rt_base.ck" "$rt_base".resume*.csv
    if [ "$rt_ck" = 1 ] && [ "$rt_force" != 1 ] && [ -e "$rt_base.ck" ]; then
        # the seconds before this part: the last chapter logged by each part that stopped
        rt_k=1
        while [ -e "$rt_base.resume$rt_k.csv" ]; do rt_k=$((rt_k + 1)); done
        rt_before=$(for rt_log in "$rt_base.csv" "$rt_base".resume*.csv; do
            [ -e "$rt_log" ] && awk -F, '
                NR == 1 { for (i = 1; i <= NF; i++) if ($i == "seconds") c = i; next }
                c && $c != "" { s = $c } END { printf "%.3f\n", s }' "$rt_log"
        done | awk '{ t += $1 } END { printf "%.3f\n", t }')
        set -- --resume "$rt_base.ck" --log "$rt_base.resume$rt_k.csv" --quiet --json
        echo "== $rt_name: continuing from $rt_name.ck ($rt_before s trained before)"
    else
        rt_before=
        [ "$rt_dry" = 0 ] && rm -f "$rt_base.cmd.tmp"
        [ "$rt_ck" = 1 ] && set -- "$@" --checkpoint "$rt_base.ck"
        set -- "$@" --log "$rt_base.csv" --save "$rt_base.pff" --quiet --json
    fi
    echo "== $rt_name: pff train $*"
    [ "$rt_dry" = 1 ] && return 0
    echo "pff train $*" | sed "s|$rt_dir/||g" >>"$rt_base.cmd.tmp"
    if "$rt_pff" train "$@" >"$rt_base.json.tmp"; then
        tail -n 1 "$rt_base.json.tmp" | python3 -c 'import json, sys
d = json.loads(sys.stdin.read())
if sys.argv[1]:
    d["train_seconds_total"] = round(float(sys.argv[1]) + d["train_seconds"], 3)
print(json.dumps(d, separators=(",", ":")))' "$rt_before" >"$rt_base.json"
        rm -f "$rt_base.json.tmp" "$rt_base.ck"
        mv "$rt_base.cmd.tmp" "$rt_base.cmd"
        return 0
    else
        rt_status=$?
        rm -f "$rt_base.json.tmp"
        echo "${0##*/}: $rt_name stopped (status $rt_status)$([ "$rt_ck" = 1 ] &&
            echo "; run the script again to continue from $rt_name.ck")" >&2
        return "$rt_status"
    fi
}
