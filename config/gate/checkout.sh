#!/bin/sh
# Seakeeper's speculative checkout: the first step of a project's gate run (and later of check runs). It
# builds the tree to test: the branch tip of every project involved, with every change ahead of the one under
# test merged in queue order, then that change. Zuul's merger does this; here the run's own step does, with
# this script, which provisioning ships into every project namespace as ConfigMap seakeeper-checkout (key
# checkout.sh). POSIX sh and git only (alpine/git and the like).
#
#   volumes: [{ name: seakeeper, configMap: { name: seakeeper-checkout, defaultMode: 365 } }]   (0555; see README)
#   container: { image: alpine/git, command: [/seakeeper/checkout.sh], volumeMounts: [{ name: seakeeper, mountPath: /seakeeper }] }
#
# Input comes from the environment only, which the run's ConfigMap fills: Argo never substitutes into it
# (docs/architecture.md, "Change text"). Nothing of it is ever evaluated: it is data to git.
#
#   SEAKEEPER_CHANGES    one line per change, in merge order, the change under test last:
#                            PROJECT BRANCH REF REVISION
#                        exactly four fields separated by single spaces, in their exact text (not
#                        percent-encoded: no field can hold a space, so none needs decoding):
#                          PROJECT   the Gerrit project (mediawiki/core); a relative path of non-empty
#                                    segments, none `.`, `..` or `.git`, no backslash
#                          BRANCH    the target branch, short name (master, wmf/1.42.0-wmf.5); a name git
#                                    accepts for refs/heads/BRANCH (git check-ref-format), not HEAD, not -…
#                          REF       refs/changes/NN/CHANGE/PATCHSET (NN: the change number's last two digits)
#                          REVISION  the patch set's commit: 40 lowercase hex digits
#                        No line may hold a control character (a tab, a CR); empty lines are ignored.
#                        A project whose name has a space cannot be given (its line has five fields).
#   SEAKEEPER_GIT_URL    where to fetch from: a project's repository is this URL followed by the project
#                        name (percent-encoded where a URL needs it), e.g. https://gerrit.example.org/ or,
#                        authenticated, https://gerrit.example.org/a/. http, https or ssh. Credentials never go
#                        in it (refused): give git its own credential configuration (a credential helper,
#                        http.extraHeader through GIT_CONFIG_COUNT/KEY_n/VALUE_n), which nothing here prints.
#   SEAKEEPER_WORKSPACE  an absolute directory, default /workspace: project P is checked out in
#                        $SEAKEEPER_WORKSPACE/P (created, or reused when it is P's repository already). Two
#                        projects of which one would lie inside the other's directory are refused.
#   SEAKEEPER_TERMINATION_LOG  default /dev/termination-log: the one line of a failure is written there too,
#                        when it is writable, so that it becomes the step's message in Argo.
#
# What it does, for each project in the order first seen: fetch its branch tip into
# $SEAKEEPER_WORKSPACE/PROJECT (remote origin = the project's URL) and put local branch BRANCH there; then for
# each change of that project and branch, in order: fetch REF, check that it is exactly REVISION, and merge
# it (git merge --no-ff, committer and author "Seakeeper <seakeeper@invalid>", dated as the change's commit,
# so the same input always yields the same commits). A project with changes on several branches gets each
# branch built as its local branch; its work tree ends on the branch of its last line (for the project under
# test, the change's own branch). Submodules are left alone.
#
# Output: progress on stderr; on success, one line per project on stdout: PROJECT BRANCH HEAD.
# `checkout.sh --check` checks the input and prints the changes in the order they would be merged (grouped
# by project, then branch), without running git.
#
# Exit codes:
#   0  done: every work tree holds its speculative state
#   1  any other failure: git missing, the workspace unusable, a fetch failed (no such branch, project or
#      ref, no access, network), a merge that failed other than by conflict
#   2  input refused before git ran: a variable missing or malformed, a line with the wrong number of
#      fields, a ref, revision, project or branch that is not well formed, a change given twice
#   3  merge conflict: the change does not merge onto its branch with the changes ahead of it (the merge is
#      aborted; what is left is not a tree to test)
#   4  a ref does not point at its revision: the patch set is not the one the input names
set -u
LC_ALL=C
export LC_ALL
GIT_TERMINAL_PROMPT=0
export GIT_TERMINAL_PROMPT
nl='
'

termination_log=${SEAKEEPER_TERMINATION_LOG-/dev/termination-log}

