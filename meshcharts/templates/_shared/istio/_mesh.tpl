{{/*
Helpers of the mesh-wide settings that several components read: SDS (global.sds) and the
remote-cluster addresses (global.istioRemote, global.remote*Address). They live with the
chart, not with a component, because the mesh ConfigMap, the injection template and the
node agent all need them, whichever of those a profile compiles in.
*/}}

{{/*
istio.sds.udsPath: the node agent's socket as "unix:<path>": global.sds.udsPath, or
unix:/var/run/sds/uds_path when it is empty.
Call: include "istio.sds.udsPath" $
*/}}
{{- define "istio.sds.udsPath" -}}
{{- .Values.global.sds.udsPath | default "unix:/var/run/sds/uds_path" -}}
{{- end -}}

{{/*
istio.sds.check: fail when SDS is on without a way for the proxies to authenticate to the
node agent (neither JWT kind is chosen). Renders nothing.
Call: include "istio.sds.check" $
*/}}
{{- define "istio.sds.check" -}}
{{- $sds := .Values.global.sds -}}
{{- if and $sds.enabled (not (or $sds.useTrustworthyJwt $sds.useNormalJwt)) -}}
{{- fail "global.sds.enabled needs global.sds.useTrustworthyJwt (projected token) or global.sds.useNormalJwt (service-account token)" -}}
{{- end -}}
{{- end -}}

{{/*
istio.hostPort: "<host>:<port>", with an IPv6 address in brackets.
Call: include "istio.hostPort" (dict "host" .Values.global.remotePilotAddress "port" "15010")
*/}}
{{- define "istio.hostPort" -}}
{{- if contains ":" .host -}}
{{- printf "[%s]:%v" .host .port -}}
{{- else -}}
{{- printf "%s:%v" .host .port -}}
{{- end -}}
{{- end -}}

{{/*
istio.remote.check: fail on remote-cluster settings that cannot work: istioRemote without
remotePilotAddress, or remotePilotCreateSvcEndpoint with an address that is not an IP
(an EndpointSlice holds addresses, not names). Renders nothing.
Call: include "istio.remote.check" $
*/}}
{{- define "istio.remote.check" -}}
{{- $g := .Values.global -}}
{{- if $g.istioRemote -}}
{{- /* required, not fail: helm lint then still checks the rest of a remote chart. */ -}}
{{- $_ := required "global.istioRemote needs global.remotePilotAddress (the primary cluster's Pilot)" $g.remotePilotAddress -}}
{{- if $g.remotePilotCreateSvcEndpoint -}}
{{- range $key := list "remotePilotAddress" "remotePolicyAddress" "remoteTelemetryAddress" -}}
{{- $address := index $g $key -}}
{{- if and $address (not (include "istio.remote.addressType" $address)) -}}
{{- fail (printf "global.remotePilotCreateSvcEndpoint needs IP addresses, but global.%s is %q" $key $address) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
istio.remote.addressType: "IPv4" or "IPv6" for an IP address, else "" (a host name).
Call: include "istio.remote.addressType" "10.0.0.1"
*/}}
{{- define "istio.remote.addressType" -}}
{{- if regexMatch "^[0-9]{1,3}(\\.[0-9]{1,3}){3}$" . -}}IPv4
{{- else if contains ":" . -}}IPv6
{{- end -}}
{{- end -}}

{{/*
istio.remote.serviceAddress: host:port proxies use for a control-plane service of the
primary cluster (istio-pilot, istio-policy, istio-telemetry): the local selector-less
Service "<name>.<namespace>[.svc.<domain>]" with remotePilotCreateSvcEndpoint, else the
remote address itself.
Call: include "istio.remote.serviceAddress" (dict "name" "istio-policy" "address" .Values.global.remotePolicyAddress "port" "9091" "fqdn" true "root" $)
*/}}
{{- define "istio.remote.serviceAddress" -}}
{{- $g := .root.Values.global -}}
{{- if $g.remotePilotCreateSvcEndpoint -}}
{{- $service := include "istio.resourceName" (dict "name" .name "root" .root) -}}
{{- if .fqdn -}}
{{- printf "%s.%s.svc.%s:%v" $service .root.Release.Namespace $g.proxy.clusterDomain .port -}}
{{- else -}}
{{- printf "%s.%s:%v" $service .root.Release.Namespace .port -}}
{{- end -}}
{{- else -}}
{{- include "istio.hostPort" (dict "host" .address "port" .port) -}}
{{- end -}}
{{- end -}}
