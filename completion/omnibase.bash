# SPDX-License-Identifier: LGPL-2.1-or-later
# bash completion for omnibase(1): subcommands, options, capability types, profile names.
# Needs nothing from the bash-completion package (tests source it in a bare bash).

_omnibase_profiles()
{
	# Asked of the omnibase being completed, so a build tree's binary lists its own.
	"$1" caps profiles 2>/dev/null | while read -r name _; do printf '%s\n' "$name"; done
}

_omnibase_types()
{
	local t
	for t in FILE_READ FILE_WRITE NETWORK_CONNECT EXTERNAL_COMMAND SECRET_ACCESS \
		DATABASE_READ DATABASE_WRITE REGISTRY_READ REGISTRY_WRITE ARTIFACT_READ \
		ARTIFACT_WRITE; do
		printf '%s:\n' "$t"
	done
}

# Values of options that take one; returns 1 when PREV takes none.
_omnibase_value()
{
	local bin=$1 prev=$2 cur=$3
	case $prev in
	--profile) mapfile -t COMPREPLY < <(compgen -W "$(_omnibase_profiles "$bin")" -- "$cur") ;;
	--cap) mapfile -t COMPREPLY < <(compgen -W "$(_omnibase_types)" -- "$cur")
		compopt -o nospace 2>/dev/null ;;
	--mode) mapfile -t COMPREPLY < <(compgen -W "sandbox rx rwx" -- "$cur") ;;
	--backend) mapfile -t COMPREPLY < <(compgen -W "native gvisor crun runc" -- "$cur") ;;
	--egress) mapfile -t COMPREPLY < <(compgen -W "both transparent proxy" -- "$cur") ;;
	--limit) mapfile -t COMPREPLY < <(compgen -W "memory= cpus= pids= timeout= output= \
		tmpfs= files= connections= egress= events=" -- "$cur")
		compopt -o nospace 2>/dev/null ;;
	--workdir | --registry | --artifacts) mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
	--capabilities | --audit-log | --audit-socket | --seccomp-profile | --policies | \
		--entities | --key | --policy | --password-file) mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
	--context | --env | --secret | --memory | --cpus | --pids | --timeout | --component | \
		--principal | --action | --resource | --event) COMPREPLY=() ;;
	*) return 1 ;;
	esac
	return 0
}

_omnibase()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local bin=${COMP_WORDS[0]} cmd=${COMP_WORDS[1]} sub=${COMP_WORDS[2]} words opts
	COMPREPLY=()

	if ((COMP_CWORD == 1)); then
		words="sandbox caps policy registry scan audit doctor --help --version"
	elif ((COMP_CWORD == 2)); then
		case $cmd in
		sandbox) words="run learn --help" ;;
		caps) words="check review profiles show test --help" ;;
		policy) words="check eval --help" ;;
		audit) words="verify tail --help" ;;
		registry) words="add list show verify lint sign --help" ;;
		*) words="--help" ;;
		esac
	else
		_omnibase_value "$bin" "$prev" "$cur" && return 0
		case "$cmd $sub" in
		"sandbox run") opts="--capabilities --cap --profile --context --memory --cpus \
			--pids --timeout --limit --workdir --mode --env --secret --registry \
			--component --artifacts --backend --egress --audit-log --audit-socket \
			--verbose --json --quiet --dry-run --summary --seccomp-profile --allow-degraded \
			--allow-unsigned --help" ;;
		"sandbox learn") opts="--output --learn-network --capabilities --cap --profile \
			--context --memory --cpus --pids --timeout --limit --workdir --mode --env \
			--secret --registry --component --artifacts --backend --egress --audit-log \
			--audit-socket --verbose --json --quiet --dry-run --summary --seccomp-profile \
			--allow-degraded --allow-unsigned --help" ;;
		"caps check") opts="--json --help" ;;
		"caps review") opts="--registry --component --context --json --help" ;;
		"caps profiles") opts="--json --help" ;;
		"caps show") opts="--profile --help" ;;
		"caps test") opts="--profile --context --help" ;;
		"policy check") opts="--entities --help" ;;
		"policy eval") opts="--policies --entities --principal --action --resource \
			--context --json --help" ;;
		"audit tail") opts="--follow --event --json --help" ;;
		"registry "*) opts="--registry --key --policy --password-file --json --help" ;;
		"scan "*) opts="--capabilities --json --help" ;;
		esac
		if [[ $cur == -* ]]; then
			words=$opts
		elif [[ "$cmd $sub" == "caps test" && $cur != */* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$(_omnibase_types)" -- "$cur")
			mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -f -- "$cur")
			return 0
		else
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
			return 0
		fi
	fi
	mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
}

complete -F _omnibase omnibase