# fail CODE MESSAGE: the message on stderr and in the termination log, then exit CODE.
fail() {
  code=$1
  shift
  message="seakeeper: $*"
  printf '%s\n' "$message" >&2
  if [ -n "$termination_log" ] && [ -w "$termination_log" ]; then
    { printf '%s\n' "$message" >"$termination_log"; } 2>/dev/null || :
  fi
  exit "$code"
}

refuse() {
  fail 2 "$@"
}

say() {
  printf 'seakeeper: %s\n' "$*" >&2
}

digits() {
  case $1 in '' | *[!0-9]*) return 1 ;; esac
  [ ${#1} -le 10 ]
}

# check_project PROJECT: why it cannot be a directory under the workspace, in $why; empty when it can.
check_project() {
  why=
  case $1 in
    '') why='is empty'; return ;;
    /*) why='is an absolute path'; return ;;
    */) why='ends with /'; return ;;
    *'\'*) why='has a backslash'; return ;;
  esac
  each_segment "$1" project_segment
}

project_segment() {
  case $1 in
    . | ..) why="has a '$1' path segment" ;;
    [.][gG][iI][tT]) why='has a .git path segment' ;;
  esac
}

# check_branch BRANCH: why git would refuse refs/heads/BRANCH as a branch (git check-ref-format), in $why.
check_branch() {
  why=
  case $1 in
    '') why='is empty'; return ;;
    -*) why='starts with -'; return ;;
    HEAD | @) why="is '$1'"; return ;;
    /* | */) why='starts or ends with /'; return ;;
    *.) why='ends with .'; return ;;
    *..*) why='has ..'; return ;;
    *'@{'*) why='has @{'; return ;;
    *'~'* | *'^'* | *':'* | *'?'* | *'*'* | *'['* | *'\'*) why='has one of ~ ^ : ? * [ \'; return ;;
  esac
  each_segment "$1" branch_segment
}

branch_segment() {
  case $1 in
    .*) why='has a path segment that starts with .' ;;
    *.lock) why='has a path segment that ends with .lock' ;;
  esac
}

# each_segment PATH CHECK: CHECK SEGMENT for each /-separated segment of PATH until one sets $why.
each_segment() {
  segments=$1/
  while [ -n "$segments" ] && [ -z "$why" ]; do
    segment=${segments%%/*}
    segments=${segments#*/}
    if [ -z "$segment" ]; then
      why='has an empty path segment (//)'
    else
      "$2" "$segment"
    fi
  done
}

# url_path PROJECT: the project as a URL path, every byte but A-Z a-z 0-9 - . _ ~ / percent-encoded.
url_path() {
  bytes=$1
  encoded=
  while [ -n "$bytes" ]; do
    tail=${bytes#?}
    char=${bytes%"$tail"}
    bytes=$tail
    case $char in
      [A-Za-z0-9/._~-]) encoded=$encoded$char ;;
      *) encoded=$encoded$(printf '%%%02X' "'$char") ;;
    esac
  done
  printf '%s' "$encoded"
}

# ---- the input, checked whole before git runs ----

mode=run
case $# in
  0) ;;
  1) [ "$1" = --check ] || refuse "unknown argument (the only one is --check); input comes from the environment"
     mode=check ;;
  *) refuse "too many arguments (the only one is --check); input comes from the environment" ;;
esac

[ -n "${SEAKEEPER_CHANGES-}" ] || refuse 'SEAKEEPER_CHANGES is empty or not set: no change to check out'
git_url=${SEAKEEPER_GIT_URL-}
[ -n "$git_url" ] || refuse 'SEAKEEPER_GIT_URL is empty or not set'
case $git_url in
  *[[:cntrl:]]* | *' '*) refuse 'SEAKEEPER_GIT_URL has a space or a control character' ;;
  http://?* | https://?* | ssh://?*) ;;
  *) refuse 'SEAKEEPER_GIT_URL is not an http://, https:// or ssh:// URL' ;;
