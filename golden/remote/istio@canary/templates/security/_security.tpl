{{/*
Helpers of the security templates (Citadel's component). They live here, not in
_chart/_helpers.tpl, because only this component reads global.mtls, which it adds.
*/}}

{{/*
istio.security.mtlsMode: global.mtls.mode as "off", "permissive" or "strict". An
unquoted `off` in a values file is YAML 1.1's false; the schema accepts it as "off".
Call: include "istio.security.mtlsMode" $
*/}}
{{- define "istio.security.mtlsMode" -}}
{{- $mode := .Values.global.mtls.mode -}}
{{- if kindIs "bool" $mode -}}off{{- else -}}{{ $mode }}{{- end -}}
{{- end -}}

{{/*
istio.security.peers: the body of the peers list of an authentication policy for the
mesh mTLS mode: STRICT is an mtls entry with no settings, PERMISSIVE accepts plain text
too; empty when mTLS is off.
Call: {{- with include "istio.security.peers" $ }}
*/}}
{{- define "istio.security.peers" -}}
{{- $mode := include "istio.security.mtlsMode" . -}}
{{- if eq $mode "strict" -}}
- mtls: {}
{{- else if eq $mode "permissive" -}}
- mtls:
    mode: PERMISSIVE
{{- end -}}
{{- end -}}

{{/*
istio.security.checkUnique: fail when two entries of a list share namespace and name
(Helm would render two objects with the same identity).
Call: include "istio.security.checkUnique" (dict "entries" .Values.security.jwt "key" "security.jwt" "root" $)
*/}}
{{- define "istio.security.checkUnique" -}}
{{- $seen := dict -}}
{{- range $entry := .entries -}}
{{- $id := printf "%s/%s" ($entry.namespace | default $.root.Release.Namespace) $entry.name -}}
{{- if hasKey $seen $id -}}
{{- fail (printf "%s: two entries are named %s" $.key $id) -}}
{{- end -}}
{{- $_ := set $seen $id true -}}
{{- end -}}
{{- end -}}
