#!/usr/bin/env bash
# Runs the curated clang-tidy checks (.clang-tidy) over src/ using the
# compile commands of a configured build (default: build/ci).
#   scripts/check-tidy.sh [BUILD]              every file under src/
#   scripts/check-tidy.sh [BUILD] --since REV  the files that changed since REV
#                                              (committed or not), and those
#                                              that include, directly or not, a
#                                              header that changed
# With the static analyzer's checks a file takes 20-40 s: the whole tree is
# about an hour of CPU, more than any build of CI. CI therefore checks what
# changed since the commit in .ci/tidy-clean, at which every file was last
# found clean (record a newer one after a full run passes). Everything is
# checked when REV is unknown here or .clang-tidy itself changed.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build/ci
since=
while (($#)); do
  case $1 in
  --since) since=${2:-}; shift 2 ;;
  *) build=$1; shift ;;
  esac
done
[[ -f "$build/compile_commands.json" ]] || { echo "configure $build first (cmake --preset ci)"; exit 2; }
mapfile -t all < <(git ls-files 'src/*.cc')
files=("${all[@]}")
scope="every file"
if [[ -n "$since" ]] && git merge-base --is-ancestor "$since" HEAD 2>/dev/null; then
  mapfile -t changed < <(git diff --name-only "$since" -- ; git ls-files --others --exclude-standard)
  tidy_config_changed=0
  for f in "${changed[@]}"; do [[ $f == .clang-tidy ]] && tidy_config_changed=1; done
  if ((!tidy_config_changed)); then
    # What each file includes, by file name (an include path's last part).
    declare -A includes=()
    mapfile -t all_headers < <(git ls-files 'src/*.h' 'include/*.h')
    for f in "${all_headers[@]}" "${all[@]}"; do
      includes[$f]=" $( (grep -ho '^#include "[^"]*"' "$f" || true) | sed 's|.*[/"]\([^/"]*\)"$|\1|' | tr '\n' ' ')"
    done
    # Headers that changed, then those that include them, until none is added.
    declare -A headers=()
    for f in "${changed[@]}"; do [[ $f == *.h && -f $f ]] && headers[${f##*/}]=1; done
    includes_changed() {
      local name
      for name in ${includes[$1]}; do [[ -n "${headers[$name]:-}" ]] && return 0; done
      return 1
    }
    grown=1
    while ((grown)); do
      grown=0
      for h in "${all_headers[@]}"; do
        [[ -z "${headers[${h##*/}]:-}" ]] && includes_changed "$h" && headers[${h##*/}]=1 && grown=1
      done
    done
    declare -A pick=()
    for f in "${changed[@]}"; do [[ $f == src/*.cc && -f $f ]] && pick[$f]=1; done
    for f in "${all[@]}"; do includes_changed "$f" && pick[$f]=1; done
    files=("${!pick[@]}")
    scope="the ${#files[@]} of ${#all[@]} files changed since ${since:0:12} or including a changed header"
  fi
fi
if ((${#files[@]})); then
  printf '%s\n' "${files[@]}" | xargs -P "$(nproc)" -n 4 clang-tidy -p "$build" --quiet \
    --extra-arg=-Wno-unknown-warning-option 2>/dev/null
fi
echo "clang-tidy: $scope clean"