esac
authority=${git_url#*://}
authority=${authority%%/*}
case $authority in
  *:*@*) refuse 'SEAKEEPER_GIT_URL carries a password: give git the credentials through its credential configuration instead' ;;
esac
case $git_url in */) ;; *) git_url=$git_url/ ;; esac
workspace=${SEAKEEPER_WORKSPACE-/workspace}
case $workspace in
  *[[:cntrl:]]*) refuse 'SEAKEEPER_WORKSPACE has a control character' ;;
  /*) ;;
  *) refuse 'SEAKEEPER_WORKSPACE is not an absolute path' ;;
esac

# changes: the checked lines, each followed by a newline. projects, keys: newline-framed lists.
changes=
projects=$nl
keys=$nl
count=0
number=0
while IFS= read -r line <&3 || [ -n "$line" ]; do
  number=$((number + 1))
  [ -n "$line" ] || continue
  at="SEAKEEPER_CHANGES line $number"
  case $line in
    *[[:cntrl:]]*) refuse "$at has a control character (a tab, a CR?): fields are separated by single spaces" ;;
    ' '* | *' ' | *'  '*) refuse "$at: fields are separated by single spaces, with none before or after" ;;
  esac
  rest=$line
  fields=1
  while :; do
    case $rest in *' '*) fields=$((fields + 1)); rest=${rest#* } ;; *) break ;; esac
  done
  [ "$fields" -eq 4 ] || refuse "$at has $fields fields, not 4 (PROJECT BRANCH REF REVISION)"
  project=${line%% *}
  rest=${line#* }
  branch=${rest%% *}
  rest=${rest#* }
  ref=${rest%% *}
  revision=${rest#* }

  check_project "$project"
  [ -z "$why" ] || refuse "$at: project '$project' $why"
  check_branch "$branch"
  [ -z "$why" ] || refuse "$at: branch '$branch' of $project $why"
  case $ref in
    refs/changes/[0-9][0-9]/*/*) ;;
    *) refuse "$at: ref '$ref' is not refs/changes/NN/CHANGE/PATCHSET" ;;
  esac
  rest=${ref#refs/changes/}
  shard=${rest%%/*}
  rest=${rest#*/}
  change=${rest%%/*}
  patchset=${rest#*/}
  if ! digits "$change" || ! digits "$patchset"; then
    refuse "$at: ref '$ref' is not refs/changes/NN/CHANGE/PATCHSET"
  fi
  case $change/$patchset in 0* | */0*) refuse "$at: ref '$ref': a change or patch set number starts with 0" ;; esac
  case $change in ?) last2=0$change ;; *) last2=${change#"${change%??}"} ;; esac
  [ "$shard" = "$last2" ] || refuse "$at: ref '$ref' should start refs/changes/$last2/ (the change number's last two digits)"
  case $revision in *[!0-9a-f]*) refuse "$at: revision '$revision' is not 40 lowercase hex digits" ;; esac
  [ ${#revision} -eq 40 ] || refuse "$at: revision '$revision' is not 40 lowercase hex digits"

  case $keys in *"$nl$project $change$nl"*) refuse "$at: change $change of $project is given twice" ;; esac
  keys="$keys$project $change$nl"
  case $projects in *"$nl$project$nl"*) ;; *) projects=$projects$project$nl ;; esac
  changes=$changes$line$nl
  count=$((count + 1))
done 3<<EOF
$SEAKEEPER_CHANGES
EOF
[ "$count" -gt 0 ] || refuse 'SEAKEEPER_CHANGES has no change, only empty lines'

