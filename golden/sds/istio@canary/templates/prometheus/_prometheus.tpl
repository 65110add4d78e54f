{{/*
istio.prometheus.on: "true" when a component is compiled into this chart and enabled
(a component without an "enabled" key counts as on), and, when "part" is not empty, the
part of it is enabled too (e.g. mixer.telemetry.enabled); else "".
Call: include "istio.prometheus.on" (dict "component" "mixer" "part" "telemetry" "root" $)
*/}}
{{- define "istio.prometheus.on" -}}
{{- $component := get .root.Values.AsMap .component -}}
{{- if and (kindIs "map" $component) (dig "enabled" true $component) -}}
{{- if not .part -}}
true
{{- else if kindIs "map" (get $component .part) -}}
{{- if dig .part "enabled" true $component -}}true{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
istio.prometheus.secure: "true" when Prometheus scrapes the pods that have a sidecar with
Citadel's certificates: prometheus.security.enabled and Citadel (security) compiled in and
enabled (it writes the Secret istio.<service account>); else "".
Call: include "istio.prometheus.secure" $
*/}}
{{- define "istio.prometheus.secure" -}}
{{- if and .Values.prometheus.security.enabled (include "istio.enabled" (dict "component" "security" "root" .)) -}}
true
{{- end -}}
{{- end -}}
