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