# One work tree per project: none may lie inside another's.
while IFS= read -r outer <&3; do
  [ -n "$outer" ] || continue
  while IFS= read -r inner <&4; do
    [ -n "$inner" ] && [ "$inner" != "$outer" ] || continue
    case $inner/ in
      "$outer"/*) refuse "project $inner would be checked out inside project $outer ($workspace/$outer)" ;;
    esac
  done 4<<EOF
$projects
EOF
done 3<<EOF
$projects
EOF

# The plan: the lines in the order they are merged. Per project, first seen first; within one, its branches in
# the order of their last line, so that the work tree ends on the branch of the project's last line.
plan=
while IFS= read -r project <&3; do
  [ -n "$project" ] || continue
  branches=$nl
  while IFS=' ' read -r p b r v <&4; do
    [ "$p" = "$project" ] || continue
    case $branches in *"$nl$b$nl"*) branches=${branches%%"$nl$b$nl"*}$nl${branches#*"$nl$b$nl"} ;; esac
    branches=$branches$b$nl
  done 4<<EOF
$changes
EOF
  while IFS= read -r branch <&4; do
    [ -n "$branch" ] || continue
    while IFS=' ' read -r p b r v <&5; do
      [ "$p" = "$project" ] && [ "$b" = "$branch" ] || continue
      plan="$plan$p $b $r $v$nl"
    done 5<<EOF
$changes
EOF
  done 4<<EOF
$branches
EOF
done 3<<EOF
$projects
EOF

if [ "$mode" = check ]; then
  printf '%s' "$plan"
  exit 0
fi

# ---- git ----

command -v git >/dev/null 2>&1 || fail 1 'git is not on PATH'

# The merges' identity and dates are fixed by the input, so the same input yields the same commits.
GIT_AUTHOR_NAME=Seakeeper
GIT_AUTHOR_EMAIL=seakeeper@invalid
GIT_COMMITTER_NAME=Seakeeper
GIT_COMMITTER_EMAIL=seakeeper@invalid
export GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL

# g ARGS: git in the current project's work tree; its output goes to stderr, stdout is the summary's.
g() {
  git -C "$dir" "$@" </dev/null >&2
}
# gv ARGS: git in the current project's work tree, for a value on stdout.
gv() {
  git -C "$dir" "$@" </dev/null
}

empty_dir() {
  for entry in "$1"/* "$1"/.[!.]* "$1"/..?*; do
    [ -e "$entry" ] || [ -L "$entry" ] && return 1
  done
  return 0
}

# open_project: $dir is a repository of $project with origin at its URL, left as it was or fresh.
open_project() {
  dir=$workspace/$project
  if [ -e "$dir/.git" ]; then
    say "$project: reusing $dir"
  else
    if [ -e "$dir" ] || [ -L "$dir" ]; then
      [ -d "$dir" ] && [ ! -L "$dir" ] || fail 1 "$dir exists and is not a directory"
      empty_dir "$dir" || fail 1 "$dir exists, is not empty and is not a git repository"
    fi
    mkdir -p "$dir" || fail 1 "cannot create $dir"
    git -c init.defaultBranch=seakeeper init -q "$dir" </dev/null >&2 || fail 1 "git init $dir failed"
  fi
  url=$git_url$(url_path "$project")
  if gv remote get-url origin >/dev/null 2>&1; then
    g remote set-url origin "$url" || fail 1 "$project: cannot set its remote"
  else
    g remote add origin "$url" || fail 1 "$project: cannot add its remote"
  fi
}

# open_branch: the work tree at the tip of $branch, on local branch $branch, nothing else in it.
open_branch() {
  g fetch -q --no-tags origin "+refs/heads/$branch:refs/remotes/origin/$branch" ||
    fail 1 "$project: cannot fetch branch $branch"
  tip=$(gv rev-parse -q --verify "refs/remotes/origin/$branch^{commit}") || fail 1 "$project: branch $branch has no commit"
  if gv rev-parse -q --verify MERGE_HEAD >/dev/null; then g merge --abort || :; fi
  g checkout -q -f -B "$branch" "$tip" || fail 1 "$project: cannot check out $branch at $tip"
  g clean -q -ffdx || fail 1 "$project: cannot clean the work tree"
  say "$project: $branch at $tip"
}

# merge_change: fetch $ref, check it is $revision, merge it.
merge_change() {
  g fetch -q --no-tags origin "$ref" || fail 1 "$project: cannot fetch $ref"
  fetched=$(gv rev-parse -q --verify 'FETCH_HEAD^{commit}') || fail 1 "$project: $ref is not a commit"
  [ "$fetched" = "$revision" ] ||
    fail 4 "patch set moved: $ref of $project is $fetched, not $revision"
  date=$(gv show -s --format=%cd --date=raw "$revision") || fail 1 "$project: cannot read $revision"
  GIT_AUTHOR_DATE=$date
  GIT_COMMITTER_DATE=$date
  export GIT_AUTHOR_DATE GIT_COMMITTER_DATE
  if g -c commit.gpgSign=false -c core.hooksPath=/dev/null merge -q --no-ff --no-edit -m "Merge $ref" "$revision"; then
    say "$project: merged $ref ($revision)"
    return
  fi
  if gv rev-parse -q --verify MERGE_HEAD >/dev/null; then
    g merge --abort || :
    fail 3 "merge conflict: change $ref of $project does not merge onto $branch with the changes ahead of it"
  fi
  fail 1 "$project: git merge of $ref failed"
}

summary=
current_project=
current_branch=
finish_project() {
  [ -n "$current_project" ] || return 0
  head=$(gv rev-parse -q --verify HEAD) || fail 1 "$current_project: no HEAD"
  summary="$summary$current_project $current_branch $head$nl"
}

while IFS=' ' read -r project branch ref revision <&3; do
  [ -n "$project" ] || continue
  if [ "$project" != "$current_project" ]; then
    finish_project
    open_project
    current_project=$project
    current_branch=
  fi
  if [ "$branch" != "$current_branch" ]; then
    open_branch
    current_branch=$branch
  fi
  merge_change
done 3<<EOF
$plan
EOF
finish_project
printf '%s' "$summary"
